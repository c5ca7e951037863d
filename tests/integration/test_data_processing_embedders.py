"""Embedders: the real local MiniLM (ONNX model) and the OpenAI adapter through the official
SDK against a local server speaking the embeddings protocol."""

from __future__ import annotations

import numpy as np
import pytest

from agents.data_processing.minilm_onnx_embedder import MinilmOnnxEmbedder
from agents.data_processing.openai_embedder import OpenaiEmbedder
from enginedge_streams.errors import DependencyUnavailableError, PermanentError, RateLimitedError
from tests.support.fake_openai_embeddings import FakeOpenAIEmbeddings

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def minilm():
    e = MinilmOnnxEmbedder(batch_size=8)
    e.load()
    return e


async def test_minilm_is_384_dims_unit_length_and_semantic(minilm):
    texts = [
        "How do I reset my password?",
        "Steps to change the password of your account",
        "The recipe needs two eggs and flour",
    ]
    v = await minilm.embed(texts)
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    sims = v @ v.T
    assert sims[0, 1] > 0.6 and sims[0, 2] < 0.2


async def test_minilm_batching_and_order_do_not_change_vectors(minilm):
    texts = [f"sentence number {i} about {'kafka' if i % 2 else 'redis'}" for i in range(20)]
    texts.append("a much longer text " * 40)  # padded batch vs alone
    together = await minilm.embed(texts)
    alone = np.stack([(await minilm.embed([t]))[0] for t in texts[::-1]])[::-1]
    assert np.abs(together - alone).max() < 1e-4
    assert (await minilm.embed([])).shape == (0, 384)


async def test_minilm_token_budget_and_concurrent_callers_do_not_change_vectors(minilm):
    import asyncio

    texts = [f"{'kafka stream ' * (i % 7 + 1)}number {i}" for i in range(24)]
    texts.append("a long passage about partitions " * 60)  # 256 word pieces: alone per run
    reference = await minilm.embed(texts)
    small = MinilmOnnxEmbedder(batch_size=8, max_batch_tokens=64)  # 1-4 texts per run
    small.load()
    # two documents at once: their runs take turns on the one session
    first, second = await asyncio.gather(small.embed(texts), small.embed(texts[::-1]))
    assert np.abs(first - reference).max() < 1e-4
    assert np.abs(second[::-1] - reference).max() < 1e-4


async def test_minilm_truncates_long_inputs(minilm):
    v = await minilm.embed(["word " * 5000])
    assert v.shape == (1, 384) and np.isfinite(v).all()


@pytest.fixture(scope="module")
def openai_server():
    server = FakeOpenAIEmbeddings().start()
    yield server
    server.stop()


async def test_openai_adapter_batches_of_100_and_keeps_order(openai_server):
    openai_server.requests.clear()
    emb = OpenaiEmbedder(api_key=openai_server.api_key, base_url=openai_server.base_url)
    texts = [
        f"document {i} mentions kafka" if i % 3 else f"note {i} about redis" for i in range(250)
    ]
    try:
        v = await emb.embed(texts)
    finally:
        await emb.stop()
    assert v.shape == (250, 1536) and emb.model_name == "text-embedding-3-small"
    assert [len(r["input"]) for r in openai_server.requests] == [100, 100, 50]
    assert all(r["model"] == "text-embedding-3-small" for r in openai_server.requests)
    assert v[1] @ v[2] > v[1] @ v[3]  # kafka texts closer to each other than to redis ones


async def test_openai_dimensions_and_error_mapping(openai_server):
    emb = OpenaiEmbedder(
        api_key=openai_server.api_key, base_url=openai_server.base_url, dimensions=256
    )
    try:
        assert (await emb.embed(["x"])).shape == (1, 256)
        assert openai_server.requests[-1]["dimensions"] == 256
        openai_server.fail = [429]
        with pytest.raises(RateLimitedError) as info:
            await emb.embed(["x"])
        assert info.value.retry_after == pytest.approx(0.1)
        openai_server.fail = [500]
        with pytest.raises(DependencyUnavailableError):
            await emb.embed(["x"])
    finally:
        await emb.stop()
    bad = OpenaiEmbedder(api_key="sk-wrong", base_url=openai_server.base_url)
    with pytest.raises(PermanentError) as err:
        await bad.embed(["x"])
    assert err.value.code == "EMBEDDING_PROVIDER_ERROR"
    await bad.stop()
    down = OpenaiEmbedder(api_key="k", base_url="http://127.0.0.1:9/v1", timeout_s=2)
    with pytest.raises(DependencyUnavailableError):
        await down.embed(["x"])
    await down.stop()
