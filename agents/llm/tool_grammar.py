"""Tool calls in Qwen2.5's own chat-template syntax, with a grammar so a call always parses.

Qwen2.5's template declares tools in the system prompt (``# Tools`` ... ``<tools>``
one JSON signature a line ``</tools>``) and has the model reply with
``<tool_call>\\n{"name": ..., "arguments": {...}}\\n</tool_call>``; tool results come
back in a user turn as ``<tool_response>\\n...\\n</tool_response>``. llama-server
refuses a custom grammar together with the OpenAI ``tools`` parameter ("Cannot use
custom grammar constraints with tools"), so this protocol renders the template's tool
block itself and sends a GBNF grammar (llama.cpp's ``grammar`` request field) that
allows exactly two kinds of reply:

* one to three calls, each the template's JSON object (inside ``<tool_call>`` tokens or
  bare) naming an offered tool, with arguments that match its schema (required properties
  in order, then the optional ones; a schema the grammar cannot express exactly gets any
  JSON object);
* or a plain-text answer that does not start like a call (``<``, ``{`` or a code fence).

So a small model cannot write a call in a fence, half-closed, with a made-up tool name or
without its required arguments: every call it writes parses.
"""

from __future__ import annotations

import json
from typing import Any

from agents.llm.ports import ToolSpec

TOOLS_HEADER = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
)
TOOLS_FOOTER = (
    "\n</tools>\n\nFor each function call, return a json object with function name and "
    "arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
)

COMMA = '"," ws '
_JSON_RULES = r"""value ::= object | array | string | number | ("true" | "false" | "null")
object ::= "{" ws ( string ":" ws value ws ( "," ws string ":" ws value ws )* )? "}"
array ::= "[" ws ( value ws ( "," ws value ws )* )? "]"
string ::= "\"" ( [^"\\\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" hex hex hex hex ) )* "\""
hex ::= [0-9a-fA-F]
number ::= "-"? [0-9]+ ( "." [0-9]+ )? ( [eE] [-+]? [0-9]+ )?
integer ::= "-"? [0-9]+
boolean ::= "true" | "false"
ws ::= [ ]?
answer ::= [^<{` \t\n] [^\x00]*
"""


def system_with_tools(instructions: str, specs: list[ToolSpec]) -> str:
    """The system prompt as Qwen2.5's template renders it when given ``tools``."""
    lines = [
        json.dumps(
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.parameters,
                },
            },
            ensure_ascii=False,
        )
        for t in specs
    ]
    return f"{instructions}\n\n{TOOLS_HEADER}\n" + "\n".join(lines) + TOOLS_FOOTER


def tool_response(observations: list[str]) -> str:
    """The user turn that carries tool results, as the template renders ``tool`` messages."""
    return "\n".join(f"<tool_response>\n{o}\n</tool_response>" for o in observations)


def literal(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _value_rule(schema: dict[str, Any]) -> str | None:
    if "enum" in schema:
        return " | ".join(literal(json.dumps(v)) for v in schema["enum"]) or None
    kind = schema.get("type")
    return (
        {
            "string": "string",
            "integer": "integer",
            "number": "number",
            "boolean": "boolean",
            "object": "object",
            "array": "array",
        }.get(kind)
        if isinstance(kind, str)
        else "value"
    )


def arguments_rule(parameters: dict[str, Any]) -> str:
    """A GBNF expression for a tool's arguments object (``object`` when not expressible)."""
    props: dict[str, Any] = parameters.get("properties") or {}
    required = [p for p in parameters.get("required", []) if p in props]
    optional = [p for p in props if p not in required]
    if not required:
        return "object"
    parts = []
    for i, name in enumerate(required + optional):
        rule = _value_rule(props[name] if isinstance(props[name], dict) else {})
        if rule is None:
            return "object"
        comma = "" if i == 0 else COMMA
        pair = f"{comma}{literal(json.dumps(name) + ': ')} ( {rule} )"
        parts.append(pair if name in required else f"( {pair} )?")
    return '"{" ' + " ".join(parts) + ' "}"'


def tool_call_grammar(specs: list[ToolSpec]) -> str:
    """GBNF: one to three calls of the offered tools, or a text answer.

    A call is the template's JSON object, inside ``<tool_call>`` tags (Qwen2.5's special
    tokens) or bare: the small Qwen2.5 models write the object without the tags far more
    often than with them (their first token is ``{"`` at p~0.94), and the grammar then
    holds them to the object's exact shape instead of forcing an unlikely token.
    """
    bodies = []
    for t in specs:
        head = literal('{"name": ' + json.dumps(t.name) + ', "arguments": ')
        bodies.append(f'( {head} {arguments_rule(t.parameters)} "}}" )')
    rules = [
        "root ::= calls | answer",
        'calls ::= call ( "\\n" call )? ( "\\n" call )?',
        'call ::= <tool_call> "\\n" body "\\n" </tool_call> | body',
        "body ::= " + " | ".join(bodies),
    ]
    return "\n".join(rules) + "\n" + _JSON_RULES


def answer_grammar() -> str:
    """GBNF for a text answer only (after the model repeated a call it has the result of)."""
    return "root ::= answer\n" + _JSON_RULES


def template_calls(calls: list[tuple[str, dict[str, Any]]]) -> str:
    """Calls written back into the history in the template's own syntax."""
    return "\n".join(
        "<tool_call>\n"
        + json.dumps({"name": name, "arguments": args}, ensure_ascii=False)
        + "\n</tool_call>"
        for name, args in calls
    )
