"""Hostile-message generation and an in-process command engine to feed it to.

The engine is the real, Faust-free :class:`CommandProcessor` with a worker's real
command specs (so the real envelope decoder and the real payload models), an
in-memory status store and a sink that encodes every record the way the Kafka
sink does. Handlers are replaced by a stub that refuses to run: the fuzzing is
about the decoder and validation, and a payload that validates must not start
real work (an LLM call, a TeX run...). So every message has to end as a FAILED
result or a DLQ record.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import string
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

import agents
from enginedge_streams.codec import encode_dead_letter, encode_result
from enginedge_streams.errors import PermanentError
from enginedge_streams.handlers import CommandContext, CommandSpec, bind
from enginedge_streams.logs import JsonFormatter
from enginedge_streams.processor import IncomingMessage
from enginedge_streams.records import DeadLetter, Result, Status
from enginedge_streams.system import SYSTEM_COMMANDS
from enginedge_streams.testing import InMemoryStatusStore, in_memory_processor

WORKER_TYPES = sorted(agents.REGISTRY)
MAX_COMMAND_BYTES = 200_000  # smaller than production so "too big" is cheap to generate
#: What a worker may answer to hostile input (anything else is a finding).
FAILURE_CODES = {"INVALID_PAYLOAD", "UNKNOWN_COMMAND_TYPE", "DEADLINE_EXCEEDED", "HANDLER_STUB"}
KAFKA_RECORD_LIMIT = 1_000_000  # the producer's default max_request_size


class StubReached(PermanentError):
    code = "HANDLER_STUB"


def specs_of(worker_type: str) -> list[CommandSpec]:
    found = [s for s in agents.commands(worker_type) if isinstance(s, CommandSpec)]
    return [*SYSTEM_COMMANDS, *found]


def stubbed(specs: list[CommandSpec]) -> list[CommandSpec]:
    async def stub(payload: BaseModel, *, ctx: CommandContext) -> Any:
        raise StubReached(f"validated {type(payload).__name__}; handler not run while fuzzing")

    return [CommandSpec(s.command_type, s.payload_model, stub, s.description) for s in specs]


class EncodingSink:
    """Records what a worker publishes, encoded exactly like the Kafka sink does."""

    def __init__(self) -> None:
        self.results: list[Result] = []
        self.dead_letters: list[DeadLetter] = []
        self.resubmitted: list[tuple[str, bytes]] = []
        self.largest = 0

    async def publish_result(
        self, result: Result, *, reply_to: str | None, encoded: bytes | None = None
    ) -> None:
        self.largest = max(self.largest, len(encoded or encode_result(result)))
        self.results.append(result)

    async def publish_dead_letter(self, letter: DeadLetter) -> None:
        self.largest = max(self.largest, len(encode_dead_letter(letter)))
        self.dead_letters.append(letter)

    async def resubmit(self, command_id: str, raw: bytes) -> None:
        self.resubmitted.append((command_id, raw))


class _NullStream:
    def write(self, _: str) -> int:
        return 0

    def flush(self) -> None:
        pass


@dataclass
class Engine:
    """One worker type's processor, plus the invariants checked after every message."""

    worker_type: str
    specs: list[CommandSpec] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    messages: int = 0

    def __post_init__(self) -> None:
        self.specs = specs_of(self.worker_type)
        self.models = {s.command_type: s.payload_model for s in self.specs}
        self.store = InMemoryStatusStore()
        self.store.keep_history = False
        self.sink = EncodingSink()
        self.fatal: list[BaseException] = []
        self.processor = in_memory_processor(
            self.worker_type,
            bind(stubbed(self.specs), {}),
            store=self.store,
            sink=self.sink,
            max_attempts=2,
            backoff_s=0.0001,
            max_command_bytes=MAX_COMMAND_BYTES,
        )

        async def on_fatal(exc: BaseException) -> None:
            self.fatal.append(exc)

        self.processor.on_fatal = on_fatal
        self.loop = asyncio.new_event_loop()

    def close(self) -> None:
        self.loop.close()

    def feed(self, messages: list[tuple[bytes | None, bytes | None]]) -> None:
        self.loop.run_until_complete(self._feed(messages))

    async def _feed(self, messages: list[tuple[bytes | None, bytes | None]]) -> None:
        for key, value in messages:
            await self._one(key, value)

    async def _one(self, key: bytes | None, value: bytes | None) -> None:
        self.messages += 1
        sink = self.sink
        before = (len(sink.results), len(sink.dead_letters), len(sink.resubmitted))
        msg = IncomingMessage(key, value, f"worker.{self.worker_type}.requests", 0, self.messages)
        await self.processor.handle_message(msg)
        if self.fatal:
            raise AssertionError(f"exception escaped the processor: {self.fatal[0]!r}")
        if len(sink.resubmitted) > before[2]:
            # Not keyed by its id: the worker re-keys it; Kafka would deliver it again.
            assert len(sink.resubmitted) == before[2] + 1
            cid, raw = sink.resubmitted.pop()
            self.messages -= 1
            await self._one(cid.encode(), raw)
            return
        new_results = sink.results[before[0] :]
        new_letters = sink.dead_letters[before[1] :]
        assert new_results or new_letters, f"no outcome for {value!r:.200}"
        assert sink.largest <= KAFKA_RECORD_LIMIT, f"a {sink.largest}-byte record"
        for letter in new_letters:
            assert letter.reason and letter.code in ("UNDECODABLE", "MESSAGE_TOO_LARGE")
            self.outcomes["DLQ"] += 1
        lettered = {letter.command_id for letter in new_letters}
        for result in new_results:
            if result.error is not None and result.error.details.get("dead_lettered"):
                # A keyed message that could not be decoded: DLQ record + FAILED result
                # (or, for a later delivery of that id, the stored result re-published).
                stored = self.store.get(result.command_id)
                assert result.command_id in lettered or (stored and stored.result == result)
            self._check(result, value)
        sink.results.clear()
        sink.dead_letters.clear()

    def _check(self, result: Result, value: bytes | None) -> None:
        assert result.status is Status.FAILED, result
        assert result.error is not None and result.error.message, result
        if result.error.details.get("dead_lettered"):
            self.outcomes["DEAD_LETTERED"] += 1
            return
        code = result.error.code
        assert code in FAILURE_CODES, result.error
        self.outcomes[code] += 1
        if code == "HANDLER_STUB":
            # The processor accepted the payload: the model must agree on its own.
            record = self.store.get(result.command_id)
            assert record is not None
            model = self.models[result.command_type]
            model.model_validate(record.command.payload)
        elif code == "INVALID_PAYLOAD":
            record = self.store.get(result.command_id)
            assert record is not None
            try:
                self.models[result.command_type].model_validate(record.command.payload)
            except PydanticValidationError:
                pass
            else:  # pragma: no cover - a finding
                raise AssertionError(f"INVALID_PAYLOAD for a valid payload: {result.error}")


def quiet_processor_logs() -> tuple[logging.Logger, list[logging.Handler], bool]:
    """Route the processor's log records through the JSON formatter to nowhere.

    The formatter (with its redactor) runs on every record, so hostile text in
    log messages is exercised too, without 100k lines in pytest's capture.
    """
    logger = logging.getLogger("enginedge.processor")
    saved = (logger, list(logger.handlers), logger.propagate)
    handler = logging.StreamHandler(_NullStream())  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter("fuzz"))
    logger.handlers = [handler]
    logger.propagate = False
    return saved


def restore_logs(saved: tuple[logging.Logger, list[logging.Handler], bool]) -> None:
    logger, handlers, propagate = saved
    logger.handlers = handlers
    logger.propagate = propagate


# -- strategies ------------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40
) | st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\u202e",
        "\ufeff",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
        "a" * 300,
        "../../etc/passwd",
        "${jndi:ldap://x}",
        "<script>alert(1)</script>",
        "'; DROP TABLE x;--",
        "\\u0000",
        "%s%s%n",
        "http://127.0.0.1:9092/",
        "file:///etc/shadow",
    ]
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0, -1, 2**31, 2**63, 1e308, -0.0, 1e-300])
    | _TEXT
)
JSON = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(_TEXT, children, max_size=5),
    max_leaves=20,
)


def _value_for(
    schema: dict[str, Any], defs: dict[str, Any], depth: int = 0
) -> st.SearchStrategy[Any]:
    """Values that mostly fit one JSON Schema node, with boundary and wrong values mixed in."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _value_for(defs.get(name, {}), defs, depth + 1) if depth < 6 else JSON
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return st.one_of([_value_for(s, defs, depth + 1) for s in schema[key]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"]) | _TEXT
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema.get("type")
    if kind == "string":
        lo, hi = schema.get("minLength", 0), schema.get("maxLength", 50)
        sizes = [lo, max(lo - 1, 0), min(hi, 60), hi + 1] if hi < 5000 else [lo, 0, 60]
        fmt = schema.get("format")
        special = {
            "date-time": ["2026-01-01T10:00:00Z", "2026-13-45T99:99:99", "yesterday"],
            "date": ["2026-02-29", "2024-02-29", "0000-00-00"],
            "password": ["hunter2!", "x"],
            "uri": ["http://example.invalid/a", "javascript:alert(1)", "::"],
        }.get(fmt or "", [])
        return (
            st.sampled_from(sizes).map(lambda n: "a" * n)
            | _TEXT
            | (st.sampled_from(special) if special else _TEXT)
            | st.from_regex(schema["pattern"], fullmatch=True).filter(lambda s: len(s) < 300)
            if "pattern" in schema
            else st.sampled_from(sizes).map(lambda n: "a" * n) | _TEXT
        )
    if kind in ("integer", "number"):
        lo, hi = schema.get("minimum"), schema.get("maximum")
        edges = [v for v in (lo, hi) if v is not None]
        edges += [e - 1 for e in edges] + [e + 1 for e in edges] + [0, -1, 10**20]
        base = st.integers(-(10**6), 10**6) if kind == "integer" else st.floats(allow_nan=False)
        return st.sampled_from(edges) | base
    if kind == "boolean":
        return st.booleans() | st.sampled_from(["true", 0, 1, None])
    if kind == "array":
        items = schema.get("items", {})
        hi = min(schema.get("maxItems", 4), 4)
        return st.lists(_value_for(items, defs, depth + 1), max_size=hi) | st.just([])
    if kind == "object" or "properties" in schema:
        return payload_for(schema, defs, depth + 1)
    return JSON


def payload_for(
    schema: dict[str, Any], defs: dict[str, Any] | None = None, depth: int = 0
) -> st.SearchStrategy[dict[str, Any]]:
    """Objects built from a model's JSON Schema, then mutated (drop, retype, add keys)."""
    defs = {**(defs or {}), **schema.get("$defs", {})}
    props: dict[str, Any] = schema.get("properties", {})
    if depth > 4 or not props:
        return st.dictionaries(_TEXT, JSON, max_size=4)

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, sub in props.items():
            choice = draw(st.integers(0, 9))
            if choice == 0:
                continue  # missing
            if choice == 1:
                out[name] = draw(JSON)  # wrong type, most of the time
            else:
                out[name] = draw(_value_for(sub, defs, depth))
        if draw(st.integers(0, 4)) == 0:
            out.update(draw(st.dictionaries(_TEXT, JSON, max_size=2)))
        return out

    return build()


@st.composite
def structured_commands(draw: st.DrawFn, specs: list[CommandSpec]) -> dict[str, Any]:
    """A command envelope, mostly valid, with a generated payload."""
    spec = draw(st.sampled_from(specs))
    command_type = draw(
        st.sampled_from([spec.command_type] * 8 + ["nope.unknown", "system.pingx", "x.y"])
    )
    command: dict[str, Any] = {
        "command_id": f"fz-{uuid.uuid4().hex}",
        "command_type": command_type,
        "payload": draw(payload_for(spec.payload_model.model_json_schema())),
    }
    if draw(st.integers(0, 3)) == 0:  # an odd envelope field now and then
        name = draw(st.sampled_from(sorted(_ENVELOPE_EXTRAS)))
        command[name] = draw(_ENVELOPE_EXTRAS[name])
    return command


_ENVELOPE_EXTRAS: dict[str, st.SearchStrategy[Any]] = {
    "correlation_id": _TEXT | st.integers(),
    "reply_to": st.sampled_from(["ok.topic", "bad topic!", "", "a" * 300]),
    "created_at": st.sampled_from(["2020-01-01T00:00:00Z", "not a date", 0, "9999-12-31T23:59:59"]),
    "deadline": st.sampled_from(["2001-01-01T00:00:00Z", "2999-01-01T00:00:00+14:00", 12]),
    "timeout_ms": st.sampled_from([1, 0, -5, 10**12, "10"]),
    "attempt": st.sampled_from([1, 0, 999, "1", None]),
    "schema_version": st.sampled_from([1, 2, 0, None]),
    "user_id": _TEXT,
    "tenant_id": st.sampled_from(["t", "x" * 201, 5]),
    "unexpected": JSON,
}


def mutations(raw: bytes, rng: random.Random) -> list[bytes]:
    """Cheap byte-level variants of one encoded command (truncation, flips, splices)."""
    out = []
    if raw:
        out.append(raw[: rng.randrange(len(raw))])  # truncated JSON
        flipped = bytearray(raw)
        for _ in range(rng.randint(1, 4)):
            flipped[rng.randrange(len(flipped))] = rng.randrange(256)
        out.append(bytes(flipped))
        i = rng.randrange(len(raw))
        out.append(raw[:i] + rng.choice(_SPLICES) + raw[i:])
        out.append(raw.replace(b'"payload":{', b'"payload":' + rng.choice(_PAYLOAD_SWAPS), 1))
        out.append(raw.replace(b'"command_type":', b'"command_type":' + rng.choice(_TYPES), 1))
    return out


_SPLICES = [b"\x00", b"\xff\xfe", b'"', b"}", b"]]]", b"\\u", b"\xed\xa0\x80", b",,", b"NaN"]
_PAYLOAD_SWAPS = [b'[],"x":{', b'null,"y":{', b'"s","z":{', b'1e999,"w":{']
_TYPES = [b'1,"t":', b'null,"t":', b'["a.b"],"t":']


def garbage(rng: random.Random) -> bytes:
    """Raw bytes no decoder should choke on."""
    kind = rng.randrange(12)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
    if kind == 1:
        n = rng.choice([100, 1000, 100_000])
        return b"[" * n + b"]" * n
    if kind == 2:
        n = rng.choice([70, 300, 5000])
        return (
            b'{"command_id":"deep-'
            + str(rng.random()).encode()
            + b'","command_type":"system.ping","payload":{"x":'
            + b"[" * n
            + b"]" * n
            + b"}}"
        )
    if kind == 3:
        return (
            b'{"command_type":"system.ping","payload":{"x":"'
            + b"A" * (MAX_COMMAND_BYTES + 1)
            + b'"}}'
        )
    if kind == 4:
        items = b",".join([b"1e9"] * (MAX_COMMAND_BYTES // 5))
        return b'{"command_type":"system.ping","payload":{"x":[' + items + b"]}}"
    if kind == 5:
        return rng.choice([b"", b"null", b"true", b"1", b'"s"', b"[]", b"{}", b"\xef\xbb\xbf{}"])
    if kind == 6:
        return b'{"command_type":"\\ud800.x","payload":{"a":"\\udfff"}}'
    if kind == 7:
        return b'{"command_id":' + b"9" * rng.randrange(1, 5000) + b',"command_type":"a.b"}'
    if kind == 8:
        return b'{"command_type":"system.ping","command_type":"x.y","payload":{},"payload":[]}'
    if kind == 9:
        return "".join(rng.choice(string.printable) for _ in range(rng.randrange(200))).encode()
    if kind == 10:
        many = b",".join(b'"k%d":%d' % (i, i) for i in range(rng.choice([10, 5000])))
        return b'{"command_type":"system.ping","payload":{' + many + b"}}"
    return orjson.dumps(
        {"command_type": "system.ping", "payload": {"s": "é" * 1000 + "\U0001f600"}}
    )


#: Hostile values a payload field may be swapped for (cheap structural variants).
HOSTILE_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**63,
    10**40,
    1e308,
    -1e-308,
    "",
    " ",
    "\x00",
    "\u202e\u0000\ufeff",
    "a" * 5000,
    "é" * 2000,
    "\U0001f600" * 100,
    [],
    [None],
    [[[[[]]]]],
    {},
    {"": None},
    {"$ref": "#"},
    {"__proto__": {"admin": True}},
    ["x"] * 500,
    list(range(200)),
    "2026-02-30T25:61:00Z",
    "1e309",
    "NaN",
    "../../../../etc/passwd",
    "http://169.254.169.254/latest/meta-data/",
    "\\begin{document}\\write18{rm -rf /}",
]


def structural_variants(
    command: dict[str, Any], rng: random.Random, n: int
) -> list[tuple[bytes, bytes]]:
    """``n`` JSON-valid variants of a command: payload fields retyped, dropped, added."""
    out = []
    payload = command.get("payload")
    fields = list(payload) if isinstance(payload, dict) else []
    for _ in range(n):
        variant = dict(command)
        body = dict(payload) if isinstance(payload, dict) else {}
        op = rng.randrange(6)
        if op <= 2 and fields:
            body[rng.choice(fields)] = rng.choice(HOSTILE_VALUES)
        elif op == 3 and fields:
            body.pop(rng.choice(fields), None)
        elif op == 4:
            body[rng.choice(["x", "", "payload", "__class__", "é"])] = rng.choice(HOSTILE_VALUES)
        else:
            variant[rng.choice(list(_ENVELOPE_EXTRAS))] = rng.choice(HOSTILE_VALUES)
        variant["payload"] = body
        variant["command_id"] = f"fz-{rng.getrandbits(64):x}"
        key = variant["command_id"].encode()
        out.append((key, json.dumps(variant, ensure_ascii=False).encode()))
    return out
