"""Document templates (article, report, letter, resume, cv, beamer) filled with user values.

Templates are ours (Jinja2 with LaTeX-friendly delimiters ``((( value )))``,
``((* for ... *))``); values are data. Every printed value goes through
``escaping.escape`` (the environment's ``finalize``), so no value can inject
LaTeX; ``paragraphs``/``lines``/``ejoin`` escape too and keep structure.
Each template's variables are a pydantic model (extra="forbid", size limits),
published as JSON Schema by ``latex.template.list``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import jinja2
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from agents.latex.escaping import LatexSafe, escape, lines, paragraphs
from agents.latex.template_sources import SOURCES
from enginedge_streams.codec import validation_details, validation_summary
from enginedge_streams.errors import NotFoundError, ValidationError

Line = Annotated[str, Field(max_length=300)]
Text = Annotated[str, Field(max_length=20_000)]
Short = Annotated[str, Field(max_length=100)]


class _Values(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Section(_Values):
    heading: Line
    body: Text = ""


class ArticleValues(_Values):
    title: Line
    author: Line = ""
    date: Line | None = Field(None, description="Printed date (default: today).")
    abstract: Text = ""
    body: Text = ""
    sections: list[Section] = Field(default_factory=list, max_length=50)


class Chapter(_Values):
    title: Line
    body: Text = ""
    sections: list[Section] = Field(default_factory=list, max_length=30)


class ReportValues(_Values):
    title: Line
    author: Line = ""
    date: Line | None = None
    abstract: Text = ""
    toc: bool = True
    chapters: list[Chapter] = Field(min_length=1, max_length=30)


class LetterValues(_Values):
    sender_name: Line
    sender_address: list[Line] = Field(default_factory=list, max_length=8)
    recipient_name: Line
    recipient_address: list[Line] = Field(default_factory=list, max_length=8)
    date: Line | None = None
    opening: Line = "Dear Sir or Madam,"
    body: Text
    closing: Line = "Yours faithfully,"
    signature: Line | None = None


class Job(_Values):
    title: Line
    company: Line = ""
    location: Line = ""
    start: Short = ""
    end: Short = ""
    bullets: list[Line] = Field(default_factory=list, max_length=20)


class Degree(_Values):
    degree: Line
    school: Line = ""
    start: Short = ""
    end: Short = ""
    details: Line = ""


class ResumeValues(_Values):
    name: Line
    email: Line = ""
    phone: Short = ""
    location: Line = ""
    website: Line = ""
    summary: Text = ""
    experience: list[Job] = Field(default_factory=list, max_length=30)
    education: list[Degree] = Field(default_factory=list, max_length=10)
    skills: list[Short] = Field(default_factory=list, max_length=60)


class CvEntry(_Values):
    when: Short = ""
    what: Line
    where: Line = ""
    details: Text = ""


class CvSection(_Values):
    title: Line
    entries: list[CvEntry] = Field(min_length=1, max_length=60)


class CvValues(_Values):
    name: Line
    position: Line = ""
    email: Line = ""
    phone: Short = ""
    address: Line = ""
    website: Line = ""
    sections: list[CvSection] = Field(default_factory=list, max_length=20)
    publications: list[Text] = Field(default_factory=list, max_length=200)


class Slide(_Values):
    title: Line
    text: Text = ""
    bullets: list[Line] = Field(default_factory=list, max_length=12)


class BeamerValues(_Values):
    title: Line
    subtitle: Line = ""
    author: Line = ""
    institute: Line = ""
    date: Line | None = None
    theme: Literal["default", "Madrid", "Warsaw", "Berlin", "Boadilla", "CambridgeUS"] = "default"
    slides: list[Slide] = Field(min_length=1, max_length=100)


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    model: type[BaseModel]
    example: dict[str, Any]


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in [
        Template(
            "article",
            "A short article: title, abstract, sections.",
            ArticleValues,
            {
                "title": "On Streams",
                "author": "A. Writer",
                "abstract": "Why streams matter.",
                "sections": [{"heading": "Introduction", "body": "Kafka carries commands."}],
            },
        ),
        Template(
            "report",
            "A report with chapters, sections and a table of contents.",
            ReportValues,
            {
                "title": "Quarterly Report",
                "author": "Ops",
                "chapters": [{"title": "Summary", "body": "All good."}],
            },
        ),
        Template(
            "letter",
            "A formal letter (sender, recipient, opening, body, closing).",
            LetterValues,
            {
                "sender_name": "Ada Lovelace",
                "sender_address": ["12 St James's Square", "London"],
                "recipient_name": "Charles Babbage",
                "body": "Thank you for the notes on the engine.",
            },
        ),
        Template(
            "resume",
            "A one-page resume: contact line, summary, experience, education, skills.",
            ResumeValues,
            {
                "name": "Grace Hopper",
                "email": "grace@example.com",
                "experience": [
                    {
                        "title": "Engineer",
                        "company": "Navy",
                        "start": "1943",
                        "end": "1986",
                        "bullets": ["Wrote the first compiler"],
                    }
                ],
                "skills": ["COBOL", "Leadership"],
            },
        ),
        Template(
            "cv",
            "An academic CV: sections of dated entries, publications.",
            CvValues,
            {
                "name": "Emmy Noether",
                "position": "Mathematician",
                "sections": [
                    {"title": "Positions", "entries": [{"when": "1915", "what": "Göttingen"}]}
                ],
                "publications": ["Invariante Variationsprobleme (1918)"],
            },
        ),
        Template(
            "beamer",
            "Slides (beamer): a title slide, then one frame per slide with text and bullets.",
            BeamerValues,
            {
                "title": "Streams 101",
                "author": "Team",
                "slides": [{"title": "Why", "bullets": ["Durable", "Ordered"]}],
            },
        ),
    ]
}


def _finalize(value: Any) -> str:
    if value is None:
        return ""
    return escape(value)


def _ejoin(items: Any, separator: str) -> LatexSafe:
    """Escape each non-empty item and join with a template-authored (trusted) separator."""
    return LatexSafe(separator.join(escape(i) for i in items if i not in (None, "")))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        block_start_string="((*",
        block_end_string="*))",
        variable_start_string="(((",
        variable_end_string=")))",
        comment_start_string="((=",
        comment_end_string="=))",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - LaTeX, not HTML: values are escaped by finalize
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["paragraphs"] = paragraphs
    env.filters["lines"] = lines
    env.filters["ejoin"] = _ejoin
    return env


_ENV = _environment()
_COMPILED = {name: _ENV.from_string(source) for name, source in SOURCES.items()}


def listing() -> list[dict[str, Any]]:
    return [
        {
            "name": t.name,
            "description": t.description,
            "variables": t.model.model_json_schema(),
            "example": t.example,
        }
        for t in TEMPLATES.values()
    ]


def render(name: str, values: dict[str, Any], *, engine: str = "pdflatex") -> str:
    template = TEMPLATES.get(name)
    if template is None:
        raise NotFoundError(f"no template {name!r}", details={"known": sorted(TEMPLATES)})
    try:
        model = template.model.model_validate(values)
    except PydanticValidationError as exc:
        raise ValidationError(
            f"invalid values for template {name!r}: {validation_summary(exc)}",
            details=validation_details(exc),
        ) from None
    context = {k: getattr(model, k) for k in type(model).model_fields}
    return _COMPILED[name].render(**context, engine=engine)
