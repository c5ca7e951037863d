"""Assistant handlers with fakes: chat memory, idempotency, costs, completions, the agent loop."""

from __future__ import annotations

import pytest

from agents.llm.agent_handlers import handle_run_agent
from agents.llm.agent_loop import parse_reply
from agents.llm.chat_handlers import handle_chat, handle_complete
from agents.llm.fakes import (
    FakeToolRunner,
    InMemoryConversationStore,
    ScriptedChatProvider,
    tool_call_reply,
)
from agents.llm.handler_support import MemoryDefaults
from agents.llm.handlers import (
    handle_delete_conversation,
    handle_get_conversation,
    handle_usage,
)
from agents.llm.messages import (
    Chat,
    Complete,
    DeleteConversation,
    GetConversation,
    GetUsage,
    RunAgent,
)
from agents.llm.templates import TemplateLibrary
from enginedge_streams.errors import (
    LimitExceededError,
    NotFoundError,
    PermanentError,
    ValidationError,
)
from enginedge_streams.keyed_locks import KeyedLocks
from tests.unit.llm.helpers import ctx_for, make_gateway


@pytest.fixture
def store():
    return InMemoryConversationStore()


async def chat(gw, store, text, *, cid, conv="c1", user="u1", memory=None, **kw):
    return await handle_chat(
        Chat(conversation_id=conv, user_id=user, message=text, model="scripted-tools", **kw),
        gateway=gw,
        store=store,
        locks=KeyedLocks(),
        memory=memory or MemoryDefaults(),
        ctx=ctx_for(command_id=cid),
    )


async def test_chat_keeps_history_and_sums_cost_per_conversation_and_user(store):
    provider = ScriptedChatProvider(["Hi Ada!", "You are Ada."])
    gw = make_gateway({"openai": provider})
    first = await chat(gw, store, "My name is Ada.", cid="a")
    second = await chat(gw, store, "What is my name?", cid="b")
    sent = [m.content for m in provider.requests[1].messages]
    assert sent == ["My name is Ada.", "Hi Ada!", "What is my name?"]
    assert second["reply"] == "You are Ada." and second["context"]["history_messages_sent"] == 2
    conv = store.get("c1")
    assert [t.content for t in conv.turns] == [
        "My name is Ada.",
        "Hi Ada!",
        "What is my name?",
        "You are Ada.",
    ]
    assert (
        conv.cost_usd == pytest.approx(first["cost_usd"] + second["cost_usd"]) and conv.cost_usd > 0
    )
    usage = await handle_usage(GetUsage(user_id="u1"), store=store)
    assert usage["cost_usd"] == pytest.approx(conv.cost_usd) and usage["calls"] == 2


async def test_a_redelivered_chat_turn_is_applied_once(store):
    provider = ScriptedChatProvider(["first answer", "never used"])
    gw = make_gateway({"openai": provider})
    one = await chat(gw, store, "hello", cid="same")
    again = await chat(gw, store, "hello", cid="same")
    assert one == again and len(provider.requests) == 1
    assert len(store.get("c1").turns) == 2
    assert (await handle_usage(GetUsage(user_id="u1"), store=store))["calls"] == 1


async def test_window_strategy_sends_only_the_last_turns(store):
    gw = make_gateway({"openai": ScriptedChatProvider()})
    memory = MemoryDefaults(window_turns=2)
    for i in range(4):
        await chat(gw, store, f"message {i}", cid=f"w{i}", memory=memory)
    out = await chat(gw, store, "last", cid="w-last", memory=memory)
    assert out["context"]["history_messages_sent"] == 2 and out["context"]["left_out"] == 6
    assert len(store.get("c1").turns) == 10  # everything is still stored


async def test_context_overflow_is_trimmed_not_sent_to_the_provider(store):
    provider = ScriptedChatProvider(script=lambda r: "ok " * 5)
    gw = make_gateway({"openai": provider})
    for i in range(6):
        await handle_chat(
            Chat(
                conversation_id="small",
                message=f"{i} " + "lorem ipsum " * 20,
                model="tiny",
                max_tokens=32,
            ),
            gateway=gw,
            store=store,
            locks=KeyedLocks(),
            memory=MemoryDefaults(),
            ctx=ctx_for(command_id=f"t{i}"),
        )
    for request in provider.requests:  # every prompt fitted the 300-token window
        assert gw.counter.count_messages(list(request.messages)) + 32 <= 300


async def test_summary_strategy_folds_old_turns_into_a_summary(store):
    def script(request):
        if "Summarise the conversation" in request.messages[0].content:
            return "SUMMARY: Ada likes tea."
        return "noted"

    provider = ScriptedChatProvider(script=script)
    gw = make_gateway({"openai": provider})
    memory = MemoryDefaults(strategy="summary", window_turns=2)
    for i, text in enumerate(["I am Ada.", "I like tea.", "It is sunny."]):
        await chat(gw, store, text, cid=f"s{i}", conv="sum", memory=memory)
    out = await chat(gw, store, "What do I like?", cid="s-final", conv="sum", memory=memory)
    conv = store.get("sum")
    assert conv.summary == "SUMMARY: Ada likes tea." and conv.summarized_turns >= 2
    system = provider.requests[-1].messages[0]
    assert system.role == "system" and "Ada likes tea" in system.content
    assert out["context"]["strategy"] == "summary"


async def test_conversation_belongs_to_its_user(store):
    gw = make_gateway({"openai": ScriptedChatProvider()})
    await chat(gw, store, "hi", cid="o1", user="alice")
    with pytest.raises(PermanentError) as info:
        await chat(gw, store, "hi", cid="o2", user="mallory")
    assert info.value.code == "CONVERSATION_FORBIDDEN"


async def test_get_and_delete_conversation(store):
    gw = make_gateway({"openai": ScriptedChatProvider()})
    await chat(gw, store, "hello", cid="g1")
    view = await handle_get_conversation(GetConversation(conversation_id="c1", last=1), store=store)
    assert view["turn_count"] == 2 and len(view["turns"]) == 1 and "applied" not in view
    out = await handle_delete_conversation(
        DeleteConversation(conversation_id="c1"), store=store, locks=KeyedLocks()
    )
    assert out["deleted"] is True
    with pytest.raises(NotFoundError):
        await handle_get_conversation(GetConversation(conversation_id="c1"), store=store)


async def test_compaction_bounds_the_stored_size(store):
    gw = make_gateway({"openai": ScriptedChatProvider(script=lambda r: "y" * 2000)})
    memory = MemoryDefaults(max_stored_bytes=20_000)
    for i in range(20):
        await chat(gw, store, "x" * 2000, cid=f"k{i}", memory=memory)
    conv = store.get("c1")
    assert len(conv.model_dump_json()) <= 20_000 and conv.dropped_turns > 0


async def test_complete_with_template_stream_and_usage(store):
    provider = ScriptedChatProvider(["def f(): pass"])
    gw = make_gateway({"openai": provider})
    ctx = ctx_for("assistant.complete", user_id="u9")
    progress = []
    ctx.on_progress = progress.append
    out = await handle_complete(
        Complete(
            template="code_generation",
            variables={"task": "noop", "language": "Go"},
            model="scripted-tools",
            stream=True,
        ),
        gateway=gw,
        templates=TemplateLibrary.from_config(""),
        store=store,
        ctx=ctx,
    )
    assert out["text"] == "def f(): pass" and out["streamed"] and progress
    assert "Go" in provider.requests[0].messages[0].content
    assert ctx.usage.cost_usd == out["cost_usd"] and ctx.usage.model == "scripted-tools"
    assert store.get_usage("u9").calls == 1
    with pytest.raises(ValidationError):
        await handle_complete(
            Complete(template="translation", variables={"text": "hola"}, model="scripted-tools"),
            gateway=gw,
            templates=TemplateLibrary.from_config(""),
            store=store,
            ctx=ctx_for("assistant.complete"),
        )


async def test_complete_trims_old_messages_and_refuses_a_single_huge_one(store):
    provider = ScriptedChatProvider()
    gw = make_gateway({"openai": provider})
    messages = [
        {"role": "user", "content": "old " * 250},
        {"role": "user", "content": "new question"},
    ]
    out = await handle_complete(
        Complete(messages=messages, model="tiny", max_tokens=64),
        gateway=gw,
        templates=TemplateLibrary.from_config(""),
        store=store,
        ctx=ctx_for("assistant.complete"),
    )
    assert (
        out["trimmed_messages"] == 1
        and provider.requests[-1].messages[-1].content == "new question"
    )
    with pytest.raises(LimitExceededError) as info:
        await handle_complete(
            Complete(prompt="huge " * 1000, model="tiny", max_tokens=64),
            gateway=gw,
            templates=TemplateLibrary.from_config(""),
            store=store,
            ctx=ctx_for("assistant.complete"),
        )
    assert info.value.code == "CONTEXT_TOO_LARGE"


def calc(args):
    return {"result": eval(args["expression"], {"__builtins__": {}})}


async def run_agent(gw, store, runner, **kw):
    return await handle_run_agent(
        RunAgent(**kw),
        gateway=gw,
        store=store,
        tools=runner,
        locks=KeyedLocks(),
        memory=MemoryDefaults(),
        ctx=ctx_for("assistant.run_agent", command_id="agent-cmd"),
    )


async def test_agent_with_tool_calling_records_steps(store):
    replies = [
        tool_call_reply("calculator", {"expression": "6*7"}),
        tool_call_reply("lookup", {"q": "x"}, "call_2"),
        "The answer is 42.",
    ]
    provider = ScriptedChatProvider(replies)
    tools = FakeToolRunner({"calculator": calc, "lookup": lambda a: {"hit": "yes"}})
    out = await run_agent(
        make_gateway({"openai": provider}), store, tools, task="6*7?", model="scripted-tools"
    )
    assert out["final_answer"] == "The answer is 42." and out["stop_reason"] == "final_answer"
    assert [s["tool"] for s in out["steps"]] == ["calculator", "lookup"]
    assert out["steps"][0]["observation"] == {"result": 42}
    assert out["protocol"] == "tools" and out["model_calls"] == 3
    tool_msgs = [m for m in provider.requests[1].messages if m.role == "tool"]
    assert tool_msgs and '"result": 42' in tool_msgs[0].content
    _, _, call_id, budget = tools.executions[0]
    assert call_id.startswith("agent-cmd.s1.") and budget == "agent-cmd"
    conv = store.get(out["conversation_id"])
    kinds = [(t.role, t.kind, t.tool) for t in conv.turns]
    assert kinds[0] == ("user", "message", None) and ("tool", "step", "calculator") in kinds
    assert conv.turns[-1].content == "The answer is 42."


async def test_agent_text_protocol_parses_actions_and_final_answer(store):
    provider = ScriptedChatProvider(
        [
            'Thought: compute\nAction: calculator\nAction Input: {"expression": "2+3"}',
            "Thought: done\nFinal Answer: 5",
        ],
        name="local",
        supports_tools=False,
    )
    tools = FakeToolRunner({"calculator": calc})
    out = await run_agent(
        make_gateway({"local": provider}), store, tools, task="2+3?", model="scripted-text"
    )
    assert out["final_answer"] == "5" and out["protocol"] == "text"
    assert "Observation:" in provider.requests[1].messages[-1].content
    assert provider.requests[0].stop == ("\nObservation:",)


async def test_agent_stops_at_max_steps_and_refuses_tools_not_allowed(store):
    provider = ScriptedChatProvider(script=lambda r: tool_call_reply("lookup", {"q": "again"}))
    tools = FakeToolRunner({"calculator": calc, "lookup": lambda a: "nothing"})
    out = await run_agent(
        make_gateway({"openai": provider}),
        store,
        tools,
        task="loop",
        model="scripted-tools",
        tools=["calculator"],
        max_steps=3,
    )
    # the refused call is run once; its repeat is answered from memory and the model told
    # to answer; still calling, the run ends without an answer
    assert out["stop_reason"] == "refused_calls" and out["final_answer"] is None
    assert len(out["steps"]) == 1 and out["steps"][0]["error"]["code"] == "TOOL_NOT_ALLOWED"
    assert tools.executions == []
    with pytest.raises(ValidationError):
        await run_agent(
            make_gateway({"openai": provider}),
            store,
            tools,
            task="x",
            model="scripted-tools",
            tools=["nope"],
        )


def test_parse_reply():
    p = parse_reply(
        'Thought: hmm\nAction: calculator\nAction Input: {"expression": "1+1"}\nObservation: 2'
    )
    assert (p.thought, p.action, p.args) == ("hmm", "calculator", {"expression": "1+1"})
    assert parse_reply("Thought: ok\nFinal Answer: Paris.").final == "Paris."
    assert parse_reply("Action: calculator\nAction Input: not json").args is None
    assert parse_reply("just words").final is None and parse_reply("just words").action is None
