"""The built-in workflows end to end on real workers, and the HTTP API with the identity
worker's JWTs: resume-build (resume, spaCy, data processing, the local assistant model,
LaTeX) down to a PDF artifact; conversation-context; expert-research."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import urllib.error
import urllib.request
import uuid

import pytest
from aiohttp import web

from agents.llm.llamacpp_chat_provider import local_model_available
from enginedge_streams.records import Status
from tests.support.local_http_server import ThreadedServer
from tests.support.orchestrator import finished, start, step, summary
from tests.support.resume_corpus import INITECH_DUTIES
from tests.support.workers import http_get

#: The smaller packaged model keeps the workflow runs within their time limits on 2 cores.
SMALL_MODEL = "qwen2.5-coder-0.5b-instruct"

pytestmark = [
    pytest.mark.timeout(420),
    pytest.mark.local_model,
    pytest.mark.skipif(
        not local_model_available(SMALL_MODEL)[0],
        reason=str(local_model_available(SMALL_MODEL)[1]),
    ),
]

ENC_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()
MARKER = "The Zephyr turbine spins at 4200 rpm."
RESUME = """Jane Doe
jane.doe@example.com | +1 555 0100 | Austin, TX

Summary
Backend engineer with six years of experience building data platforms.

Experience
Senior Engineer, Initech | 2020 - Present
- Was responsible for the billing service
- Worked on data pipelines in Python
Engineer, Globex | 2017 - 2020
- Built REST APIs with Django and PostgreSQL for 40 internal teams

Education
BSc Computer Science, University of Texas | 2013 - 2017

Skills
Python, PostgreSQL, Docker, Kubernetes
"""
JOB = f"Senior Backend Engineer at Initech\n{INITECH_DUTIES}"
DOC = f"""Zephyr turbine maintenance notes

{MARKER} Its bearings are inspected every 500 hours of operation, and the
blades are replaced after 20,000 hours. Vibration above 7 mm/s means the rotor
must be balanced again before the turbine is restarted.
"""


def _pages() -> web.Application:
    async def page(request: web.Request) -> web.Response:
        html = (
            "<html><head><title>Zephyr field report</title></head><body><article>"
            "<h1>Field report</h1><p>The Zephyr turbine at site 9 ran for 18,000 hours "
            "before its first blade replacement. Engineers measured vibration of 3 mm/s, "
            "well inside the limits set by the maintenance notes.</p></article></body></html>"
        )
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/report", page)
    return app


@pytest.fixture(scope="module")
def site():
    server = ThreadedServer(_pages).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def workers(module_worker_factory):
    quiet = {"LOG_LEVEL": "warning"}
    identity = module_worker_factory(
        "identity",
        start=False,
        env={**quiet, "IDENTITY_ENCRYPTION_KEY": ENC_KEY, "SIGNING_KEY_CHECK_SECONDS": "2"},
    )
    orch = module_worker_factory(
        "orchestrator",
        start=False,
        env={
            **quiet,
            "IDENTITY_JWKS_URL": f"{identity.url}/.well-known/jwks.json",
            "ORCHESTRATOR_TICK_SECONDS": "0.25",
        },
    )
    others = [
        module_worker_factory("spacy", start=False, env=quiet),
        module_worker_factory(
            "data_processing", start=False, env={**quiet, "VECTOR_STORE": "memory"}
        ),
        module_worker_factory("resume", start=False, env={**quiet, "RESUME_EMBEDDINGS": "bus"}),
        module_worker_factory("llm", start=False, env={**quiet, "DEFAULT_MODEL": SMALL_MODEL}),
        module_worker_factory("latex", start=False, env=quiet),
        module_worker_factory(
            "agent_tool", start=False, env={**quiet, "HTTP_ALLOW_LOOPBACK": "true"}
        ),
    ]
    everyone = [identity, orch, *others]
    for w in everyone:
        w.start(wait=False)
    for w in everyone:
        w.wait_ready(240)
    return {"identity": identity, "orchestrator": orch}


async def test_resume_build_produces_a_pdf_artifact(workers, module_bus):
    view = await start(
        module_bus,
        {
            "workflow": "resume-build",
            "input": {"resume": {"text": RESUME}, "job": {"text": JOB}, "role": "Backend Engineer"},
        },
    )
    view = await finished(module_bus, view["request_id"], timeout=300)
    assert view["status"] == "completed", summary(view)
    assert [s["status"] for s in view["steps"]] == ["completed"] * 6
    out = view["output"]
    checks = out["bullet_checks"]  # the assistant's rewrites, grounded in the resume
    assert [c["final"] for c in checks] == out["improved_bullets"] and checks
    for c in checks:
        assert c["final"] == (c["rewrite"] if c["kept"] == "rewrite" else c["source"]), c
        assert (c["kept"] == "rewrite") == (c["reason"] == "GROUNDED"), c
    pdf = out["pdf"]
    assert pdf["content_type"] == "application/pdf" and pdf["size"] > 1000
    assert out["missing_skills"]["required"] == ["rust"]
    assert isinstance(out["score"], int | float) and out["improved_bullets"]
    render = step(view, "render")["result"]
    assert "Jane Doe" in render["source"] and "Initech" in render["source"]
    jobs = step(view, "ground")["result"]["experience"]
    assert [len(job["bullets"]) for job in jobs] == [2, 1]  # each bullet stays in its job
    flat = [b for job in jobs for b in job["bullets"]]
    assert len(flat) == len(set(flat)) == 3  # one bullet per source bullet, no duplicate
    got = await module_bus.call(
        "latex", "latex.artifact.get", {"artifact_id": pdf["artifact_id"]}, timeout=60
    )
    assert got.status is Status.COMPLETED, got.error
    assert base64.b64decode(got.result["content_base64"]).startswith(b"%PDF")


async def _ingest(bus, collection: str) -> None:
    r = await bus.call(
        "data_processing",
        "document.ingest",
        {
            "source": {
                "kind": "inline",
                "content_base64": base64.b64encode(DOC.encode()).decode(),
                "filename": "zephyr.txt",
            },
            "document_id": "zephyr-notes",
            "collection": collection,
        },
        timeout=120,
    )
    assert r.status is Status.COMPLETED, r.error


async def test_conversation_context_answers_with_retrieved_chunks(workers, module_bus):
    collection = f"c{uuid.uuid4().hex[:8]}"
    await _ingest(module_bus, collection)
    conversation = f"conv-{uuid.uuid4().hex[:8]}"
    view = await start(
        module_bus,
        {
            "workflow": "conversation-context",
            "input": {
                "conversation_id": conversation,
                "message": "How fast does the Zephyr turbine spin?",
                "collection": collection,
            },
        },
    )
    view = await finished(module_bus, view["request_id"], timeout=240)
    assert view["status"] == "completed", summary(view)
    assert view["output"]["answer"].strip()
    assert view["output"]["sources"][0]["document_id"] == "zephyr-notes"
    history = await module_bus.call(
        "llm", "conversation.get", {"conversation_id": conversation}, timeout=60
    )
    assert history.status is Status.COMPLETED, history.error
    asked = json.dumps(history.result)
    assert MARKER in asked and "[1]" in asked  # the chunk went into the chat turn, numbered


async def test_expert_research_fetches_pages_in_parallel_and_cites(workers, module_bus, site):
    collection = f"r{uuid.uuid4().hex[:8]}"
    await _ingest(module_bus, collection)
    view = await start(
        module_bus,
        {
            "workflow": "expert-research",
            "input": {
                "question": "How often are Zephyr turbine blades replaced?",
                "urls": [f"{site.url}/report", f"{site.url}/missing"],
                "collection": collection,
            },
        },
    )
    view = await finished(module_bus, view["request_id"], timeout=240)
    assert view["status"] == "completed", summary(view)
    pages = step(view, "pages")
    assert pages["items"] == {"total": 2, "completed": 1, "failed": 1}
    assert pages["error"]["code"] == "ITEMS_SKIPPED"
    (page,) = view["output"]["pages"]
    assert page["url"] == f"{site.url}/report" and "report" in page["title"].lower()
    assert view["output"]["documents"][0]["document_id"] == "zephyr-notes"
    assert view["output"]["answer"].strip()


def _request(url: str, token: str | None, body: bytes | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body, headers=headers, method="POST" if body else "GET")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


async def _token(bus, email: str) -> tuple[str, str]:
    password = "correct horse battery staple"
    reg = await bus.call(
        "identity", "user.register", {"email": email, "password": password}, timeout=60
    )
    assert reg.status is Status.COMPLETED, reg.error
    login = await bus.call(
        "identity", "auth.login", {"email": email, "password": password}, timeout=60
    )
    assert login.status is Status.COMPLETED, login.error
    return login.result["access_token"], reg.result["user"]["user_id"]


async def test_http_api_takes_jwts_verified_with_the_identity_jwks(workers, module_bus):
    identity, orch = workers["identity"], workers["orchestrator"]
    deadline = time.monotonic() + 60
    while not json.loads(http_get(f"{identity.url}/.well-known/jwks.json")[1])["keys"]:
        assert time.monotonic() < deadline, "no signing key published"
        await asyncio.sleep(0.5)
    ann, ann_id = await _token(module_bus, f"ann-{uuid.uuid4().hex[:6]}@example.com")
    bob, _ = await _token(module_bus, f"bob-{uuid.uuid4().hex[:6]}@example.com")
    body = json.dumps(
        {"workflow": "single-worker", "input": {"worker": "latex", "command": "system.ping"}}
    ).encode()
    status, out = await asyncio.to_thread(_request, f"{orch.url}/orchestrate", None, body)
    assert status == 401
    status, out = await asyncio.to_thread(_request, f"{orch.url}/orchestrate", "not.a.jwt", body)
    assert status == 401
    status, out = await asyncio.to_thread(_request, f"{orch.url}/orchestrate", ann, body)
    assert status == 202, out
    url = f"{orch.url}{out['status_url']}"
    view = await finished(module_bus, out["request_id"], timeout=60)
    assert view["status"] == "completed" and view["user_id"] == ann_id
    status, mine = await asyncio.to_thread(_request, url, ann)
    assert status == 200 and mine["request_id"] == out["request_id"]
    status, _ = await asyncio.to_thread(_request, url, bob)  # someone else's request
    assert status == 404
