"""The ``ChatProvider`` port on packaged GGUF models served by a local ``llama-server``.

Each local model gets its own ``llama-server`` child process, started on first
use (the default model at worker start) and spoken to through the OpenAI
adapter. The server renders the model's own chat template, so a model whose
template has a tool syntax (Qwen2.5's ``<tool_call>``) gets native tool calls,
constrained by llama.cpp's grammar once the call starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

from agents.llm.llama_server import LlamaServer
from agents.llm.local_models import CATALOG, materialize
from agents.llm.openai_chat_provider import OpenAIChatProvider
from agents.llm.ports import ChatRequest, ChatResponse, StreamChunk
from enginedge_streams.errors import PermanentError


class LlamaServerChatProvider:
    name = "local"
    supports_tools = True

    def __init__(
        self,
        *,
        cache_dir: Path | None = None,
        model_path: str | None = None,
        path_model: str = "",
        n_ctx: int = 4096,
        n_threads: int | None = None,
        timeout_s: float = 120.0,
    ) -> None:
        self.cache_dir = cache_dir
        self.model_path = model_path  # LOCAL_MODEL_PATH: the file served for ``path_model``
        self.path_model = path_model
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.timeout_s = timeout_s
        self._servers: dict[str, tuple[LlamaServer, OpenAIChatProvider]] = {}
        self._lock = asyncio.Lock()

    def loaded(self) -> list[str]:
        return [name for name, (server, _) in self._servers.items() if server.running()]

    def _file(self, model: str) -> Path:
        if self.model_path and (model == self.path_model or model not in CATALOG):
            return Path(self.model_path)
        if model not in CATALOG:
            raise PermanentError(
                f"{model!r} is not a packaged local model (one of {', '.join(CATALOG)}); "
                "set LOCAL_MODEL_PATH to serve another GGUF file",
                code="LOCAL_MODEL_UNAVAILABLE",
            )
        return materialize(model, self.cache_dir)

    async def warm_up(self, model: str) -> OpenAIChatProvider:
        async with self._lock:
            entry = self._servers.get(model)
            if entry is not None and entry[0].running():
                return entry[1]
            if entry is not None:
                await entry[0].stop()
                await entry[1].stop()
            path = await asyncio.to_thread(self._file, model)
            window = CATALOG[model].context_window if model in CATALOG else self.n_ctx
            server = LlamaServer(path, n_ctx=min(self.n_ctx, window), n_threads=self.n_threads)
            await server.start()
            client = OpenAIChatProvider(
                name=self.name, base_url=server.base_url, timeout_s=self.timeout_s
            )
            self._servers[model] = (server, client)
            return client

    async def start(self) -> None:
        return None  # servers start on first use (or by warm_up): start must not fail the worker

    async def stop(self) -> None:
        async with self._lock:
            servers, self._servers = self._servers, {}
        for server, client in servers.values():
            await client.stop()
            await server.stop()

    async def chat(self, request: ChatRequest) -> ChatResponse:
        client = await self.warm_up(request.model)
        response = await client.chat(request)
        return replace(response, model=request.model)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        client = await self.warm_up(request.model)
        async for chunk in client.stream(request):
            yield chunk
