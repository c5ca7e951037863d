"""Answer scoring: a rule-based evaluator and the parsing of an LLM grader's verdict.

Rule-based criteria (weights from ``INTERVIEW_RULE_WEIGHTS``): coverage of
the question's expected concepts, structure (STAR for behavioral answers;
reasoning/examples/steps for technical and design; approach/complexity/edge
cases for coding), length for the phase, and delivery (fillers and hedges
per minute from the spaCy worker's speech analysis; pace only for audio).
"""

from __future__ import annotations

import re
from typing import Any

from agents.interview.model import Question

DEFAULT_RULE_WEIGHTS = {"coverage": 0.45, "structure": 0.25, "length": 0.15, "delivery": 0.15}
LENGTH = {
    "behavioral": (120, 350),
    "technical": (60, 300),
    "coding": (60, 300),
    "system_design": (150, 500),
}
STAR = {
    "situation": r"\b(when i|when we|at my (previous|last|former)|situation|context|we were|"
    r"our team|back in|there was|i was working)\b",
    "task": r"\b(my (task|goal|job|role) was|i was (responsible|asked|tasked)|goal was|"
    r"needed to|had to|objective)\b",
    "action": r"\b(i (decided|built|led|wrote|designed|implemented|organized|organised|proposed|"
    r"talked|met|set up|created|started|worked|changed|introduced|suggested|asked|reviewed|"
    r"scheduled|explained|took))\b",
    "result": r"\b(as a result|result(ed)?|outcome|in the end|eventually|led to|reduc\w+|"
    r"increas\w+|improv\w+|saved|shipped|delivered|learn(ed|t))\b|\d+\s*%",
}
REASONING = {
    "reasoning": r"\b(because|so that|therefore|which means|trade-?offs?|however|depends|"
    r"the reason)\b",
    "example": r"\b(for example|for instance|e\.g\.|such as|like when)\b",
    "steps": r"\b(first|then|next|finally|after that|step)\b",
}
CODING = {
    "approach": r"\b(approach|idea|algorithm|iterate|loop|use a|store|keep track)\b",
    "complexity": r"\b(o\(|complexity|linear|logarithmic|constant time|time and space)\b",
    "edge_cases": r"\b(edge cases?|empty|null|none|overflow|duplicates?|negative)\b",
    "testing": r"\b(test|tests|verify|check)\b",
}


def structure_markers(phase: str) -> dict[str, str]:
    if phase == "behavioral":
        return STAR
    if phase == "coding":
        return CODING
    return REASONING


def concept_hits(question: Question, answer: str) -> tuple[list[str], list[str]]:
    low = answer.lower()
    found: list[str] = []
    missing: list[str] = []
    for concept in question.expected_keywords:
        options = [o.strip().lower() for o in concept.split("|") if o.strip()]
        hit = any(re.search(rf"(?<![\w]){re.escape(o)}", low) for o in options)
        (found if hit else missing).append(options[0] if options else concept)
    return found, missing


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def evidence(question: Question, answer: str, limit: int = 2) -> list[str]:
    """The answer's sentences that carry the most expected concepts (quoted verbatim)."""
    scored = []
    for i, s in enumerate(sentences(answer)):
        found, _ = concept_hits(question, s)
        scored.append((len(found), -i, s))
    scored.sort(reverse=True)
    best = [s for n, _, s in scored if n > 0][:limit]
    return best or [s for _, _, s in scored[:1]]


def length_score(words: int, phase: str) -> float:
    lo, hi = LENGTH.get(phase, (60, 300))
    if words < lo:
        return max(0.0, words / lo)
    if words > hi:
        return max(0.3, 1 - (words - hi) / hi)
    return 1.0


def delivery_score(speech: dict[str, Any] | None, spoken: bool) -> tuple[float, str]:
    if not speech or "fillers_per_minute" not in speech:
        return 0.7, "no speech analysis available"
    fpm = float(speech["fillers_per_minute"])
    hedges = int(speech.get("hedge_count", 0))
    words = max(1, int(speech.get("word_count", 1)))
    score = 1.0 - min(0.6, max(0.0, (fpm - 2) / 10)) - min(0.3, 3 * hedges / words)
    notes = [f"{fpm:g} fillers/min", f"{hedges} hedges"]
    if spoken:
        wpm = float(speech.get("words_per_minute", 0))
        if not 100 <= wpm <= 180:
            score -= 0.15
        notes.append(f"{wpm:g} words/min")
    return max(0.0, min(1.0, score)), ", ".join(notes)


def rule_score(
    question: Question,
    answer: str,
    speech: dict[str, Any] | None,
    *,
    spoken: bool,
    weights: dict[str, float],
) -> dict[str, Any]:
    found, missing = concept_hits(question, answer)
    coverage = len(found) / len(question.expected_keywords) if question.expected_keywords else 0.5
    markers = structure_markers(question.phase)
    parts = {k: bool(re.search(rx, answer, re.IGNORECASE)) for k, rx in markers.items()}
    need = len(markers) if question.phase in {"behavioral", "coding"} else 2
    structure = min(1.0, sum(parts.values()) / need)
    words = len(answer.split())
    length = length_score(words, question.phase)
    delivery, delivery_note = delivery_score(speech, spoken)
    criteria = {
        "coverage": (
            coverage,
            f"{len(found)}/{len(question.expected_keywords)} expected concepts"
            + (f"; missing: {', '.join(missing)}" if missing else ""),
        ),
        "structure": (
            structure,
            ("STAR " if question.phase == "behavioral" else "")
            + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in parts.items()),
        ),
        "length": (length, f"{words} words"),
        "delivery": (delivery, delivery_note),
    }
    total = sum(weights.values()) or 1.0
    score = sum(weights.get(k, 0) * v for k, (v, _) in criteria.items()) / total
    return {
        "score": round(100 * score),
        "criteria": {
            k: {"score": round(v, 3), "weight": weights.get(k, 0), "detail": d}
            for k, (v, d) in criteria.items()
        },
        "concepts_found": found,
        "concepts_missing": missing,
        "structure": parts,
    }


def grading_prompt(question: Question, answer: str) -> str:
    """The grading request. Its format line holds no value a model could echo as a verdict
    (the old ``"evidence": "..."`` template came back as ``{"score": 0, "evidence": "100%"}``)."""
    concepts = ", ".join(c.split("|")[0] for c in question.expected_keywords) or "(none listed)"
    star = (
        "Use the STAR structure (situation, task, action, result) as a criterion.\n"
        if question.phase == "behavioral"
        else ""
    )
    return (
        "Grade the candidate's answer to one interview question.\n"
        f"Phase: {question.phase}\nQuestion: {question.text}\n"
        f"Concepts a strong answer covers: {concepts}\n{star}"
        "Reply with one JSON object and nothing else, with these keys:\n"
        "score: an integer from 0 (no useful answer) to 100 (complete and correct);\n"
        "evidence: one sentence copied word for word from the answer that best supports "
        "the score;\n"
        "justification: one sentence saying which concepts the answer covers or misses;\n"
        "improvements: a list of at most two short strings.\n\n"
        f"Answer:\n{answer}\n"
    )
