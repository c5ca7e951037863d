"""The data processing handlers with fakes: ingest (all sources and formats), search modes,
get/delete/collections, embeddings, OCR, and failures with specific codes."""

from __future__ import annotations

import pytest

from agents.data_processing.formats import (
    CorruptDocumentError,
    DocumentTooLargeError,
    EncryptedDocumentError,
    UnsupportedFormatError,
    ZipBombError,
)
from agents.data_processing.handlers import (
    handle_collection_stats,
    handle_delete,
    handle_embed,
    handle_get,
    handle_list_collections,
    handle_ocr,
)
from agents.data_processing.ingest import handle_ingest
from agents.data_processing.memory_vector_store import InMemoryVectorStore
from agents.data_processing.messages import (
    CollectionStats,
    DeleteDocument,
    GenerateEmbeddings,
    GetDocument,
    IngestDocument,
    ListCollections,
    ProcessOcr,
    SearchDocuments,
)
from agents.data_processing.model import ChunkRecord, DocumentRecord, Hit
from agents.data_processing.safe_http_document_sources import SafeHttpDocumentSources
from agents.data_processing.search import fuse, handle_search
from enginedge_streams.errors import NotFoundError, PermanentError
from enginedge_streams.safe_http import HttpResponse, UrlRefusedError
from enginedge_streams.testing.http_fetcher import HttpRequest, RoutedHttpFetcher
from tests.support import data_processing_samples as samples
from tests.unit.data_processing.conftest import inline, make_ctx

pytestmark = pytest.mark.timeout(60)


async def ingest(deps, cmd, command_id=None):
    ctx = make_ctx(command_id)
    return await handle_ingest(cmd, ctx=ctx, **deps), ctx


async def search(deps, **kw):
    return await handle_search(
        SearchDocuments(**kw), store=deps["store"], embedder=deps["embedder"]
    )


async def test_ingest_mixed_pdf_streams_pages_and_ocrs_only_the_scan(deps):
    out, ctx = await ingest(deps, inline(samples.mixed_pdf(), "scan.pdf", document_id="inv-1"))
    assert out["document_id"] == "inv-1" and out["pages"] == 2 and out["format"] == "pdf"
    assert out["ocr_used"] and out["ocr_pages"] == 1 and out["ocr_mean_confidence"] == 91.0
    assert deps["ocr"].calls and [p for _, p in deps["ocr"].calls] == [2]
    assert out["chunk_count"] == 2 and set(out["timings"]) >= {"parse_ms", "ocr_ms", "embed_ms"}
    pages = [p["pages_done"] for p in ctx.progress_log if "pages_done" in p]
    assert pages == [0, 1, 2, 2]  # one step per page (pages_per_batch=1), then done
    assert all(p.get("pages_total") == 2 for p in ctx.progress_log if "pages_total" in p)
    chunks = (
        await handle_get(GetDocument(document_id="inv-1", include_chunks=True), store=deps["store"])
    )["chunks"]
    assert [c["page"] for c in chunks] == [1, 2]
    assert "4217 euros" in chunks[1]["text"]


@pytest.mark.parametrize(
    ("name", "data", "fmt", "needle"),
    [
        ("plan.docx", samples.docx_bytes(), "docx", "backend engineers in Lisbon"),
        ("guide.html", samples.HTML.encode(), "html", "helm rollback"),
        ("handbook.md", samples.MARKDOWN.encode(), "md", "finance portal"),
        ("redis.txt", samples.TEXT.encode(), "txt", "Eviction policies"),
        ("report.pdf", samples.text_pdf(), "pdf", "HNSW index"),
    ],
)
async def test_every_format_ingests_and_is_searchable(deps, name, data, fmt, needle):
    out, _ = await ingest(deps, inline(data, name, metadata={"team": "docs"}, owner="u1"))
    assert out["format"] == fmt and out["chunk_count"] >= 1 and not out["ocr_used"]
    res = await search(deps, query=needle, top_k=3, mode="hybrid")
    top = res["results"][0]
    assert needle in top["text"].replace("\n", " ")
    assert top["metadata"]["team"] == "docs" and top["metadata"]["owner"] == "u1"
    assert top["metadata"]["filename"] == name and top["document_id"] == out["document_id"]


async def test_markdown_chunks_carry_heading_paths(deps):
    await ingest(deps, inline(samples.MARKDOWN, "h.md", document_id="hb"))
    res = await search(deps, query="book trains flights approval", top_k=1, mode="keyword")
    assert res["results"][0]["headings"] == ["Onboarding handbook", "Expenses", "Travel"]


async def test_reingest_same_id_replaces_and_reports_it(deps):
    first, _ = await ingest(deps, inline("alpha beta gamma. " * 200, "a.txt", document_id="d"))
    second, _ = await ingest(deps, inline("delta epsilon.", "a.txt", document_id="d"))
    assert not first["replaced"] and second["replaced"] and second["chunk_count"] == 1
    res = await search(deps, query="alpha beta gamma", mode="vector", top_k=10)
    assert [r["text"] for r in res["results"]] == ["delta epsilon."]


async def test_same_content_without_id_gets_the_same_document_id(deps):
    a, _ = await ingest(deps, inline(samples.TEXT, "x.txt"))
    b, _ = await ingest(deps, inline(samples.TEXT, "y.txt"))
    assert a["document_id"] == b["document_id"] and b["replaced"]
    stats = await handle_collection_stats(CollectionStats(), store=deps["store"])
    assert stats["documents"] == 1


@pytest.mark.parametrize(
    ("data", "name", "error", "code"),
    [
        (samples.encrypted_pdf(), "e.pdf", EncryptedDocumentError, "ENCRYPTED_DOCUMENT"),
        (samples.corrupt_pdf(), "c.pdf", CorruptDocumentError, "CORRUPT_DOCUMENT"),
        (samples.zip_bomb_docx(30_000_000), "b.docx", ZipBombError, "ZIP_BOMB"),
        (samples.text_image("hi"), "i.png", UnsupportedFormatError, "UNSUPPORTED_FORMAT"),
        (b"x" * 1_000_001, "big.txt", DocumentTooLargeError, "DOCUMENT_TOO_LARGE"),
        (b"   \n\n  ", "blank.txt", PermanentError, "EMPTY_DOCUMENT"),
    ],
)
async def test_bad_documents_fail_with_codes_and_leave_nothing(deps, data, name, error, code):
    with pytest.raises(error) as info:
        await ingest(deps, inline(data, name, document_id="bad"))
    assert info.value.code == code
    assert await deps["store"].get_document("default", "bad") is None
    assert deps["store"].chunks == {}


async def test_unsupported_by_setting(deps):
    from dataclasses import replace

    deps["ingest_config"] = replace(deps["ingest_config"], supported_formats=frozenset({"pdf"}))
    with pytest.raises(UnsupportedFormatError, match="SUPPORTED_FORMATS"):
        await ingest(deps, inline("text", "a.txt"))


async def test_failure_mid_stream_keeps_the_previous_version(deps):
    await ingest(deps, inline(samples.text_pdf(), "r.pdf", document_id="r"))

    class Exploding:
        async def pdf_page(self, *a, **k):
            raise PermanentError("tesseract crashed", code="OCR_FAILED")

    deps["ocr"] = Exploding()
    with pytest.raises(PermanentError, match="tesseract"):
        await ingest(deps, inline(samples.mixed_pdf(), "r.pdf", document_id="r"))
    doc = (await handle_get(GetDocument(document_id="r"), store=deps["store"]))["document"]
    assert doc["pages"] == 3 and doc["ocr_pages"] == 0


async def test_ingest_from_import_dir_and_refused_paths(deps, tmp_path):
    (tmp_path / "imports" / "sub").mkdir()
    (tmp_path / "imports" / "sub" / "notes.md").write_text(samples.MARKDOWN)
    (tmp_path / "secret.txt").write_text("top secret")
    cmd = IngestDocument.model_validate({"source": {"kind": "path", "path": "sub/notes.md"}})
    out, _ = await ingest(deps, cmd)
    assert out["format"] == "md" and out["filename"] == "notes.md"
    for path, code in (("../secret.txt", "PATH_REFUSED"), ("/etc/passwd", "PATH_REFUSED"),
                       ("nope.txt", "NOT_FOUND")):  # fmt: skip
        bad = IngestDocument.model_validate({"source": {"kind": "path", "path": path}})
        with pytest.raises(PermanentError) as info:
            await ingest(deps, bad)
        assert info.value.code == code
    (tmp_path / "imports" / "link.txt").symlink_to(tmp_path / "secret.txt")
    link = IngestDocument.model_validate({"source": {"kind": "path", "path": "link.txt"}})
    with pytest.raises(PermanentError, match="outside IMPORT_DIR"):
        await ingest(deps, link)


DOCS = "https://docs.example.org"


async def doc_site(request: HttpRequest) -> HttpResponse:
    if request.path == "/big":
        return HttpResponse(200, {"Content-Type": "text/plain"}, b"x" * 3_000_000, request.url)
    if request.path == "/missing":
        return HttpResponse(404, {}, b"", request.url)
    headers = {"Content-Type": "text/markdown"}
    return HttpResponse(200, headers, samples.MARKDOWN.encode(), request.url)


async def test_ingest_by_url_through_the_http_fetcher(deps):
    # The fetcher in process keeps the safe HTTP client's policy, body limit and redirects;
    # SafeHttpClient against a real server is tests/integration/test_safe_http_client.py.
    http = RoutedHttpFetcher({DOCS: doc_site})
    deps["sources"] = SafeHttpDocumentSources(http, None)  # type: ignore[arg-type]
    cmd = IngestDocument.model_validate({"source": {"kind": "url", "url": f"{DOCS}/docs/handbook"}})
    out, _ = await ingest(deps, cmd)
    assert out["format"] == "md" and out["filename"] == "handbook" and out["chunk_count"] == 4
    big = IngestDocument.model_validate({"source": {"kind": "url", "url": f"{DOCS}/big"}})
    with pytest.raises(DocumentTooLargeError):
        await ingest(deps, big)
    missing = IngestDocument.model_validate({"source": {"kind": "url", "url": f"{DOCS}/missing"}})
    with pytest.raises(PermanentError) as info:
        await ingest(deps, missing)
    assert info.value.code == "DOCUMENT_FETCH_FAILED"
    assert [r.path for r in http.requests] == ["/docs/handbook", "/big", "/missing"]


async def test_url_to_private_address_is_refused_by_the_platform_policy(deps):
    from agents.data_processing.safe_http_document_sources import SafeHttpDocumentSources
    from enginedge_streams.safe_http import SafeHttpClient, SafeHttpPolicy

    deps["sources"] = SafeHttpDocumentSources(SafeHttpClient(SafeHttpPolicy()), None)
    for url in (
        "http://127.0.0.1:1/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
    ):
        cmd = IngestDocument.model_validate({"source": {"kind": "url", "url": url}})
        with pytest.raises(UrlRefusedError):
            await ingest(deps, cmd)
    await deps["sources"].stop()


async def test_search_modes_filters_and_hybrid_scores(deps):
    await ingest(
        deps, inline(samples.TEXT, "redis.txt", document_id="redis", metadata={"team": "cache"})
    )
    await ingest(
        deps, inline(samples.HTML, "deploy.html", document_id="deploy", metadata={"team": "ops"})
    )
    vec = await search(deps, query="eviction policies memory", mode="vector")
    assert vec["results"][0]["document_id"] == "redis" and "vector_score" in vec["results"][0]
    kw = await search(deps, query="rollback", mode="keyword")
    assert kw["results"][0]["document_id"] == "deploy" and kw["results"][0]["keyword_score"] > 0
    hy = await search(deps, query="redeploy previous image", mode="hybrid", alpha=0.3)
    top = hy["results"][0]
    assert top["document_id"] == "deploy" and "convex combination" in hy["formula"]
    assert 0 < top["score"] <= 1 and [r["score"] for r in hy["results"]] == sorted(
        (r["score"] for r in hy["results"]), reverse=True
    )
    only_cache = await search(deps, query="redeploy previous image", filter={"team": "cache"})
    assert {r["document_id"] for r in only_cache["results"]} <= {"redis"}
    none = await search(deps, query="anything", collection="empty")
    assert none["results"] == []
    high = await search(deps, query="rollback", mode="vector", min_score=0.99)
    assert high["results"] == []


def _hit(cid, score):
    return Hit(cid, cid.split("#")[0], "c", int(cid.split("#")[1]), cid, score, None, [], 0, 1, {})


def test_fuse_is_a_convex_combination_of_best_normalised_scores():
    vec = [_hit("a#0", 0.9), _hit("b#0", 0.45), _hit("c#0", -0.18)]
    kw = [_hit("b#0", 4.0), _hit("d#0", 2.0)]
    fused = fuse(vec, kw, alpha=0.5, top_k=10)
    scores = {h.chunk_id: s for h, s, _, _ in fused}
    assert scores["b#0"] == pytest.approx(0.5 * 0.5 + 0.5 * 1.0)  # half the best cosine, best BM25
    assert scores["a#0"] == pytest.approx(0.5)  # in one list only: nothing from the other
    assert scores["d#0"] == pytest.approx(0.25)
    assert scores["c#0"] == pytest.approx(0.5 * -0.2)  # a negative cosine stays below 0
    assert [h.chunk_id for h, *_ in fused] == ["b#0", "a#0", "d#0", "c#0"]
    assert [h.chunk_id for h, *_ in fuse(vec, kw, alpha=1.0, top_k=1)] == ["a#0"]
    assert fuse(vec, kw, alpha=1.0, top_k=10)[0][1] == pytest.approx(1.0)
    assert fuse(vec, [], alpha=0.8, top_k=1)[0][1] == pytest.approx(0.8)  # no keyword match


async def test_a_chunk_repeating_the_query_cannot_swamp_the_vector_list():
    # The case: one phrase repeated many times. BM25 saturates in the term
    # frequency and divides by length, so the repeated chunk's keyword score stays within
    # reach of the right chunk's, and the vector side keeps the right chunk first.
    store = InMemoryVectorStore()
    right = "To roll back, redeploy the previous image and restart the service afterwards."
    spam = " ".join(["redeploy previous image"] * 200)
    for i, text in enumerate((right, spam)):
        doc = f"d{i}"
        record = ChunkRecord(f"{doc}#0", doc, "c", 0, text, [1.0], 0, len(text), None, [])
        await store.replace_document(_document(doc), _batches([record]))
    kw = await store.search_keyword("c", "redeploy previous image", 10, {})
    assert kw[0].document_id == "d1" and kw[1].score / kw[0].score > 0.5  # bounded, not 200x
    vec = [_hit("d0#0", 0.62), _hit("d1#0", 0.35)]  # MiniLM-like cosines: the right one higher
    assert [h.document_id for h, *_ in fuse(vec, kw, alpha=0.8, top_k=2)] == ["d0", "d1"]


def _document(doc_id):
    return DocumentRecord(doc_id, "c", None, "text", None, {}, 1, 1, 0, 1, "", "m", "v", "")


async def _batches(records):
    yield records


async def test_get_delete_collections_and_stats(deps):
    await ingest(deps, inline(samples.text_pdf(), "r.pdf", document_id="r", collection="kb"))
    await ingest(deps, inline(samples.TEXT, "t.txt", document_id="t", collection="kb"))
    store = deps["store"]
    got = await handle_get(
        GetDocument(document_id="r", collection="kb", include_chunks=True), store=store
    )
    assert got["document"]["pages"] == 3 and len(got["chunks"]) == got["document"]["chunk_count"]
    stats = await handle_collection_stats(CollectionStats(collection="kb"), store=store)
    assert stats["documents"] == 2 and stats["formats"] == {"pdf": 1, "txt": 1}
    listed = await handle_list_collections(ListCollections(), store=store)
    assert [c["collection"] for c in listed["collections"]] == ["kb"]
    deleted = await handle_delete(DeleteDocument(document_id="r", collection="kb"), store=store)
    assert deleted["deleted"] is True
    with pytest.raises(NotFoundError):
        await handle_get(GetDocument(document_id="r", collection="kb"), store=store)
    again = await handle_delete(DeleteDocument(document_id="r", collection="kb"), store=store)
    assert again["deleted"] is False
    with pytest.raises(NotFoundError):
        await handle_collection_stats(CollectionStats(collection="nope"), store=store)


async def test_embedding_generate(deps):
    out = await handle_embed(
        GenerateEmbeddings(texts=["a b", "a b", "c"]), embedder=deps["embedder"], ctx=make_ctx()
    )
    assert out["dimension"] == 64 and out["count"] == 3 and len(out["vectors"]) == 3
    assert out["vectors"][0] == out["vectors"][1] != out["vectors"][2]


async def test_ocr_process_pdf_and_refusals(deps):
    ctx = make_ctx()
    cmd = ProcessOcr.model_validate(
        {"source": {"kind": "inline", "filename": "s.pdf",
                    "content_base64": __import__("base64").b64encode(samples.mixed_pdf()).decode()}}
    )  # fmt: skip
    out = await handle_ocr(
        cmd,
        ocr=deps["ocr"],
        sources=deps["sources"],
        ingest_config=deps["ingest_config"],
        ctx=ctx,
        compute=deps["compute"],
    )
    assert out["kind"] == "pdf" and out["pages_total"] == 2
    assert out["pages"][1]["text"] == "The invoice total is 4217 euros"
    assert ctx.progress_log[-1] == {"pages_done": 2, "pages_total": 2}
    txt = ProcessOcr.model_validate(
        {"source": {"kind": "inline", "filename": "a.txt", "content_base64": "aGVsbG8="}}
    )
    with pytest.raises(UnsupportedFormatError):
        await handle_ocr(
            txt,
            ocr=deps["ocr"],
            sources=deps["sources"],
            ingest_config=deps["ingest_config"],
            ctx=ctx,
            compute=deps["compute"],
        )


@pytest.mark.parametrize(
    "payload",
    [
        {"source": {"kind": "inline", "content_base64": "!!!", "filename": "a.txt"}},
        {"source": {"kind": "ftp", "url": "ftp://x"}},
        {"source": {"kind": "url", "url": "file:///etc/passwd"}},
        {
            "source": {"kind": "path", "path": "a.txt"},
            "chunking": {"chunk_size": 100, "chunk_overlap": 100},
        },
        {"source": {"kind": "path", "path": "a.txt"}, "collection": "bad name!"},
        {"source": {"kind": "path", "path": "a.txt"}, "metadata": {"k": {"nested": 1}}},
        {"source": {"kind": "path", "path": "a.txt"}, "unexpected": 1},
    ],
)
def test_invalid_payloads_are_rejected(payload):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        IngestDocument.model_validate(payload)
