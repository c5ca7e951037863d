"""A parsed resume: extracted lines -> the structured record the commands return and store."""

from __future__ import annotations

from collections import Counter
from typing import Any

from agents.resume import parsing
from agents.resume.contact import labelled_name
from agents.resume.documents import Extracted
from agents.resume.ports import NlpClient, SkillGazetteer

SCHEMA = "resume/v1"


def body_size(extracted: Extracted) -> float | None:
    sizes = Counter(round(line.size) for line in extracted.lines if line.size)
    return float(sizes.most_common(1)[0][0]) if sizes else None


def skills_of(
    gazetteer: SkillGazetteer, text: str, listed: list[str], skills_text: str
) -> list[dict[str, Any]]:
    """Gazetteer skills over the whole text, plus the lenient pass over the skills section."""
    found: dict[str, dict[str, Any]] = {}
    for hit in gazetteer.find(skills_text, lenient=True) if skills_text else []:
        found.setdefault(
            hit.skill, {"skill": hit.skill, "text": hit.text, "count": 0, "listed": True}
        )
    for hit in gazetteer.find(text):
        item = found.setdefault(
            hit.skill, {"skill": hit.skill, "text": hit.text, "count": 0, "listed": False}
        )
        item["count"] += 1
    listed_low = {s.lower() for s in listed}
    for item in found.values():
        item["listed"] = item["listed"] or item["skill"] in listed_low
    return sorted(found.values(), key=lambda s: (not s["listed"], -s["count"], s["skill"]))


async def parse(
    extracted: Extracted, *, gazetteer: SkillGazetteer, nlp: NlpClient
) -> dict[str, Any]:
    raw = extracted.text
    parts = parsing.split_sections(extracted.lines, body_size(extracted))
    contact = parsing.contact(parts.header, raw)
    if contact["name"] is None and parts.order:  # "About me" / "Name | Joe Bloggs" below it
        contact["name"] = labelled_name(parts.sections[parts.order[0]])
    if contact["name"] is None and parts.header:
        header = "\n".join(line.text for line in parts.header[:4])
        (doc,) = await nlp.analyze_many([header])
        people = [e["text"] for e in doc.entities if e.get("label") == "PERSON"]
        contact["name"] = people[0] if people else None
        contact["name_source"] = "ner" if people else None
    sec = parts.sections
    summary = " ".join(line.text for line in sec.get("summary", [])) or None
    listed = parsing.skills_listed(sec.get("skills", []))
    skills_text = "\n".join(line.text for line in sec.get("skills", []))
    experience = parsing.experience(sec.get("experience", []))
    record: dict[str, Any] = {
        "schema": SCHEMA,
        "format": extracted.format,
        "pages": extracted.pages,
        "contact": contact,
        "sections_found": parts.order,
        "summary": summary,
        "experience": experience,
        "education": parsing.education(sec.get("education", [])),
        "skills": {
            "listed": listed,
            "found": skills_of(gazetteer, raw, listed, skills_text),
        },
        "projects": parsing.projects(sec.get("projects", [])),
        "other_sections": {
            name: [line.text for line in lines]
            for name, lines in sec.items()
            if name not in {"summary", "experience", "education", "skills", "projects"}
        },
        "layout": extracted.layout,
        "word_count": len(raw.split()),
        "text": raw,
    }
    return record


def skill_names(record: dict[str, Any]) -> set[str]:
    return {s["skill"] for s in record["skills"]["found"]} | {
        s.lower() for s in record["skills"]["listed"]
    }


def all_bullets(record: dict[str, Any]) -> list[tuple[str, bool]]:
    """(bullet, is current role) for every experience bullet."""
    out = []
    for job in record.get("experience", []):
        for bullet in job.get("bullets", []):
            out.append((bullet, bool(job.get("current"))))
    return out
