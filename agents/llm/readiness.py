"""The assistant's readiness: which providers are configured, and the local default model.

``/ready`` names exactly what is missing (the runtime, the model's packages, a
``LOCAL_MODEL_PATH`` file), says "loading" while the default local model warms
up, and why loading failed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from agents.llm.llamacpp_chat_provider import LlamaCppChatProvider, local_model_available
from agents.llm.llamaserver_chat_provider import LlamaServerChatProvider
from agents.llm.model_registry import LOCAL_MODEL, ModelInfo
from agents.llm.ports import ChatProvider
from enginedge_streams.errors import EnginEdgeError


class LocalModelWarmUp:
    """Loads the default local model when the worker starts, so the first command is not slow.

    It loads in the background: the worker joins its group meanwhile, and
    ``/ready`` says "loading" until the model answers (or why it failed).
    """

    def __init__(self, provider: ChatProvider | None, model: str) -> None:
        self.provider = provider
        self.model = model
        self.done = False
        self.error = ""
        self._task: asyncio.Task[None] | None = None

    async def _load(self) -> None:
        try:
            if isinstance(self.provider, (LlamaCppChatProvider, LlamaServerChatProvider)):
                await self.provider.warm_up(self.model)
        except EnginEdgeError as exc:
            self.error = exc.message
        except Exception as exc:  # reported by /ready, never raised into the worker
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.done = True

    async def start(self) -> None:
        self._task = asyncio.create_task(self._load())

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task


class ProvidersReadiness:
    """The ``providers`` check of ``/ready``; owns the warm-up of the local default."""

    def __init__(
        self,
        providers: Mapping[str, ChatProvider],
        default: ModelInfo,
        *,
        runtime: str = "auto",
        model_path: str = "",
    ) -> None:
        self.providers = providers
        self.default = default
        self.runtime = runtime
        self.model_path = model_path
        local = providers.get("local")
        self.warm = LocalModelWarmUp(local, default.name)
        self.warms = local is not None and default.provider == "local" and self.local_ok()[0]
        if not self.warms:
            self.warm.done = True

    def local_ok(self) -> tuple[bool, str]:
        model = self.default.name if self.default.provider == "local" else LOCAL_MODEL
        return local_model_available(model, preference=self.runtime, model_path=self.model_path)

    async def __call__(self) -> tuple[bool, str]:
        detail = ", ".join(sorted(self.providers)) or "none"
        if "local" in self.providers and self.default.provider == "local":
            ok, why = self.local_ok()
            name, warm = self.default.name, self.warm
            if not ok:
                return False, f"{detail}; local model: {why}"
            if warm.error:
                return False, f"{detail}; local model {name}: {warm.error}"
            if not warm.done:
                return False, f"{detail}; local model {name} is loading"
            return True, f"{detail}; local default {name} loaded ({why})"
        return bool(self.providers), detail
