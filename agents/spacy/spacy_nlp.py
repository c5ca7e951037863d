"""The ``NlpEngine`` port on spaCy, with micro-batching through ``nlp.pipe``.

The model loads once per process (in ``start``), in a thread. Concurrent
commands' texts are gathered for up to ``batch_wait_ms`` and processed as one
``nlp.pipe`` batch in a worker thread, so the event loop (and Kafka
heartbeats) never block on inference.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from agents.spacy.annotation import to_annotated
from agents.spacy.ports import AnnotatedDoc
from enginedge_streams.ports.compute_pool import ComputePool
from enginedge_streams.tasks import cancel_and_wait

log = logging.getLogger("enginedge.spacy")


class SpacyNlpEngine:
    def __init__(
        self,
        model_name: str,
        *,
        batch_size: int = 32,
        batch_wait_ms: float = 2.0,
        pipeline: Any = None,
        compute: ComputePool | None = None,
        batch_timeout_s: float = 60.0,
    ) -> None:
        #: Where batches are annotated: the worker's compute pool (children load the
        #: pipeline), or None: a thread of this process (tests, benchmarks, shared use).
        self.compute = compute
        self.batch_timeout_s = batch_timeout_s
        self._in_children = False
        self.model_name = model_name
        self.batch_size = batch_size
        self.batch_wait = batch_wait_ms / 1000.0
        self._nlp: Any = pipeline  # an already loaded pipeline may be shared
        self._queue: asyncio.Queue[tuple[str, asyncio.Future[AnnotatedDoc]]] | None = None
        self._task: asyncio.Task[None] | None = None
        self.batches = 0

    def loaded(self) -> bool:
        return self._nlp is not None or self._in_children

    def _load(self) -> Any:
        import spacy

        return spacy.load(self.model_name)

    async def start(self) -> None:
        if self.compute is not None and not self._in_children:
            from agents.spacy.compute import load_step

            await self.compute.run(load_step, self.model_name, timeout_s=300.0)
            self._in_children = True
            log.info("spaCy pipeline %s loaded in the compute pool", self.model_name)
        elif self._nlp is None and self.compute is None:
            self._nlp = await asyncio.to_thread(self._load)
            log.info("loaded spaCy pipeline %s", self.model_name, extra={"model": self.model_name})
        if self._task is None:
            self._queue = asyncio.Queue()
            self._task = asyncio.create_task(self._batcher())

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _annotate_batch(self, texts: list[str]) -> list[AnnotatedDoc]:
        if self.compute is None:
            return await asyncio.to_thread(self.annotate_sync, texts)
        from agents.spacy.compute import annotate_step

        return await self.compute.run(
            annotate_step,
            self.model_name,
            texts,
            self.batch_size,
            timeout_s=self.batch_timeout_s,
            limit_code="NLP_TIME_LIMIT",
        )

    def annotate_sync(self, texts: list[str]) -> list[AnnotatedDoc]:
        if self._nlp is None:
            self._nlp = self._load()
        return [to_annotated(d) for d in self._nlp.pipe(texts, batch_size=self.batch_size)]

    async def annotate(self, texts: list[str]) -> list[AnnotatedDoc]:
        if self._queue is None:
            await self.start()
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        futures = []
        for text in texts:
            fut: asyncio.Future[AnnotatedDoc] = loop.create_future()
            self._queue.put_nowait((text, fut))
            futures.append(fut)
        return list(await asyncio.gather(*futures))

    async def _batcher(self) -> None:
        assert self._queue is not None
        queue = self._queue
        while True:
            batch = [await queue.get()]
            deadline = asyncio.get_running_loop().time() + self.batch_wait
            while len(batch) < self.batch_size:
                timeout = deadline - asyncio.get_running_loop().time()
                if timeout <= 0:
                    while len(batch) < self.batch_size and not queue.empty():
                        batch.append(queue.get_nowait())
                    break
                try:
                    batch.append(await asyncio.wait_for(queue.get(), timeout))
                except TimeoutError:
                    break
            texts = [t for t, _ in batch]
            try:
                docs = await self._annotate_batch(texts)
            except Exception as exc:
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            self.batches += 1
            for (_, fut), doc in zip(batch, docs, strict=True):
                if not fut.done():
                    fut.set_result(doc)
