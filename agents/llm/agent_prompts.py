"""The agent loop's prompts: per protocol, the system prompt and the first messages.

* ``grammar`` (local models, default): Qwen2.5's own template tool block in the system
  prompt and a grammar on the reply (``tool_grammar``);
* ``tools``: the provider's tool API (OpenAI ``tools``, Anthropic ``tool_use``; for a local
  model llama-server's template handling, the earlier local protocol);
* ``text``: ``Thought/Action/Action Input`` or ``Final Answer`` lines, with a worked example.
"""

from __future__ import annotations

import json
from typing import Any

from agents.llm.model_registry import ModelInfo
from agents.llm.ports import ChatMessage, ToolSpec
from agents.llm.tool_grammar import system_with_tools

TOOLS_SYSTEM = (
    "You are an agent that solves the user's task step by step. Use the tools when they "
    "help; call one tool at a time and wait for its result. When you know the answer, reply "
    "with the final answer only, without calling a tool."
)
#: The local models' protocol (``tool_grammar``): Qwen2.5's template tool block, grammar-bound.
GRAMMAR = "grammar"
GRAMMAR_SYSTEM = (
    TOOLS_SYSTEM + " Never do arithmetic yourself: every calculation goes to the calculator "
    "tool, and you answer with the number it returns."
)
GRAMMAR_EXAMPLE = (
    "Example.\nUser: What is 17 * 23 + 4?\nAssistant: <tool_call>\n"
    '{"name": "calculator", "arguments": {"expression": "17 * 23 + 4"}}\n</tool_call>\n'
    'User: <tool_response>\n{"expression": "17 * 23 + 4", "result": 395}\n</tool_response>\n'
    "Assistant: 395"
)
#: The earlier local protocol (OpenAI ``tools`` through llama-server, no grammar), kept to
#: compare (bench.llm_local): a shown call is followed better than a described one.
LOCAL_TOOLS_SYSTEM = (
    TOOLS_SYSTEM + " Never do arithmetic yourself: every calculation goes to the calculator "
    "tool. To call a tool, reply with only the call, in this form:\n"
    '<tool_call>\n{"name": "<tool name>", "arguments": {<the arguments>}}\n</tool_call>'
)
LOCAL_TOOLS_EXAMPLE = (
    "Example. User: What is 17 * 23 + 4?\n"
    'Assistant: <tool_call>\n{"name": "calculator", "arguments": {"expression": "17 * 23 + 4"}}'
    '\n</tool_call>\nTool: {"expression": "17 * 23 + 4", "result": 395}\nAssistant: 395'
)
TEXT_SYSTEM = """You are an agent that solves the user's task step by step with tools.

Tools:
{tools}

Reply in exactly one of these formats.
To use a tool:
Thought: <why>
Action: <tool name>
Action Input: <JSON object with the tool's arguments>

When you know the answer:
Thought: <why>
Final Answer: <the answer>
{example}"""
TEXT_EXAMPLE = """
Example (the Observation line comes from the tool, never from you):
Task: What is 17 * 23 + 4?
Thought: I need to compute this exactly.
Action: calculator
Action Input: {"expression": "17 * 23 + 4"}
Observation: {"expression": "17 * 23 + 4", "result": 395}
Thought: The calculator gave the result.
Final Answer: 395"""
#: Sent (with no tools offered) when a model repeats a call it already has the result of.
ANSWER_NOW = (
    "The tool already returned that result above. Reply now with the final answer only, "
    "without calling a tool."
)
REMINDER = (
    "Your reply did not follow the format. Reply with either `Action:` and `Action Input:` "
    "lines, or a `Final Answer:` line."
)


def describe_tools(tools: list[ToolSpec]) -> str:
    lines = []
    for t in tools:
        props = t.parameters.get("properties", {})
        required = set(t.parameters.get("required", []))
        args = ", ".join(
            f'"{k}"{"" if k in required else "?"}: {_type_of(v)}' for k, v in props.items()
        )
        lines.append(f"- {t.name}: {t.description} Arguments: {{{args}}}")
    return "\n".join(lines)


def _type_of(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    return str(schema.get("type", "any"))


def protocol_for(model: ModelInfo, local_protocol: str = GRAMMAR) -> str:
    """``text`` without tool support; a local model's ``local_protocol``; else ``tools``."""
    if not model.supports_tools:
        return "text"
    return local_protocol if model.provider == "local" else "tools"


def first_messages(
    task: str, model: ModelInfo, specs: list[ToolSpec], protocol: str = "tools"
) -> list[ChatMessage]:
    has_calculator = any(t.name == "calculator" for t in specs)
    if protocol == GRAMMAR:
        system = GRAMMAR_SYSTEM + ("\n\n" + GRAMMAR_EXAMPLE if has_calculator else "")
        return [ChatMessage("system", system_with_tools(system, specs)), ChatMessage("user", task)]
    if model.supports_tools and model.provider == "local":
        system = LOCAL_TOOLS_SYSTEM
        if has_calculator:
            system += "\n\n" + LOCAL_TOOLS_EXAMPLE
        return [ChatMessage("system", system), ChatMessage("user", task)]
    if model.supports_tools:
        return [ChatMessage("system", TOOLS_SYSTEM), ChatMessage("user", task)]
    example = TEXT_EXAMPLE if has_calculator else ""
    system = TEXT_SYSTEM.format(tools=describe_tools(specs), example=example)
    return [ChatMessage("system", system), ChatMessage("user", f"Task: {task}")]
