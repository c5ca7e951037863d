"""``assistant.run_agent``: the agent loop over the tool worker, its steps kept in memory."""

from __future__ import annotations

from typing import Any

from agents.llm.agent_loop import AgentLoop, Step, observation_text
from agents.llm.conversation import add_user_usage
from agents.llm.gateway import LlmGateway
from agents.llm.handler_support import MemoryDefaults, new_conversation, owner_check
from agents.llm.memory import Turn
from agents.llm.messages import RunAgent
from agents.llm.ports import ConversationStore, ToolResult, ToolRunner
from enginedge_streams.errors import ValidationError
from enginedge_streams.handlers import CommandContext
from enginedge_streams.keyed_locks import KeyedLocks


async def handle_run_agent(
    cmd: RunAgent,
    *,
    gateway: LlmGateway,
    store: ConversationStore,
    tools: ToolRunner,
    locks: KeyedLocks,
    memory: MemoryDefaults,
    ctx: CommandContext,
) -> dict[str, Any]:
    model = gateway.resolve(cmd.model)
    available = await tools.list_tools()
    names = {t.name for t in available}
    if cmd.tools is not None:
        unknown = sorted(set(cmd.tools) - names)
        if unknown:
            raise ValidationError(
                f"unknown tools: {', '.join(unknown)} "
                f"(the tool worker has {', '.join(sorted(names))})",
                code="UNKNOWN_TOOL",
            )
        available = [t for t in available if t.name in set(cmd.tools)]
    user_id = cmd.user_id or ctx.user_id
    conversation_id = cmd.conversation_id or f"agent-{ctx.command_id}"
    cid = ctx.command_id
    async with locks.hold(conversation_id):
        conv = store.get(conversation_id) or new_conversation(conversation_id, user_id, memory)
        owner_check(conv, user_id)
        if cid in conv.applied:
            return dict(conv.applied[cid])
        conv.turns = [t for t in conv.turns if t.command_id != cid]  # an interrupted earlier try
        conv.turns.append(Turn(role="user", content=cmd.task, command_id=cid))
        store.put(conv)

        def on_step(step: Step) -> None:
            conv.turns.append(
                Turn(
                    role="assistant",
                    kind="step",
                    step=step.step,
                    content=step.thought,
                    tool=step.tool,
                    args=step.args,
                    command_id=cid,
                )
            )
            result = ToolResult(
                step.ok,
                step.observation,
                step.error["code"] if step.error else None,
                step.error["message"] if step.error else None,
            )
            conv.turns.append(
                Turn(
                    role="tool",
                    kind="step",
                    step=step.step,
                    content=observation_text(result),
                    tool=step.tool,
                    command_id=cid,
                )
            )
            store.put(conv)
            ctx.progress(step=step.step, tool=step.tool, ok=step.ok)

        loop = AgentLoop(
            gateway,
            tools,
            cid,
            on_step=on_step,
            remaining_s=ctx.remaining_seconds,
            tool_timeout_s=cmd.tool_timeout_s or memory.agent_tool_timeout_s,
            attempt=ctx.attempt,
        )
        run = await loop.run(
            cmd.task,
            model,
            available,
            max_steps=cmd.max_steps,
            max_tokens=cmd.max_tokens,
            temperature=cmd.temperature,
        )
        ctx.add_usage(
            prompt_tokens=run.prompt_tokens,
            completion_tokens=run.completion_tokens,
            total_tokens=run.prompt_tokens + run.completion_tokens,
            cost_usd=run.cost_usd,
            model=model.name,
        )
        if run.final_answer is not None:
            conv.turns.append(
                Turn(
                    role="assistant",
                    content=run.final_answer,
                    command_id=cid,
                    model=model.name,
                    cost_usd=run.cost_usd,
                )
            )
        conv.add_cost(run.prompt_tokens, run.completion_tokens, run.cost_usd)
        result = {
            "conversation_id": conversation_id,
            "final_answer": run.final_answer,
            "stop_reason": run.stop_reason,
            "steps": [s.view() for s in run.steps],
            "model": model.name,
            "models_used": run.models,
            "protocol": run.protocol,
            "model_calls": run.model_calls,
            "text_tool_calls": run.text_tool_calls,
            "tool_call_replies": run.call_replies,
            "unparsed_call_replies": run.unparsed_call_replies,
            "usage": {
                "prompt_tokens": run.prompt_tokens,
                "completion_tokens": run.completion_tokens,
                "total_tokens": run.prompt_tokens + run.completion_tokens,
            },
            "cost_usd": run.cost_usd,
        }
        conv.remember(cid, result)
        conv.compact(memory.max_stored_bytes)
        store.put(conv)
        add_user_usage(
            store,
            user_id,
            cid,
            model=model.name,
            prompt_tokens=run.prompt_tokens,
            completion_tokens=run.completion_tokens,
            cost=run.cost_usd,
        )
        return result
