"""The phase timer after a recovery in which a session came back without its clock key.

A session (``s/``) and its running phase clock (``a/``) are two table keys, so two changelog
writes; a worker killed between them comes back with the session but not the clock. The timer
rescans the sessions when the store is rebuilt and still times the phase out.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from agents.interview import handlers as h
from agents.interview.messages import PhaseTimeout, SessionCommand, StartInterview
from agents.interview.phase_timer import PhaseTimer
from agents.interview.repository import InterviewRepository, clock_of
from enginedge_streams.keyed_locks import KeyedLocks
from enginedge_streams.testing.clock import FixedClock
from enginedge_streams.testing.key_value_store import InMemoryKeyValueStore
from enginedge_streams.testing.messaging import RecordingCommandSender, RecordingEventPublisher
from tests.unit.interview.helpers import ctx

pytestmark = pytest.mark.timeout(60)


class RebuiltStore(InMemoryKeyValueStore):
    """The in-memory store with the ``generation`` a recovery bumps on the Faust store."""

    generation = 0


@pytest.fixture
def env():
    kv = RebuiltStore()
    repo = InterviewRepository(kv)
    clock = FixedClock(1_800_000_000.0)
    deps = {
        "repo": repo,
        "clock": clock,
        "events": RecordingEventPublisher(),
        "locks": KeyedLocks(),
    }
    return kv, repo, clock, deps


async def start(deps: dict[str, Any], session_id: str) -> None:
    cmd = StartInterview(
        template_id="behavioral-screen", candidate={"name": "Ada"}, session_id=session_id
    )
    await h.handle_start(cmd, **deps, ctx=ctx(f"start-{session_id}"))


async def test_a_session_recovered_without_its_clock_still_times_out(env):
    kv, repo, clock, deps = env
    await start(deps, "lost")
    await start(deps, "kept")
    kv.delete("a/lost")  # the clock's changelog write never reached Kafka
    sender = RecordingCommandSender()
    timer = PhaseTimer(repo, sender, clock)  # a new process: it scans on its first tick
    clock.advance(10_000)
    assert await timer.tick() == 2
    assert sorted(s[2]["session_id"] for s in sender.commands) == ["kept", "lost"]
    cid, ctype, payload = next(s for s in sender.commands if s[2]["session_id"] == "lost")
    assert ctype == "interview.phase_timeout"
    done = await h.handle_phase_timeout(PhaseTimeout(**payload), **deps, ctx=ctx(cid))
    assert done["applied"] is True and done["timed_out_phase"] == "behavioral"
    session = repo.session("lost")
    assert session is not None and session.phases[0].status == "timed_out"
    assert repo.sessions_missing_their_clock() == set()  # the handler wrote the new clock
    await timer.tick()
    assert timer._missing == set()


async def test_a_stale_clock_key_is_replaced_by_the_sessions_own_clock(env):
    kv, repo, clock, deps = env
    await start(deps, "s1")
    stale = kv.get("a/s1")
    await h.handle_pause(SessionCommand(session_id="s1"), **deps, ctx=ctx("p1"))
    clock.advance(5)
    await h.handle_resume(SessionCommand(session_id="s1"), **deps, ctx=ctx("r1"))
    assert stale is not None
    kv.put("a/s1", stale)  # the resume's clock write was lost: the old epoch is stored
    session = repo.session("s1")
    assert session is not None
    expected = clock_of(session)
    assert expected is not None and expected["epoch"] == orjson.loads(stale)["epoch"] + 1
    kv.generation += 1
    sender = RecordingCommandSender()
    timer = PhaseTimer(repo, sender, clock)
    clock.advance(10_000)
    assert await timer.tick() == 1
    assert sender.commands[0][0] == f"phase-timeout-s1-0-{expected['epoch']}"


async def test_no_extra_work_when_every_clock_is_in_place(env):
    kv, repo, clock, deps = env
    await start(deps, "s1")
    await h.handle_end(SessionCommand(session_id="s1"), **deps, ctx=ctx("e1"))
    await start(deps, "s2")
    kv.generation += 1
    assert repo.sessions_missing_their_clock() == set()
    timer = PhaseTimer(repo, RecordingCommandSender(), clock)
    assert await timer.tick() == 0 and timer._missing == set()
