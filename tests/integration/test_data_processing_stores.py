"""The vector store contract, run against every adapter: in-memory, PostgreSQL + pgvector
(the real server from the local stack), Weaviate and Pinecone (local servers speaking
the REST subset the adapters use)."""

from __future__ import annotations

import uuid

import pytest

from agents.data_processing.fakes import InMemoryVectorStore
from tests.support.stack import ensure_stack
from tests.support.vector_store_contract import DIM, VectorStoreContract

pytestmark = pytest.mark.timeout(120)
PG_URL = "postgresql://postgres@127.0.0.1:5432/enginedge"


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
