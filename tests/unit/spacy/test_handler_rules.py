"""The spaCy handlers' own rules on hand-annotated documents (no model: a scripted engine).
The same handlers on the real packaged model: tests/integration/spacy/."""

from __future__ import annotations

import pytest

from agents.spacy.handlers import handle_analyze, keywords_of, similarity_of
from agents.spacy.messages import AnalyzeText
from agents.spacy.ports import AnnotatedDoc, Span, Token

STOP = {"the", "a", "is", "and", "of"}


def tok(text: str, pos: str, start: int, *, lemma: str | None = None) -> Token:
    return Token(
        text=text,
        lemma=lemma or text.lower(),
        pos=pos,
        tag=pos,
        dep="dep",
        start=start,
        end=start + len(text),
        is_stop=text.lower() in STOP,
        is_punct=not text.isalnum(),
        is_alpha=text.isalpha(),
        sent=0,
    )


def doc(words: list[tuple[str, str]], *, entities=(), chunks=(), vector=(1.0, 0.0)) -> AnnotatedDoc:
    tokens, pos = [], 0
    for text, tag in words:
        tokens.append(tok(text, tag, pos))
        pos += len(text) + 1
    text = " ".join(w for w, _ in words)
    return AnnotatedDoc(
        text=text,
        tokens=tokens,
        entities=list(entities),
        noun_chunks=list(chunks),
        sentences=[Span(text, 0, len(text))],
        vector=list(vector),
    )


class ScriptedEngine:
    model_name = "scripted"

    def __init__(self, docs: dict[str, AnnotatedDoc]) -> None:
        self.docs = docs
        self.batches: list[list[str]] = []

    async def annotate(self, texts: list[str]) -> list[AnnotatedDoc]:
        self.batches.append(list(texts))
        return [self.docs[t] for t in texts]

    def loaded(self) -> bool:
        return True


async def test_analyze_returns_only_the_parts_asked_for():
    berlin = doc(
        [("Berlin", "PROPN"), ("is", "AUX"), ("big", "ADJ")],
        entities=[Span("Berlin", 0, 6, label="GPE")],
    )
    nlp = ScriptedEngine({berlin.text: berlin})
    out = await handle_analyze(AnalyzeText(text=berlin.text, parts=["entities"]), nlp=nlp)
    assert out == {
        "model": "scripted",
        "entities": [{"text": "Berlin", "label": "GPE", "start": 0, "end": 6}],
    }
    out = await handle_analyze(AnalyzeText(text=berlin.text, parts=["tokens"]), nlp=nlp)
    assert [t["text"] for t in out["tokens"]] == ["Berlin", "is", "big"]
    assert out["tokens"][1]["is_stop"] is True and set(out) == {"model", "tokens"}


def test_keywords_rank_repeated_proper_nouns_and_entities_first_and_skip_stop_words():
    d = doc(
        [
            ("Kafka", "PROPN"),
            ("is", "AUX"),
            ("the", "DET"),
            ("log", "NOUN"),
            ("and", "CCONJ"),
            ("Kafka", "PROPN"),
            ("scales", "VERB"),
            ("the", "DET"),
            ("log", "NOUN"),
            ("fast", "ADJ"),
        ],
        entities=[Span("Kafka", 0, 5, label="ORG")],
        chunks=[Span("the log", 13, 20, root_lemma="log")],  # one content word: not a phrase
    )
    ranked = keywords_of(d, top_k=3)
    assert [k["keyword"] for k in ranked] == ["Kafka", "log", "fast"]
    assert ranked[0]["score"] == 1.0 and ranked[0]["count"] == 2
    assert all(k["keyword"] not in STOP for k in keywords_of(d, top_k=10))


def test_similarity_blends_vector_cosine_and_lemma_overlap():
    a = doc([("Kafka", "PROPN"), ("streams", "NOUN")], vector=(1.0, 0.0))
    b = doc([("Kafka", "PROPN"), ("topics", "NOUN")], vector=(0.0, 1.0))
    out = similarity_of(a, b)
    assert out["lemma_overlap"] == pytest.approx(1 / 3, abs=1e-4)  # {kafka} of 3 lemmas
    assert out["vector_similarity"] == 0.5  # orthogonal: cosine 0 mapped to 0..1
    assert out["similarity"] == pytest.approx(0.5 * 0.5 + 0.5 / 3, abs=1e-4)
    assert similarity_of(a, a)["similarity"] == 1.0
