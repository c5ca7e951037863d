"""The vector store contract, run against every adapter: in-memory, PostgreSQL + pgvector
(the real server from the local stack), Weaviate and Pinecone (local servers speaking
the REST subset the adapters use)."""

from __future__ import annotations

import os
import uuid

import pytest

from agents.data_processing.memory_vector_store import InMemoryVectorStore
from tests.support.stack import ensure_stack
from tests.support.vector_store_contract import DIM, VectorStoreContract

pytestmark = pytest.mark.timeout(120)
PG_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/enginedge")


@pytest.fixture(scope="module")
def pg_schema():
    ensure_stack("postgres")
    schema = f"t_{uuid.uuid4().hex[:10]}"
    yield schema
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


class TestInMemoryStore(VectorStoreContract):
    @pytest.fixture
    async def store(self):
        yield InMemoryVectorStore()


class TestPgvectorStore(VectorStoreContract):
    @pytest.fixture
    async def store(self, pg_schema):
        from agents.data_processing.pgvector_vector_store import PgvectorVectorStore

        s = PgvectorVectorStore(PG_URL, dimension=DIM, schema=pg_schema, pool_size=4)
        await s.start()
        yield s
        await s.stop()


@pytest.fixture(scope="module")
def weaviate_server():
    from tests.support.fake_weaviate import FakeWeaviate

    server = FakeWeaviate().start()
    yield server
    server.stop()


class TestWeaviateStore(VectorStoreContract):
    @pytest.fixture
    async def store(self, weaviate_server):
        from agents.data_processing.weaviate_vector_store import WeaviateVectorStore

        s = WeaviateVectorStore(weaviate_server.url, dimension=DIM, class_prefix="T")
        await s.start()
        yield s
        await s.stop()

    async def test_uses_the_rest_schema_and_graphql_apis(self, store, weaviate_server):
        assert "POST /v1/schema TChunk64" in weaviate_server.requests
        assert weaviate_server.classes["TChunk64"]["vectorIndexConfig"]["distance"] == "cosine"


@pytest.fixture(scope="module")
def pinecone_server():
    from tests.support.fake_pinecone import FakePinecone

    server = FakePinecone(index_name="chunks", dimension=DIM).start()
    yield server
    server.stop()


class TestPineconeStore(VectorStoreContract):
    keyword_search = False  # Pinecone has no full-text index; refused with its own code

    @pytest.fixture
    async def store(self, pinecone_server):
        from agents.data_processing.pinecone_vector_store import PineconeVectorStore

        s = PineconeVectorStore(
            api_key=pinecone_server.api_key, index_name="chunks", dimension=DIM,
            host=pinecone_server.url,
        )  # fmt: skip
        await s.start()
        yield s
        await s.stop()

    async def test_keyword_search_is_refused_with_a_code(self, store):
        from enginedge_streams.errors import PermanentError

        with pytest.raises(PermanentError) as info:
            await store.search_keyword("c", "anything", 5, {})
        assert info.value.code == "KEYWORD_SEARCH_UNSUPPORTED"

    async def test_index_is_resolved_by_name_and_checked(self, pinecone_server):
        from agents.data_processing.pinecone_vector_store import PineconeVectorStore
        from enginedge_streams.errors import ConfigError

        assert "GET /indexes/chunks" in pinecone_server.calls
        for name, dim in (("missing", DIM), ("chunks", 384)):
            s = PineconeVectorStore(
                api_key=pinecone_server.api_key, index_name=name, dimension=dim,
                host=pinecone_server.url,
            )  # fmt: skip
            with pytest.raises(ConfigError):
                await s.start()
            await s.stop()
