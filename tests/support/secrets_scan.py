"""A pytest plugin: known dummy secrets in, and proof at the end that none leaked out.

At session start it puts dummy values of the secret settings whose mere presence
changes no behaviour into the environment (worker subprocesses inherit
``os.environ``, see ``WorkerProcess.start``). Secrets whose presence *does*
change behaviour (a provider key switches the LLM worker away from its local
model, OAuth/calendar secrets enable providers, the identity key is required and
checked) are only given to dedicated workers by ``tests/hostile`` through
:func:`dedicated_env`, which registers their values too.

At session end it scans, for every registered value:

* every file under pytest's basetemp (worker logs, data dirs, anything a test wrote),
* every test report's captured stdout/stderr/log and failure text,
* every record on every ``*.results`` / ``*.dlq`` topic of the local broker written
  since the session started (when the session used the Kafka stack),

and fails the session if any value appears. ``HOSTILE_SECRETS_SCAN=0`` turns it off.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

SESSION = uuid.uuid4().hex[:10]


def _with_password(url: str, password: str) -> str:
    """The same database URL (the stack's, or the one configured) with a password."""
    parts = urlsplit(url)
    host = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
    return urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}:{password}@{host}"))


#: Secrets set for the whole session: none of them changes what a worker does.
#: (API_TOKEN only enables authorised HTTP submission; calls without it still get 401.
#: DATABASE_URL's password is ignored by the local PostgreSQL's trust authentication.)
GLOBAL_SECRETS: dict[str, str] = {
    "API_TOKEN": f"dummy-api-token-{SESSION}-A1",
    "OPENAI_COMPATIBLE_API_KEY": f"sk-dummy-compat-{SESSION}-B2",
    "DATABASE_URL": _with_password(
        os.environ.get(
            "DATABASE_URL",
            f"postgresql://postgres@127.0.0.1:{os.environ.get('STACK_POSTGRES_PORT', '5432')}"
            "/enginedge",
        ),
        f"dummy-pg-pw-{SESSION}-C3",
    ),
}
#: The part of each global setting that is the secret.
_GLOBAL_VALUES = {
    "API_TOKEN": GLOBAL_SECRETS["API_TOKEN"],
    "OPENAI_COMPATIBLE_API_KEY": GLOBAL_SECRETS["OPENAI_COMPATIBLE_API_KEY"],
    "DATABASE_URL": f"dummy-pg-pw-{SESSION}-C3",
}


def _fernetish(label: str) -> str:
    """A valid base64url 32-byte key (the identity worker checks the format)."""
    return base64.urlsafe_b64encode(hashlib.sha256(f"{label}{SESSION}".encode()).digest()).decode()


#: Secrets only dedicated workers get (their presence changes behaviour).
DEDICATED_SECRETS: dict[str, str] = {
    "OPENAI_API_KEY": f"sk-dummy-openai-{SESSION}-D4",
    "ANTHROPIC_API_KEY": f"sk-ant-dummy-{SESSION}-E5",
    "HUGGINGFACE_API_KEY": f"hf_dummy{SESSION}F6",
    "IDENTITY_ENCRYPTION_KEY": _fernetish("identity"),
    "OAUTH_GITHUB_CLIENT_SECRET": f"dummy-gh-secret-{SESSION}-G7",
    "OAUTH_GOOGLE_CLIENT_SECRET": f"dummy-google-secret-{SESSION}-H8",
    "OAUTH_LINKEDIN_CLIENT_SECRET": f"dummy-li-secret-{SESSION}-I9",
    "GOOGLE_CALENDAR_ACCESS_TOKEN": f"ya29.dummy-{SESSION}-J0",
    "MS_GRAPH_ACCESS_TOKEN": f"dummy-graph-{SESSION}-K1",
    "CALDAV_PASSWORD": f"dummy-caldav-{SESSION}-L2",
    "WEAVIATE_API_KEY": f"dummy-weaviate-{SESSION}-M3",
    "PINECONE_API_KEY": f"pcsk_dummy{SESSION}N4",
    "STT_OPENAI_API_KEY": f"sk-dummy-stt-{SESSION}-O5",
}
#: Redis accepts any password for its `nopass` default user with the two-argument AUTH.
REDIS_PASSWORD = f"dummy-redis-pw-{SESSION}-P6"


@dataclass
class _Scan:
    secrets: set[str] = field(default_factory=set)
    saved_env: dict[str, str | None] = field(default_factory=dict)
    started_ms: int = 0
    used_kafka: bool = False
    report_leaks: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


STATE = _Scan()


def register(*values: str) -> None:
    """Add values the end-of-session scan must not find anywhere."""
    STATE.secrets.update(v for v in values if v and len(v) >= 8)


def dedicated_env(*names: str, redis: bool = False) -> dict[str, str]:
    """Environment for a dedicated worker: the named (or all) dedicated dummy secrets."""
    chosen = {n: DEDICATED_SECRETS[n] for n in (names or DEDICATED_SECRETS)}
    register(*chosen.values())
    if redis:
        from tests.support.stack import REDIS_URL

        host = REDIS_URL.split("://", 1)[-1].split("@")[-1]
        chosen["REDIS_URL"] = f"redis://default:{REDIS_PASSWORD}@{host}"
        register(REDIS_PASSWORD)
    return chosen


def secret_values() -> set[str]:
    return set(STATE.secrets)


def find(text: str | bytes, secrets: Iterable[str] | None = None) -> list[str]:
    """The secrets that occur in ``text``."""
    values = STATE.secrets if secrets is None else secrets
    if isinstance(text, bytes):
        return [s for s in values if s.encode() in text]
    return [s for s in values if s in text]


def _enabled() -> bool:
    return os.environ.get("HOSTILE_SECRETS_SCAN", "1") != "0"


# -- hooks -----------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    if not _enabled():
        return
    STATE.started_ms = int(time.time() * 1000) - 5_000
    for name, value in GLOBAL_SECRETS.items():
        if name in os.environ:  # the caller configured it: keep theirs
            continue
        STATE.saved_env[name] = os.environ.get(name)
        os.environ[name] = value
        register(_GLOBAL_VALUES[name])


def pytest_unconfigure(config: pytest.Config) -> None:
    for name, old in STATE.saved_env.items():
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    STATE.used_kafka = any("stack" in getattr(i, "fixturenames", ()) for i in items)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not _enabled() or not STATE.secrets:
        return
    texts = [content for _, content in report.sections]
    if report.failed:
        texts.append(report.longreprtext)
    STATE.counts["report_sections"] = STATE.counts.get("report_sections", 0) + len(texts)
    for text in texts:
        for secret in find(text):
            STATE.report_leaks.append(f"{report.nodeid} ({report.when}): {_mask(secret)}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _enabled() or not STATE.secrets:
        return
    leaks = list(STATE.report_leaks)
    leaks += scan_files(_basetemp(session.config))
    if STATE.used_kafka:
        try:
            leaks += asyncio.run(scan_topics(STATE.started_ms))
        except Exception as exc:  # the broker is gone: say so, do not hide leaks elsewhere
            leaks.append(f"(could not scan Kafka topics: {exc!r})")
    summary = (
        f"secrets scan: {len(STATE.secrets)} dummy values; {STATE.counts.get('files', 0)} files, "
        f"{STATE.counts.get('report_sections', 0)} captured sections, "
        f"{STATE.counts.get('records', 0)} result/DLQ records on "
        f"{STATE.counts.get('topics', 0)} topics scanned"
    )
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
    real = [leak for leak in leaks if not leak.startswith("(could not")]
    if reporter is not None:
        reporter.write_line(summary + (f"; {len(real)} LEAKS" if real else "; no leaks"))
        for leak in leaks:
            reporter.write_line(f"  secret found: {leak}", red=True)
    if real:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# -- scanners --------------------------------------------------------------------------


def _basetemp(config: pytest.Config) -> Path | None:
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is None:
        return None
    try:
        return Path(factory.getbasetemp())
    except (OSError, ValueError):
        return None


def scan_files(root: Path | None, limit_bytes: int = 200_000_000) -> list[str]:
    """Every regular file under ``root`` (worker logs, data dirs, test output)."""
    if root is None or not root.exists():
        return []
    leaks = []
    needles = [(s, s.encode()) for s in STATE.secrets]
    for path in root.rglob("*"):
        try:
            if not path.is_file() or path.is_symlink() or path.stat().st_size > limit_bytes:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        STATE.counts["files"] = STATE.counts.get("files", 0) + 1
        for secret, needle in needles:
            if needle in data:
                leaks.append(f"{path}: {_mask(secret)}")
    return leaks


_TOPIC = re.compile(r".*\.(results|dlq)$")


async def scan_topics(since_ms: int, budget_s: float = 90.0) -> list[str]:
    """Records written since ``since_ms`` on every ``*.results`` / ``*.dlq`` topic."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from tests.support.stack import KAFKA

    consumer = AIOKafkaConsumer(
        bootstrap_servers=KAFKA,
        enable_auto_commit=False,
        auto_offset_reset="latest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    leaks: list[str] = []
    needles = [(s, s.encode()) for s in STATE.secrets]
    try:
        topics = sorted(t for t in await consumer.topics() if _TOPIC.match(t))
        tps = [TopicPartition(t, p) for t, p in await _partitions(topics)]
        if not tps:
            return []
        consumer.assign(tps)
        starts = await consumer.offsets_for_times({tp: since_ms for tp in tps})
        ends = await consumer.end_offsets(tps)
        todo = {}
        for tp in tps:
            found = starts.get(tp)
            if found is not None and found.offset < ends[tp]:
                todo[tp] = ends[tp]
        STATE.counts["topics"] = len({tp.topic for tp in todo})
        if not todo:
            return []
        consumer.assign(list(todo))
        for tp in todo:
            consumer.seek(tp, starts[tp].offset)
        deadline = time.monotonic() + budget_s
        while todo and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for tp, records in batches.items():
                for record in records:
                    STATE.counts["records"] = STATE.counts.get("records", 0) + 1
                    blob = (record.key or b"") + b"\n" + (record.value or b"")
                    for secret, needle in needles:
                        if needle in blob:
                            leaks.append(f"{tp.topic}@{record.offset}: {_mask(secret)}")
                if tp in todo and (await consumer.position(tp)) >= todo[tp]:
                    del todo[tp]
        if todo:
            leaks.append(f"(could not scan Kafka topics: {len(todo)} partitions left after budget)")
    finally:
        await consumer.stop()
    return leaks


async def _partitions(topics: list[str]) -> list[tuple[str, int]]:
    from aiokafka.admin import AIOKafkaAdminClient

    from tests.support.stack import KAFKA

    if not topics:
        return []
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return [
        (d["topic"], int(p["partition"]))
        for d in described
        if not d.get("error_code")
        for p in d.get("partitions") or ()
    ]


def _mask(secret: str) -> str:
    """Name a leaked secret in reports without printing it (the report is a log too)."""
    return f"{secret[:6]}…({len(secret)} chars)"
