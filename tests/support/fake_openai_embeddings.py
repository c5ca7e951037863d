"""A local server speaking OpenAI's embeddings protocol (``POST /v1/embeddings``).

Vectors are deterministic bag-of-words hashes (texts sharing words are close),
so retrieval through it behaves sensibly. It checks the bearer token, honours
``dimensions`` and ``encoding_format`` (float or base64), records every
request, and can be told to fail (429 with Retry-After, 500) a number of times.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import numpy as np
from aiohttp import web

from tests.support.local_http_server import ThreadedServer

MODELS = {"text-embedding-3-small": 1536, "text-embedding-ada-002": 1536}


def vector(text: str, dim: int) -> np.ndarray:
    vec = np.zeros(dim, dtype=np.float32)
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        h = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "big")
        vec[h % dim] += 1.0
    vec[0] += 0.01  # never all zeros
    return vec / np.linalg.norm(vec)


class FakeOpenAIEmbeddings(ThreadedServer):
    def __init__(self, api_key: str = "sk-test-embeddings") -> None:
        super().__init__(self._app)
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self.fail: list[int] = []  # statuses to answer with, one per request, before succeeding

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=50_000_000)
        app.router.add_post("/v1/embeddings", self.embeddings)
        return app

    async def embeddings(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "invalid_api_key", "Incorrect API key provided")
        body = await request.json()
        self.requests.append(body)
        if self.fail:
            status = self.fail.pop(0)
            headers = {"retry-after": "0.1"} if status == 429 else {}
            return _error(status, "rate_limit_exceeded" if status == 429 else "server_error",
                          "try again", headers)  # fmt: skip
        model = body.get("model")
        if model not in MODELS:
            return _error(404, "model_not_found", f"The model `{model}` does not exist")
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else inputs
        if not isinstance(texts, list) or not texts or len(texts) > 2048:
            return _error(400, "invalid_request_error", "input must be a non-empty array")
        dim = int(body.get("dimensions") or MODELS[model])
        data = []
        for i, text in enumerate(texts):
            vec = vector(str(text), dim)
            if body.get("encoding_format") == "base64":
                emb: Any = base64.b64encode(vec.astype("<f4").tobytes()).decode()
            else:
                emb = [float(x) for x in vec]
            data.append({"object": "embedding", "index": i, "embedding": emb})
        tokens = sum(len(str(t).split()) for t in texts)
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": code, "param": None, "code": code}},
        status=status,
        headers=headers,
    )
