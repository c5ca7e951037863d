"""What the SDK chat providers share: settings, a lazily created client, and closing it.

Subclasses create the SDK's async client in ``start`` (no I/O in the constructor)
and map the SDK's errors in ``_error``; ``_ready`` creates the client on first use.
"""

from __future__ import annotations

import inspect
from typing import Any


class SdkChatProvider:
    supports_tools = True
    default_name = ""

    def __init__(
        self,
        *,
        name: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self.name = name or self.default_name
        self.api_key = api_key
        self.base_url = base_url
        self.timeout_s = timeout_s
        self._client: Any = None

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        client, self._client = self._client, None
        close = getattr(client, "close", None)
        if close is not None:
            closing = close()
            if inspect.isawaitable(closing):
                await closing

    async def _ready(self) -> Any:
        if self._client is None:
            await self.start()
        return self._client
