"""The scheduling worker wires onto a fresh Faust app without I/O (no broker needed)."""

from __future__ import annotations

from agents.scheduling import agent
from enginedge_streams.container import Container
from enginedge_streams.faust_app import create_app
from enginedge_streams.settings import Settings


def test_register_declares_commands_table_and_prefixed_events_topic(monkeypatch, tmp_path):
    monkeypatch.delenv("GOOGLE_CALENDAR_ACCESS_TOKEN", raising=False)
    monkeypatch.setenv("CALDAV_URL", "http://127.0.0.1:5232/")
    settings = Settings(worker_type="scheduling", topic_prefix="wt.", data_dir=tmp_path)
    app = create_app(settings, "scheduling")
    runtime = agent.register(app, Container(settings=settings))
    assert {"calendar.free_slots", "reminder.fire", "habits.schedule", "calendar.sync"} <= set(
        runtime.handlers
    )
    assert "wt.worker.scheduling.events" in app.enginedge_topics
    assert "scheduling-state" in app.tables
    providers = runtime.handlers["calendar.sync"].kwargs["sync_providers"]
    assert set(providers) == {"caldav"}  # only configured providers are on
    providers["caldav"].on_call(False)
    providers["caldav"].on_call(True)
    text = runtime.metrics.render().decode()
    assert 'worker_external_api_calls_total{api="caldav",worker_type="scheduling"} 2.0' in text
    assert 'worker_external_api_errors_total{api="caldav",worker_type="scheduling"} 1.0' in text
