"""Bullet scoring: a labelled strong/weak set ranks strong above weak (pairwise agreement)."""

from __future__ import annotations

import pytest

from agents.resume.bullets import DEFAULT_WEIGHTS, BulletPolicy
from agents.resume.handlers import ResumePolicy, handle_evaluate_bullet
from agents.resume.messages import EvaluateBullet

pytestmark = pytest.mark.timeout(240)

STRONG = [
    "Led migration of 40 microservices to Kubernetes, cutting deployment time by 60%",
    "Reduced AWS spend by $180k per year by rightsizing EC2 fleets with Terraform",
    "Built a Kafka streaming pipeline in Python that processes 3M events per day with 99.9% uptime",
    "Designed a PostgreSQL sharding scheme that cut p95 query latency from 800 ms to 120 ms",
    "Automated regression testing with Selenium and Jenkins, raising release frequency 3x",
    "Launched a React checkout flow that increased conversion by 12% for 2M monthly users",
    "Mentored 5 junior engineers, reducing onboarding time from 8 weeks to 4 weeks",
    "Implemented Redis caching for the search API, lowering median latency by 70%",
    "Negotiated 3 vendor contracts, saving $250k annually while improving SLAs",
    "Refactored a legacy Java monolith into 6 Spring Boot services, halving incident count",
    "Introduced Grafana dashboards and alerts that cut mean time to recovery by 45%",
    "Trained a scikit-learn churn model that improved retention by 8% across 40k customers",
]
WEAK = [
    "Responsible for various tasks related to deployments",
    "Worked on the backend team",
    "Helped with testing and other things",
    "Was involved in meetings with stakeholders",
    "Duties included writing code and fixing bugs",
    "The database was migrated by the team",
    "Participated in several projects",
    "In charge of some reports",
    "Assisted senior engineers with various tasks as needed",
    "Team player who is hard-working and detail-oriented",
    "Tasked with maintaining the website",
    "Did a lot of work on the mobile app",
]


async def test_strong_bullets_outrank_weak_ones(nlp, gazetteer, capsys):
    policy = ResumePolicy()
    strong = [
        (
            await handle_evaluate_bullet(
                EvaluateBullet(bullet=b), nlp=nlp, gazetteer=gazetteer, policy=policy
            )
        )["score"]
        for b in STRONG
    ]
    weak = [
        (
            await handle_evaluate_bullet(
                EvaluateBullet(bullet=b), nlp=nlp, gazetteer=gazetteer, policy=policy
            )
        )["score"]
        for b in WEAK
    ]
    pairs = [(s, w) for s in strong for w in weak]
    agreement = sum(s > w for s, w in pairs) / len(pairs)
    with capsys.disabled():
        print(
            f"\nbullet ranking agreement: {agreement:.3f} over {len(pairs)} strong/weak pairs; "
            f"strong mean {sum(strong) / len(strong):.1f}, weak mean {sum(weak) / len(weak):.1f}"
        )
    assert agreement >= 0.95
    assert min(strong) >= 70 and max(weak) < 50  # 50: RESUME_GATE_WEAK_BULLET_SCORE


async def test_checks_are_named_weighted_and_explained(nlp, gazetteer):
    out = await handle_evaluate_bullet(
        EvaluateBullet(
            bullet="Led the rollout of Kafka, cutting costs by 30%",
            current_role=True,
            keywords=["Kafka", "Spark"],
        ),
        nlp=nlp,
        gazetteer=gazetteer,
        policy=ResumePolicy(),
    )
    checks = {c["name"]: c for c in out["checks"]}
    assert set(checks) == set(DEFAULT_WEIGHTS)
    assert (
        checks["tense"]["passed"] is False and "'Lead' instead of 'Led'" in checks["tense"]["fix"]
    )
    assert checks["keywords"]["score"] == 0.5 and "Spark" in checks["keywords"]["fix"]
    assert checks["quantified_result"]["passed"] and checks["action_verb"]["passed"]
    assert all(c["reason"] for c in out["checks"])
    assert any("present tense" in s for s in out["suggestions"])


async def test_passive_voice_is_caught(nlp, gazetteer):
    out = await handle_evaluate_bullet(
        EvaluateBullet(bullet="The billing service was rewritten in Go by our team"),
        nlp=nlp,
        gazetteer=gazetteer,
        policy=ResumePolicy(),
    )
    assert {c["name"]: c for c in out["checks"]}["active_voice"]["passed"] is False


async def test_weights_come_from_configuration(nlp, gazetteer):
    bullet = EvaluateBullet(bullet="Led the team through the reorganisation")
    default = await handle_evaluate_bullet(
        bullet, nlp=nlp, gazetteer=gazetteer, policy=ResumePolicy()
    )
    only_verbs = ResumePolicy(
        bullet=BulletPolicy({**{k: 0.0 for k in DEFAULT_WEIGHTS}, "action_verb": 1.0})
    )
    verbs = await handle_evaluate_bullet(bullet, nlp=nlp, gazetteer=gazetteer, policy=only_verbs)
    assert verbs["score"] == 100 and default["score"] < 100
