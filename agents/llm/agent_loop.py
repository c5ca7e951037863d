"""The ReAct loop: the model picks a tool, the tool worker runs it, the observation goes back.

With a tool-calling model the provider's API carries the calls (OpenAI
``tools``/Anthropic ``tool_use``; a local model's chat-template syntax, which
llama-server parses, plus the same JSON written as text, ``tool_call_text``);
otherwise a text protocol with a worked example is used and parsed:
``Thought: ... Action: <tool> Action Input: {json}`` or ``Final Answer: ...``.
Every tool call is one step; the loop stops at a final answer or ``max_steps``.
A call repeated with the same arguments is not run again: its earlier result (or
refusal) goes back, and when every call of a reply is such a repeat the model is
asked for its answer without tools.
Tool call ids derive from the command id, the step and the call itself, so a
re-run of the same command re-uses the tool worker's stored results.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from agents.llm.agent_prompts import ANSWER_NOW, GRAMMAR, REMINDER, first_messages, protocol_for
from agents.llm.gateway import ChatOutcome, LlmGateway
from agents.llm.model_registry import ModelInfo
from agents.llm.ports import ChatMessage, ChatResponse, ToolResult, ToolRunner, ToolSpec
from agents.llm.tool_call_text import extract_tool_calls, looks_like_call, operation_names
from agents.llm.tool_grammar import (
    answer_grammar,
    template_calls,
    tool_call_grammar,
    tool_response,
)
from enginedge_streams.errors import LimitExceededError

OBSERVATION_CHARS = 4_000

_FINAL = re.compile(r"Final Answer\s*:\s*(.*)", re.S | re.I)
_ACTION = re.compile(r"Action\s*:\s*([A-Za-z_][\w-]*)", re.I)
_INPUT = re.compile(r"Action Input\s*:\s*", re.I)
_THOUGHT = re.compile(r"Thought\s*:\s*(.*?)(?:\n\s*(?:Action|Final Answer)\s*:|$)", re.S | re.I)


@dataclass
class Parsed:
    thought: str = ""
    action: str | None = None
    args: dict[str, Any] | None = None
    final: str | None = None


def parse_reply(text: str) -> Parsed:
    """Parse the text protocol; an action wins over a final answer written after it."""
    thought_match = _THOUGHT.search(text)
    parsed = Parsed(thought=thought_match.group(1).strip() if thought_match else "")
    action = _ACTION.search(text)
    final = _FINAL.search(text)
    if action and (final is None or action.start() < final.start()):
        parsed.action = action.group(1)
        marker = _INPUT.search(text, action.end())
        if marker:
            start = text.find("{", marker.end())
            if start >= 0:
                try:
                    value, _ = json.JSONDecoder().raw_decode(text[start:])
                    parsed.args = value if isinstance(value, dict) else None
                except json.JSONDecodeError:
                    parsed.args = None
        return parsed
    if final:
        parsed.final = final.group(1).strip()
    return parsed


def call_id(command_id: str, step: int, tool: str, args: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps([tool, args], sort_keys=True).encode()).hexdigest()[:10]
    return f"{command_id}.s{step}.{digest}"


def observation_text(result: ToolResult) -> str:
    if result.ok:
        text = json.dumps(result.output, ensure_ascii=False, default=str)
    else:
        text = f"ERROR {result.error_code}: {result.error_message}"
    return text if len(text) <= OBSERVATION_CHARS else text[:OBSERVATION_CHARS] + " [truncated]"


def _refused_again(before: ToolResult) -> ToolResult:
    """The observation for a call repeated after its refusal (it is not sent again)."""
    note = "the same call was refused before: change its arguments or answer without it"
    return replace(before, error_message=f"{before.error_message} ({note})")


@dataclass
class Step:
    step: int
    thought: str
    tool: str
    args: dict[str, Any]
    ok: bool
    observation: Any
    error: dict[str, Any] | None
    duration_ms: float

    def view(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "thought": self.thought,
            "tool": self.tool,
            "args": self.args,
            "ok": self.ok,
            "observation": self.observation,
            "error": self.error,
            "duration_ms": self.duration_ms,
        }


@dataclass
class AgentRun:
    steps: list[Step] = field(default_factory=list)
    final_answer: str | None = None
    stop_reason: str = "max_steps"
    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    protocol: str = "tools"
    models: list[str] = field(default_factory=list)
    text_tool_calls: int = 0  # calls read from the reply's text (tool_call_text)
    call_replies: int = 0  # replies that carried at least one parsed tool call
    unparsed_call_replies: int = 0  # replies that tried a call that did not parse

    def count_calls(self, reply: ChatResponse) -> None:
        if reply.tool_calls:
            self.call_replies += 1
        elif looks_like_call(reply.text):
            self.unparsed_call_replies += 1

    def count(self, outcome: ChatOutcome) -> None:
        self.model_calls += 1
        self.prompt_tokens += outcome.response.prompt_tokens
        self.completion_tokens += outcome.response.completion_tokens
        self.cost_usd = round(self.cost_usd + outcome.cost_usd, 10)
        if outcome.model.name not in self.models:
            self.models.append(outcome.model.name)


@dataclass
class AgentLoop:
    gateway: LlmGateway
    tools: ToolRunner
    command_id: str
    on_step: Callable[[Step], None] = lambda _s: None
    remaining_s: Callable[[], float] = lambda: 300.0
    tool_timeout_s: float = 30.0
    attempt: int = 1
    #: how a local model calls tools: ``grammar`` (its template's syntax, grammar-bound) or
    #: ``tools`` (llama-server's OpenAI ``tools``, no grammar; the earlier protocol)
    local_protocol: str = GRAMMAR
    _params: dict[str, set[str]] = field(default_factory=dict)
    _operations: dict[str, tuple[str, str]] = field(default_factory=dict)

    async def run(
        self,
        task: str,
        model: ModelInfo,
        specs: list[ToolSpec],
        *,
        max_steps: int,
        max_tokens: int | None,
        temperature: float,
    ) -> AgentRun:
        protocol = protocol_for(model, self.local_protocol)
        run = AgentRun(protocol=protocol)
        out_tokens = self.gateway.output_tokens(model, max_tokens)
        budget = self.gateway.prompt_budget(model, out_tokens)
        allowed = {t.name for t in specs}
        messages = first_messages(task, model, specs, protocol)
        grammar = tool_call_grammar(specs) if protocol == GRAMMAR and specs else ""
        answer_only = answer_grammar() if grammar else ""
        self._params = {  # tools that refuse unknown arguments: those are dropped
            t.name: set(t.parameters.get("properties", {}))
            for t in specs
            if t.parameters.get("additionalProperties") is False
        }
        self._operations = operation_names(specs)
        reminded = answer_now = False
        done: dict[str, ToolResult] = {}  # successful calls by (tool, arguments)
        refused: dict[str, ToolResult] = {}  # refused calls by (tool, arguments)
        while len(run.steps) < max_steps and run.model_calls <= 2 * max_steps + 1:
            self._fit(messages, budget)
            outcome = await self.gateway.chat(
                model,
                messages,
                max_tokens=out_tokens,
                temperature=temperature,
                tools=() if answer_now or protocol == GRAMMAR else tuple(specs),
                stop=() if model.supports_tools else ("\nObservation:",),
                grammar=answer_only if answer_now else grammar,
                attempt=self.attempt,
            )
            run.count(outcome)
            reply = outcome.response
            native = model.supports_tools and outcome.model.supports_tools
            if not reply.tool_calls and not answer_now and native:
                reply = self._calls_in_text(run, reply, allowed)
            if not answer_now and native:
                run.count_calls(reply)
            if reply.tool_calls and not answer_now:
                template = protocol == GRAMMAR and outcome.model.provider == "local"
                if template:  # the calls in the template's own syntax
                    calls = [(c.name, c.arguments) for c in reply.tool_calls]
                    messages.append(ChatMessage("assistant", template_calls(calls)))
                else:
                    messages.append(
                        ChatMessage("assistant", reply.text, tool_calls=reply.tool_calls)
                    )
                answer_now = await self._run_calls(
                    run, reply, messages, allowed, max_steps, (done, refused), template=template
                )
                if answer_now:
                    messages.append(ChatMessage("user", ANSWER_NOW))
                continue
            if native:
                run.final_answer, run.stop_reason = reply.text.strip(), "final_answer"
                still_calling = reply.tool_calls or extract_tool_calls(
                    reply.text, allowed, prefix="-", operations=self._operations
                )
                if answer_now and still_calling:
                    # still a call after being told to answer: the last tool result is the
                    # answer, or (every call refused) there is none
                    if done:
                        run.final_answer = observation_text(list(done.values())[-1])
                        run.stop_reason = "tool_result"
                    else:
                        run.final_answer, run.stop_reason = None, "refused_calls"
                return run
            reminded = await self._text_reply(run, reply, messages, allowed, reminded)
            if run.final_answer is not None or run.stop_reason != "max_steps":
                return run
        return run

    async def _text_reply(
        self,
        run: AgentRun,
        reply: ChatResponse,
        messages: list[ChatMessage],
        allowed: set[str],
        reminded: bool,
    ) -> bool:
        """One reply on the text protocol: run its action, or finish; True once reminded."""
        parsed = parse_reply(reply.text)
        if parsed.action is not None:
            if parsed.args is None:
                run.unparsed_call_replies += 1
                result = ToolResult(
                    False, None, "INVALID_ACTION_INPUT", "Action Input is not a JSON object"
                )
                self._record(run, parsed.thought, parsed.action, {}, result, 0.0)
            else:
                run.call_replies += 1
                result = await self._step(run, parsed.thought, parsed.action, parsed.args, allowed)
            messages.append(ChatMessage("assistant", reply.text.strip()))
            messages.append(ChatMessage("user", f"Observation: {observation_text(result)}"))
            return False
        if parsed.final is not None:
            run.final_answer, run.stop_reason = parsed.final, "final_answer"
        elif reminded or not reply.text.strip():
            run.final_answer, run.stop_reason = reply.text.strip() or None, "unformatted_answer"
        else:
            messages.append(ChatMessage("assistant", reply.text.strip()))
            messages.append(ChatMessage("user", REMINDER))
        return True

    async def _run_calls(  # noqa: PLR0917 - private helper
        self,
        run: AgentRun,
        reply: ChatResponse,
        messages: list[ChatMessage],
        allowed: set[str],
        max_steps: int,
        seen: tuple[dict[str, ToolResult], dict[str, ToolResult]],
        *,
        template: bool = False,
    ) -> bool:
        """Run the reply's calls; True when every one repeated an earlier call.

        ``seen`` holds the earlier successful and refused calls by (tool, arguments):
        a repeat is answered from there, not run again (a refusal with a note that the
        same call was refused before). The results go back as ``tool`` messages, or
        (``template``) as one user turn of ``<tool_response>`` blocks, as the model's
        chat template renders them."""
        done, refused = seen
        repeats = 0
        observations = []
        for call in reply.tool_calls:
            known = self._params.get(call.name)  # a repeat may echo the result as an argument
            args = {k: v for k, v in call.arguments.items() if known is None or k in known}
            key = json.dumps([call.name, args], sort_keys=True)
            if key in done:
                result, repeats = done[key], repeats + 1
            elif key in refused:
                result, repeats = _refused_again(refused[key]), repeats + 1
            elif len(run.steps) >= max_steps:
                result = ToolResult(False, None, "MAX_STEPS", "step budget exhausted")
            else:
                result = await self._step(run, reply.text, call.name, args, allowed)
                if result.ok or not result.retryable:
                    (done if result.ok else refused)[key] = result
            observations.append(observation_text(result))
            if not template:
                messages.append(
                    ChatMessage("tool", observations[-1], tool_call_id=call.id, name=call.name)
                )
        if template:
            messages.append(ChatMessage("user", tool_response(observations)))
        return repeats == len(reply.tool_calls)

    def _calls_in_text(self, run: AgentRun, reply: ChatResponse, allowed: set[str]) -> ChatResponse:
        calls = extract_tool_calls(
            reply.text,
            allowed,
            prefix=f"{self.command_id}.m{run.model_calls}",
            operations=self._operations,
        )
        if not calls:
            return reply
        run.text_tool_calls += len(calls)
        return replace(reply, text="", tool_calls=calls)

    async def _step(
        self, run: AgentRun, thought: str, tool: str, args: dict[str, Any], allowed: set[str]
    ) -> ToolResult:
        step = len(run.steps) + 1
        started = time.perf_counter()
        if tool not in allowed:
            result = ToolResult(
                False, None, "TOOL_NOT_ALLOWED", f"{tool!r} is not one of {sorted(allowed)}"
            )
        else:
            timeout = max(1.0, min(self.tool_timeout_s, self.remaining_s() - 2.0))
            result = await self.tools.execute(
                tool,
                args,
                call_id=call_id(self.command_id, step, tool, args),
                budget_key=self.command_id,
                timeout=timeout,
            )
        self._record(run, thought, tool, args, result, (time.perf_counter() - started) * 1000)
        return result

    def _record(  # noqa: PLR0917 - private helper
        self,
        run: AgentRun,
        thought: str,
        tool: str,
        args: dict[str, Any],
        result: ToolResult,
        ms: float,
    ) -> None:
        step = Step(
            step=len(run.steps) + 1,
            thought=thought,
            tool=tool,
            args=args,
            ok=result.ok,
            observation=result.output if result.ok else None,
            error=None
            if result.ok
            else {"code": result.error_code, "message": result.error_message},
            duration_ms=round(ms, 3),
        )
        run.steps.append(step)
        self.on_step(step)

    def _fit(self, messages: list[ChatMessage], budget: int) -> None:
        """Shorten the oldest observations until the prompt fits the model's window."""
        counter = self.gateway.counter
        i = 2
        while counter.count_messages(messages) > budget and i < len(messages):
            m = messages[i]
            observed = m.role == "tool" or m.content.startswith(("Observation:", "<tool_response>"))
            if observed and len(m.content) > 200:
                messages[i] = ChatMessage(
                    m.role, m.content[:200] + " [shortened]", m.tool_calls, m.tool_call_id, m.name
                )
            i += 1
        if counter.count_messages(messages) > budget:
            raise LimitExceededError(
                "the agent's transcript no longer fits the model's context window",
                code="CONTEXT_TOO_LARGE",
            )
