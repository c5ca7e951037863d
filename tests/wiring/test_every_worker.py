"""Every registered worker, built by the composition root, answers through its real Faust agent.

One test per WORKER_TYPE: ``bootstrap`` builds the app (Redis and the result sink
swapped for fakes, tables on Faust's in-memory store), and Faust's
``agent.test_context()`` drives the worker's command agent with a ``system.ping``,
a command of an unknown type and an undecodable message. No broker, no model is
loaded (the worker's components are not started: this is the wiring, not the adapters).
"""

from __future__ import annotations

import base64
import os

import orjson
import pytest

import agents
from enginedge_streams.bootstrap import bootstrap
from enginedge_streams.records import Command, Status
from enginedge_streams.settings import Settings
from enginedge_streams.testing import RecordingSink
from enginedge_streams.testing.redis import FakeRedisClient
from enginedge_streams.web.openapi import build_openapi

ENV = {
    "IDENTITY_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    "LOCAL_MODEL_ENABLED": "false",
    "LLM_MODEL_REGISTRY": '{"m": {"provider": "openai"}}',
    "DEFAULT_MODEL": "m",
    "OPENAI_API_KEY": "sk-wiring",  # a provider is configured; none is called
}


def as_message(cmd: Command) -> dict[str, bytes]:
    return {"key": cmd.command_id.encode(), "value": orjson.dumps(cmd.model_dump(mode="json"))}


@pytest.mark.parametrize("worker_type", agents.available())
async def test_the_worker_answers_through_its_faust_agent(worker_type, tmp_path, monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    sink = RecordingSink()
    settings = Settings(worker_type=worker_type, data_dir=tmp_path, topic_prefix="everyw.")
    app = bootstrap(settings, overrides={"redis": FakeRedisClient(), "result_sink": sink})
    app.conf.store = "memory://"
    app.finalize()
    runtime = app.enginedge_runtimes[worker_type]
    assert runtime.topics.requests in app.enginedge_topics
    assert runtime.topics.requests in app.enginedge_source_topics
    agent = next(a for a in app.agents.values() if a.name.endswith(f"{worker_type}-commands"))
    runtime.started.set()  # components (models, clients) are the adapters' tests' business
    ping = Command(command_id=f"{worker_type}-ping", command_type="system.ping", payload={})
    unknown = Command(command_id=f"{worker_type}-x", command_type="no.such.command", payload={})
    async with agent.test_context() as ctx:
        await ctx.put(**as_message(ping))
        await ctx.put(**as_message(unknown))
        await ctx.put(key=b"junk", value=b"\x00 not json")
    by_id = {result.command_id: result for result, _ in sink.results}
    assert by_id[ping.command_id].status is Status.COMPLETED
    assert by_id[ping.command_id].worker_type == worker_type
    assert by_id[unknown.command_id].status is Status.FAILED
    assert by_id[unknown.command_id].error.code == "UNKNOWN_COMMAND_TYPE"
    assert base64.b64decode(sink.dead_letters[0].raw_base64) == b"\x00 not json"
    assert runtime.store.get(ping.command_id).status is Status.COMPLETED


@pytest.mark.parametrize("worker_type", agents.available())
def test_the_platform_learns_routes_and_steps_from_the_worker(worker_type, tmp_path, monkeypatch):
    """``/openapi.json`` documents the synchronous routes the worker installed, and the compute
    children warm up the module the registry names: the platform never guesses a worker path."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    settings = Settings(worker_type=worker_type, data_dir=tmp_path, topic_prefix="everyr.")
    app = bootstrap(settings, overrides={"redis": FakeRedisClient()})
    runtime = app.enginedge_runtimes[worker_type]
    try:
        declared = dict(agents.worker_module(worker_type, "http").ROUTES)
    except (ModuleNotFoundError, AttributeError):
        declared = {}
    assert runtime.command_routes == declared
    paths = build_openapi(runtime)["paths"]
    for path, command_type in declared.items():
        assert f"`{command_type}`" in paths[path]["post"]["summary"], path
    assert runtime.container.steps_module == f"agents.{worker_type}.compute"
