"""The LaTeX worker on the real Kafka and Redis with real TeX Live: one worker per module."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import shutil
import subprocess

import pytest

from enginedge_streams.records import Status
from tests.support.workers import http_get, http_post, latex_worker_env

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(shutil.which("latexmk") is None, reason="TeX Live is not installed"),
]

PAPER = r"""\documentclass{article}
\begin{document}
\tableofcontents
\section{Streams}\label{s:one}
Kafka carries commands; see Section~\ref{s:two}.
\newpage
\section{Workers}\label{s:two}
Back to Section~\ref{s:one}.
\end{document}
"""


@pytest.fixture(scope="module")
def latex_worker(module_worker_factory, tmp_path_factory):
    root = tmp_path_factory.mktemp("latex-worker")
    return module_worker_factory(
        "latex",
        env=latex_worker_env(root, timeout_s=30),
    )


async def test_compile_then_download_the_pdf_over_http(latex_worker, module_bus, tmp_path):
    result = await module_bus.call("latex", "latex.compile", {"main": PAPER}, timeout=90)
    assert result.status is Status.COMPLETED, result.error
    artifact = result.result["artifact"]
    assert artifact["pages"] == 2 and artifact["content_type"] == "application/pdf"
    assert result.result["passes"] >= 2 and result.result["errors"] == []
    status, body = http_get(f"{latex_worker.url}/artifacts/{artifact['artifact_id']}")
    assert status == 200 and body.startswith(b"%PDF")
    assert hashlib.sha256(body).hexdigest() == artifact["sha256"] and len(body) == artifact["size"]
    (tmp_path / "d.pdf").write_bytes(body)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "d.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "1 Streams" in text and "see Section 2" in text and "Back to Section 1" in text
    # The same PDF through the bus command.
    got = await module_bus.call(
        "latex", "latex.artifact.get", {"artifact_id": artifact["artifact_id"]}, timeout=30
    )
    assert got.status is Status.COMPLETED
    assert base64.b64decode(got.result["content_base64"]) == body
    assert http_get(f"{latex_worker.url}/artifacts/pdf-0000000000unknown")[0] == 404
    assert http_get(f"{latex_worker.url}/artifacts/..%2F..%2Fetc%2Fpasswd")[0] in (400, 404)


async def test_infinite_loop_times_out_and_the_worker_carries_on(latex_worker, module_bus):
    loop = module_bus.call(
        "latex", "latex.compile", {"main": "\\def\\x{\\x}\\x", "timeout_seconds": 3}, timeout=60
    )
    ok = module_bus.call(
        "latex",
        "latex.compile",
        {"main": "\\documentclass{article}\\begin{document}fine\\end{document}"},
        timeout=60,
    )
    looped, fine = await asyncio.gather(loop, ok)
    assert looped.status is Status.FAILED and looped.error.code == "LATEX_TIMEOUT"
    assert looped.error.retryable is False and looped.attempts == 1
    assert fine.status is Status.COMPLETED
    after = await module_bus.call("latex", "system.ping", {}, timeout=30)
    assert after.status is Status.COMPLETED


async def test_errors_come_back_structured(latex_worker, module_bus):
    main = "\\documentclass{article}\n\\begin{document}\nHello\n\\badmacro\n\\end{document}\n"
    result = await module_bus.call("latex", "latex.compile", {"main": main}, timeout=60)
    assert result.status is Status.FAILED and result.error.code == "LATEX_ERROR"
    first = result.error.details["errors"][0]
    assert (first["kind"], first["line"], first["command"]) == (
        "undefined_control_sequence",
        4,
        "\\badmacro",
    )
    assert "main.tex:4:" in result.error.message
    hostile = await module_bus.call(
        "latex",
        "latex.compile",
        {"main": "x", "files": [{"path": "latexmkrc", "content": "1"}]},
        timeout=30,
    )
    assert hostile.status is Status.FAILED and hostile.error.code == "INVALID_PAYLOAD"


async def test_math_templates_and_http_routes(latex_worker, module_bus):
    math, listing, rendered = await asyncio.gather(
        module_bus.call(
            "latex",
            "latex.render_math",
            {"latex": "e^{i\\pi}+1=0", "formats": ["mathml", "png"]},
            timeout=30,
        ),
        module_bus.call("latex", "latex.template.list", {}, timeout=30),
        module_bus.call(
            "latex",
            "latex.template.render",
            {
                "template": "letter",
                "compile": True,
                "values": {
                    "sender_name": "A & B",
                    "recipient_name": "C",
                    "body": "50% off \\input{x}",
                },
            },
            timeout=90,
        ),
    )
    assert math.status is Status.COMPLETED and "<math" in math.result["mathml"]
    assert base64.b64decode(math.result["png_base64"]).startswith(b"\x89PNG")
    assert len(listing.result["templates"]) == 6
    assert rendered.status is Status.COMPLETED, rendered.error
    assert (
        "A \\& B" in rendered.result["source"]
        and "50\\% off \\textbackslash{}input" in (rendered.result["source"])
    )
    assert rendered.result["compile"]["artifact"]["pages"] == 1
    status, body = http_post(f"{latex_worker.url}/render-math", b'{"latex": "x^2"}')
    assert status == 200 and "<msup>" in json.loads(body)["mathml"]
    status, body = http_get(f"{latex_worker.url}/ready")
    checks = json.loads(body)["checks"]
    assert status == 200 and checks["tex"]["ok"] and checks["artifact_store"]["ok"]
    assert "sandbox=" in checks["tex"]["detail"]
