# ruff: noqa: RUF001  (resumes and postings really use en/em dashes and curly quotes)
"""Bullet scoring: named, weighted checks over the spaCy worker's annotations.

Each check yields a score in 0..1, a reason and (when it fails) a fix; the
bullet's score is the weighted mean of the applicable checks x 100. Weights
come from configuration (``RESUME_BULLET_WEIGHTS``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents.resume import verbs
from agents.resume.ports import Analysis, SkillHit, Tok

DEFAULT_WEIGHTS: dict[str, float] = {
    "action_verb": 15,
    "quantified_result": 15,
    "active_voice": 10,
    "tense": 10,
    "concise": 10,
    "no_filler": 10,
    "keywords": 10,
    "outcome": 10,
    "technical_specificity": 5,
    "front_loaded": 5,
}
FILLERS = (
    "responsible for",
    "duties included",
    "duties include",
    "various",
    "successfully",
    "helped to",
    "worked on",
    "in charge of",
    "etc",
    "a lot of",
    "very",
    "really",
    "basically",
    "team player",
    "hard-working",
    "hardworking",
    "detail-oriented",
    "synergy",
    "tasked with",
    "involved in",
    "participated in",
    "assisted with",
    "and more",
    "things",
    "stuff",
    "some",
    "several",
)
PREAMBLES = re.compile(
    r"^(as (a|an|the|part of)|in (my|this|the) (role|position|job)|while (at|working)|"
    r"was (tasked|responsible|asked)|my (role|job|duties)|i (was|am|have)|worked on|"
    r"responsible for|duties)\b",
    re.IGNORECASE,
)
METRIC = re.compile(
    r"(\d+(?:[.,]\d+)?\s*(%|percent|x\b|k\b|m\b|mm\b|bn\b|ms\b|s\b|hours?|days?|weeks?|months?|"
    r"users?|customers?|clients?|engineers?|people|requests?|transactions?|servers?|teams?|"
    r"countries|markets|stores|projects|services|pipelines|tickets|leads|reports|tests)|"
    r"[$€£¥]\s?\d|\d+\+|\b\d{2,}(?:,\d{3})*\b(?!\s*[-–]\s*\d{4}))",
    re.IGNORECASE,
)
PASS = 0.75
YEAR = re.compile(r"\b(19|20)\d{2}\b")
OUTCOME = re.compile(
    r"\b(result(?:ing|ed)? in|leading to|led to|which|so that|thereby|enabling|allowing|"
    r"reduc\w*|increas\w*|improv\w*|sav(?:e|ed|ing)|cut(?:ting)?|grew|grow\w*|boost\w*|"
    r"decreas\w*|accelerat\w*|achiev\w*|lower\w*|rais\w*|doubl\w*|tripl\w*|halv\w*|"
    r"eliminat\w*|prevent\w*|generat\w*|won|winning|from \S+ to \S+|by \d)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class BulletPolicy:
    weights: dict[str, float]
    min_words: int = 8
    max_words: int = 30


@dataclass
class Facts:
    """What the checks look at, computed once per bullet."""

    bullet: str
    doc: Analysis
    skills: list[SkillHit]
    keywords: list[str]
    role: str | None
    current_role: bool
    policy: BulletPolicy
    words: list[Tok]
    first: Tok | None
    base: str | None
    lex_tense: str | None
    is_verb: bool
    weak: bool
    metrics: list[str]

    @property
    def first_text(self) -> str:
        return self.first.text if self.first else ""


Check = tuple[float, str, str | None]


def facts_of(
    bullet: str,
    doc: Analysis,
    *,
    skills: list[SkillHit],
    keywords: list[str],
    role: str | None,
    current_role: bool,
    policy: BulletPolicy,
) -> Facts:
    words = [t for t in doc.tokens if re.search(r"\w", t.text)]
    first = words[0] if words else None
    base, lex_tense = verbs.classify(first.text if first else "")
    is_verb = first is not None and (first.pos == "VERB" or base is not None)
    low = first.text.lower() if first else ""
    weak = low in verbs.WEAK or (base is not None and base in verbs.WEAK)
    metrics = [m.group(0).strip() for m in METRIC.finditer(YEAR.sub(" ", bullet))]
    return Facts(
        bullet,
        doc,
        skills,
        keywords,
        role,
        current_role,
        policy,
        words,
        first,
        base,
        lex_tense,
        is_verb,
        weak,
        metrics,
    )


def check_action_verb(f: Facts) -> Check:
    if f.is_verb and not f.weak:
        return 1.0, f"starts with the action verb '{f.first_text}'", None
    if f.is_verb:
        return (
            0.3,
            f"'{f.first_text}' is a weak verb",
            "Start with a strong verb that names what you did (Led, Built, Reduced).",
        )
    return (
        0.0,
        f"starts with '{f.first_text}', not a verb",
        "Start with an action verb (Built, Designed, Cut...), not a noun or 'Responsible for'.",
    )


def check_quantified_result(f: Facts) -> Check:
    if f.metrics:
        return 1.0, f"quantified: {', '.join(f.metrics[:3])}", None
    return 0.0, "no number, percentage or amount", "Quantify the result (%, $, time, users, scale)."


def check_active_voice(f: Facts) -> Check:
    passive = [t.text for t in f.doc.tokens if t.dep in {"auxpass", "nsubjpass", "csubjpass"}]
    found = re.search(r"\b(was|were|been|being|is|are)\s+\w+(ed|en)\b", f.bullet, re.IGNORECASE)
    if passive or found:
        where = f" ('{found.group(0)}')" if found else ""
        return 0.0, f"passive construction{where}", "Use the active voice: say what you did."
    return 1.0, "active voice", None


def _tense(f: Facts) -> str | None:
    if f.lex_tense is not None:
        return f.lex_tense
    if f.first is not None and f.first.pos == "VERB":
        if f.first.tag in {"VBD", "VBN"}:
            return "past"
        if f.first.tag in {"VB", "VBP", "VBZ", "VBG"}:
            return "present"
    return None


def check_tense(f: Facts) -> Check:
    wanted = "present" if f.current_role else "past"
    role = "current" if f.current_role else "past"
    tense = _tense(f)
    if tense is None:
        return 0.5, "no leading verb to judge the tense", f"Lead with a verb in the {wanted} tense."
    if tense in (wanted, "either"):
        return 1.0, f"{tense} tense fits a {role} role", None
    form = None
    if f.base:
        form = f.base if f.current_role else verbs.PAST_OF.get(f.base)
    hint = f" ('{form.capitalize()}' instead of '{f.first_text}')" if form else ""
    return 0.0, f"{tense} tense in a {role} role", f"Use the {wanted} tense{hint}."


def check_concise(f: Facts) -> Check:
    n, lo, hi = len(f.words), f.policy.min_words, f.policy.max_words
    fix = f"Aim for {lo}-{hi} words: one action, how, and the result."
    if lo <= n <= hi:
        return 1.0, f"{n} words", None
    if n < lo:
        return max(0.2, n / lo - 0.2), f"only {n} words: too little detail", fix
    return max(0.0, 1 - (n - hi) / hi), f"{n} words: too long", fix


def check_no_filler(f: Facts) -> Check:
    low = f.bullet.lower()
    found = [x for x in FILLERS if re.search(rf"(?<!\w){re.escape(x)}(?!\w)", low)]
    if not found:
        return 1.0, "no filler words", None
    score = 0.5 if len(found) == 1 else 0.0
    return score, f"filler: {', '.join(found)}", f"Cut filler ({', '.join(found)})."


def target_keywords(f: Facts) -> list[str]:
    if f.keywords:
        return list(f.keywords)
    return [t for t in re.findall(r"[A-Za-z][\w+#.]+", f.role or "") if len(t) > 3]


def check_keywords(f: Facts) -> Check:
    wanted = target_keywords(f)
    low = f.bullet.lower()
    found = [k for k in wanted if re.search(rf"(?<!\w){re.escape(k.lower())}", low)]
    missing = [k for k in wanted if k not in found]
    reason = f"{len(found)}/{len(wanted)} target keywords" + (
        f": {', '.join(found)}" if found else ""
    )
    fix = "Work in the target keywords you really used: " + ", ".join(missing) + "."
    return len(found) / len(wanted), reason, fix


def check_outcome(f: Facts) -> Check:
    outcomes = [m.group(0) for m in OUTCOME.finditer(f.bullet) if m.start() > len(f.first_text)]
    fix = "Say what changed because of it (..., reducing X by Y / so that Z)."
    if outcomes:
        return 1.0, f"states the outcome ('{outcomes[0]}')", None
    if f.metrics:
        return 0.5, "a number but no outcome stated", fix
    return 0.0, "no outcome stated", fix


def check_technical_specificity(f: Facts) -> Check:
    tech = [s.text for s in f.skills]
    fix = "Name the tools, technologies or methods you used."
    if tech:
        return 1.0, f"names {', '.join(tech[:4])}", None
    propn = [t.text for t in f.doc.tokens if t.pos == "PROPN" and t is not f.first]
    if propn:
        return 0.5, f"names {', '.join(propn[:3])} but no known technology", fix
    return 0.0, "no tool, technology or method named", fix


def check_front_loaded(f: Facts) -> Check:
    fix = "Put the action and the most impressive fact in the first few words."
    if PREAMBLES.search(f.bullet.strip()):
        return 0.0, "opens with a preamble", fix
    early = " ".join(t.text for t in f.words[:8])
    specific = bool(METRIC.search(YEAR.sub(" ", early))) or any(
        s.start < len(early) + 2 for s in f.skills
    )
    if specific and f.is_verb:
        return 1.0, "action and specifics up front", None
    return 0.5, "specifics come late", fix


CHECKS: dict[str, Callable[[Facts], Check]] = {
    "action_verb": check_action_verb,
    "quantified_result": check_quantified_result,
    "active_voice": check_active_voice,
    "tense": check_tense,
    "concise": check_concise,
    "no_filler": check_no_filler,
    "keywords": check_keywords,
    "outcome": check_outcome,
    "technical_specificity": check_technical_specificity,
    "front_loaded": check_front_loaded,
}


def evaluate(
    bullet: str,
    doc: Analysis,
    *,
    skills: list[SkillHit],
    keywords: list[str],
    role: str | None,
    current_role: bool,
    policy: BulletPolicy,
) -> dict[str, Any]:
    f = facts_of(
        bullet,
        doc,
        skills=skills,
        keywords=keywords,
        role=role,
        current_role=current_role,
        policy=policy,
    )
    checks: list[dict[str, Any]] = []
    for name, fn in CHECKS.items():
        weight = float(policy.weights.get(name, 0.0))
        applicable = weight > 0 and (name != "keywords" or bool(target_keywords(f)))
        if not applicable:
            checks.append(
                {
                    "name": name,
                    "weight": weight,
                    "score": None,
                    "passed": None,
                    "applicable": False,
                    "reason": "not applicable (no target keywords or role)"
                    if name == "keywords"
                    else "weight 0",
                    "fix": None,
                }
            )
            continue
        score, reason, fix = fn(f)
        score = round(max(0.0, min(1.0, score)), 3)
        checks.append(
            {
                "name": name,
                "weight": weight,
                "score": score,
                "passed": score >= PASS,
                "applicable": True,
                "reason": reason,
                "fix": fix if score < PASS else None,
            }
        )
    used = [c for c in checks if c["applicable"]]
    total = sum(c["weight"] for c in used) or 1.0
    value = sum(c["weight"] * c["score"] for c in used) / total
    ranked = sorted(used, key=lambda c: -c["weight"] * (1 - c["score"]))
    return {
        "bullet": bullet,
        "score": round(100 * value),
        "checks": checks,
        "suggestions": [c["fix"] for c in ranked if c["fix"]],
        "skills": sorted({s.skill for s in skills}),
        "word_count": len(f.words),
    }
