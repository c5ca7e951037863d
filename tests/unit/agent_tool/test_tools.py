"""Each tool on its own: real evaluation, real files, HTTP to a site answered in process
(``RoutedHttpFetcher``: the SSRF policy applied to every hop, no socket)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from agents.agent_tool.ports import ToolContext, ToolDeps
from agents.agent_tool.registry import TOOL_MODULES, build_tools
from agents.agent_tool.tools.calculator import CalculatorError, evaluate
from agents.agent_tool.tools.datetime_tool import DateTimeTool
from agents.agent_tool.tools.files import PathRefusedError, resolve_in_sandbox
from enginedge_streams.errors import ValidationError
from enginedge_streams.safe_http import (
    HttpResponse,
    SafeHttpClient,
    SafeHttpPolicy,
    UrlRefusedError,
)
from enginedge_streams.testing.bus import ScriptedBusCaller
from enginedge_streams.testing.http_fetcher import HttpRequest, RoutedHttpFetcher
from tests.support.fake_llm_server import PAGE_HTML, PAGE_MARKER

CTX = ToolContext(command_id="c", call_id="c", remaining_seconds=10)


PAGES = "http://pages.test"


async def pages(request: HttpRequest) -> HttpResponse:
    """The page the agent tests read, and a redirect to the cloud metadata address."""
    if request.path == "/page":
        return HttpResponse(
            200, {"Content-Type": "text/html; charset=utf-8"}, PAGE_HTML.encode(), ""
        )
    if request.path == "/redirect":
        return HttpResponse(302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"", "")
    return HttpResponse(404, {}, b"", "")


@pytest.fixture
def tools(tmp_path):
    http = RoutedHttpFetcher({PAGES: pages}, SafeHttpPolicy(max_bytes=100_000))
    workers = ScriptedBusCaller(
        {
            ("spacy", "nlp.analyze"): {"entities": [{"text": "Paris", "label": "GPE"}]},
            ("data_processing", "document.search"): {"results": [{"text": "chunk", "score": 0.9}]},
        }
    )
    deps = ToolDeps(
        http=http, workers=workers, sandbox_dir=tmp_path / "sandbox", files_max_bytes=1000
    )
    built = build_tools(deps)
    built["_workers"] = workers  # type: ignore[assignment]
    return built


def test_every_registered_tool_builds_with_its_name(tools):
    assert set(TOOL_MODULES) <= set(tools)


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("17*23", 391),
        ("2**10", 1024),
        ("(1+2)*3 - 4/2", 7.0),
        ("sqrt(16) + abs(-2)", 6.0),
        ("max(3, 9, 4)", 9),
        ("round(pi, 2)", 3.14),
        ("10 // 3 + 10 % 3", 4),
        ("-(-5)", 5),
    ],
)
def test_calculator_evaluates(expr, value):
    assert evaluate(expr) == value


@pytest.mark.parametrize(
    "expr",
    [
        "__import__('os').system('id')",
        "open('/etc/passwd')",
        "().__class__",
        "x",
        "1/0",
        "9**9**9",
        "factorial(100000)",
        "[1,2]",
        "'a'*3",
        "lambda: 1",
        "1 if 1 else 2",
        "sqrt(-1)",
        "1e308*10",
        "(" * 300 + "1" + ")" * 300,
    ],
)
def test_calculator_refuses_anything_else(expr):
    with pytest.raises(CalculatorError):
        evaluate(expr)


async def test_files_read_write_list_inside_the_sandbox(tools):
    files = tools["files"]
    await files.run({"operation": "write", "path": "notes/a.txt", "content": "hello"}, CTX)
    assert (await files.run({"operation": "read", "path": "notes/a.txt"}, CTX))[
        "content"
    ] == "hello"
    listing = await files.run({"operation": "list", "path": "notes"}, CTX)
    assert listing["entries"] == [{"name": "a.txt", "type": "file", "size": 5}]
    with pytest.raises(Exception, match="exists"):
        await files.run({"operation": "write", "path": "notes/a.txt", "content": "x"}, CTX)
    with pytest.raises(Exception, match="TOOL_FILES_MAX_BYTES"):
        await files.run({"operation": "write", "path": "big.txt", "content": "x" * 2000}, CTX)


@pytest.mark.parametrize(
    "path",
    ["../escape.txt", "/etc/passwd", "a/../../x", "notes/../../../etc/passwd", "a\x00b", "..\\x"],
)
async def test_files_refuse_escapes(tools, path):
    with pytest.raises(PathRefusedError):
        await tools["files"].run({"operation": "read", "path": path}, CTX)


async def test_files_refuse_symlinks_planted_inside(tools, tmp_path):
    root = tmp_path / "sandbox"
    root.mkdir(exist_ok=True)
    (tmp_path / "secret.txt").write_text("top secret")
    os.symlink(tmp_path / "secret.txt", root / "link.txt")
    os.symlink(tmp_path, root / "dirlink")
    for path in ("link.txt", "dirlink/secret.txt"):
        with pytest.raises(PathRefusedError):
            await tools["files"].run({"operation": "read", "path": path}, CTX)
    with pytest.raises(PathRefusedError):
        await tools["files"].run(
            {"operation": "write", "path": "dirlink/new.txt", "content": "x"}, CTX
        )
    assert not (tmp_path / "new.txt").exists()
    assert resolve_in_sandbox(root, "ok/file.txt") == root.resolve() / "ok" / "file.txt"


async def test_json_query(tools):
    data = {"people": [{"name": "Ada", "age": 36}, {"name": "Alan", "age": 41}]}
    out = await tools["json_query"].run(
        {"expression": "people[?age > `40`].name", "data": data}, CTX
    )
    assert out == {"result": ["Alan"]}
    with pytest.raises(ValidationError):
        await tools["json_query"].run({"expression": "people[?", "data": data}, CTX)


async def test_datetime_now_convert_diff():
    fixed = datetime(2024, 3, 31, 0, 30, tzinfo=UTC)
    tool = DateTimeTool(clock=lambda: fixed)
    now = await tool.run({"operation": "now", "timezone": "Europe/Paris"}, CTX)
    assert now["datetime"] == "2024-03-31T01:30:00+01:00"
    conv = await tool.run(
        {
            "operation": "convert",
            "datetime": "2024-03-31T12:00:00",
            "from_timezone": "Europe/Paris",
            "to_timezone": "America/New_York",
        },
        CTX,
    )
    assert conv["datetime"] == "2024-03-31T06:00:00-04:00"  # Paris already on summer time
    diff = await tool.run(
        {"operation": "diff", "start": "2024-01-01T00:00:00Z", "end": "2024-01-02T06:00:00Z"}, CTX
    )
    assert diff["seconds"] == 108000 and diff["human"] == "1d 6h 0m 0s"
    with pytest.raises(ValidationError):
        await tool.run({"operation": "now", "timezone": "Mars/Olympus"}, CTX)


async def test_http_request_and_web_page_text_against_a_local_page(tools):
    out = await tools["http_request"].run({"url": f"{PAGES}/page"}, CTX)
    assert out["status"] == 200 and PAGE_MARKER in out["body"]
    assert out["headers"]["content-type"].startswith("text/html")
    page = await tools["web_page_text"].run({"url": f"{PAGES}/page"}, CTX)
    assert PAGE_MARKER in page["text"] and "Home | About" not in page["text"]
    assert page["title"] in ("Mission page", "Mission briefing")
    with pytest.raises(UrlRefusedError):
        await tools["http_request"].run({"url": f"{PAGES}/redirect"}, CTX)


async def test_http_request_refuses_loopback_without_the_switch():
    tools = build_tools(
        ToolDeps(
            http=SafeHttpClient(SafeHttpPolicy()),
            workers=ScriptedBusCaller(),
            sandbox_dir="/tmp",
        )
    )
    with pytest.raises(UrlRefusedError):
        await tools["http_request"].run({"url": "http://127.0.0.1:9/page"}, CTX)


async def test_bus_tools_call_the_right_workers(tools):
    out = await tools["nlp_analyze"].run({"text": "Paris is big."}, CTX)
    assert out["entities"][0]["text"] == "Paris"
    hits = await tools["document_search"].run({"query": "chunk", "top_k": 2}, CTX)
    assert hits["results"][0]["score"] == 0.9
    calls = tools["_workers"].calls
    assert calls[0][:2] == ("spacy", "nlp.analyze") and calls[0][2]["parts"] == [
        "entities",
        "noun_chunks",
        "sentences",
    ]
    assert calls[1][:3] == ("data_processing", "document.search", {"top_k": 2, "query": "chunk"})
