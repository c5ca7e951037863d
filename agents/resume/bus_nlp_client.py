"""The ``NlpClient`` port on the spaCy worker, through the platform's ``BusCaller`` (never
over HTTP).

``analyze_many`` sends the texts as one ``nlp.analyze`` command (joined by
blank lines, up to ~90k characters per command) and splits the tokens back
by character offsets, so a resume's 20 bullets cost one round trip instead of
20 (``batch=False`` sends one command per text, concurrently).
"""

from __future__ import annotations

import asyncio
from typing import Any

from agents.resume.ports import Analysis, Tok
from enginedge_streams.ports.bus_caller import BusCaller

SEP = "\n\n"
MAX_CHARS = 90_000


def _analysis(text: str, data: dict[str, Any], offset: int = 0) -> Analysis:
    end = offset + len(text)
    tokens = [
        Tok(
            t["text"],
            t["lemma"],
            t["pos"],
            t["tag"],
            t["dep"],
            t["start"] - offset,
            t["end"] - offset,
        )
        for t in data.get("tokens", [])
        if offset <= t["start"] < end
    ]
    entities = [
        {**e, "start": e["start"] - offset, "end": e["end"] - offset}
        for e in data.get("entities", [])
        if offset <= e["start"] < end
    ]
    return Analysis(text, tokens, entities)


class BusNlpClient:
    def __init__(self, workers: BusCaller, *, timeout: float = 30.0, batch: bool = True) -> None:
        self.workers = workers
        self.timeout = timeout
        self.batch = batch
        self.calls = 0

    async def _analyze(self, text: str) -> dict[str, Any]:
        self.calls += 1
        payload = {"text": text, "parts": ["tokens", "entities"]}
        data: dict[str, Any] = await self.workers.call(
            "spacy", "nlp.analyze", payload, timeout=self.timeout
        )
        return data

    async def analyze_many(self, texts: list[str]) -> list[Analysis]:
        clean = [t if t.strip() else "." for t in texts]
        if not self.batch:
            results = await asyncio.gather(*(self._analyze(t[:MAX_CHARS]) for t in clean))
            return [_analysis(t, r) for t, r in zip(clean, results, strict=True)]
        groups: list[list[str]] = [[]]
        size = 0
        for full in clean:
            text = full[:MAX_CHARS]
            if groups[-1] and size + len(text) + len(SEP) > MAX_CHARS:
                groups.append([])
                size = 0
            groups[-1].append(text)
            size += len(text) + len(SEP)
        answers = await asyncio.gather(*(self._analyze(SEP.join(g)) for g in groups))
        out: list[Analysis] = []
        for group, data in zip(groups, answers, strict=True):
            offset = 0
            for text in group:
                out.append(_analysis(text, data, offset))
                offset += len(text) + len(SEP)
        return out

    async def keywords(self, text: str, top_k: int) -> list[tuple[str, int]]:
        self.calls += 1
        payload = {"text": text[:MAX_CHARS], "top_k": top_k}
        data = await self.workers.call("spacy", "nlp.keywords", payload, timeout=self.timeout)
        return [(k["keyword"], int(k.get("count", 1))) for k in data.get("keywords", [])]
