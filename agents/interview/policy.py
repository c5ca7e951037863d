"""How the interview worker scores and follows up (from its settings)."""

from __future__ import annotations

from dataclasses import dataclass

from agents.interview.grade_validation import DEFAULT_MAX_DEVIATION
from agents.interview.scoring import DEFAULT_RULE_WEIGHTS


@dataclass(frozen=True)
class InterviewPolicy:
    rule_weights: dict[str, float]
    evaluator: str = "auto"
    follow_up_min_coverage: float = 0.3
    max_deviation: int = DEFAULT_MAX_DEVIATION  # of an LLM grade from the rule score
    llm_model: str = ""  # INTERVIEW_LLM_MODEL: a chosen grader model (``auto`` then asks it)


DEFAULT_POLICY = InterviewPolicy(dict(DEFAULT_RULE_WEIGHTS))
