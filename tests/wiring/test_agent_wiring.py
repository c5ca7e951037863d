"""Agent wiring without a broker: Faust's agent.test_context() drives the real agent.

The app comes from the composition root with fakes swapped in through
``overrides`` (NLP engine, Redis, result sink); the status table is the real
Faust table on the in-memory store.
"""

from __future__ import annotations

import base64

import orjson
import pytest

from agents.spacy.ports import AnnotatedDoc, Span, Token
from enginedge_streams.bootstrap import bootstrap
from enginedge_streams.records import Command, Status
from enginedge_streams.settings import Settings
from enginedge_streams.testing import RecordingSink
from enginedge_streams.testing.redis import FakeRedisClient


class FakeNlp:
    model_name = "fake"

    def loaded(self) -> bool:
        return True

    async def annotate(self, texts: list[str]) -> list[AnnotatedDoc]:
        docs = []
        for text in texts:
            tokens, pos = [], 0
            for word in text.split():
                start = text.index(word, pos)
                pos = start + len(word)
                tag = "PROPN" if word[0].isupper() else "NOUN"
                tokens.append(
                    Token(
                        word,
                        word.lower(),
                        tag,
                        "NN",
                        "dep",
                        start,
                        pos,
                        False,
                        False,
                        word.isalpha(),
                        0,
                    )
                )
            ents = [Span(t.text, t.start, t.end, "ORG") for t in tokens if t.pos == "PROPN"]
            docs.append(AnnotatedDoc(text, tokens, ents, [], [Span(text, 0, len(text))], [1.0]))
        return docs


@pytest.fixture
def wired(tmp_path):
    sink = RecordingSink()
    settings = Settings(worker_type="spacy", data_dir=tmp_path, topic_prefix="wiring.")
    app = bootstrap(
        settings, overrides={"nlp": FakeNlp(), "redis": FakeRedisClient(), "result_sink": sink}
    )
    app.conf.store = "memory://"
    app.finalize()
    runtime = app.enginedge_runtimes["spacy"]
    agent = next(a for a in app.agents.values() if a.name.endswith("spacy-commands"))
    return app, runtime, agent, sink


def as_message(cmd: Command) -> dict:
    return {"key": cmd.command_id.encode(), "value": orjson.dumps(cmd.model_dump(mode="json"))}


async def test_command_result_status_and_dlq_through_the_agent(wired):
    app, runtime, agent, sink = wired
    await runtime.start_components()
    ok = Command(command_id="w-1", command_type="nlp.analyze", payload={"text": "Acme hires Bob"})
    bad = Command(command_id="w-2", command_type="nlp.analyze", payload={"text": ""})
    async with agent.test_context() as ctx:
        await ctx.put(**as_message(ok))
        await ctx.put(**as_message(bad))
        await ctx.put(key=b"junk", value=b"\x00 not json")
    async with agent.test_context() as ctx:  # after the first run finished
        await ctx.put(**as_message(ok))  # the same id again
    by_id = {}
    for result, _ in sink.results:
        by_id.setdefault(result.command_id, []).append(result)
    first, again = by_id["w-1"]
    assert first.status is Status.COMPLETED and first == again  # stored result re-published
    assert [e["text"] for e in first.result["entities"]] == ["Acme", "Bob"]
    assert by_id["w-2"][0].error.code == "INVALID_PAYLOAD"
    assert base64.b64decode(sink.dead_letters[0].raw_base64) == b"\x00 not json"
    assert runtime.store.get("w-1").status is Status.COMPLETED
    assert runtime.store.get("w-2").status is Status.FAILED


async def test_bootstrap_requires_a_known_worker_type(tmp_path):
    from enginedge_streams.errors import ConfigError

    with pytest.raises(ConfigError, match="WORKER_TYPE"):
        bootstrap(Settings(worker_type="", data_dir=tmp_path))
