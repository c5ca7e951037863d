"""The local models' tool protocol: Qwen2.5's template tool block and the grammar on the reply.

The grammar is checked here for what it admits (by shape); that llama-server accepts and
enforces it is in tests/integration/test_llm_local_e2e.py (real server, real tool worker).
"""

from __future__ import annotations

import json
import re

from agents.llm.agent_loop import AgentLoop
from agents.llm.fakes import FakeToolRunner, ScriptedChatProvider
from agents.llm.gateway import LlmGateway, LlmLimits
from agents.llm.model_registry import ModelRegistry
from agents.llm.ports import ToolSpec
from agents.llm.tiktoken_token_counter import TiktokenTokenCounter
from agents.llm.tool_call_text import looks_like_call
from agents.llm.tool_grammar import (
    TOOLS_FOOTER,
    TOOLS_HEADER,
    arguments_rule,
    system_with_tools,
    template_calls,
    tool_call_grammar,
    tool_response,
)
from enginedge_streams.testing.fakes import InMemoryRateLimiter

CALC = ToolSpec(
    "calculator",
    "Evaluate an arithmetic expression.",
    {
        "type": "object",
        "properties": {"expression": {"type": "string"}},
        "required": ["expression"],
        "additionalProperties": False,
    },
)
DATES = ToolSpec(
    "datetime",
    "Dates.",
    {
        "type": "object",
        "properties": {"operation": {"enum": ["now", "diff"]}, "start": {"type": "string"}},
        "required": ["operation"],
    },
)


def test_the_system_prompt_declares_tools_as_qwens_template_does():
    system = system_with_tools("Be brief.", [CALC, DATES])
    assert system.startswith("Be brief.\n\n" + TOOLS_HEADER + "\n") and system.endswith(
        TOOLS_FOOTER
    )
    block = system.split("<tools>\n")[1].split("\n</tools>")[0].splitlines()
    assert [json.loads(line)["function"]["name"] for line in block] == ["calculator", "datetime"]
    assert json.loads(block[0]) == {
        "type": "function",
        "function": {
            "name": "calculator",
            "description": CALC.description,
            "parameters": CALC.parameters,
        },
    }


def test_results_and_calls_go_back_in_the_templates_syntax():
    assert tool_response(["1", "2"]) == (
        "<tool_response>\n1\n</tool_response>\n<tool_response>\n2\n</tool_response>"
    )
    assert template_calls([("calculator", {"expression": "1+1"})]) == (
        '<tool_call>\n{"name": "calculator", "arguments": {"expression": "1+1"}}\n</tool_call>'
    )


def test_the_grammar_admits_the_offered_tools_calls_or_a_plain_answer():
    grammar = tool_call_grammar([CALC, DATES])
    rules = dict(line.split(" ::= ", 1) for line in grammar.splitlines())
    assert rules["root"] == "calls | answer"
    assert "<tool_call>" in rules["call"] and "</tool_call>" in rules["call"]  # template tokens
    assert '\\"calculator\\"' in rules["body"] and '\\"datetime\\"' in rules["body"]
    assert '"\\"expression\\": " ( string )' in rules["body"]
    assert rules["answer"].startswith("[^<{`")  # an answer cannot start like a call
    for name in re.findall(r"\b([a-z]+)\b(?= ::=)", grammar):
        assert grammar.count(f"{name} ::=") == 1


def test_arguments_follow_the_schema_required_first_then_optional():
    rule = arguments_rule(DATES.parameters)
    assert rule.index("operation") < rule.index("start")
    assert (
        '( "\\"now\\"" | "\\"diff\\"" )' in rule
        and '( "," ws "\\"start\\": " ( string ) )?' in rule
    )
    assert arguments_rule({"type": "object", "properties": {"q": {"type": "string"}}}) == "object"


def test_a_reply_that_tried_a_call_is_recognised():
    assert looks_like_call('{"name": "calculator", "arguments": {')
    assert looks_like_call("<tool_call>\n{")
    assert not looks_like_call("The answer is 42.")


def _local_gateway(provider):
    registry = ModelRegistry.from_config(
        json.dumps({"qwen": {"provider": "local", "supports_tools": True, "context_window": 4096}})
    )
    return LlmGateway(
        {"local": provider},
        registry,
        TiktokenTokenCounter(),
        InMemoryRateLimiter(),
        LlmLimits(),
        default_model="qwen",
    )


async def test_the_agent_loop_sends_the_grammar_and_the_templates_turns():
    provider = ScriptedChatProvider(
        [
            '{"name": "calculator", "arguments": {"expression": "6*7"}}',
            '{"name": "calculator", "arguments": {"expression": "6*7"}}',  # a repeat
            "42",
        ],
        name="local",
    )
    gateway = _local_gateway(provider)
    tools = FakeToolRunner({"calculator": lambda a: {"result": 42}})
    specs = [ToolSpec("calculator", "math", {"type": "object", "properties": {"expression": {}}})]
    run = await AgentLoop(gateway, tools, "cmd-g").run(
        "What is 6*7?", gateway.resolve(None), specs, max_steps=3, max_tokens=64, temperature=0
    )
    assert run.protocol == "grammar" and run.final_answer == "42"
    assert run.call_replies == 2 and run.unparsed_call_replies == 0
    assert len(tools.executions) == 1  # the repeat was answered from the first result
    first, second, third = provider.requests
    assert first.tools == () and first.grammar.startswith("root ::= calls | answer")
    assert "<tools>" in first.messages[0].content
    assert second.messages[-2].content.startswith("<tool_call>\n")
    assert second.messages[-1].role == "user"
    assert second.messages[-1].content == '<tool_response>\n{"result": 42}\n</tool_response>'
    assert third.grammar.startswith("root ::= answer")  # told to answer: text only


async def test_the_earlier_protocol_stays_selectable():
    provider = ScriptedChatProvider(["12"], name="local")
    gateway = _local_gateway(provider)
    tools = FakeToolRunner({"calculator": lambda a: {"result": 12}})
    run = await AgentLoop(gateway, tools, "cmd-t", local_protocol="tools").run(
        "Say 12.",
        gateway.resolve(None),
        await tools.list_tools(),
        max_steps=2,
        max_tokens=32,
        temperature=0,
    )
    assert run.protocol == "tools" and run.final_answer == "12"
    assert provider.requests[0].tools and provider.requests[0].grammar == ""
