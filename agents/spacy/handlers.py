"""spaCy worker handlers: plain async functions over the ``NlpEngine`` port."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from typing import Any

from agents.spacy.messages import (
    AnalyzeSpeech,
    AnalyzeText,
    CategorizeTopic,
    Category,
    CompareTexts,
    ExtractKeywords,
)
from agents.spacy.ports import AnnotatedDoc, NlpEngine
from enginedge_streams.handlers import CommandSpec

CONTENT_POS = {"NOUN", "PROPN", "ADJ", "VERB"}


async def handle_analyze(cmd: AnalyzeText, *, nlp: NlpEngine) -> dict[str, Any]:
    (doc,) = await nlp.annotate([cmd.text])
    out: dict[str, Any] = {"model": nlp.model_name}
    if "entities" in cmd.parts:
        out["entities"] = [
            {"text": e.text, "label": e.label, "start": e.start, "end": e.end} for e in doc.entities
        ]
    if "tokens" in cmd.parts:
        out["tokens"] = [
            {
                "text": t.text,
                "lemma": t.lemma,
                "pos": t.pos,
                "tag": t.tag,
                "dep": t.dep,
                "start": t.start,
                "end": t.end,
                "is_stop": t.is_stop,
            }
            for t in doc.tokens
        ]
    if "noun_chunks" in cmd.parts:
        out["noun_chunks"] = [
            {"text": c.text, "root": c.root_lemma, "start": c.start, "end": c.end}
            for c in doc.noun_chunks
        ]
    if "sentences" in cmd.parts:
        out["sentences"] = [{"text": s.text, "start": s.start, "end": s.end} for s in doc.sentences]
    return out


def keywords_of(doc: AnnotatedDoc, top_k: int) -> list[dict[str, Any]]:
    """Rank lemmas and noun phrases by frequency, boosted for entities and early mentions."""
    n = max(1, len(doc.tokens))
    scores: dict[str, float] = defaultdict(float)
    counts: Counter[str] = Counter()
    surface: dict[str, str] = {}
    for i, t in enumerate(doc.tokens):
        if t.is_stop or t.is_punct or not t.is_alpha or t.pos not in CONTENT_POS or len(t.text) < 2:
            continue
        key = t.lemma.lower()
        weight = {"PROPN": 1.5, "NOUN": 1.2, "ADJ": 0.6, "VERB": 0.5}[t.pos]
        scores[key] += weight * (1.0 + 0.5 * (1 - i / n))
        counts[key] += 1
        surface.setdefault(key, t.text if t.pos == "PROPN" else t.lemma.lower())
    entity_keys = {e.text.lower() for e in doc.entities}
    for chunk in doc.noun_chunks:
        words = list(re.findall(r"[A-Za-z][A-Za-z0-9+#.-]*", chunk.text))
        content = [w for w in words if w.lower() not in _STOP]
        if len(content) < 2:
            continue
        key = " ".join(w.lower() for w in content)
        scores[key] += 1.0 + 0.4 * len(content)
        counts[key] += 1
        surface.setdefault(key, " ".join(content))
    for key in list(scores):
        if key in entity_keys:
            scores[key] *= 1.5
    top = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]
    best = top[0][1] if top else 1.0
    return [
        {"keyword": surface[k], "score": round(s / best, 4), "count": counts[k]} for k, s in top
    ]


async def handle_keywords(cmd: ExtractKeywords, *, nlp: NlpEngine) -> dict[str, Any]:
    (doc,) = await nlp.annotate([cmd.text])
    return {"model": nlp.model_name, "keywords": keywords_of(doc, cmd.top_k)}


def _lemmas(doc: AnnotatedDoc) -> set[str]:
    return {
        t.lemma.lower()
        for t in doc.tokens
        if not t.is_stop and not t.is_punct and t.is_alpha and t.pos in CONTENT_POS
    }


def cosine(a: list[float], b: list[float]) -> float:
    if not a or not b or len(a) != len(b):
        return 0.0
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return 0.0 if na == 0 or nb == 0 else max(-1.0, min(1.0, dot / (na * nb)))


def similarity_of(a: AnnotatedDoc, b: AnnotatedDoc) -> dict[str, float]:
    """Blend of context-vector cosine and content-lemma overlap (both 0..1)."""
    la, lb = _lemmas(a), _lemmas(b)
    overlap = len(la & lb) / len(la | lb) if la | lb else (1.0 if a.text == b.text else 0.0)
    vec = (cosine(a.vector, b.vector) + 1) / 2
    return {
        "similarity": round(0.5 * vec + 0.5 * overlap, 4),
        "vector_similarity": round(vec, 4),
        "lemma_overlap": round(overlap, 4),
    }


async def handle_similarity(cmd: CompareTexts, *, nlp: NlpEngine) -> dict[str, Any]:
    a, b = await nlp.annotate([cmd.text_a, cmd.text_b])
    return {
        "model": nlp.model_name,
        **similarity_of(a, b),
        "method": "0.5*((cos(context vectors)+1)/2) + 0.5*jaccard(content lemmas)",
    }


async def handle_categorize(cmd: CategorizeTopic, *, nlp: NlpEngine) -> dict[str, Any]:
    cats = [c if isinstance(c, Category) else Category(name=c) for c in cmd.categories]
    texts = [cmd.topic] + [" ".join([c.name, c.description, *c.keywords]) for c in cats]
    topic, *cat_docs = await nlp.annotate(texts)
    topic_lemmas = _lemmas(topic)
    topic_words = {t.text.lower() for t in topic.tokens if t.is_alpha}
    ranked: list[dict[str, Any]] = []
    for cat, doc in zip(cats, cat_docs, strict=True):
        keys = _lemmas(doc) | {k.lower() for k in cat.keywords}
        hits = sorted(keys & (topic_lemmas | topic_words))
        lexical = len(hits) / math.sqrt(len(keys)) if keys else 0.0
        vec = (cosine(topic.vector, doc.vector) + 1) / 2
        score = 0.6 * min(1.0, lexical) + 0.4 * vec
        ranked.append({"category": cat.name, "score": round(score, 4), "matched_terms": hits})
    ranked.sort(key=lambda r: (-r["score"], r["category"]))
    for i, r in enumerate(ranked, 1):
        r["rank"] = i
    return {
        "model": nlp.model_name,
        "topic": cmd.topic,
        "categories": ranked,
        "best": ranked[0]["category"],
    }


FILLERS = ("um", "uh", "erm", "er", "ah", "hmm", "uhm")
FILLER_PHRASES = ("you know", "i mean", "kind of", "sort of", "basically", "literally", "actually")
HEDGES = (
    "i think",
    "i guess",
    "i believe",
    "maybe",
    "perhaps",
    "probably",
    "possibly",
    "might",
    "i'm not sure",
    "i am not sure",
    "somewhat",
    "it seems",
    "more or less",
    "i suppose",
    "kind of",
    "sort of",
)


def _count_phrases(text: str, phrases: tuple[str, ...]) -> Counter[str]:
    found: Counter[str] = Counter()
    for phrase in phrases:
        pattern = r"(?<![\w'])" + re.escape(phrase).replace(r"\ ", r"\s+") + r"(?![\w'])"
        n = len(re.findall(pattern, text, flags=re.IGNORECASE))
        if n:
            found[phrase] = n
    return found


async def handle_analyze_speech(cmd: AnalyzeSpeech, *, nlp: NlpEngine) -> dict[str, Any]:
    (doc,) = await nlp.annotate([cmd.transcript])
    # Words as a listener counts them: clitics ("'m", "n't") belong to the word before.
    words = [
        t for t in doc.tokens if not t.is_punct and not t.text.isspace() and not _is_clitic(t.text)
    ]
    minutes = cmd.duration_seconds / 60.0
    fillers: Counter[str] = Counter(t.text.lower() for t in words if t.text.lower() in FILLERS)
    # "like" only counts when used as a filler (interjection / set off by commas).
    for i, t in enumerate(doc.tokens):
        if t.text.lower() == "like":
            prev_comma = i > 0 and doc.tokens[i - 1].text == ","
            next_comma = i + 1 < len(doc.tokens) and doc.tokens[i + 1].text == ","
            if t.pos == "INTJ" or (prev_comma and next_comma):
                fillers["like"] += 1
    fillers.update(_count_phrases(cmd.transcript, FILLER_PHRASES))
    hedges = _count_phrases(cmd.transcript, HEDGES)
    filler_total = sum(fillers.values())
    wpm = len(words) / minutes
    return {
        "model": nlp.model_name,
        "word_count": len(words),
        "duration_seconds": cmd.duration_seconds,
        "words_per_minute": round(wpm, 1),
        "pace": "slow" if wpm < 110 else "fast" if wpm > 170 else "normal",
        "filler_words": dict(fillers.most_common()),
        "filler_count": filler_total,
        "fillers_per_minute": round(filler_total / minutes, 2),
        "hedging_phrases": dict(hedges.most_common()),
        "hedge_count": sum(hedges.values()),
        "sentence_count": len(doc.sentences),
    }


def _is_clitic(text: str) -> bool:
    return text.startswith(("'", "\N{RIGHT SINGLE QUOTATION MARK}")) or text.lower() == "n't"


_STOP = {
    "the",
    "a",
    "an",
    "this",
    "that",
    "these",
    "those",
    "our",
    "their",
    "its",
    "my",
    "your",
    "his",
    "her",
    "we",
    "they",
    "it",
    "of",
    "and",
    "or",
    "to",
    "in",
    "on",
    "for",
    "with",
}

COMMANDS = [
    CommandSpec(
        "nlp.analyze",
        AnalyzeText,
        handle_analyze,
        "Entities, tokens with POS/lemma, noun chunks, sentences.",
        read_only=True,
    ),
    CommandSpec(
        "nlp.keywords",
        ExtractKeywords,
        handle_keywords,
        "Salient keywords and key phrases with scores.",
        read_only=True,
    ),
    CommandSpec(
        "nlp.similarity",
        CompareTexts,
        handle_similarity,
        "Similarity of two texts (0..1) with its components.",
        read_only=True,
    ),
    CommandSpec(
        "nlp.categorize_topic",
        CategorizeTopic,
        handle_categorize,
        "Rank candidate categories for a topic.",
        read_only=True,
    ),
    CommandSpec(
        "nlp.analyze_speech",
        AnalyzeSpeech,
        handle_analyze_speech,
        "Filler words, words per minute and hedging in a transcript.",
        read_only=True,
    ),
]
