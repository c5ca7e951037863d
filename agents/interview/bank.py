"""The seeded question bank (data/questions.json) and built-in templates."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from agents.interview.model import PhaseSpec, Question, Template

DATA = Path(__file__).with_name("data") / "questions.json"


@cache
def seeded_questions() -> dict[str, Question]:
    raw = json.loads(DATA.read_text())
    return {
        q["question_id"]: Question.model_validate({**q, "source": "seed"}) for q in raw["questions"]
    }


def _t(template_id: str, name: str, phases: list[PhaseSpec], rubric: dict[str, float]) -> Template:
    return Template.model_validate(
        {
            "template_id": template_id,
            "name": name,
            "phases": phases,
            "rubric": rubric,
            "source": "seed",
        }
    )


@cache
def seeded_templates() -> dict[str, Template]:
    items = [
        _t(
            "software-engineer",
            "Software engineer (full loop)",
            [
                PhaseSpec(phase="behavioral", duration_seconds=15 * 60, question_count=2),
                PhaseSpec(phase="technical", duration_seconds=15 * 60, question_count=2),
                PhaseSpec(phase="coding", duration_seconds=25 * 60, question_count=1),
                PhaseSpec(phase="system_design", duration_seconds=25 * 60, question_count=1),
            ],
            {"behavioral": 0.25, "technical": 0.25, "coding": 0.25, "system_design": 0.25},
        ),
        _t(
            "behavioral-screen",
            "Behavioral screen",
            [PhaseSpec(phase="behavioral", duration_seconds=20 * 60, question_count=3)],
            {"behavioral": 1.0},
        ),
        _t(
            "senior-backend",
            "Senior backend engineer",
            [
                PhaseSpec(
                    phase="behavioral",
                    duration_seconds=10 * 60,
                    question_count=1,
                    difficulty="hard",
                ),
                PhaseSpec(phase="technical", duration_seconds=15 * 60, question_count=2),
                PhaseSpec(
                    phase="system_design",
                    duration_seconds=30 * 60,
                    question_count=1,
                    difficulty="hard",
                ),
            ],
            {"behavioral": 0.2, "technical": 0.3, "system_design": 0.5},
        ),
    ]
    return {t.template_id: t for t in items}
