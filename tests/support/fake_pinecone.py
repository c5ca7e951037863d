"""A local server implementing the subset of Pinecone's REST API that ``PineconeVectorStore``
uses through the official ``pinecone`` SDK (no Pinecone service can run here).

Control plane: ``GET /indexes/{name}`` (the 2026-07 index model with a dense
vector field). Data plane: ``POST /vectors/upsert``, ``POST /query`` (cosine),
``GET /vectors/fetch``, ``POST /vectors/fetch_by_metadata`` (paginated),
``POST /vectors/delete`` (ids or filter), ``POST /describe_index_stats``.
Metadata filters: ``$and``, ``$or``, ``$eq``, ``$ne``, ``$in``, ``$gte``, ``$lt``
and the ``{"field": value}`` shorthand, with Pinecone's list semantics.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from aiohttp import web

from tests.support.local_http_server import ThreadedServer


def _cmp(value: Any, op: str, arg: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    if op == "$eq":
        return arg in values
    if op == "$ne":
        return arg not in values
    if op == "$in":
        return any(v in arg for v in values)
    if op == "$nin":
        return not any(v in arg for v in values)
    if value is None:
        return False
    if op == "$gte":
        return bool(value >= arg)
    if op == "$gt":
        return bool(value > arg)
    if op == "$lt":
        return bool(value < arg)
    if op == "$lte":
        return bool(value <= arg)
    raise ValueError(f"unsupported filter operator {op}")


def matches(meta: dict[str, Any], flt: dict[str, Any] | None) -> bool:
    if not flt:
        return True
    for key, cond in flt.items():
        if key == "$and":
            if not all(matches(meta, c) for c in cond):
                return False
        elif key == "$or":
            if not any(matches(meta, c) for c in cond):
                return False
        elif isinstance(cond, dict):
            if not all(_cmp(meta.get(key), op, arg) for op, arg in cond.items()):
                return False
        elif not _cmp(meta.get(key), "$eq", cond):
            return False
    return True


class FakePinecone(ThreadedServer):
    def __init__(
        self, *, api_key: str = "pc-test-key", index_name: str = "chunks", dimension: int = 64
    ) -> None:
        super().__init__(self._app)
        self.api_key = api_key
        self.index_name = index_name
        self.dimension = dimension
        self.namespaces: dict[str, dict[str, dict[str, Any]]] = {}
        self.calls: list[str] = []

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=100_000_000, middlewares=[self._auth])
        r = app.router
        r.add_get("/indexes/{name}", self.describe)
        r.add_post("/vectors/upsert", self.upsert)
        r.add_post("/query", self.query)
        r.add_get("/vectors/fetch", self.fetch)
        r.add_post("/vectors/fetch_by_metadata", self.fetch_by_metadata)
        r.add_post("/vectors/delete", self.delete)
        r.add_post("/describe_index_stats", self.stats)
        return app

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.calls.append(f"{request.method} {request.path}")
        if request.headers.get("Api-Key") != self.api_key:
            return web.json_response(
                {"error": {"code": "UNAUTHENTICATED", "message": "bad key"}}, status=401
            )
        return await handler(request)

    async def describe(self, request: web.Request) -> web.Response:
        if request.match_info["name"] != self.index_name:
            return web.json_response(
                {"error": {"code": "NOT_FOUND", "message": "no index"}}, status=404
            )
        return web.json_response(
            {
                "name": self.index_name,
                "status": {"ready": True, "state": "Ready"},
                "schema": {
                    "fields": {
                        "embedding": {
                            "type": "dense_vector",
                            "dimension": self.dimension,
                            "metric": "cosine",
                        }
                    }
                },
                "deployment": {"deployment_type": "managed", "cloud": "aws", "region": "us-east-1"},
                "deletion_protection": "disabled",
                "host": self.url,
            }
        )

    def _ns(self, name: str | None) -> dict[str, dict[str, Any]]:
        return self.namespaces.setdefault(name or "", {})

    async def upsert(self, request: web.Request) -> web.Response:
        body = await request.json()
        ns = self._ns(body.get("namespace"))
        for v in body["vectors"]:
            if len(v["values"]) != self.dimension:
                return web.json_response(
                    {"error": {"code": "INVALID_ARGUMENT", "message": "dimension"}}, status=400
                )
            for value in (v.get("metadata") or {}).values():
                if value is None or isinstance(value, dict):
                    return web.json_response(
                        {"error": {"code": "INVALID_ARGUMENT", "message": "metadata"}}, status=400
                    )
            ns[v["id"]] = {
                "id": v["id"],
                "values": v["values"],
                "metadata": v.get("metadata") or {},
            }
        return web.json_response({"upsertedCount": len(body["vectors"])})

    async def query(self, request: web.Request) -> web.Response:
        body = await request.json()
        q = np.asarray(body["vector"], dtype=np.float64)
        out = []
        for v in self._ns(body.get("namespace")).values():
            if matches(v["metadata"], body.get("filter")):
                vec = np.asarray(v["values"], dtype=np.float64)
                score = float(vec @ q / (np.linalg.norm(vec) * np.linalg.norm(q) or 1.0))
                out.append(
                    {
                        "id": v["id"],
                        "score": score,
                        **({"metadata": v["metadata"]} if body.get("includeMetadata") else {}),
                    }
                )
        out.sort(key=lambda m: -m["score"])
        return web.json_response(
            {"matches": out[: int(body["topK"])], "namespace": body.get("namespace", "")}
        )

    async def fetch(self, request: web.Request) -> web.Response:
        ns_name = request.query.get("namespace", "")
        ns = self._ns(ns_name)
        ids = request.query.getall("ids", [])
        return web.json_response(
            {"vectors": {i: ns[i] for i in ids if i in ns}, "namespace": ns_name}
        )

    async def fetch_by_metadata(self, request: web.Request) -> web.Response:
        body = await request.json()
        ns = self._ns(body.get("namespace"))
        found = sorted(
            (v for v in ns.values() if matches(v["metadata"], body.get("filter"))),
            key=lambda v: v["id"],
        )
        start = int(body.get("paginationToken") or 0)
        limit = int(body.get("limit") or 100)
        page = found[start : start + limit]
        nxt = str(start + limit) if start + limit < len(found) else None
        return web.json_response(
            {"vectors": {v["id"]: v for v in page}, "namespace": body.get("namespace", ""),
             "pagination": {"next": nxt} if nxt else None}
        )  # fmt: skip

    async def delete(self, request: web.Request) -> web.Response:
        body = await request.json()
        ns = self._ns(body.get("namespace"))
        if body.get("deleteAll"):
            ns.clear()
        elif "ids" in body:
            for i in body["ids"]:
                ns.pop(i, None)
        else:
            for i in [i for i, v in ns.items() if matches(v["metadata"], body.get("filter"))]:
                del ns[i]
        return web.json_response({})

    async def stats(self, request: web.Request) -> web.Response:
        spaces = {k: {"vectorCount": len(v)} for k, v in self.namespaces.items() if v}
        return web.json_response(
            {"namespaces": spaces, "dimension": self.dimension, "indexFullness": 0.0,
             "totalVectorCount": sum(s["vectorCount"] for s in spaces.values()), "metric": "cosine",
             "vectorType": "dense"}
        )  # fmt: skip
