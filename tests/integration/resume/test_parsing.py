"""resume.parse on a labelled set of generated PDF and DOCX resumes (field-level accuracy)."""

from __future__ import annotations

import base64

import pytest

from agents.resume.fakes import memory_document_store
from agents.resume.handlers import ResumePolicy, handle_parse, parse_source
from agents.resume.messages import ParseResume, ResumeSource
from tests.support.resume_corpus import _label, corpus, field_scores, pdf_image_only
from tests.unit.interview.helpers import ctx

pytestmark = pytest.mark.timeout(240)


def source(data: bytes, name: str) -> ResumeSource:
    return ResumeSource(content_base64=base64.b64encode(data).decode(), filename=name)


async def test_field_level_accuracy_on_the_labelled_set(nlp, gazetteer, capsys):
    items = corpus()
    assert len(items) >= 10 and {i.kind for i in items} == {"pdf", "docx"}
    total = correct = 0
    misses = {}
    for item in items:
        rec = await parse_source(
            source(item.data, f"{item.name}.{item.kind}"),
            nlp=nlp,
            gazetteer=gazetteer,
            policy=ResumePolicy(),
        )
        scores = field_scores(rec, item.label)
        total += len(scores)
        correct += sum(scores.values())
        misses[item.name] = [k for k, ok in scores.items() if not ok]
        for flag, expected in item.flags.items():
            assert rec["layout"][flag] is expected, (item.name, flag, rec["layout"])
    accuracy = correct / total
    with capsys.disabled():
        print(
            f"\nresume.parse field accuracy: {correct}/{total} = {accuracy:.3f} on {len(items)} resumes"
        )
    assert accuracy >= 0.95, misses


async def test_image_only_pdf_is_flagged(nlp, gazetteer):
    rec = await parse_source(
        source(pdf_image_only(_label(0), 0), "scan.pdf"),
        nlp=nlp,
        gazetteer=gazetteer,
        policy=ResumePolicy(),
    )
    assert rec["layout"]["images_instead_of_text"] is True
    assert rec["layout"]["image_pages"] == [1]
    assert rec["contact"]["email"] is None


def test_statistical_ner_place_is_still_a_skill(gazetteer):
    hits = [
        h.skill for h in gazetteer.find("Tuned PostgreSQL and Redis on AWS; used maps and tags.")
    ]
    assert hits == ["postgresql", "redis", "aws"]


async def test_stored_parses_are_versioned_and_idempotent(nlp, gazetteer):
    store = memory_document_store()
    item = corpus()[6]
    cmd = ParseResume(source=source(item.data, "cv.docx"), resume_id="cand-1")
    first = await handle_parse(
        cmd, nlp=nlp, gazetteer=gazetteer, store=store, policy=ResumePolicy(), ctx=ctx("p1")
    )
    again = await handle_parse(
        cmd, nlp=nlp, gazetteer=gazetteer, store=store, policy=ResumePolicy(), ctx=ctx("p1")
    )
    second = await handle_parse(
        cmd, nlp=nlp, gazetteer=gazetteer, store=store, policy=ResumePolicy(), ctx=ctx("p2")
    )
    assert (first["version"], again["version"], second["version"]) == (1, 1, 2)
    assert store.get("resume", "cand-1", 1)["contact"]["email"] == item.label["email"]
    assert store.get("resume", "cand-1")["version"] == 2


async def test_document_extraction_runs_as_a_compute_step(nlp, gazetteer):
    from enginedge_streams.testing.compute_pool import InProcessComputePool

    pool = InProcessComputePool()
    rec = await parse_source(
        source(pdf_image_only(_label(0), 0), "scan.pdf"),
        nlp=nlp,
        gazetteer=gazetteer,
        policy=ResumePolicy(),
        compute=pool,
    )
    assert rec["layout"]["images_instead_of_text"] is True
    assert [name for name, _ in pool.calls] == ["agents.resume.compute.extract_step"]
