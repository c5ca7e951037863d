"""Rewritten bullets grounded in the source resume (``resume.bullets.ground``): the bad
rewrites measured in issue 21 (an invented bullet, a duplicate, another job's bullet) fall
back to the original bullet with a reason; grounded rewrites replace it in its own job."""

from __future__ import annotations

from typing import Any

import pytest

from agents.resume.grounding import ground
from agents.resume.handlers import handle_ground_bullets
from agents.resume.messages import GroundBullets
from agents.resume.ports import Analysis, SkillHit

RECORD: dict[str, Any] = {
    "summary": "Backend engineer with six years of experience building data platforms.",
    "skills": {"listed": ["Python", "PostgreSQL", "Docker", "Kubernetes"]},
    "experience": [
        {
            "title": "Senior Engineer",
            "company": "Initech",
            "start": "2020",
            "end": "Present",
            "current": True,
            "bullets": [
                "Was responsible for the billing service",
                "Worked on data pipelines in Python",
            ],
        },
        {
            "title": "Engineer",
            "company": "Globex",
            "start": "2017",
            "end": "2020",
            "bullets": ["Built REST APIs with Django and PostgreSQL for 40 internal teams"],
        },
    ],
}
SOURCES = ["Was responsible for the billing service", "Worked on data pipelines in Python"]
TECH = {"python", "django", "postgresql", "kafka", "kubernetes", "docker", "spark"}


def terms(text: str) -> set[str]:
    return {w.strip(".,") for w in text.split() if w.strip(".,").lower() in TECH}


def by_source(out: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["source"]: r for r in out["bullets"]}


def test_grounded_rewrites_replace_their_bullets_in_their_own_job():
    out = ground(
        RECORD,
        SOURCES,
        ["- Owned the billing service end to end", "Built data pipelines in Python"],
        terms=terms,
    )
    rows = by_source(out)
    assert rows[SOURCES[0]]["kept"] == "rewrite" and rows[SOURCES[0]]["reason"] == "GROUNDED"
    assert out["improved_bullets"] == [
        "Owned the billing service end to end",
        "Built data pipelines in Python",
    ]
    assert out["experience"][0]["bullets"] == out["improved_bullets"]
    assert out["experience"][1]["bullets"] == RECORD["experience"][1]["bullets"]
    assert out["rewritten"] == 2 and out["kept_original"] == 0 and out["dropped"] == []


def test_the_bad_rewrites_measured_in_issue_21_fall_back_to_the_originals():
    reply = [
        "Adds a bulleted list of the job's requirements.",  # invented
        "Built REST APIs with Django and PostgreSQL for 40 internal teams",  # another job's
        "Developed data pipelines in Python",
        "Developed data pipelines in Python",  # a duplicate
    ]
    out = ground(RECORD, SOURCES, reply, terms=terms)
    rows = by_source(out)
    assert rows[SOURCES[0]]["kept"] == "original" and rows[SOURCES[0]]["reason"] == "NO_REWRITE"
    assert rows[SOURCES[1]]["final"] == "Developed data pipelines in Python"
    assert out["improved_bullets"] == [SOURCES[0], "Developed data pipelines in Python"]
    reasons = {d["line"]: d["reason"] for d in out["dropped"]}
    assert reasons == {
        "Adds a bulleted list of the job's requirements.": "NOT_GROUNDED",
        "Built REST APIs with Django and PostgreSQL for 40 internal teams": "OTHER_JOB",
        "Developed data pipelines in Python": "EXTRA_REWRITE",
    }
    assert len(out["dropped"]) == 3
    flat = [b for job in out["experience"] for b in job["bullets"]]
    assert len(flat) == len(set(flat)) == 3  # nothing doubled, nothing invented in the PDF


def test_a_rewrite_that_turns_into_another_jobs_bullet_is_refused():
    line = "Built REST APIs with Django and PostgreSQL for 40 internal teams on data pipelines"
    out = ground(RECORD, SOURCES, ["Led the billing service", line], terms=terms)
    row = by_source(out)[SOURCES[1]]
    assert row["rewrite"] == line and row["reason"] == "OTHER_JOB" and "job 2" in row["detail"]
    assert out["improved_bullets"] == ["Led the billing service", SOURCES[1]]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("Ran the billing service for 2 million users", "NEW_NUMBER"),
        ("Ran the billing service, cutting costs by 30%", "NEW_NUMBER"),
        ("Migrated the billing service to Kafka", "NEW_FACT"),
        ("Ran the billing service on Kubernetes", "GROUNDED"),  # in the resume's skills
        ("Built REST APIs with Django and PostgreSQL for 40 internal teams", "OTHER_JOB"),
    ],
)
def test_each_check_names_its_reason(line, reason):
    out = ground(RECORD, [SOURCES[0]], [line], terms=terms)
    row = out["bullets"][0]
    if reason == "OTHER_JOB":  # resembles no source: dropped, the source keeps its bullet
        assert row["reason"] == "NO_REWRITE" and out["dropped"][0]["reason"] == "OTHER_JOB"
        return
    assert row["reason"] == reason, row
    assert row["final"] == (line if reason == "GROUNDED" else SOURCES[0])
    assert row["detail"] or reason == "GROUNDED"


def test_a_rewrite_equal_to_another_bullet_of_the_resume_is_a_duplicate():
    record = {
        "experience": [
            {
                "title": "Engineer",
                "company": "Acme",
                "bullets": ["Worked on the billing service", "Led the billing service team"],
            }
        ]
    }
    out = ground(record, ["Worked on the billing service"], ["Led the billing service team"],
                 terms=terms)  # fmt: skip
    assert out["bullets"][0]["reason"] == "DUPLICATE"


def test_numbering_quotes_and_empty_lines_are_cleaned_and_missing_rewrites_keep_the_bullet():
    out = ground(RECORD, SOURCES, ["", '1. "Owned the billing service"', "   "], terms=terms)
    assert out["improved_bullets"] == ["Owned the billing service", SOURCES[1]]
    assert out["bullets"][1]["reason"] == "NO_REWRITE"


class Nlp:
    async def analyze_many(self, texts: list[str]) -> list[Analysis]:
        return [
            Analysis(
                t,
                [],
                [{"text": "Oracle", "label": "ORG"}] if "Oracle" in t else [],
            )
            for t in texts
        ]

    async def keywords(self, text: str, top_k: int) -> list[tuple[str, int]]:
        return []


class Gazetteer:
    size = 1

    def find(self, text: str, *, lenient: bool = False) -> list[SkillHit]:
        i = text.find("Kafka")
        return [SkillHit("kafka", "Kafka", i, i + 5)] if i >= 0 else []


class Store:
    def get(self, kind: str, doc_id: str, version: int | None = None) -> dict[str, Any] | None:
        return {**RECORD, "resume_id": doc_id, "version": 1} if kind == "resume" else None

    def put(self, kind: str, doc_id: str, data: dict[str, Any], *, command_id: str) -> int:
        raise AssertionError("read only")


async def test_the_handler_uses_the_gazetteer_and_the_entities_of_the_spacy_worker():
    from agents.resume.handlers import ResumePolicy

    cmd = GroundBullets.model_validate(
        {
            "resume": {"resume_id": "r1"},
            "bullets": SOURCES,
            "rewritten": [
                "Moved the billing service to Oracle",
                "Streamed data pipelines in Python through Kafka",
            ],
        }
    )
    out = await handle_ground_bullets(
        cmd, nlp=Nlp(), gazetteer=Gazetteer(), store=Store(), policy=ResumePolicy()
    )
    assert [r["reason"] for r in out["bullets"]] == ["NEW_FACT", "NEW_FACT"]
    assert "Oracle" in out["bullets"][0]["detail"] and "Kafka" in out["bullets"][1]["detail"]
    assert out["improved_bullets"] == SOURCES and out["resume_id"] == "r1"
