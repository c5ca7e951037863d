"""A spaCy ``Doc`` as the worker's ``AnnotatedDoc`` (in the compute pool's children, or in
process for the engine's synchronous path)."""

from __future__ import annotations

from typing import Any

from agents.spacy.ports import AnnotatedDoc, Span, Token


def to_annotated(doc: Any) -> AnnotatedDoc:
    sent_index: dict[int, int] = {}
    sentences = []
    for i, sent in enumerate(doc.sents):
        sentences.append(Span(sent.text, sent.start_char, sent.end_char))
        for tok in sent:
            sent_index[tok.i] = i
    tokens = [
        Token(
            text=t.text,
            lemma=t.lemma_,
            pos=t.pos_,
            tag=t.tag_,
            dep=t.dep_,
            start=t.idx,
            end=t.idx + len(t.text),
            is_stop=t.is_stop,
            is_punct=t.is_punct,
            is_alpha=t.is_alpha,
            sent=sent_index.get(t.i, 0),
        )
        for t in doc
        if not t.is_space
    ]
    ents = [Span(e.text, e.start_char, e.end_char, e.label_) for e in doc.ents]
    chunks = [
        Span(c.text, c.start_char, c.end_char, root_lemma=c.root.lemma_) for c in doc.noun_chunks
    ]
    content = [t for t in doc if not (t.is_stop or t.is_punct or t.is_space)] or list(doc)
    vector: list[float] = []
    tensor = doc.tensor
    if tensor is not None and tensor.size and content:
        rows = tensor[[t.i for t in content]]
        vector = [float(x) for x in rows.mean(axis=0)]
    return AnnotatedDoc(doc.text, tokens, ents, chunks, sentences, vector)
