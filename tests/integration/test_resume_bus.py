"""The resume worker over the real Kafka with real spaCy and data processing workers:
parse (PDF/DOCX), bullets, evaluate, match with embeddings from `embedding.generate`, postings,
versions in the table."""

from __future__ import annotations

import base64

import pytest

from enginedge_streams.records import Status
from tests.support.resume_corpus import INITECH_DUTIES, corpus, field_scores

pytestmark = pytest.mark.timeout(300)

JD = (
    "Senior Backend Engineer at Initech\n"
    "Location: Austin, TX (Remote). Full-time. $150,000 - $180,000 per year\n"
    f"{INITECH_DUTIES}Nice to have:\n- GraphQL\n"
)
CHEF = """Pastry Chef at Le Petit Four
Responsibilities:
- Prepare croissants, tarts and wedding cakes every morning
Requirements:
- 3+ years in a professional kitchen, cake decorating, food safety certification
"""


@pytest.fixture(scope="module")
def workers(module_worker_factory):
    spacy = module_worker_factory("spacy", start=False)
    dp = module_worker_factory("data_processing", start=False, env={"VECTOR_STORE": "memory"})
    resume = module_worker_factory("resume", start=False, env={"RESUME_EMBEDDINGS": "bus"})
    for w in (spacy, dp, resume):
        w.start(wait=False)
    for w in (spacy, dp, resume):
        w.wait_ready(180)
    return resume


def src(item):
    return {
        "content_base64": base64.b64encode(item.data).decode(),
        "filename": f"{item.name}.{item.kind}",
    }


async def test_parse_store_evaluate_and_match_over_the_bus(workers, module_bus):
    items = corpus()
    pdf, docx = items[3], items[9]  # two-column PDF, table-layout DOCX
    results = []
    for item in (pdf, docx):
        r = await module_bus.call(
            "resume", "resume.parse", {"source": src(item), "resume_id": "cand-7"}, timeout=120
        )
        assert r.status is Status.COMPLETED, r.error
        scores = field_scores(r.result, item.label)
        assert sum(scores.values()) / len(scores) >= 0.9, [k for k, v in scores.items() if not v]
        assert r.result["layout"]["multi_column"] is True
        results.append(r.result)
    assert [r["version"] for r in results] == [1, 2]
    v1 = await module_bus.call("resume", "resume.get", {"id": "cand-7", "version": 1}, timeout=60)
    assert v1.result["contact"]["email"] == pdf.label["email"]
    bullet = await module_bus.call(
        "resume",
        "resume.evaluate_bullet",
        {"bullet": "Was responsible for various tasks"},
        timeout=60,
    )
    assert bullet.status is Status.COMPLETED and bullet.result["score"] < 50
    good = await module_bus.call(
        "resume",
        "resume.match",
        {"resume": {"resume_id": "cand-7", "version": 1}, "job": {"text": JD}},
        timeout=120,
    )
    bad = await module_bus.call(
        "resume",
        "resume.match",
        {"resume": {"resume_id": "cand-7", "version": 1}, "job": {"text": CHEF}},
        timeout=120,
    )
    assert good.status is Status.COMPLETED, good.error
    assert good.result["score"] > bad.result["score"] + 25
    assert good.result["missing_skills"]["required"] == ["rust"]
    assert good.result["semantic"]["model"] == "all-MiniLM-L6-v2"
    evaluated = await module_bus.call(
        "resume",
        "resume.evaluate",
        {"resume": {"resume_id": "cand-7"}, "job": {"text": JD}},
        timeout=120,
    )
    assert evaluated.status is Status.COMPLETED, evaluated.error
    gates = evaluated.result["gates"]
    assert gates["ats_safe"]["passed"] is False  # the table layout
    assert gates["role_alignment"]["evaluated"] is True
    posting = await module_bus.call(
        "resume", "posting.extract", {"text": JD, "posting_id": "job-9"}, timeout=60
    )
    assert posting.result["salary"]["annual_max"] == 180000 and posting.result["remote"] == "remote"
    bad_payload = await module_bus.call(
        "resume", "resume.parse", {"source": {"text": "x", "content_base64": "eA=="}}, timeout=60
    )
    assert bad_payload.status is Status.FAILED and bad_payload.error.code == "INVALID_PAYLOAD"
