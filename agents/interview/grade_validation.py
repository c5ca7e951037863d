"""Is an LLM's grade fit to replace the rule score? (issue 21: model output is validated.)

A reply is used only when every check holds; the first that fails is the fallback reason
(the answer keeps its rule score and the report says which check failed):

1. ``MALFORMED_REPLY`` - the reply holds a JSON object with an integer ``score`` in 0..100
   and a string ``evidence``.
2. ``EVIDENCE_TOO_SHORT`` - the evidence has at least :data:`MIN_EVIDENCE_WORDS` words
   (``"100%"``, an echo of the prompt's format, has one).
3. ``EVIDENCE_NOT_IN_ANSWER`` - every fragment of the evidence (split at ``...``) occurs in
   the answer after normalisation (lower case, letters and digits only, apostrophes
   dropped, white space folded): as a run of the answer's words, or fuzzily - some run of
   the answer's words of about the same length matches it with a word-level
   ``difflib`` ratio >= :data:`FUZZY_RATIO` (a dropped or changed word, a transcription
   slip). Fragments under two words are not checked but count towards the length.
4. ``SCORE_OUT_OF_BAND`` - the score lies within the band the rule criteria allow: the
   objective criteria (length, delivery) at their measured values and the content criteria
   (coverage, structure) anywhere from 0 to 1. A grader may judge content better than
   keywords do; it may not contradict the word count or the speech analysis.
5. ``SCORE_FAR_FROM_RULES`` - the score is within ``max_deviation`` points of the rule
   score, unless the reply's ``justification`` holds: it disputes a rule verdict on a named
   expected concept, i.e. a score *above* the rule score names (one of the synonyms of) a
   concept the rules counted missing, a score *below* it names a concept the rules counted
   found - and it names at most half of the question's concepts (Qwen2.5-Coder 1.5B recited
   the prompt's whole list, "covers disagree, listen, data, compromise and result", to
   justify 80 for an answer the rules scored 40: a recital disputes nothing).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any

from agents.interview.model import Question

MIN_EVIDENCE_WORDS = 4
FUZZY_RATIO = 0.85
DEFAULT_MAX_DEVIATION = 25
CONTENT = ("coverage", "structure")


@dataclass(frozen=True)
class GradeCheck:
    """The outcome: ``verdict`` when usable, else ``reason`` (a code) and ``detail``."""

    verdict: dict[str, Any] | None
    reason: str | None = None
    detail: str = ""
    llm_score: int | None = None
    band: tuple[int, int] | None = None


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", re.sub(r"['\u2019]", "", text.lower()))


def _occurs(fragment: list[str], answer: list[str]) -> bool:
    n = len(fragment)
    if n == 0:
        return True
    for i in range(len(answer) - n + 1):
        if answer[i : i + n] == fragment:
            return True
    for size in {max(1, n - 1), n, n + 1}:
        for i in range(max(1, len(answer) - size + 1)):
            window = answer[i : i + size]
            if difflib.SequenceMatcher(None, fragment, window, autojunk=False).ratio() >= (
                FUZZY_RATIO
            ):
                return True
    return False


def evidence_in_answer(quote: str, answer: str) -> bool:
    """Every fragment of ``quote`` (two words or more, split at ellipses) is in ``answer``."""
    target = words(answer)
    fragments = [words(f) for f in re.split(r"\.\.\.|\u2026|\[\s*\]", quote)]
    checked = [f for f in fragments if len(f) >= 2]
    return bool(checked) and all(_occurs(f, target) for f in checked)


def score_band(rules: dict[str, Any]) -> tuple[int, int]:
    """Lowest and highest score the rule criteria allow with coverage and structure free."""
    criteria = rules["criteria"]
    total = sum(float(c["weight"]) for c in criteria.values()) or 1.0
    fixed = sum(
        float(c["weight"]) * float(c["score"]) for k, c in criteria.items() if k not in CONTENT
    )
    free = sum(float(c["weight"]) for k, c in criteria.items() if k in CONTENT)
    return round(100 * fixed / total), round(100 * (fixed + free) / total)


def _names(text: str, concept: str) -> bool:
    low = " " + " ".join(words(text)) + " "
    return any(
        f" {' '.join(words(option))} " in low for option in concept.split("|") if words(option)
    )


def justification_holds(
    justification: str, question: Question, rules: dict[str, Any], higher: bool
) -> bool:
    """The justification disputes a rule verdict on a named concept (see the module doc)."""
    disputed = set(rules["concepts_missing"] if higher else rules["concepts_found"])
    named = [c for c in question.expected_keywords if _names(justification, c)]
    return 2 * len(named) <= len(question.expected_keywords) and any(
        c.split("|")[0].strip().lower() in disputed for c in named
    )


def parse_reply(raw: str) -> dict[str, Any] | None:
    m = re.search(r"\{.*\}", raw, re.DOTALL)
    if not m:
        return None
    try:
        data = json.loads(m.group(0))
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _strings(value: Any) -> list[str]:
    return [s for s in value if isinstance(s, str)][:5] if isinstance(value, list) else []


def check_grade(
    raw: str,
    question: Question,
    answer: str,
    rules: dict[str, Any],
    *,
    max_deviation: int = DEFAULT_MAX_DEVIATION,
) -> GradeCheck:
    data = parse_reply(raw)
    score = data.get("score") if data else None
    if isinstance(score, float) and score.is_integer():
        score = int(score)
    quote = data.get("evidence") if data else None
    if data is None or isinstance(score, bool) or not isinstance(score, int):
        return GradeCheck(None, "MALFORMED_REPLY", "no JSON object with an integer score")
    if not 0 <= score <= 100 or not isinstance(quote, str):
        why = "score outside 0-100" if not 0 <= score <= 100 else "no string evidence"
        return GradeCheck(None, "MALFORMED_REPLY", why, score)
    if len(words(quote)) < MIN_EVIDENCE_WORDS:
        return GradeCheck(
            None, "EVIDENCE_TOO_SHORT", f"evidence {quote[:60]!r} has under 4 words", score
        )
    if not evidence_in_answer(quote, answer):
        return GradeCheck(
            None, "EVIDENCE_NOT_IN_ANSWER", f"{quote[:80]!r} is not in the answer", score
        )
    lo, hi = score_band(rules)
    if not lo <= score <= hi:
        return GradeCheck(
            None,
            "SCORE_OUT_OF_BAND",
            f"{score} is outside {lo}-{hi} (length and delivery as measured)",
            score,
            (lo, hi),
        )
    rule = int(rules["score"])
    justification = data.get("justification")
    if abs(score - rule) > max_deviation and not (
        isinstance(justification, str)
        and justification_holds(justification, question, rules, higher=score > rule)
    ):
        return GradeCheck(
            None,
            "SCORE_FAR_FROM_RULES",
            f"{score} is {abs(score - rule)} points from the rule score {rule} "
            f"(> {max_deviation}) without a justification naming a disputed concept",
            score,
            (lo, hi),
        )
    verdict = {
        "score": score,
        "evidence": quote.strip(),
        "justification": justification if isinstance(justification, str) else None,
        "strengths": _strings(data.get("strengths")),
        "improvements": _strings(data.get("improvements")),
    }
    return GradeCheck(verdict, llm_score=score, band=(lo, hi))
