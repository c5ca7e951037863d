"""Near-duplicate detection: MinHash signatures of word shingles in an LSH index (datasketch).

Two articles are the same story when the estimated Jaccard similarity of their
3-word shingle sets reaches the threshold. The LSH index finds candidates in
sub-linear time; each candidate is confirmed on its full signature. Only
articles published within the window are kept in the (in-memory) index; it is
rebuilt from the signatures stored in the table when the worker starts.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSH

from agents.news.normalize import words

SCHEME = "affine32"  # datasketch >= 2.0; stored signatures are uint32 values of this scheme
SHINGLE_WORDS = 3
MIN_SHINGLES = 8  # shorter texts are only compared exactly (URL, content hash)


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[bytes]:
    w = words(text)
    if len(w) < size:
        return {" ".join(w).encode()} if w else set()
    return {" ".join(w[i : i + size]).encode() for i in range(len(w) - size + 1)}


def signature_bytes(text: str, num_perm: int) -> bytes | None:
    """The MinHash signature of a text's shingles as stored (uint32 values), or None if short."""
    sh = shingles(text)
    if len(sh) < MIN_SHINGLES:
        return None
    m = MinHash(num_perm=num_perm, scheme=SCHEME)
    m.update_batch(list(sh))
    return np.asarray(m.hashvalues, dtype=np.uint32).tobytes()


@dataclass(frozen=True)
class Match:
    article_id: str
    similarity: float


class NearDuplicateIndex:
    def __init__(self, *, threshold: float, num_perm: int = 128, window_seconds: float) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self.window_seconds = window_seconds
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._sigs: dict[str, MinHash] = {}
        self._expiry: list[tuple[float, str]] = []  # (published ts, id) min-heap

    def __len__(self) -> int:
        return len(self._sigs)

    def signature(self, text: str) -> MinHash | None:
        sh = shingles(text)
        if len(sh) < MIN_SHINGLES:
            return None
        m = MinHash(num_perm=self.num_perm, scheme=SCHEME)
        m.update_batch(list(sh))
        return m

    def to_bytes(self, sig: MinHash) -> bytes:
        return np.asarray(sig.hashvalues, dtype=np.uint32).tobytes()

    def from_bytes(self, raw: bytes) -> MinHash | None:
        values = np.frombuffer(raw, dtype=np.uint32)
        if len(values) != self.num_perm:  # stored with another NEWS_MINHASH_PERMUTATIONS
            return None
        return MinHash(num_perm=self.num_perm, hashvalues=values.copy(), scheme=SCHEME)

    def best_match(self, sig: MinHash) -> Match | None:
        best: Match | None = None
        for key in self._lsh.query(sig):
            other = self._sigs.get(key)
            if other is None:
                continue
            sim = float(sig.jaccard(other))
            if sim >= self.threshold and (
                best is None or (sim, best.article_id) > (best.similarity, key)
            ):
                best = Match(key, round(sim, 4))
        return best

    def add(self, article_id: str, sig: MinHash, published_ts: float) -> None:
        if article_id in self._sigs:
            return
        self._lsh.insert(article_id, sig)
        self._sigs[article_id] = sig
        heapq.heappush(self._expiry, (published_ts, article_id))

    def remove(self, article_id: str) -> None:
        if self._sigs.pop(article_id, None) is not None:
            self._lsh.remove(article_id)

    def evict(self, now_ts: float) -> int:
        """Drop articles published before the window; return how many."""
        cutoff = now_ts - self.window_seconds
        n = 0
        while self._expiry and self._expiry[0][0] < cutoff:
            _, key = heapq.heappop(self._expiry)
            if key in self._sigs:
                self.remove(key)
                n += 1
        return n

    def in_window(self, published_ts: float, now_ts: float) -> bool:
        return published_ts >= now_ts - self.window_seconds
