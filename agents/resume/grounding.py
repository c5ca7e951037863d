"""Rewritten bullets checked against the source resume before they replace anything (issue 21).

A model asked to rewrite bullets may invent facts, repeat itself, or return a bullet of
another job. Each source bullet gets at most one rewrite - the unused line that keeps the
largest share of its content words (:func:`kept_share` >= :data:`MIN_KEPT`) - and that
rewrite replaces it only when none of these holds (the first that does is the reason; the
original bullet stays):

* ``OTHER_JOB`` - it resembles a bullet of another job more than its source
  (kept share >= :data:`SAME_BULLET` and above the source's);
* ``DUPLICATE`` - it is (nearly: token Dice >= :data:`NEAR_DUPLICATE`) another bullet of
  the resume or an earlier accepted rewrite;
* ``NEW_NUMBER`` - it has a number that its job's entry (title, company, dates, bullets)
  does not;
* ``NEW_FACT`` - it names a technology or named entity (from the ``terms`` function: the
  skills gazetteer and the spaCy worker's entities) that neither its job's entry nor the
  resume's summary and skills mention.

A source without a usable line keeps its bullet (``NO_REWRITE``). Lines matched to no source
are dropped and listed: ``NOT_GROUNDED`` (resembles no bullet: an invented one),
``EXTRA_REWRITE`` (a second rewrite of a bullet that has one), ``OTHER_JOB`` / ``DUPLICATE``
(a copy of a bullet that was not given to rewrite, from another job / the same job).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MIN_KEPT = 0.34
SAME_BULLET = 0.5
NEAR_DUPLICATE = 0.9
# fmt: off
STOP = frozenset({
    "a", "an", "the", "and", "or", "of", "for", "to", "in", "on", "at", "by", "with", "from",
    "as", "into", "over", "via", "per", "our", "my", "its", "their", "this", "that", "these",
    "those", "was", "were", "is", "are", "be", "been", "being", "it", "we", "i", "he", "she",
    "they", "which", "who", "while", "than", "then", "also", "more", "most", "new", "all", "each",
})
# fmt: on
#: spaCy entity labels that name facts a rewrite must not invent.
FACT_LABELS = frozenset(
    {"ORG", "PRODUCT", "GPE", "PERSON", "NORP", "FAC", "LOC", "EVENT", "LANGUAGE", "LAW"}
)
MARKER = re.compile(r"^\s*(?:[-*\u2022\u25aa\u2013>]+|\d{1,2}[.)])\s*")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

Terms = Callable[[str], set[str]]


def stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def tokens(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9][a-z0-9+#]*", text.lower())
    return {stem(w) for w in words if w not in STOP and len(w) > 1}


def kept_share(source: str, line: str) -> float:
    """The share of ``source``'s content words that ``line`` keeps."""
    src = tokens(source)
    return len(src & tokens(line)) / len(src) if src else 0.0


def dice(a: str, b: str) -> float:
    ta, tb = tokens(a), tokens(b)
    return 2 * len(ta & tb) / (len(ta) + len(tb)) if ta or tb else 1.0


def numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in NUMBER.findall(text)}


def clean_line(line: str) -> str:
    return MARKER.sub("", line).strip().strip("\"'\u201c\u201d").strip()


@dataclass(frozen=True)
class Bullet:
    text: str
    job: int  # index in the resume's experience


def resume_bullets(record: dict[str, Any]) -> list[Bullet]:
    return [
        Bullet(str(b), i)
        for i, job in enumerate(record.get("experience") or [])
        for b in job.get("bullets") or []
    ]


def job_text(job: dict[str, Any]) -> str:
    fields = [job.get(k) or "" for k in ("title", "company", "location", "start", "end")]
    return " ".join([*map(str, fields), *map(str, job.get("bullets") or [])])


def resume_wide_text(record: dict[str, Any]) -> str:
    skills = record.get("skills") or {}
    listed = [str(s) for s in skills.get("listed") or []]
    found = [str(s.get("skill", "")) for s in skills.get("found") or [] if isinstance(s, dict)]
    return " ".join([str(record.get("summary") or ""), *listed, *found])


def _assign(sources: list[str], lines: list[str]) -> dict[int, int]:
    """source index -> line index: the best-kept pairs first, each used once."""
    pairs = sorted(
        (
            (kept_share(s, line), -abs(i - j), i, j)
            for i, s in enumerate(sources)
            for j, line in enumerate(lines)
        ),
        reverse=True,
    )
    out: dict[int, int] = {}
    used: set[int] = set()
    for share, _, i, j in pairs:
        if share >= MIN_KEPT and i not in out and j not in used:
            out[i] = j
            used.add(j)
    return out


def _job_of(source: str, bullets: list[Bullet]) -> int | None:
    norm = " ".join(source.split()).lower()
    for b in bullets:
        if " ".join(b.text.split()).lower() == norm:
            return b.job
    return None


def _problem(
    line: str,
    source: str,
    job: int | None,
    *,
    record: dict[str, Any],
    bullets: list[Bullet],
    accepted: list[str],
    terms: Terms,
) -> tuple[str, str] | None:
    own = kept_share(source, line)
    for b in bullets:
        if job is not None and b.job != job:
            share = kept_share(b.text, line)
            if share >= SAME_BULLET and share > own:
                return "OTHER_JOB", f"resembles {b.text!r} of job {b.job + 1}"
    for other in [*(b.text for b in bullets if b.text != source), *accepted]:
        if dice(line, other) >= NEAR_DUPLICATE:
            return "DUPLICATE", f"repeats {other!r}"
    experience = record.get("experience") or []
    scope = job_text(experience[job]) if job is not None else " ".join(b.text for b in bullets)
    new_numbers = sorted(numbers(line) - numbers(scope) - numbers(source))
    if new_numbers:
        return "NEW_NUMBER", f"{', '.join(new_numbers)} not in the job's entry"
    known = " ".join([scope, source, resume_wide_text(record)]).lower()
    new_terms = sorted(t for t in terms(line) if t.lower() not in known)
    if new_terms:
        return "NEW_FACT", f"{', '.join(new_terms)} not in the resume"
    return None


def ground(
    record: dict[str, Any], sources: list[str], lines: list[str], *, terms: Terms
) -> dict[str, Any]:
    """Each source bullet with its rewrite (kept or replaced by the original, and why), the
    dropped lines, and the resume's experience with the kept rewrites in place."""
    bullets = resume_bullets(record)
    cleaned = [c for c in (clean_line(x) for x in lines) if c]
    assigned = _assign(sources, cleaned)
    accepted: list[str] = []
    rows = []
    for i, source in enumerate(sources):
        job = _job_of(source, bullets)
        row: dict[str, Any] = {"source": source, "job_index": job, "rewrite": None}
        if i not in assigned:
            row.update(final=source, kept="original", reason="NO_REWRITE", detail="")
        else:
            line = cleaned[assigned[i]]
            row["rewrite"] = line
            problem = _problem(
                line,
                source,
                job,
                record=record,
                bullets=bullets,
                accepted=accepted,
                terms=terms,
            )
            if problem is None:
                accepted.append(line)
                row.update(final=line, kept="rewrite", reason="GROUNDED", detail="")
            else:
                row.update(final=source, kept="original", reason=problem[0], detail=problem[1])
        rows.append(row)
    dropped = [
        _dropped(line, sources, bullets, {job for r in rows if (job := r["job_index"]) is not None})
        for j, line in enumerate(cleaned)
        if j not in assigned.values()
    ]
    return {
        "bullets": rows,
        "improved_bullets": [r["final"] for r in rows],
        "dropped": dropped,
        "experience": _experience(record, rows),
        "rewritten": sum(r["kept"] == "rewrite" for r in rows),
        "kept_original": sum(r["kept"] == "original" for r in rows),
    }


def _dropped(
    line: str, sources: list[str], bullets: list[Bullet], source_jobs: set[int]
) -> dict[str, Any]:
    best = max(bullets, key=lambda b: kept_share(b.text, line), default=None)
    if any(kept_share(s, line) >= MIN_KEPT for s in sources):
        return {"line": line, "reason": "EXTRA_REWRITE"}
    if best is not None and kept_share(best.text, line) >= SAME_BULLET:
        reason = "DUPLICATE" if best.job in source_jobs else "OTHER_JOB"
        return {"line": line, "reason": reason, "detail": f"resembles {best.text!r}"}
    return {"line": line, "reason": "NOT_GROUNDED", "detail": "resembles no source bullet"}


def _experience(record: dict[str, Any], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The resume's jobs with each source bullet replaced by its final text."""
    final = {(r["job_index"], r["source"]): r["final"] for r in rows if r["job_index"] is not None}
    return [
        {**job, "bullets": [final.get((i, b), b) for b in job.get("bullets") or []]}
        for i, job in enumerate(record.get("experience") or [])
    ]
