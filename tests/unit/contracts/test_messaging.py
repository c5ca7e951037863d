"""The ``CommandSender`` and ``EventPublisher`` contracts: the Faust adapters and the fakes.

The Faust adapters are held to what they hand their topic (key and bytes on the wire); a
topic that records its sends stands in for Faust's (the broker side is the wiring and
integration tests' business).
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from enginedge_streams.adapters.faust_command_sender import FaustCommandSender
from enginedge_streams.adapters.faust_event_publisher import FaustEventPublisher
from enginedge_streams.records import Command
from enginedge_streams.settings import Settings
from enginedge_streams.testing.messaging import RecordingCommandSender, RecordingEventPublisher


class RecordingTopic:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes, bytes]] = []

    async def send(self, *, key: bytes, value: bytes) -> None:
        self.sent.append((key, value))


class TopicApp:
    """``app.topic(name)`` -> one recording topic per name."""

    def __init__(self) -> None:
        self.topics: dict[str, RecordingTopic] = {}

    def topic(self, name: str, **_: Any) -> RecordingTopic:
        return self.topics.setdefault(name, RecordingTopic())


def _faust_sender() -> tuple[Any, Any]:
    own = RecordingTopic()
    sender = FaustCommandSender(TopicApp(), Settings(), known={"interview": own})  # type: ignore[arg-type]
    return sender, lambda: [Command.model_validate_json(v) for _, v in own.sent]


def _recording_sender() -> tuple[Any, Any]:
    sender = RecordingCommandSender()
    return sender, lambda: [c for _, c in sender.sent]


@pytest.fixture(params=["faust", "recording"])
def sender(request):
    return _faust_sender() if request.param == "faust" else _recording_sender()


async def test_a_sender_delivers_each_command_whole_and_in_order(sender):
    port, delivered = sender
    a = Command(command_id="c-1", command_type="interview.phase_timeout", payload={"n": 1})
    b = Command(command_id="c-2", command_type="interview.phase_timeout", payload={"n": 2})
    await port.send("interview", a)
    await port.send("interview", b)
    got = delivered()
    assert [(c.command_id, c.command_type, c.payload) for c in got] == [
        ("c-1", "interview.phase_timeout", {"n": 1}),
        ("c-2", "interview.phase_timeout", {"n": 2}),
    ]


async def test_the_faust_sender_keys_by_command_id():
    own = RecordingTopic()
    sender = FaustCommandSender(TopicApp(), Settings(), known={"interview": own})  # type: ignore[arg-type]
    await sender.send("interview", Command(command_id="k-1", command_type="x.y", payload={}))
    assert own.sent[0][0] == b"k-1"


@pytest.fixture(params=["faust", "recording"])
def publisher(request):
    if request.param == "faust":
        topic = RecordingTopic()
        return FaustEventPublisher(topic), lambda: [
            (k.decode(), orjson.loads(v)) for k, v in topic.sent
        ]
    fake = RecordingEventPublisher()
    return fake, lambda: list(fake.published)


async def test_a_publisher_delivers_json_events_by_key_in_order(publisher):
    port, delivered = publisher
    await port.publish("s-1", {"type": "interview.started", "at": 1.5, "nested": {"a": [1]}})
    await port.publish("s-2", {"type": "interview.session_completed"})
    assert delivered() == [
        ("s-1", {"type": "interview.started", "at": 1.5, "nested": {"a": [1]}}),
        ("s-2", {"type": "interview.session_completed"}),
    ]
