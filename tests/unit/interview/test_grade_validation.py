"""An LLM's grade replaces the rule score only if it validates (issue 21): well-formed,
evidence really in the answer (fuzzy within reason), a score inside the band the rule
criteria allow and near the rule score unless the justification disputes a named concept."""

from __future__ import annotations

import json

import pytest

from agents.interview.bank import seeded_questions
from agents.interview.grade_validation import (
    DEFAULT_MAX_DEVIATION,
    check_grade,
    evidence_in_answer,
    score_band,
)
from agents.interview.scoring import DEFAULT_RULE_WEIGHTS, rule_score

Q = seeded_questions()["beh-conflict"]
STRONG = (
    "At my previous company our team disagreed about whether to move our reporting jobs from "
    "cron to Airflow. My task was to make a recommendation. I listened to the two engineers who "
    "preferred cron and wrote down their concerns. Then I gathered data: we had 14 silent job "
    "failures in three months. We agreed on a compromise, a two week trial, and as a result "
    "failures were detected within minutes."
)
RULES = rule_score(Q, STRONG, None, spoken=False, weights=dict(DEFAULT_RULE_WEIGHTS))
QUOTE = "I listened to the two engineers who preferred cron"


def reply(score: object, evidence: object = QUOTE, **more: object) -> str:
    return "```json\n" + json.dumps({"score": score, "evidence": evidence, **more}) + "\n```"


def test_a_grade_near_the_rule_score_with_a_real_quote_is_used():
    check = check_grade(reply(RULES["score"] - 10, strengths=["clear"]), Q, STRONG, RULES)
    assert check.verdict is not None and check.reason is None
    assert check.verdict["score"] == RULES["score"] - 10
    assert check.verdict["evidence"] == QUOTE and check.verdict["strengths"] == ["clear"]


def test_the_echo_of_the_prompt_format_is_refused():
    assert RULES["score"] >= 80
    check = check_grade('{"score": 0, "evidence": "100%"}', Q, STRONG, RULES)
    assert check.verdict is None and check.reason == "EVIDENCE_TOO_SHORT"
    assert check.llm_score == 0


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("no json at all", "MALFORMED_REPLY"),
        ('{"score": "high", "evidence": "x"}', "MALFORMED_REPLY"),
        ('{"score": true, "evidence": "I listened to the two engineers"}', "MALFORMED_REPLY"),
        ('{"score": 140, "evidence": "I listened to the two engineers"}', "MALFORMED_REPLY"),
        ('{"score": 80}', "MALFORMED_REPLY"),
        ('{"score": 80, "evidence": "<an exact quote from the answer>"}', "EVIDENCE_NOT_IN_ANSWER"),
        ('{"score": 80, "evidence": "we rewrote everything in Rust overnight"}',
         "EVIDENCE_NOT_IN_ANSWER"),
    ],
)  # fmt: skip
def test_malformed_replies_and_invented_quotes_are_refused(raw, reason):
    check = check_grade(raw, Q, STRONG, RULES)
    assert check.verdict is None and check.reason == reason and check.detail


def test_evidence_matches_after_normalisation_and_fuzzily_within_reason():
    assert evidence_in_answer("I LISTENED to the two engineers, who preferred cron!", STRONG)
    assert evidence_in_answer("I listened to the 2 engineers who preferred cron", STRONG)  # slip
    assert evidence_in_answer("My task was to make a recommendation ... wrote down", STRONG)
    assert evidence_in_answer("we’d gathered data", "We'd gathered data here")  # apostrophes
    assert not evidence_in_answer("I listened to the managers who wanted Kubernetes", STRONG)
    assert not evidence_in_answer("My task was to make a recommendation ... we hired", STRONG)
    assert not evidence_in_answer("...", STRONG)


def test_a_score_outside_the_band_of_the_objective_criteria_is_refused():
    short = "We disagreed and I listened to them."
    rules = rule_score(Q, short, None, spoken=False, weights=dict(DEFAULT_RULE_WEIGHTS))
    lo, hi = score_band(rules)
    assert hi < 100  # a seven-word answer cannot be complete: its length criterion stands
    check = check_grade(
        reply(95, "We disagreed and I listened to them", justification="covers disagree"),
        Q,
        short,
        rules,
    )
    assert check.reason == "SCORE_OUT_OF_BAND" and check.band == (lo, hi)


def test_a_score_far_from_the_rules_needs_a_justification_disputing_a_concept():
    low = max(score_band(RULES)[0], RULES["score"] - DEFAULT_MAX_DEVIATION - 10)
    plain = check_grade(reply(low, justification="Not great."), Q, STRONG, RULES)
    assert plain.reason == "SCORE_FAR_FROM_RULES" and plain.llm_score == low
    found = RULES["concepts_found"]
    assert "compromise" in found
    disputed = check_grade(
        reply(low, justification="The compromise is asserted, never explained."),
        Q,
        STRONG,
        RULES,
    )
    assert disputed.verdict is not None and disputed.verdict["score"] == low
    assert disputed.verdict["justification"].startswith("The compromise")


def test_a_higher_score_is_justified_only_by_a_concept_the_rules_missed():
    answer = (
        "Our team argued about the queue technology. I heard everyone out, benchmarked both "
        "options with production traffic, and we settled on a middle ground that both sides "
        "accepted. The outcome was a migration with no downtime."
    )
    rules = rule_score(Q, answer, None, spoken=False, weights=dict(DEFAULT_RULE_WEIGHTS))
    assert "listen" in rules["concepts_missing"]
    score = min(score_band(rules)[1], rules["score"] + DEFAULT_MAX_DEVIATION + 5)
    quote = "I heard everyone out, benchmarked both options"
    wrong = check_grade(reply(score, quote, justification="Great outcome."), Q, answer, rules)
    assert wrong.reason == "SCORE_FAR_FROM_RULES"
    right = check_grade(
        reply(score, quote, justification="'heard everyone out' means they listened"),
        Q,
        answer,
        rules,
    )
    assert right.verdict is not None and right.verdict["score"] == score


def test_a_justification_reciting_the_prompts_concept_list_disputes_nothing():
    answer = (
        "I once disagreed with a colleague about using a NoSQL database for a new service. I "
        "thought Postgres was a better fit because our data was relational. We talked about it "
        "for a while and in the end we went with Postgres. It worked out fine."
    )
    rules = rule_score(Q, answer, None, spoken=False, weights=dict(DEFAULT_RULE_WEIGHTS))
    assert rules["score"] == 40 and "listen" in rules["concepts_missing"]
    recital = (
        "The answer covers the key concepts of disagree, listen, data, compromise, and result."
    )
    quote = "I thought Postgres was a better fit because our data was relational."
    check = check_grade(reply(80, quote, justification=recital), Q, answer, rules)
    assert check.reason == "SCORE_FAR_FROM_RULES"  # measured on the 1.5B model (issue 21)
