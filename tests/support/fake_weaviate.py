"""A local server implementing the subset of Weaviate's REST + GraphQL API that
``WeaviateVectorStore`` uses (no Weaviate binary can run here).

REST: ``GET /v1/meta``, ``GET|POST /v1/schema[/{class}]``, ``POST /v1/objects``,
``HEAD|GET|PUT|DELETE /v1/objects/{class}/{id}``. GraphQL (``POST /v1/graphql``):
``{ Get { Class(nearVector: {vector: [...]}, bm25: {query, properties}, where: ..., limit: N)
{ props _additional { id distance score } } } }`` with ``where`` operators And, Or,
Equal and ContainsAny. BM25 (k1=1.2, b=0.75) and cosine distance as Weaviate defines them.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from typing import Any

import numpy as np
from aiohttp import web

from agents.data_processing.fakes import terms
from tests.support.local_http_server import ThreadedServer

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)'
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[{}()\[\]:,]))"
)


class GqlParser:
    """Just enough GraphQL: one query of nested selections with literal arguments."""

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                if text[pos:].strip() == "":
                    break
                raise ValueError(f"bad GraphQL near {text[pos : pos + 20]!r}")
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0

    def peek(self) -> str:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> tuple[str, str]:
        tok = self.tokens[self.i]
        if expected is not None and tok[1] != expected:
            raise ValueError(f"expected {expected!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def selection(self) -> dict[str, Any]:
        """{ name(args) { ... } ... } -> {name: {"args": {...}, "fields": {...}}}"""
        self.take("{")
        out: dict[str, Any] = {}
        while self.peek() != "}":
            _, name = self.take()
            args: dict[str, Any] = {}
            if self.peek() == "(":
                self.take("(")
                while self.peek() != ")":
                    _, key = self.take()
                    self.take(":")
                    args[key] = self.value()
                    if self.peek() == ",":
                        self.take(",")
                self.take(")")
            fields = self.selection() if self.peek() == "{" else {}
            out[name] = {"args": args, "fields": fields}
            if self.peek() == ",":
                self.take(",")
        self.take("}")
        return out

    def value(self) -> Any:
        kind, tok = self.take()
        if tok == "{":
            obj: dict[str, Any] = {}
            while self.peek() != "}":
                _, key = self.take()
                self.take(":")
                obj[key] = self.value()
                if self.peek() == ",":
                    self.take(",")
            self.take("}")
            return obj
        if tok == "[":
            items = []
            while self.peek() != "]":
                items.append(self.value())
                if self.peek() == ",":
                    self.take(",")
            self.take("]")
            return items
        if kind == "str":
            return json.loads(tok)
        if kind == "num":
            return float(tok) if any(c in tok for c in ".eE") else int(tok)
        if tok in ("true", "false"):
            return tok == "true"
        return tok  # enum


def matches(props: dict[str, Any], where: dict[str, Any] | None) -> bool:
    if not where:
        return True
    op = where["operator"]
    if op == "And":
        return all(matches(props, w) for w in where["operands"])
    if op == "Or":
        return any(matches(props, w) for w in where["operands"])
    value = props.get(where["path"][0])
    if op == "Equal":
        wanted = next(where[k] for k in where if k.startswith("value"))
        return value == wanted
    if op == "ContainsAny":
        wanted = where.get("valueTextArray") or where.get("valueText") or []
        have = value if isinstance(value, list) else [value]
        return any(w in have for w in wanted)
    raise ValueError(f"unsupported operator {op}")


class FakeWeaviate(ThreadedServer):
    def __init__(self) -> None:
        super().__init__(self._app)
        self.classes: dict[str, dict[str, Any]] = {}
        self.objects: dict[str, dict[str, dict[str, Any]]] = {}  # class -> id -> object
        self.requests: list[str] = []

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=100_000_000)
        r = app.router
        r.add_get("/v1/meta", self.meta)
        r.add_get("/v1/schema", self.schema)
        r.add_get("/v1/schema/{cls}", self.get_class)
        r.add_post("/v1/schema", self.create_class)
        r.add_post("/v1/objects", self.create_object)
        r.add_route("HEAD", "/v1/objects/{cls}/{id}", self.head_object)
        r.add_get("/v1/objects/{cls}/{id}", self.get_object, allow_head=False)
        r.add_put("/v1/objects/{cls}/{id}", self.put_object)
        r.add_delete("/v1/objects/{cls}/{id}", self.delete_object)
        r.add_post("/v1/graphql", self.graphql)
        return app

    async def meta(self, request: web.Request) -> web.Response:
        self.requests.append("GET /v1/meta")
        return web.json_response(
            {"hostname": "http://[::]:8080", "version": "1.32.0", "modules": {}}
        )

    async def schema(self, request: web.Request) -> web.Response:
        return web.json_response({"classes": list(self.classes.values())})

    async def get_class(self, request: web.Request) -> web.Response:
        cls = self.classes.get(request.match_info["cls"])
        return web.json_response(cls) if cls else web.json_response({"error": []}, status=404)

    async def create_class(self, request: web.Request) -> web.Response:
        body = await request.json()
        name = body["class"]
        if name in self.classes:
            return web.json_response(
                {"error": [{"message": f"class name {name!r} already exists"}]}, status=422
            )
        body.setdefault("vectorIndexConfig", {"distance": "cosine"})
        self.classes[name] = body
        self.objects[name] = {}
        self.requests.append(f"POST /v1/schema {name}")
        return web.json_response(body)

    def _obj(self, request: web.Request) -> tuple[str, str, dict[str, Any] | None]:
        cls, oid = request.match_info["cls"], request.match_info["id"]
        return cls, oid, self.objects.get(cls, {}).get(oid)

    async def create_object(self, request: web.Request) -> web.Response:
        body = await request.json()
        cls, oid = body["class"], body["id"]
        if cls not in self.classes:
            return web.json_response({"error": [{"message": f"no class {cls}"}]}, status=422)
        if oid in self.objects[cls]:
            return web.json_response(
                {"error": [{"message": f"id '{oid}' already exists"}]}, status=422
            )
        self.objects[cls][oid] = body
        return web.json_response(body)

    async def head_object(self, request: web.Request) -> web.Response:
        return web.Response(status=204 if self._obj(request)[2] else 404)

    async def get_object(self, request: web.Request) -> web.Response:
        obj = self._obj(request)[2]
        return web.json_response(obj) if obj else web.Response(status=404)

    async def put_object(self, request: web.Request) -> web.Response:
        cls, oid, _ = self._obj(request)
        body = await request.json()
        body["class"], body["id"] = cls, oid
        self.objects.setdefault(cls, {})[oid] = body
        return web.json_response(body)

    async def delete_object(self, request: web.Request) -> web.Response:
        cls, oid, obj = self._obj(request)
        if obj is None:
            return web.Response(status=404)
        del self.objects[cls][oid]
        return web.Response(status=204)

    async def graphql(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            root = GqlParser(body["query"]).selection()
            get = root["Get"]["fields"]
            data = {cls: self._get(cls, spec) for cls, spec in get.items()}
        except (ValueError, KeyError, StopIteration) as exc:
            return web.json_response({"errors": [{"message": f"fake weaviate: {exc}"}]})
        return web.json_response({"data": {"Get": data}})

    def _get(self, cls: str, spec: dict[str, Any]) -> list[dict[str, Any]]:
        args, fields = spec["args"], spec["fields"]
        objs = [
            o
            for o in self.objects.get(cls, {}).values()
            if matches(o["properties"], args.get("where"))
        ]
        scored: list[tuple[float, dict[str, Any], dict[str, Any]]] = []
        if "nearVector" in args:
            q = np.asarray(args["nearVector"]["vector"], dtype=np.float64)
            for o in objs:
                if "vector" not in o:
                    continue
                v = np.asarray(o["vector"], dtype=np.float64)
                cos = float(v @ q / (np.linalg.norm(v) * np.linalg.norm(q) or 1.0))
                scored.append((-(1 - cos), o, {"distance": 1 - cos}))
        elif "bm25" in args:
            q_terms = set(terms(args["bm25"]["query"]))
            props = args["bm25"].get("properties") or ["text"]
            tfs = [
                Counter(terms(" ".join(str(o["properties"].get(p, "")) for p in props)))
                for o in objs
            ]
            avg = (sum(sum(t.values()) for t in tfs) / len(tfs)) if tfs else 1.0
            for o, tf in zip(objs, tfs, strict=True):
                s = 0.0
                for t in q_terms:
                    if tf[t]:
                        df = sum(1 for other in tfs if other[t])
                        idf = math.log(1 + (len(objs) - df + 0.5) / (df + 0.5))
                        s += (
                            idf
                            * tf[t]
                            * 2.2
                            / (tf[t] + 1.2 * (0.25 + 0.75 * sum(tf.values()) / (avg or 1)))
                        )
                if s > 0:
                    scored.append((s, o, {"score": str(s)}))
        else:
            scored = [(0.0, o, {}) for o in objs]
        scored.sort(key=lambda t: -t[0])
        limit = int(args.get("limit", 10))
        out = []
        for _, o, extra in scored[:limit]:
            row = {k: o["properties"].get(k) for k in fields if k != "_additional"}
            if "_additional" in fields:
                add = {"id": o["id"], **extra}
                row["_additional"] = {k: add.get(k) for k in fields["_additional"]["fields"]}
            out.append(row)
        return out
