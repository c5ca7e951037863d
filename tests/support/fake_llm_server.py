"""A local HTTP server speaking the OpenAI and Anthropic protocols, for adapter and e2e tests.

Runs in its own thread (so module-scoped worker processes can use it across
tests). Behaviour is chosen by the model name, so concurrent tests never share
state:

* ``echo`` (any unknown name): answers ``echo: <last user text>``;
* ``r429-*``: the first request of that model gets 429 + ``Retry-After: 1``;
* ``always429-*``: every request gets 429 + ``Retry-After: 2``;
* ``e500-*``: every request gets 500; ``e500once-*``: only the first;
* ``slow<ms>-*``: waits <ms> before answering;
* ``agent-script*``: a scripted agent (calculator, then http_request to
  ``page_url``, then a final answer built from both observations);
* ``agent-text*``: the same script in the ReAct text protocol (no tools API);
* ``fact``: answers ``Paris`` to anything.

Endpoints: ``POST /v1/chat/completions`` (incl. ``stream`` with SSE and tool
calls), ``POST /v1/embeddings``, ``GET /v1/models``, ``POST /v1/messages``
(Anthropic, incl. ``tool_use`` and streaming), ``GET /page`` (a test page).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import threading
import time
from collections import Counter
from typing import Any

from aiohttp import web

PAGE_MARKER = "The secret launch code is AURORA-7."
PAGE_HTML = f"""<!doctype html><html><head><title>Mission page</title></head>
<body><nav>Home | About | Contact</nav><article><h1>Mission briefing</h1>
<p>{PAGE_MARKER}</p><p>This page is served locally for the agent tests. It has a few
sentences of real text so that extraction keeps it as the main content.</p></article>
<footer>Copyright nobody</footer></body></html>"""


def _words(text: str) -> int:
    return max(1, len(text.split()))


class FakeLlmServer:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.counts: Counter[str] = Counter()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port = 0
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def page_url(self) -> str:
        return f"{self.url}/page"

    # -- lifecycle (thread) ------------------------------------------------------------

    def start(self) -> FakeLlmServer:
        self._thread = threading.Thread(target=self._run, daemon=True, name="fake-llm")
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake LLM server did not start")
        return self

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self._serve())
        self._ready.set()
        self.loop.run_forever()

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.chat_completions)
        app.router.add_post("/v1/embeddings", self.embeddings)
        app.router.add_get("/v1/models", self.models)
        app.router.add_post("/v1/messages", self.messages)
        app.router.add_get("/page", self.page)
        app.router.add_get("/slow-page", self.slow_page)
        app.router.add_get("/redirect", self.redirect)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def __enter__(self) -> FakeLlmServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.loop is None:
            return
        fut = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop)  # type: ignore[union-attr]
        fut.result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        if self._thread:
            self._thread.join(10)

    # -- behaviour by model name --------------------------------------------------------

    async def _gate(self, model: str) -> web.Response | None:
        self.counts[model] += 1
        n = self.counts[model]
        if model.startswith("slow"):
            ms = int(re.match(r"slow(\d+)", model).group(1))  # type: ignore[union-attr]
            await asyncio.sleep(ms / 1000)
        if (model.startswith("r429-") and n == 1) or model.startswith("always429-"):
            retry = "1" if model.startswith("r429-") else "2"
            return web.json_response(
                {"error": {"message": "Rate limit reached", "type": "rate_limit_error"}},
                status=429,
                headers={"Retry-After": retry},
            )
        if model.startswith("e500-") or (model.startswith("e500once-") and n == 1):
            return web.json_response(
                {"error": {"message": "internal failure", "type": "server_error"}}, status=500
            )
        return None

    def _script(self, model: str, observations: list[str], last_user: str) -> dict[str, Any]:
        """The next move: {"text": ...} or {"tool": name, "args": {...}}."""
        if model.startswith("fact"):
            return {"text": "Paris"}
        if model.startswith(("agent-script", "agent-text")):
            if len(observations) == 0:
                return {"tool": "calculator", "args": {"expression": "17*23"}}
            if len(observations) == 1:
                return {"tool": "http_request", "args": {"url": self.page_url}}
            calc = re.search(r'"result":\s*(-?\d+(?:\.\d+)?)', observations[0])
            code = re.search(r"launch code is ([A-Z]+-\d+)", observations[1])
            return {
                "text": f"17*23 = {calc.group(1) if calc else '?'}; "
                f"the page says the code is {code.group(1) if code else '?'}."
            }
        return {"text": f"echo: {last_user}"}

    # -- OpenAI -----------------------------------------------------------------------

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        model = body.get("model", "echo")
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append({"api": "openai", "headers": headers, "body": body})
        gated = await self._gate(model)
        if gated is not None:
            return gated
        messages = body.get("messages", [])
        if not messages:
            return web.json_response(
                {
                    "error": {
                        "message": "messages must not be empty",
                        "type": "invalid_request_error",
                    }
                },
                status=400,
            )
        last_user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        if model.startswith("agent-text"):
            observations = [
                m["content"]
                for m in messages
                if m["role"] == "user" and m["content"].startswith("Observation:")
            ]
        else:
            observations = [m["content"] for m in messages if m["role"] == "tool"]
        move = self._script(model, observations, last_user or "")
        prompt_tokens = sum(_words(str(m.get("content") or "")) for m in messages)
        message: dict[str, Any] = {"role": "assistant", "content": None}
        finish = "stop"
        if "tool" in move and model.startswith("agent-text"):
            message["content"] = (
                f"Thought: I should use {move['tool']}.\nAction: {move['tool']}\n"
                f"Action Input: {json.dumps(move['args'])}"
            )
        elif "tool" in move:
            call_id = f"call_{hashlib.sha1(json.dumps(move).encode()).hexdigest()[:8]}"
            message["tool_calls"] = [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": move["tool"], "arguments": json.dumps(move["args"])},
                }
            ]
            finish = "tool_calls"
        else:
            text = move["text"]
            message["content"] = (
                f"Thought: I know it.\nFinal Answer: {text}"
                if model.startswith("agent-text")
                else text
            )
        completion_tokens = _words(message["content"] or "x")
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        if body.get("stream"):
            return await self._openai_stream(request, model, message, finish, usage, body)
        return web.json_response(
            {
                "id": f"chatcmpl-{self.counts[model]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": usage,
            }
        )

    async def _openai_stream(
        self,
        request: web.Request,
        model: str,
        message: dict[str, Any],
        finish: str,
        usage: dict[str, int],
        body: dict[str, Any],
    ) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)

        async def send(choices: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> None:
            chunk = {
                "id": "chatcmpl-s",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": choices,
                **(extra or {}),
            }
            await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())

        words = (message["content"] or "").split(" ")
        for i, word in enumerate(words):
            delta = {"content": word if i == 0 else " " + word}
            if i == 0:
                delta["role"] = "assistant"
            await send([{"index": 0, "delta": delta, "finish_reason": None}])
        await send([{"index": 0, "delta": {}, "finish_reason": finish}])
        if (body.get("stream_options") or {}).get("include_usage"):
            await send([], {"usage": usage})
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    async def embeddings(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"api": "embeddings", "body": body})
        gated = await self._gate(body.get("model", "emb"))
        if gated is not None:
            return gated
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = []
        for i, text in enumerate(inputs):
            digest = hashlib.sha256(str(text).encode()).digest()
            data.append(
                {"object": "embedding", "index": i, "embedding": [b / 255 for b in digest[:8]]}
            )
        tokens = sum(_words(str(t)) for t in inputs)
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "echo", "object": "model"}]})

    # -- Anthropic --------------------------------------------------------------------

    async def messages(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        model = body.get("model", "echo")
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append({"api": "anthropic", "headers": headers, "body": body})
        gated = await self._gate(model)
        if gated is not None:
            return gated
        observations, last_user = [], ""
        for m in body.get("messages", []):
            content = m["content"]
            blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
            for block in blocks:
                if block.get("type") == "tool_result":
                    value = block.get("content")
                    observations.append(value if isinstance(value, str) else json.dumps(value))
                elif block.get("type") == "text" and m["role"] == "user":
                    last_user = block["text"]
        move = self._script(model, observations, last_user)
        if "tool" in move:
            call_id = f"toolu_{hashlib.sha1(json.dumps(move).encode()).hexdigest()[:8]}"
            content_out = [
                {"type": "tool_use", "id": call_id, "name": move["tool"], "input": move["args"]}
            ]
            stop = "tool_use"
        else:
            content_out = [{"type": "text", "text": move["text"]}]
            stop = "end_turn"
        input_tokens = sum(_words(json.dumps(m["content"])) for m in body.get("messages", []))
        output_tokens = _words(json.dumps(content_out))
        if body.get("stream"):
            return await self._anthropic_stream(
                request, model, content_out, stop, input_tokens, output_tokens
            )
        return web.json_response(
            {
                "id": f"msg_{self.counts[model]}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": content_out,
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
            }
        )

    async def _anthropic_stream(
        self,
        request: web.Request,
        model: str,
        content: list[dict[str, Any]],
        stop: str,
        input_tokens: int,
        output_tokens: int,
    ) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)

        async def event(kind: str, data: dict[str, Any]) -> None:
            await resp.write(
                f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()
            )

        await event(
            "message_start",
            {
                "message": {
                    "id": "msg_s",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": input_tokens, "output_tokens": 1},
                }
            },
        )
        text = content[0].get("text", "")
        await event(
            "content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}
        )
        for i, word in enumerate(text.split(" ")):
            piece = word if i == 0 else " " + word
            await event(
                "content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": piece}}
            )
        await event("content_block_stop", {"index": 0})
        await event(
            "message_delta",
            {
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        )
        await event("message_stop", {})
        await resp.write_eof()
        return resp

    # -- pages for the tools ------------------------------------------------------------

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(text=PAGE_HTML, content_type="text/html")

    async def slow_page(self, request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query.get("s", "5")))
        return web.Response(text="finally", content_type="text/plain")

    async def redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query.get("to", "http://169.254.169.254/latest/meta-data/"))
