"""The spaCy worker's pipeline runs in the compute pool's child processes.

``nlp.pipe`` is Cython and numpy under Python glue: in a thread it holds the
GIL for much of the time (the loop's own work drops to about half, see
docs/benchmarks.md "gil") and a runaway batch cannot be stopped. Each child
loads the pipeline once (``warm_up``, at the pool's start) and annotates the
micro-batches the engine sends; a batch that overruns its limit is killed
with its child, which is replaced.
"""

from __future__ import annotations

import functools
from typing import Any

from agents.spacy.annotation import to_annotated
from agents.spacy.ports import AnnotatedDoc


@functools.cache
def _pipeline(model: str) -> Any:
    import spacy

    return spacy.load(model)


def warm_up() -> None:
    """Load the configured pipeline once per child."""
    from agents.spacy.settings import SpacySettings

    _pipeline(SpacySettings().spacy_model)


def load_step(model: str) -> str:
    _pipeline(model)
    return model


def annotate_step(model: str, texts: list[str], batch_size: int) -> list[AnnotatedDoc]:
    return [to_annotated(d) for d in _pipeline(model).pipe(texts, batch_size=batch_size)]
