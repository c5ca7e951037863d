"""The fallback ``ChatProvider`` for local models: ``llama-cpp-python`` in process.

Used when the prebuilt ``llama-server`` is not installed (LOCAL_MODEL_RUNTIME=
python or auto): llama-cpp-python has no wheel on PyPI, so ``make
llm-local-python`` compiles it (7-16 min on two cores). Models are the packaged
ones (``local_models``); ``LOCAL_MODEL_PATH`` points at any other GGUF file.
A model loads lazily, in a thread; generation runs in a thread under a lock (a
``Llama`` object is not re-entrant), so the event loop never blocks. It has no
tool-calling API here: the agent loop uses its text protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from agents.llm.llama_server import runtime_status
from agents.llm.local_models import CATALOG, SMOLLM2, materialize, model_status
from agents.llm.ports import ChatMessage, ChatRequest, ChatResponse, StreamChunk
from enginedge_streams.errors import PermanentError


def python_runtime_status() -> tuple[bool, str]:
    if importlib.util.find_spec("llama_cpp") is None:
        return False, "llama-cpp-python is not installed (make llm-local-python compiles it)"
    return True, "llama-cpp-python"


def local_runtime(preference: str = "auto") -> tuple[str | None, str]:
    """Which runtime serves local models (``server``/``python``), or None and why not."""
    server_ok, server_why = runtime_status()
    python_ok, python_why = python_runtime_status()
    if preference in ("auto", "server") and server_ok:
        return "server", server_why
    if preference in ("auto", "python") and python_ok:
        return "python", python_why
    if preference == "python":
        return None, python_why
    return None, server_why if preference == "server" else f"{server_why}; or {python_why}"


def local_model_available(
    model: str = "", *, preference: str = "auto", model_path: str = ""
) -> tuple[bool, str]:
    """Whether ``model`` (default: the offline default) can run here, or what is missing."""
    from agents.llm.model_registry import LOCAL_MODEL

    runtime, why = local_runtime(preference)
    if runtime is None:
        return False, f"no local runtime: {why}"
    if model_path:
        ok = Path(model_path).is_file()
        return ok, f"{runtime}, {model_path}" if ok else f"LOCAL_MODEL_PATH {model_path} is missing"
    ok, why = model_status(model or LOCAL_MODEL)
    return ok, f"{runtime}, {model or LOCAL_MODEL} {why}" if ok else why


def packaged_model_path(model: str = SMOLLM2) -> Path | None:
    """The GGUF of a packaged model if its packages are installed (joined when in parts)."""
    if model not in CATALOG or not model_status(model)[0]:
        return None
    return materialize(model)


def to_local_messages(messages: tuple[ChatMessage, ...]) -> list[dict[str, str]]:
    out = []
    for m in messages:
        if m.role == "tool":
            out.append({"role": "user", "content": f"Observation from {m.name}: {m.content}"})
        else:
            out.append({"role": m.role, "content": m.content})
    return out


class LlamaCppChatProvider:
    name = "local"
    supports_tools = False

    def __init__(
        self, *, model_path: str | None = None, n_ctx: int = 2048, n_threads: int | None = None
    ) -> None:
        self.model_path = model_path
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self._llm: Any = None
        self._model = ""
        self._load_lock = asyncio.Lock()
        self._run_lock = threading.Lock()

    def loaded(self) -> bool:
        return self._llm is not None

    def _path(self, model: str) -> str:
        if self.model_path:
            return self.model_path
        ok, reason = python_runtime_status()
        if ok:
            ok, reason = model_status(model)
        if not ok:
            raise PermanentError(
                f"local model unavailable: {reason}", code="LOCAL_MODEL_UNAVAILABLE"
            )
        return str(materialize(model))

    def _load(self, model: str) -> Any:
        from llama_cpp import Llama

        return Llama(
            model_path=self._path(model),
            n_ctx=self.n_ctx,
            n_threads=self.n_threads,
            verbose=False,
        )

    async def start(self) -> None:
        return None  # loaded on first use (or by warm_up): start must not fail the worker

    async def warm_up(self, model: str = SMOLLM2) -> None:
        async with self._load_lock:
            if self._llm is None or self._model != model:
                self._llm = None
                try:
                    self._llm = await asyncio.to_thread(self._load, model)
                    self._model = model
                except PermanentError:
                    raise
                except Exception as exc:  # a missing/corrupt GGUF file, a failed mmap
                    raise PermanentError(
                        f"cannot load the local model: {exc}", code="LOCAL_MODEL_UNAVAILABLE"
                    ) from None

    async def stop(self) -> None:
        self._llm = None

    def _kwargs(self, request: ChatRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "messages": to_local_messages(request.messages),
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "seed": 42,
        }
        if request.stop:
            kwargs["stop"] = list(request.stop)
        return kwargs

    def _complete(self, request: ChatRequest) -> Any:
        with self._run_lock:
            return self._llm.create_chat_completion(**self._kwargs(request))

    async def chat(self, request: ChatRequest) -> ChatResponse:
        await self.warm_up(request.model)
        out = await asyncio.wait_for(
            asyncio.to_thread(self._complete, request), timeout=request.timeout_s
        )
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return ChatResponse(
            text=(choice["message"].get("content") or "").strip(),
            model=request.model,
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            finish_reason=choice.get("finish_reason") or "stop",
            provider=self.name,
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        await self.warm_up(request.model)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[StreamChunk | BaseException | None] = asyncio.Queue()
        prompt = self._llm.tokenize(
            "".join(m["content"] for m in to_local_messages(request.messages)).encode()
        )

        def produce() -> None:
            produced = 0
            try:
                with self._run_lock:
                    events: Iterator[Any] = self._llm.create_chat_completion(
                        **self._kwargs(request), stream=True
                    )
                    for event in events:
                        choice = event["choices"][0]
                        text = choice.get("delta", {}).get("content") or ""
                        if text:
                            produced += 1
                        chunk = StreamChunk(text=text, finish_reason=choice.get("finish_reason"))
                        if chunk.finish_reason:
                            chunk.prompt_tokens = len(prompt)
                            chunk.completion_tokens = produced
                        loop.call_soon_threadsafe(queue.put_nowait, chunk)
            except BaseException as exc:  # handed to the event loop, re-raised there
                loop.call_soon_threadsafe(queue.put_nowait, exc)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, None)

        task = asyncio.create_task(asyncio.to_thread(produce))
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            with contextlib.suppress(Exception):
                await task
