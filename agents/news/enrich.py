"""Turning spaCy's entity spans and keywords into an article's enrichment."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from agents.news.model import Entities

LABELS = {
    "ORG": "organizations",
    "PERSON": "people",
    "GPE": "places",
    "LOC": "places",
    "FAC": "places",
}
MAX_PER_KIND = 15
MAX_KEYWORDS = 10


def clean_entity(text: str) -> str | None:
    name = " ".join(text.split()).strip(" .,;:!?\"'()[]")
    name = re.sub(r"(?i)^the\s+", "", name)
    name = re.sub(r"['\u2019]s$", "", name).strip()
    if len(name) < 2 or not any(c.isalpha() for c in name) or len(name) > 100:
        return None
    return name


def entities_from_spans(spans: Iterable[tuple[str, str]]) -> Entities:
    """(text, label) spans -> the most mentioned names per kind (case-insensitive groups,
    shown in their most frequent spelling)."""
    counts: dict[str, Counter[str]] = {k: Counter() for k in set(LABELS.values())}
    forms: dict[tuple[str, str], Counter[str]] = {}
    first: dict[tuple[str, str], int] = {}
    for i, (text, label) in enumerate(spans):
        kind = LABELS.get(label)
        name = clean_entity(text) if kind else None
        if kind is None or name is None:
            continue
        key = name.lower()
        counts[kind][key] += 1
        forms.setdefault((kind, key), Counter())[name] += 1
        first.setdefault((kind, key), i)
    out: dict[str, list[str]] = {}
    for kind, counter in counts.items():
        ranked = sorted(counter, key=lambda k: (-counter[k], first[(kind, k)]))[:MAX_PER_KIND]
        out[kind] = [forms[(kind, k)].most_common(1)[0][0] for k in ranked]
    return Entities(**out)


def clean_keywords(keywords: Iterable[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for kw in keywords:
        k = " ".join(kw.split())
        if len(k) < 2 or k.lower() in seen:
            continue
        seen.add(k.lower())
        out.append(k)
    return out[:MAX_KEYWORDS]


#: Keywords that describe the default categories to the classifier (nlp.categorize_topic).
CATEGORY_KEYWORDS: dict[str, list[str]] = {
    "business": [
        "company",
        "market",
        "shares",
        "profit",
        "revenue",
        "acquisition",
        "merger",
        "investor",
        "earnings",
        "deal",
        "bank",
        "economy",
        "ceo",
        "stock",
    ],
    "technology": [
        "software",
        "chip",
        "ai",
        "startup",
        "app",
        "computer",
        "internet",
        "cloud",
        "data",
        "cyber",
        "smartphone",
        "semiconductor",
        "technology",
        "robot",
    ],
    "politics": [
        "government",
        "election",
        "minister",
        "parliament",
        "president",
        "vote",
        "party",
        "senate",
        "law",
        "policy",
        "campaign",
        "congress",
    ],
    "science": [
        "research",
        "study",
        "scientists",
        "space",
        "climate",
        "physics",
        "biology",
        "discovery",
        "experiment",
        "nasa",
        "telescope",
        "species",
    ],
    "health": [
        "health",
        "hospital",
        "disease",
        "vaccine",
        "medical",
        "patients",
        "doctor",
        "drug",
        "virus",
        "treatment",
        "cancer",
    ],
    "sports": [
        "match",
        "team",
        "league",
        "cup",
        "season",
        "coach",
        "player",
        "goal",
        "game",
        "championship",
        "tournament",
        "football",
    ],
    "entertainment": [
        "film",
        "music",
        "movie",
        "actor",
        "album",
        "festival",
        "series",
        "celebrity",
        "show",
        "award",
        "tv",
    ],
    "world": [
        "war",
        "country",
        "international",
        "border",
        "united nations",
        "refugees",
        "conflict",
        "treaty",
        "foreign",
        "embassy",
    ],
}


def category_payload(categories: list[str]) -> list[dict[str, object]]:
    return [{"name": c, "keywords": CATEGORY_KEYWORDS.get(c, [])} for c in categories]


def _stem(word: str) -> str:
    for suffix in ("ies", "es", "s"):
        if len(word) > 4 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def classify(text: str, keywords: list[str], categories: list[str]) -> str | None:
    """Keyword-vote classifier: each category scores the article words (and, twice, the
    extracted keywords) that are among its descriptive keywords; no vote -> None."""
    from agents.news.normalize import words

    tokens = [_stem(w) for w in words(text)]
    key_tokens = [_stem(w) for k in keywords for w in words(k)]
    best, best_score = None, 0.0
    for cat in categories:
        vocab = {_stem(k) for k in CATEGORY_KEYWORDS.get(cat, [])} | {_stem(cat)}
        multi = [k for k in CATEGORY_KEYWORDS.get(cat, []) if " " in k]
        score = sum(1 for t in tokens if t in vocab) + 2 * sum(1 for t in key_tokens if t in vocab)
        score += sum(text.lower().count(m) for m in multi)
        if score > best_score:
            best, best_score = cat, score
    return best
