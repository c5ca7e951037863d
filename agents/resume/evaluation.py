"""A whole resume: per-section findings, repetition, gates and an overall score."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from agents.resume import verbs

STOP = {
    "the",
    "a",
    "an",
    "and",
    "or",
    "of",
    "to",
    "in",
    "on",
    "for",
    "with",
    "by",
    "at",
    "from",
    "as",
    "into",
    "our",
    "their",
    "its",
    "across",
    "over",
    "per",
    "that",
    "this",
    "using",
}


@dataclass(frozen=True)
class Gates:
    bullet_min_score: float = 60.0
    weak_bullet_score: float = 50.0
    max_weak_share: float = 0.3
    alignment_min_score: float = 55.0
    repeated_verb_min: int = 3
    repeated_phrase_min: int = 2


def repeated(bullets: list[str], gates: Gates) -> dict[str, Any]:
    firsts: Counter[str] = Counter()
    for b in bullets:
        words = re.findall(r"[A-Za-z][\w'-]*", b)
        if words:
            base, _ = verbs.classify(words[0])
            firsts[(base or words[0]).lower()] += 1
    phrases: Counter[str] = Counter()
    for b in bullets:
        words = [w.lower() for w in re.findall(r"[A-Za-z][\w+#.'-]*", b)]
        seen = set()
        for n in (3, 2):
            for i in range(len(words) - n + 1):
                gram = words[i : i + n]
                if gram[0] in STOP or gram[-1] in STOP:
                    continue
                key = " ".join(gram)
                if key not in seen:
                    seen.add(key)
                    phrases[key] += 1
    verbs_rep = {v: c for v, c in firsts.most_common() if c >= gates.repeated_verb_min}
    phrase_rep = {p: c for p, c in phrases.most_common() if c >= gates.repeated_phrase_min}
    # drop bigrams contained in a reported trigram with the same count
    for p in list(phrase_rep):
        if len(p.split()) == 2 and any(
            p in q and phrase_rep[q] == phrase_rep[p] for q in phrase_rep if q != p
        ):
            del phrase_rep[p]
    return {"verbs": verbs_rep, "phrases": dict(list(phrase_rep.items())[:15])}


_NUMBER_RUN = re.compile(r"\+?\(?\d[\d ().-]{7,}\d")
_YEARS = re.compile(r"^(19|20)\d{2}\s*[-\u2013.]?\s*((19|20)\d{2})?$")


def uncertain(record: dict[str, Any]) -> list[str]:
    """What the parse may have got wrong: findings that rest on it are withheld, not asserted."""
    out = []
    c = record["contact"]
    if not c.get("phone"):
        runs = [
            m.group(0)
            for m in _NUMBER_RUN.finditer(record.get("text", ""))
            if len(re.sub(r"\D", "", m.group(0))) >= 9 and not _YEARS.match(m.group(0).strip())
        ]
        if runs:
            out.append(f"phone: {runs[0]!r} may be a phone number the parser did not recognise")
    if not c.get("name"):
        out.append("name: not recognised in the first lines")
    jobs = record.get("experience", [])
    if jobs and not any(job.get("bullets") for job in jobs):
        out.append(
            "experience: no bullet told apart from the job lines (an unknown bullet glyph or "
            "paragraphs): bullet checks not run"
        )
    if len(jobs) > 15:
        out.append(f"experience: {len(jobs)} entries: wrapped lines may have been read as jobs")
    if "experience" not in record.get("sections_found", []) and record.get("word_count", 0) > 150:
        out.append("sections: no experience heading recognised: the sections may be misread")
    return out


def section_findings(record: dict[str, Any]) -> dict[str, list[str]]:  # noqa: PLR0912 - one rule per line
    f: dict[str, list[str]] = {
        k: [] for k in ("contact", "summary", "experience", "education", "skills", "projects")
    }
    doubts = " ".join(uncertain(record))
    c = record["contact"]
    for key in ("name", "email", "phone"):
        if not c.get(key) and f"{key}:" not in doubts:
            f["contact"].append(f"no {key} found")
    if not c.get("links"):
        f["contact"].append("no LinkedIn/GitHub/portfolio link")
    summary = record.get("summary")
    if not summary:
        f["summary"].append("no summary: add 2-3 lines on who you are and what you target")
    elif len(summary.split()) > 80:
        f["summary"].append(f"summary is {len(summary.split())} words: keep it under 80")
    jobs = record.get("experience", [])
    if not jobs:
        f["experience"].append("no experience section found")
    for job in jobs:
        label = job.get("title") or job.get("company") or "an entry"
        if not job.get("start"):
            f["experience"].append(f"{label}: no dates")
        if not job.get("company"):
            f["experience"].append(f"{label}: no company")
        n = len(job.get("bullets", []))
        if "experience: no bullet" in doubts:
            continue
        if n < 2:
            f["experience"].append(f"{label}: {n} bullet(s): add 3-6 achievements")
        elif n > 8:
            f["experience"].append(f"{label}: {n} bullets: keep the 6 strongest")
    if not record.get("education"):
        f["education"].append("no education section found")
    listed = record["skills"]["listed"]
    if len(listed) < 5:
        f["skills"].append(f"{len(listed)} skills listed: list your main tools and technologies")
    if not record.get("projects"):
        f["projects"].append("no projects section (optional, useful early in a career)")
    return f


def ats(record: dict[str, Any]) -> dict[str, Any]:
    layout = record.get("layout", {})
    problems = []
    if layout.get("multi_column"):
        problems.append("multi-column layout: many ATS read across columns and mix sections")
    if layout.get("tiny_fonts"):
        problems.append(f"tiny fonts (smallest {layout.get('smallest_font_pt')} pt)")
    if layout.get("images_instead_of_text"):
        problems.append("text in images: an ATS cannot read it")
    if layout.get("text_in_header"):
        problems.append("contact details in the page header: some ATS skip headers")
    if not record["contact"].get("email"):
        problems.append("no e-mail address in the text")
    missing = [s for s in ("experience", "education") if s not in record.get("sections_found", [])]
    if missing:
        problems.append("standard headings not found: " + ", ".join(missing))
    return {"passed": not problems, "problems": problems}


def overall(
    bullet_mean: float | None,
    ats_result: dict[str, Any],
    findings: dict[str, list[str]],
    alignment: float | None,
) -> dict[str, Any]:
    completeness = max(
        0.0, 100.0 - 10.0 * sum(len(v) for k, v in findings.items() if k != "projects")
    )
    ats_score = max(0.0, 100.0 - 25.0 * len(ats_result["problems"]))
    parts = {
        "bullets": (0.4, bullet_mean),
        "ats": (0.2, ats_score),
        "completeness": (0.2, completeness),
        "alignment": (0.2, alignment),
    }
    used = {k: (w, v) for k, (w, v) in parts.items() if v is not None}
    total = sum(w for w, _ in used.values())
    score = sum(w * v for w, v in used.values()) / total if total else 0.0
    return {
        "score": round(score),
        "components": {
            k: {"weight": round(w / total, 3), "value": round(v, 1)} for k, (w, v) in used.items()
        },
    }
