"""Claim checks into the LaTeX and data processing workers, on the real Kafka and Redis with
the S3 adapter against a real S3-protocol server (moto's, on 127.0.0.1).

The client uploads the blob itself and sends ``{"kind": "artifact", "artifact_id": ...}`` in
the field's place; the worker (another process, sharing only the S3 bucket) reads it back.
The LaTeX worker stores its PDFs in the same platform store, so a second replica serves a
PDF the first one compiled, and the client can read it from the bucket directly.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid

import pytest

from enginedge_streams.adapters.s3_artifact_store import S3ArtifactStore
from enginedge_streams.claim_check import reference
from enginedge_streams.client import BusClient
from enginedge_streams.records import Status
from enginedge_streams.settings import MAX_COMMAND_BYTES
from tests.support import data_processing_samples as samples
from tests.support.s3_server import ACCESS_KEY, SECRET_KEY, s3_env, s3_server
from tests.support.stack import KAFKA
from tests.support.workers import http_get, latex_worker_env

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(shutil.which("latexmk") is None, reason="TeX Live is not installed"),
]
BUCKET = "latex-claims"

CHAPTER = r"""\section{Claim checks}\label{s:claims}
Big inputs travel by reference; see Section~\ref{s:pdfs}.
\newpage
\section{Shared PDFs}\label{s:pdfs}
Any replica serves what another compiled (Section~\ref{s:claims}).
"""


def big_main() -> str:
    """A document over the bus's command limit: the body, then ~1.2 MB of TeX comments."""
    filler = "".join(f"% filler line {i:06d} " + "x" * 80 + "\n" for i in range(12_000))
    return (
        "\\documentclass{article}\n\\begin{document}\n\\tableofcontents\n"
        f"{filler}\\input{{chapter}}\n\\end{{document}}\n"
    )


@pytest.fixture(scope="module")
def s3_endpoint():
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def latex_replicas(module_worker_factory, tmp_path_factory, s3_endpoint):
    """Two replicas of the LaTeX worker (one consumer group) with their own disks."""
    env = s3_env(s3_endpoint, BUCKET)
    return [
        module_worker_factory(
            "latex",
            env=latex_worker_env(tmp_path_factory.mktemp(f"latex-{n}"), timeout_s=60, **env),
        )
        for n in range(2)
    ]


@pytest.fixture(scope="module")
def dp_worker(module_worker_factory, s3_endpoint):
    return module_worker_factory(
        "data_processing", env={**s3_env(s3_endpoint, BUCKET), "VECTOR_STORE": "memory"}
    )


@pytest.fixture
async def store(s3_endpoint):
    s3 = S3ArtifactStore(
        bucket=BUCKET,
        endpoint_url=s3_endpoint,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
    )
    await s3.start()
    yield s3
    await s3.stop()


@pytest.fixture
async def client(stack, module_prefix, store):
    bus = BusClient([KAFKA], prefix=module_prefix, partitions=4, artifacts=store)
    await bus.start()
    yield bus
    await bus.stop()


async def upload(store, data: bytes, filename: str, content_type: str) -> dict[str, object]:
    return reference(await store.put(data, content_type=content_type, filename=filename))


async def test_a_latex_project_sent_by_reference_compiles_and_any_replica_serves_the_pdf(
    latex_replicas, client, store
):
    main = big_main()
    assert len(main.encode()) > MAX_COMMAND_BYTES  # could not travel inline
    payload = {
        "main": await upload(store, main.encode(), "main.tex", "text/x-tex"),
        "files": [
            {
                "path": "chapter.tex",
                "content": await upload(store, CHAPTER.encode(), "chapter.tex", "text/x-tex"),
            }
        ],
    }
    result = await client.call("latex", "latex.compile", payload, timeout=180)
    assert result.status is Status.COMPLETED, result.error
    assert result.result["errors"] == [] and result.result["passes"] >= 2
    artifact = result.result["artifact"]
    assert artifact["pages"] == 2 and artifact["content_type"] == "application/pdf"
    # The PDF is in the shared bucket: the client reads it there ...
    stored = await store.get(artifact["artifact_id"])
    assert stored is not None
    pdf = stored[1]
    assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == artifact["sha256"]
    # ... and every replica serves it, whichever one compiled it.
    for replica in latex_replicas:
        status, body = http_get(f"{replica.url}/artifacts/{artifact['artifact_id']}")
        assert status == 200 and body == pdf
    got = await client.call(
        "latex", "latex.artifact.get", {"artifact_id": artifact["artifact_id"]}, timeout=60
    )
    assert got.status is Status.COMPLETED and got.result["sha256"] == artifact["sha256"]


async def test_a_big_latex_source_is_offloaded_by_the_client(latex_replicas, client):
    main = big_main().replace("\\input{chapter}", CHAPTER)
    result = await client.call("latex", "latex.compile", {"main": main}, timeout=180)
    assert result.status is Status.COMPLETED, result.error
    assert result.result["artifact"]["pages"] == 2 and result.result["errors"] == []


async def test_a_missing_reference_fails_with_a_reason(latex_replicas, client):
    ref = {"kind": "artifact", "artifact_id": f"a{uuid.uuid4().hex}"}
    result = await client.call("latex", "latex.compile", {"main": ref}, timeout=60)
    assert result.status is Status.FAILED and result.error.code == "ARTIFACT_NOT_FOUND"


async def test_a_document_sent_by_reference_is_ingested_and_found(dp_worker, client, store):
    pdf = samples.text_pdf(title="Claim check report")
    source = {
        "kind": "inline",
        "filename": "report.pdf",
        "content_base64": await upload(store, pdf, "report.pdf", "application/pdf"),
    }
    ingested = await client.call(
        "data_processing",
        "document.ingest",
        {"source": source, "collection": "claims", "document_id": "claims-report"},
        timeout=180,
    )
    assert ingested.status is Status.COMPLETED, ingested.error
    assert ingested.result["format"] == "pdf" and ingested.result["chunk_count"] >= 1
    found = await client.call(
        "data_processing",
        "document.search",
        {"query": "HNSW index", "collection": "claims", "top_k": 1, "mode": "keyword"},
        timeout=60,
    )
    assert found.status is Status.COMPLETED, found.error
    hit = found.result["results"][0]
    assert hit["document_id"] == "claims-report" and "HNSW index" in " ".join(hit["text"].split())
