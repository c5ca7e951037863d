"""resume.match (real MiniLM embeddings) and posting.extract."""

from __future__ import annotations

import pytest

from agents.resume.fakes import memory_document_store
from agents.resume.handlers import ResumePolicy, handle_extract_posting, handle_match
from agents.resume.messages import ExtractPosting, MatchResume
from tests.unit.interview.helpers import ctx

pytestmark = pytest.mark.timeout(240)

RESUME = """Jane Doe
jane@example.com | (206) 555-0143
SUMMARY
Backend engineer building data platforms and event pipelines.
EXPERIENCE
Senior Software Engineer | Acme Corp | Jan 2020 - Present
• Built a Kafka pipeline in Python processing 2M events per day
• Cut PostgreSQL latency by 45% with better indexes and Redis caching
• Run services on Kubernetes and Docker in AWS
EDUCATION
B.S. in Computer Science, University of Washington, 2012 - 2016
SKILLS
Python, Go, Kafka, PostgreSQL, Redis, Docker, Kubernetes, AWS
"""
MATCHING_JD = """Senior Backend Engineer at Initech
Location: Austin, TX (Remote)
Responsibilities:
- Build event-driven data pipelines and APIs
- Operate services on Kubernetes
Requirements:
- 5+ years with Python
- Kafka, PostgreSQL and Docker
- Terraform
Nice to have:
- Go, GraphQL
"""
UNRELATED_JD = """Pastry Chef at Le Petit Four
Responsibilities:
- Prepare croissants, tarts and wedding cakes every morning
- Manage the bakery inventory and food safety
Requirements:
- Culinary school diploma
- 3+ years in a professional kitchen, cake decorating, food safety certification
"""


async def test_matching_job_scores_higher_and_missing_skills_are_exact(nlp, gazetteer, embedder):
    deps = dict(
        nlp=nlp,
        gazetteer=gazetteer,
        embedder=embedder,
        store=memory_document_store(),
        policy=ResumePolicy(),
    )
    good = await handle_match(
        MatchResume(resume={"source": {"text": RESUME}}, job={"text": MATCHING_JD}), **deps
    )
    bad = await handle_match(
        MatchResume(resume={"source": {"text": RESUME}}, job={"text": UNRELATED_JD}), **deps
    )
    assert good["score"] > bad["score"] + 30
    assert good["missing_skills"] == {"required": ["terraform"], "preferred": ["graphql"]}
    assert set(good["matched_skills"]["required"]) == {"python", "kafka", "postgresql", "docker"}
    assert good["matched_skills"]["preferred"] == ["go"]
    assert good["semantic"]["cosine"] > bad["semantic"]["cosine"] + 0.2
    assert good["semantic"]["model"] == "all-MiniLM-L6-v2"
    assert {c["component"] for c in good["components"]} == {
        "required_skills",
        "preferred_skills",
        "semantic",
    }
    assert "4/5 required skills" in good["explanation"] and "terraform" in good["explanation"]
    assert good["keyword_suggestions"][:2] == ["terraform", "graphql"]


async def test_posting_extraction_from_html(nlp, gazetteer):
    html = """<html><body><h1>Staff Data Engineer</h1><p>Company: Globex Corporation</p>
    <p>Location: Berlin, Germany. Hybrid, full-time.</p><p>Salary: €85k – €105k per year</p>
    <h2>What you'll do</h2><ul><li>Design our lakehouse on Spark and Airflow</li><li>Mentor engineers</li></ul>
    <h2>Requirements</h2><ul><li>7+ years of experience in data engineering</li><li>Python, SQL and Spark</li>
    <li>Master's degree in Computer Science or similar</li></ul>
    <h2>Nice to have</h2><ul><li>dbt and Snowflake</li></ul></body></html>"""
    store = memory_document_store()
    out = await handle_extract_posting(
        ExtractPosting(html=html, posting_id="job-1"),
        nlp=nlp,
        gazetteer=gazetteer,
        store=store,
        ctx=ctx("x1"),
    )
    assert out["title"] == "Staff Data Engineer" and out["seniority"] == "staff"
    assert out["company"] == "Globex Corporation"
    assert out["location"].startswith("Berlin, Germany") and out["remote"] == "hybrid"
    assert out["employment_type"] == "full-time"
    assert out["salary"] == {
        "min": 85000.0,
        "max": 105000.0,
        "currency": "EUR",
        "period": "year",
        "annual_min": 85000,
        "annual_max": 105000,
        "text": out["salary"]["text"],
    }
    assert {"python", "sql", "spark"} <= set(out["required_skills"])
    assert set(out["preferred_skills"]) == {"dbt", "snowflake"}
    assert out["years_experience"]["min"] == 7 and out["education"]["level"] == "master"
    assert out["responsibilities"] == [
        "Design our lakehouse on Spark and Airflow",
        "Mentor engineers",
    ]
    assert store.get("posting", "job-1")["version"] == 1
