"""The DAG engine through the service, with in-memory fakes and a manual clock."""

from __future__ import annotations

from typing import Any

import pytest

from agents.orchestrator.engine import Dispatch, Publish
from agents.orchestrator.messages import StartWorkflow
from agents.orchestrator.model import WorkflowRequest
from enginedge_streams.errors import NotFoundError, PermanentError, ValidationError
from enginedge_streams.records import Status
from tests.unit.orchestrator.conftest import REPLY_TO, Harness


def echo(sid: str, text: Any, worker: str = "alpha", **fields: Any) -> dict[str, Any]:
    """A step that sends ``echo.say`` with ``text`` to ``worker``."""
    return {"id": sid, "worker": worker, "command": "echo.say", "payload": {"text": text}, **fields}


DIAMOND = {
    "name": "diamond",
    "steps": [
        echo("a", {"$ref": "input.text"}),
        echo("b", {"$ref": "steps.a.result.text"}),
        echo("c", "c", worker="beta", needs=["a"]),
        echo("d", {"$text": "${steps.b.result.text}+${steps.c.result.text}"}, worker="beta"),
    ],
}


def sent(effects) -> list[Dispatch]:
    return [e for e in effects if isinstance(e, Dispatch)]


def events(effects) -> list[str]:
    return [e.event["event"] for e in effects if isinstance(e, Publish)]


def start(h: Harness, definition=DIAMOND, command_id="cmd-1", **fields):
    cmd = StartWorkflow(definition=definition, input=fields.pop("input", {"text": "hi"}), **fields)
    return h.service.start(cmd, command_id=command_id)


def stored(h: Harness, rid: str) -> WorkflowRequest:
    return WorkflowRequest.model_validate_json(h.requests.get(rid))


def test_independent_steps_are_dispatched_together_and_results_flow_downstream(h):
    view, fx = start(h)
    rid = view["request_id"]
    assert view["status"] == "running" and view["existing"] is False
    assert [d.command.command_id for d in sent(fx)] == [f"{rid}.a.0.1"]
    a = sent(fx)[0].command
    assert a.payload == {"text": "hi"}
    assert a.correlation_id == rid and a.reply_to == REPLY_TO and a.deadline is not None
    assert events(fx)[:3] == ["request.created", "request.running", "step.ready"]
    fx = h.reply(a.command_id, {"text": "A"})
    assert sorted(d.command.command_id for d in sent(fx)) == [f"{rid}.b.0.1", f"{rid}.c.0.1"]
    assert {d.worker_type for d in sent(fx)} == {"alpha", "beta"}
    assert sent(h.reply(f"{rid}.b.0.1", {"text": "B"})) == []  # d still needs c
    fx = h.reply(f"{rid}.c.0.1", {"text": "C"})
    (d,) = sent(fx)
    assert d.command.payload == {"text": "B+C"}
    fx = h.reply(d.command.command_id, {"text": "done"})
    assert events(fx)[-1] == "request.completed"
    req = stored(h, rid)
    assert req.status == "completed"
    assert req.output == {"d": {"text": "done"}}  # default output: the sink steps
    assert [e for e in fx if isinstance(e, Publish)][-1].event["seq"] == req.seq


def test_a_retryable_failure_is_retried_with_backoff_and_a_new_command_id(h):
    view, fx = start(h)
    rid = view["request_id"]
    fx = h.reply(f"{rid}.a.0.1", status=Status.FAILED, code="BUSY", retryable=True)
    assert sent(fx) == [] and "step.retrying" in events(fx)
    step = stored(h, rid).steps["a"]
    assert step.status == "retrying" and step.tasks[0].next_attempt_at is not None
    assert h.service.due() == []
    h.clock.advance(0.6)
    assert h.service.due() == [rid]
    fx = h.service.on_drive(rid, "tick")
    assert [d.command.command_id for d in sent(fx)] == [f"{rid}.a.0.2"]
    assert sent(fx)[0].command.attempt == 2
    fx = h.reply(f"{rid}.a.0.2", status=Status.FAILED, code="BUSY", retryable=True)
    h.clock.advance(1.1)  # backoff doubled
    fx = h.service.on_drive(rid, "tick")
    assert [d.command.command_id for d in sent(fx)] == [f"{rid}.a.0.3"]
    h.reply(f"{rid}.a.0.3", {"text": "ok"})
    step = stored(h, rid).steps["a"]
    assert step.status == "completed" and step.attempts == 3
    assert [e["code"] for e in step.tasks[0].errors] == ["BUSY", "BUSY"]


def test_retries_run_out_and_the_request_fails_with_the_steps_error():
    h = Harness(step_retries=1, backoff_s=0.0)
    h.beat("alpha")
    h.beat("beta")
    view, _ = start(h)
    rid = view["request_id"]
    fx = h.reply(f"{rid}.a.0.1", status=Status.FAILED, code="BUSY", retryable=True)
    assert [d.command.command_id for d in sent(fx)] == [f"{rid}.a.0.2"]  # no backoff: at once
    fx = h.reply(f"{rid}.a.0.2", status=Status.FAILED, code="BUSY", retryable=True)
    req = stored(h, rid)
    assert req.status == "failed"
    assert req.error["code"] == "BUSY" and req.error["step"] == "a"
    assert "step 'a' failed" in req.error["message"]
    assert {s.status for s in list(req.steps.values())[1:]} == {"cancelled"}
    assert events(fx)[-1] == "request.failed"


def test_a_permanent_failure_is_not_retried(h):
    view, _ = start(h)
    rid = view["request_id"]
    fx = h.reply(f"{rid}.a.0.1", status=Status.FAILED, code="INVALID_PAYLOAD")
    assert sent(fx) == []
    assert stored(h, rid).status == "failed"


def test_an_optional_step_failure_lets_the_request_go_on(h):
    definition = {
        "name": "opt",
        "steps": [
            echo("a", "a", optional=True),
            echo("b", {"$ref": "steps.a.status"}),
        ],
    }
    view, _ = start(h, definition)
    rid = view["request_id"]
    fx = h.reply(f"{rid}.a.0.1", status=Status.FAILED, code="NOPE")
    (b,) = sent(fx)
    assert b.command.payload == {"text": "failed"}
    h.reply(b.command.command_id, {"text": "ok"})
    assert stored(h, rid).status == "completed"


def test_a_step_past_its_deadline_times_out_the_request(h):
    definition = {
        "name": "slow",
        "steps": [
            echo("a", "a", timeout_seconds=5),
            echo("b", {"$ref": "steps.a.result.text"}),
        ],
    }
    view, _ = start(h, definition)
    rid = view["request_id"]
    h.clock.advance(4)
    assert h.service.due() == []
    h.clock.advance(2)
    assert h.service.due() == [rid]
    fx = h.service.on_drive(rid, "tick")
    req = stored(h, rid)
    assert req.status == "timed_out"
    assert req.steps["a"].status == "timed_out" and req.steps["b"].status == "cancelled"
    assert req.error["code"] == "STEP_TIMED_OUT" and req.error["step"] == "a"
    assert events(fx)[-1] == "request.timed_out"
    assert h.reply(f"{rid}.a.0.1", {"text": "late"}) == []  # a late result changes nothing
    assert stored(h, rid).status == "timed_out"


def test_the_request_deadline(h):
    view, _ = start(h, timeout_seconds=10)
    rid = view["request_id"]
    h.clock.advance(11)
    h.service.on_drive(rid, "tick")
    req = stored(h, rid)
    assert req.status == "timed_out" and req.error["code"] == "REQUEST_TIMED_OUT"


def test_cancel_stops_the_remaining_steps(h):
    view, _ = start(h)
    rid = view["request_id"]
    h.reply(f"{rid}.a.0.1", {"text": "A"})  # b and c are running now
    out, fx = h.service.cancel(rid, "no longer needed")
    assert out["status"] == "cancelled"
    assert events(fx)[-1] == "request.cancelled" and sent(fx) == []
    assert h.reply(f"{rid}.b.0.1", {"text": "B"}) == []
    assert h.reply(f"{rid}.c.0.1", {"text": "C"}) == []
    req = stored(h, rid)
    assert {k: v.status for k, v in req.steps.items()} == {
        "a": "completed",
        "b": "cancelled",
        "c": "cancelled",
        "d": "cancelled",
    }
    assert req.error == {"code": "CANCELLED", "message": "no longer needed"}
    assert h.service.cancel(rid, "again")[1] == []  # idempotent


def test_the_same_idempotency_key_is_the_same_request_started_once(h):
    first, fx1 = start(h, command_id="c1", idempotency_key="order-42")
    second, fx2 = start(h, command_id="c2", idempotency_key="order-42")
    assert first["request_id"] == second["request_id"]
    assert second["existing"] is True and fx2 == []
    assert len(sent(fx1)) == 1
    with pytest.raises(PermanentError) as info:
        start(h, command_id="c3", idempotency_key="order-42", input={"text": "other"})
    assert info.value.code == "IDEMPOTENCY_KEY_REUSED"
    other_user, _ = h.service.start(
        StartWorkflow(definition=DIAMOND, input={"text": "hi"}, idempotency_key="order-42"),
        command_id="c4",
        user_id="someone",
    )
    assert other_user["request_id"] != first["request_id"]  # keys are per user and tenant


def test_a_start_command_run_again_after_a_crash_is_the_same_request(h):
    first, _ = start(h, command_id="same")
    again, fx = start(h, command_id="same")
    assert again["request_id"] == first["request_id"] and fx == []


def test_a_step_waits_for_a_live_worker_then_runs(h):
    definition = {"name": "g", "steps": [{"id": "a", "worker": "gamma", "command": "any.cmd"}]}
    view, fx = start(h, definition)
    rid = view["request_id"]
    assert sent(fx) == [] and "step.waiting" in events(fx)
    step = stored(h, rid).steps["a"]
    assert step.status == "waiting"
    assert step.reason == "no live instance of worker type 'gamma' (none has sent a heartbeat)"
    assert h.service.due() == []
    h.beat("gamma")
    assert h.service.due() == [rid]
    fx = h.service.on_drive(rid, "tick")
    assert [d.worker_type for d in sent(fx)] == ["gamma"]
    assert stored(h, rid).steps["a"].status == "running"


def test_instances_go_missing_after_three_intervals_and_stopped_ones_at_once(h):
    t0 = h.clock.now()
    h.beat("gamma", interval_seconds=10)
    h.clock.advance(29)
    assert h.service.registry.why_not_live("gamma", h.clock.now()) is None
    h.clock.advance(2)
    reason = h.service.registry.why_not_live("gamma", h.clock.now())
    assert reason is not None and "missing" in reason and t0.isoformat()[:19] in reason
    assert [
        w["state"] for w in h.service.workers(include_gone=True) if w["worker_type"] == "gamma"
    ] == ["missing"]
    assert all(w["worker_type"] != "gamma" for w in h.service.workers())
    h.beat("gamma", instance="gamma-2")
    assert h.service.registry.why_not_live("gamma", h.clock.now()) is None
    h.clock.advance(1)
    h.beat("gamma", instance="gamma-2", status="stopping")
    assert "stopped" in h.service.registry.why_not_live("gamma", h.clock.now())
    h.beat("gamma", instance="gamma-2", sent_at=t0)  # an older beat arriving late: ignored
    assert h.service.registry.instances["gamma-2"].beat.status == "stopping"


def test_fan_out_with_max_parallel_and_aggregation(h):
    definition = {
        "name": "fan",
        "steps": [
            {
                "id": "each",
                "worker": "alpha",
                "command": "echo.say",
                "for_each": "input.words",
                "max_parallel": 2,
                "payload": {"text": {"$ref": "item"}, "n": {"$ref": "index"}},
                "aggregate": "join('-', results[].text)",
            },
            echo("after", {"$ref": "steps.each.result"}, worker="beta"),
        ],
    }
    view, fx = start(h, definition, input={"words": ["x", "y", "z"]})
    rid = view["request_id"]
    assert [(d.command.command_id, d.command.payload) for d in sent(fx)] == [
        (f"{rid}.each.0.1", {"text": "x", "n": 0}),
        (f"{rid}.each.1.1", {"text": "y", "n": 1}),
    ]
    fx = h.reply(f"{rid}.each.1.1", {"text": "Y"})
    assert [d.command.payload for d in sent(fx)] == [{"text": "z", "n": 2}]
    assert "step.progress" in events(fx)
    h.reply(f"{rid}.each.2.1", {"text": "Z"})
    fx = h.reply(f"{rid}.each.0.1", {"text": "X"})
    assert [d.command.payload for d in sent(fx)] == [{"text": "X-Y-Z"}]
    view = h.service.get(rid)
    each = view["steps"][0]
    assert each["items"] == {"total": 3, "completed": 3} and each["result"] == "X-Y-Z"


def test_fan_out_items_can_be_skipped_and_an_empty_list_completes_at_once(h):
    definition = {
        "name": "fan",
        "steps": [
            echo("each", {"$ref": "item"}, for_each="input.words", on_item_error="skip"),
        ],
    }
    view, _ = start(h, definition, input={"words": ["x", "y"]})
    rid = view["request_id"]
    h.reply(f"{rid}.each.0.1", status=Status.FAILED, code="BAD")
    h.reply(f"{rid}.each.1.1", {"text": "Y"})
    req = stored(h, rid)
    assert req.status == "completed" and req.steps["each"].result == [None, {"text": "Y"}]
    assert req.steps["each"].error["code"] == "ITEMS_SKIPPED"
    view, fx = start(h, definition, command_id="empty", input={"words": []})
    assert sent(fx) == [] and stored(h, view["request_id"]).status == "completed"


def test_resume_sends_in_flight_commands_again_with_the_same_ids(h):
    view, fx = start(h)
    rid = view["request_id"]
    first = sent(fx)[0].command
    h.service.wake.clear()
    assert h.service.recover() == [rid]  # what the orchestrator does after a restart
    writes = h.requests.writes
    fx = h.service.on_drive(rid, "resume")
    (again,) = sent(fx)
    assert again.again and again.command.command_id == first.command_id
    assert again.command.payload == first.payload
    assert h.requests.writes == writes  # nothing changed, nothing written
    assert rid in h.service.wake


def test_a_late_result_of_an_earlier_attempt_is_ignored(h):
    view, _ = start(h)
    rid = view["request_id"]
    h.reply(f"{rid}.a.0.1", status=Status.FAILED, code="BUSY", retryable=True)
    h.clock.advance(1)
    h.service.on_drive(rid, "tick")
    assert h.reply(f"{rid}.a.0.1", {"text": "late"}) == []
    assert stored(h, rid).steps["a"].status == "running"


def test_results_and_requests_over_the_size_limits_fail_clearly():
    h = Harness(max_step_result_bytes=1_000)
    h.beat("alpha")
    h.beat("beta")
    view, _ = start(h)
    rid = view["request_id"]
    h.reply(f"{rid}.a.0.1", {"text": "x" * 2_000})
    req = stored(h, rid)
    assert req.status == "failed" and req.error["code"] == "RESULT_TOO_LARGE"
    h2 = Harness()
    h2.beat("alpha")
    h2.settings = h2.service.settings = h2.settings.model_copy(
        update={"workflow_max_request_bytes": 10_000}
    )
    view, _ = start(h2, input={"text": "y" * 900})
    h2.reply(f"{view['request_id']}.a.0.1", {"text": "x" * 9_000})
    req = stored(h2, view["request_id"])
    assert req.status == "failed" and req.error["code"] == "LIMIT_EXCEEDED"
    assert len(h2.requests.get(view["request_id"])) < 10_000


def test_output_template_and_input_schema():
    h = Harness()
    h.beat("alpha")
    definition = {
        "name": "io",
        "input_schema": {
            "type": "object",
            "required": ["text"],
            "properties": {"text": {"type": "string", "maxLength": 5}},
        },
        "steps": [
            echo("a", {"$ref": "input.text"}),
        ],
        "output": {"said": {"$ref": "steps.a.result.text"}, "id": {"$ref": "request.id"}},
    }
    with pytest.raises(ValidationError) as info:
        start(h, definition, input={"text": "far too long"})
    assert info.value.code == "INVALID_INPUT"
    assert "input.text: 'far too long' is too long" in info.value.message
    view, _ = start(h, definition, input={"text": "ok"})
    rid = view["request_id"]
    h.reply(f"{rid}.a.0.1", {"text": "OK"})
    assert stored(h, rid).output == {"said": "OK", "id": rid}


def test_dynamic_targets_are_checked_at_start(h):
    definition = {
        "name": "dyn",
        "steps": [{"id": "run", "worker": {"$ref": "input.w"}, "command": {"$ref": "input.c"}}],
    }
    with pytest.raises(ValidationError, match=r"steps.run.worker: unknown worker type 'nope'"):
        start(h, definition, input={"w": "nope", "c": "x.y"})
    with pytest.raises(ValidationError, match=r"steps.run.command: alpha has no command 'x.y'"):
        start(h, definition, input={"w": "alpha", "c": "x.y"})
    view, fx = start(h, definition, input={"w": "beta", "c": "system.ping"})
    assert [(d.worker_type, d.command.command_type) for d in sent(fx)] == [("beta", "system.ping")]


def test_get_is_scoped_to_the_user_and_unknown_ids_are_not_found(h):
    view, _ = h.service.start(
        StartWorkflow(definition=DIAMOND, input={"text": "hi"}), command_id="u", user_id="ann"
    )
    rid = view["request_id"]
    assert h.service.get(rid, user_id="ann")["request_id"] == rid
    assert h.service.get(rid)["request_id"] == rid  # the static token / the bus: no user
    with pytest.raises(NotFoundError):
        h.service.get(rid, user_id="bob")
    with pytest.raises(NotFoundError):
        h.service.get("wf-nope")


def test_finished_requests_are_purged_after_the_retention(h):
    view, _ = start(h)
    rid = view["request_id"]
    h.service.cancel(rid, "x")
    assert h.service.purge_candidates() == []
    h.clock.advance(h.settings.workflow_retention_hours * 3600 + 1)
    assert h.service.purge_candidates() == [rid]
    h.service.on_drive(rid, "purge")
    assert h.requests.get(rid) is None
