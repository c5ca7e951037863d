"""Payloads of the resume worker's commands (validated; JSON Schemas in docs/schemas)."""

from __future__ import annotations

import base64
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from enginedge_streams.base64_text import base64_text

MAX_TEXT = 200_000
MAX_BASE64 = 1_300_000  # ~950 KB once decoded (the bus caps a command at 1 MB)
ID_RE = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResumeSource(_Payload):
    """A resume as plain text, or a PDF/DOCX/TXT file in base64."""

    text: str | None = Field(None, min_length=1, max_length=MAX_TEXT)
    content_base64: base64_text(4, MAX_BASE64) | None = None  # type: ignore[valid-type]
    filename: str | None = Field(None, max_length=255, examples=["cv.pdf", "cv.docx"])
    mime_type: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _one(self) -> ResumeSource:
        if (self.text is None) == (self.content_base64 is None):
            raise ValueError("give exactly one of `text` or `content_base64`")
        return self

    def content(self) -> bytes:
        return base64.b64decode(self.content_base64 or "")


class ParseResume(_Payload):
    """`resume.parse`: a resume -> contact, sections, skills and ATS layout flags."""

    source: ResumeSource
    resume_id: str | None = Field(
        None, pattern=ID_RE, description="Store the parse under this id (a new version each time)."
    )


class EvaluateBullet(_Payload):
    """`resume.evaluate_bullet`: one experience bullet -> score 0-100 with named checks."""

    bullet: str = Field(min_length=1, max_length=1_000)
    role: str | None = Field(None, max_length=200, description="Target role, e.g. `Data Engineer`.")
    keywords: list[str] = Field(default_factory=list, max_length=50)
    current_role: bool = Field(False, description="The bullet describes the current job.")

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        if any(not k.strip() or len(k) > 100 for k in value):
            raise ValueError("keywords must be 1..100 characters")
        return value


class JobSource(_Payload):
    """A job description as text/HTML, or a stored posting id."""

    text: str | None = Field(None, min_length=1, max_length=MAX_TEXT)
    html: str | None = Field(None, min_length=1, max_length=MAX_TEXT)
    posting_id: str | None = Field(None, pattern=ID_RE)

    @model_validator(mode="after")
    def _one(self) -> JobSource:
        if sum(v is not None for v in (self.text, self.html, self.posting_id)) != 1:
            raise ValueError("give exactly one of `text`, `html` or `posting_id`")
        return self


class ResumeRef(_Payload):
    """A resume given inline or by the id of a stored parse."""

    source: ResumeSource | None = None
    resume_id: str | None = Field(None, pattern=ID_RE)
    version: int | None = Field(None, ge=1, description="A stored version (default: the latest).")

    @model_validator(mode="after")
    def _one(self) -> ResumeRef:
        if (self.source is None) == (self.resume_id is None):
            raise ValueError("give exactly one of `source` or `resume_id`")
        return self


class EvaluateResume(_Payload):
    """`resume.evaluate`: a whole resume (optionally against a job) -> score, findings, gates."""

    resume: ResumeRef
    job: JobSource | None = None
    role: str | None = Field(None, max_length=200)


class MatchResume(_Payload):
    """`resume.match`: resume vs job description -> explained score, matched/missing skills."""

    resume: ResumeRef
    job: JobSource


class ExtractPosting(_Payload):
    """`posting.extract`: a job posting (text or HTML) -> structured fields."""

    text: str | None = Field(None, min_length=1, max_length=MAX_TEXT)
    html: str | None = Field(None, min_length=1, max_length=MAX_TEXT)
    posting_id: str | None = Field(
        None, pattern=ID_RE, description="Store the extraction under this id (versioned)."
    )

    @model_validator(mode="after")
    def _one(self) -> ExtractPosting:
        if (self.text is None) == (self.html is None):
            raise ValueError("give exactly one of `text` or `html`")
        return self


class GetStored(_Payload):
    """`resume.get` / `posting.get`: a stored parse by id (latest or a given version)."""

    id: str = Field(pattern=ID_RE)
    version: int | None = Field(None, ge=1)


class GroundBullets(_Payload):
    """`resume.bullets.ground`: rewritten bullets checked against the source resume; each
    source bullet keeps its rewrite only if it adds no fact, repeats nothing and is not
    another job's bullet."""

    resume: ResumeRef
    bullets: list[Annotated[str, Field(min_length=1, max_length=1_000)]] = Field(
        max_length=50, description="The source bullets that were given to rewrite."
    )
    rewritten: list[Annotated[str, Field(max_length=2_000)]] = Field(
        default_factory=list,
        max_length=100,
        description="The rewritten lines, e.g. the assistant's reply split into lines.",
    )
