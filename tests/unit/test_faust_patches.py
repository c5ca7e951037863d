"""The Faust, mode and aiokafka internals the platform patches still exist as expected.

Every internal is listed once in ``enginedge_streams.faust_patches.INTERNALS``; an
upgrade that renames one, drops it or changes its parameters fails here, before a
worker silently loses its commit guard or membership gate.
"""

from __future__ import annotations

import importlib
import inspect
import time
from importlib.metadata import version
from typing import Any

import faust
import faust.streams
import pytest
from aiokafka.consumer.group_coordinator import GroupCoordinator
from faust.events import Event
from faust.types import TP
from faust.types.tuples import ConsumerMessage

from enginedge_streams import faust_patches
from enginedge_streams.faust_app import CommitGuardConsumer, create_app
from enginedge_streams.settings import Settings

TOPIC = "worker.spacy.requests"


def resolve(owner: str) -> Any:
    module, _, name = owner.partition(":")
    obj: Any = importlib.import_module(module)
    for part in filter(None, name.split(".")):
        obj = getattr(obj, part)
    return obj


def assigned_in_init(cls: type, attr: str) -> bool:
    """An instance attribute: assigned as ``self.<attr>`` by the class or one of its bases."""
    for klass in cls.__mro__:
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):  # builtins, Cython classes
            continue
        if f"self.{attr} =" in source or f"self.{attr}:" in source:
            return True
    return False


@pytest.mark.parametrize(
    ("owner", "attr", "params"),
    faust_patches.INTERNALS,
    ids=[f"{o}.{a}" for o, a, _ in faust_patches.INTERNALS],
)
def test_every_patched_internal_exists(owner, attr, params) -> None:
    if owner == "faust.streams" and attr == "_CStreamIterator":
        # replaced by the patch: what it replaced must be Faust's Cython iterator
        assert faust_patches.GuardedStreamIterator is not None, "Faust's Cython iterator is gone"
        assert faust.streams._CStreamIterator is faust_patches.GuardedStreamIterator
        return
    cls = resolve(owner)
    if not hasattr(cls, attr):
        assert params is None, f"{owner}.{attr} is gone"
        assert assigned_in_init(cls, attr), f"{owner}: no attribute {attr} any more"
        return
    if params is not None:
        fn = getattr(cls, attr)
        if getattr(fn, "_enginedge", False):  # our wrapper: check what it wraps
            fn = fn.__closure__[0].cell_contents
        got = tuple(inspect.signature(fn).parameters)
        assert got[: len(params)] == params, f"{owner}.{attr}{got} (expected {params})"


def test_the_tested_versions_are_the_installed_ones_and_the_upper_bounds() -> None:
    from pathlib import Path

    cfg = (Path(__file__).resolve().parents[2] / "setup.cfg").read_text()
    for dist, tested in faust_patches.TESTED.items():
        assert version(dist) == tested, f"{dist} {version(dist)} is installed, tested {tested}"
        assert f"{dist}>=" in cfg and "<" in cfg.split(f"{dist}>=", 1)[1].splitlines()[0]


def test_patches_are_installed_once_on_import() -> None:
    wrapped = GroupCoordinator._do_heartbeat
    faust_patches.apply()
    assert GroupCoordinator._do_heartbeat is wrapped
    assert getattr(wrapped, "_enginedge", False)
    assert faust.streams._CStreamIterator is faust_patches.GuardedStreamIterator


def _guarded(tmp_path) -> tuple[Any, CommitGuardConsumer]:
    app = create_app(Settings(data_dir=tmp_path), "spacy")
    app.enginedge_source_topics = [TOPIC]
    consumer = app.consumer
    assert isinstance(consumer, CommitGuardConsumer)
    consumer._floor[TP(TOPIC, 0)] = 10
    app.topics.acks_enabled_for = lambda topic: True
    return app, consumer


def _event(app: Any, offset: int) -> Event:
    message = ConsumerMessage(
        TOPIC, 0, offset, time.time(), 0, [], b"k", b"v", None, generation_id=4
    )
    app.consumer._unacked_messages.add(message)
    return Event(app, b"k", b"v", {}, message)


def test_the_cython_iterator_counts_only_finished_messages(tmp_path) -> None:
    """Faust's Cython iterator inlines the ack; the guarded one sends an unfinished
    message through CommitGuardConsumer.ack (released, not counted)."""
    app, consumer = _guarded(tmp_path)
    stream = app.stream(app.channel())
    it = faust.streams._CStreamIterator(stream)
    done, skipped = _event(app, 10), _event(app, 11)
    consumer.finished(done.message)
    it.after(done, True, None)
    it.after(skipped, True, None)
    assert done.message.acked and skipped.message.acked
    assert not consumer._unacked_messages  # wait_empty does not wait for either
    assert consumer.uncounted == 1
    assert consumer._acked[TP(TOPIC, 0)] == [10]
    assert consumer._new_offset(TP(TOPIC, 0)) == 11


def test_the_cython_iterator_acks_other_topics_as_faust_does(tmp_path) -> None:
    app, consumer = _guarded(tmp_path)
    app.enginedge_source_topics = []
    it = faust.streams._CStreamIterator(app.stream(app.channel()))
    event = _event(app, 10)
    it.after(event, True, None)
    assert consumer._acked[TP(TOPIC, 0)] == [10] and consumer.uncounted == 0


def test_cached_prometheus_monitor_reports_the_same_series_as_faust() -> None:
    """The label-caching monitor exposes exactly what Faust's PrometheusMonitor exposes."""
    from types import SimpleNamespace

    from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
    from prometheus_client import CollectorRegistry, generate_latest

    class Owner:
        pass

    class FakeStream:
        shortlabel = "Stream: Topic: worker.spacy.requests"
        task_owner = Owner()

    stream = FakeStream()
    table = SimpleNamespace(name="command-status")
    texts = []
    for cls in (PrometheusMonitor, faust_patches.CachedPrometheusMonitor):
        registry = CollectorRegistry(auto_describe=True)
        monitor = cls(metrics=FaustMetrics.create(registry, "faust"))
        for offset in range(3):
            for tp in (TP(TOPIC, 0), TP(TOPIC, 1), TP("other", 0)):
                monitor.on_message_in(tp, offset, SimpleNamespace(time_in=None))
                monitor.on_stream_event_in(tp, offset, stream, None)
            monitor.on_table_get(table, b"k")
            monitor.on_table_set(table, b"k", b"v")
            monitor.on_table_del(table, b"k")
            monitor.on_send_initiated(None, "worker.spacy.results", None, 1, 2)
        assert monitor.messages_received_total == 9 and monitor.events_total == 9
        text = generate_latest(registry).decode()  # less wall-clock timestamps (e+09)
        texts.append("\n".join(x for x in text.splitlines() if "e+09" not in x))
    assert texts[0] == texts[1]
    assert (
        'faust_table_operations_total{operation="keys_updated",table="table.command-status"} 3.0'
        in texts[1]
    )
