"""Assistant worker handlers: plain async functions over the gateway, memory and tools."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from agents.llm.agent_loop import AgentLoop, Step, observation_text
from agents.llm.conversation import (
    add_user_usage,
    build_context,
    summary_messages,
    trim_messages,
)
from agents.llm.gateway import ChatOutcome, LlmGateway
from agents.llm.local_models import CATALOG, model_status
from agents.llm.memory import Conversation, Turn
from agents.llm.messages import (
    Chat,
    Complete,
    DeleteConversation,
    Embed,
    GetConversation,
    GetUsage,
    ListModels,
    RunAgent,
)
from agents.llm.ports import ChatMessage, ConversationStore, ToolResult, ToolRunner
from agents.llm.templates import TemplateLibrary
from enginedge_streams.errors import NotFoundError, PermanentError, ValidationError
from enginedge_streams.handlers import CommandContext, CommandSpec
from enginedge_streams.keyed_locks import KeyedLocks


@dataclass(frozen=True)
class MemoryDefaults:
    strategy: str = "window"
    window_turns: int = 20
    max_stored_bytes: int = 512_000
    summary_words: int = 150
    agent_tool_timeout_s: float = 30.0


def _usage(ctx: CommandContext, outcome: ChatOutcome) -> None:
    ctx.add_usage(**outcome.usage(), cost_usd=outcome.cost_usd, model=outcome.model.name)


def _answer(outcome: ChatOutcome) -> dict[str, Any]:
    r = outcome.response
    return {
        "text": r.text,
        "model": outcome.model.name,
        "provider": r.provider or outcome.model.provider,
        "usage": outcome.usage(),
        "cost_usd": outcome.cost_usd,
        "finish_reason": r.finish_reason,
        "fallback_used": outcome.fallback_used,
    }


class _Streamer:
    """Publishes the partial text of a streamed answer as progress (throttled)."""

    def __init__(self, ctx: CommandContext, every_s: float = 0.25) -> None:
        self.ctx = ctx
        self.every_s = every_s
        self.parts: list[str] = []
        self.last = 0.0

    def __call__(self, delta: str) -> None:
        self.parts.append(delta)
        now = time.monotonic()
        if now - self.last >= self.every_s:
            self.last = now
            self.ctx.progress(partial_text="".join(self.parts), chunks=len(self.parts))


async def handle_complete(
    cmd: Complete,
    *,
    gateway: LlmGateway,
    templates: TemplateLibrary,
    store: ConversationStore,
    ctx: CommandContext,
) -> dict[str, Any]:
    model = gateway.resolve(cmd.model)
    if cmd.template is not None:
        system, user = templates.get(cmd.template).render(dict(cmd.variables))
        messages = [ChatMessage("system", cmd.system or system), ChatMessage("user", user)]
    elif cmd.prompt is not None:
        messages = [ChatMessage("user", cmd.prompt)]
        if cmd.system:
            messages.insert(0, ChatMessage("system", cmd.system))
    else:
        messages = [ChatMessage(m.role, m.content) for m in cmd.messages or []]
        if cmd.system:
            messages.insert(0, ChatMessage("system", cmd.system))
    messages = [m for m in messages if m.content or m.role != "system"]
    out_tokens = gateway.output_tokens(model, cmd.max_tokens)
    messages, dropped = trim_messages(
        messages, gateway.prompt_budget(model, out_tokens), gateway.counter
    )
    streamer = _Streamer(ctx) if cmd.stream else None
    outcome = await gateway.chat(
        model,
        messages,
        max_tokens=out_tokens,
        temperature=cmd.temperature,
        attempt=ctx.attempt,
        on_delta=streamer,
    )
    _usage(ctx, outcome)
    add_user_usage(
        store,
        ctx.user_id,
        ctx.command_id,
        model=outcome.model.name,
        prompt_tokens=outcome.response.prompt_tokens,
        completion_tokens=outcome.response.completion_tokens,
        cost=outcome.cost_usd,
    )
    return {**_answer(outcome), "trimmed_messages": dropped, "streamed": cmd.stream}


def _owner_check(conv: Conversation, user_id: str | None) -> None:
    if conv.user_id and user_id and conv.user_id != user_id:
        raise PermanentError(
            f"conversation {conv.conversation_id!r} belongs to another user",
            code="CONVERSATION_FORBIDDEN",
        )


def _new_conversation(
    conversation_id: str, user_id: str | None, defaults: MemoryDefaults
) -> Conversation:
    return Conversation(
        conversation_id=conversation_id,
        user_id=user_id,
        strategy="summary" if defaults.strategy == "summary" else "window",
        window_turns=defaults.window_turns,
    )


async def handle_chat(
    cmd: Chat,
    *,
    gateway: LlmGateway,
    store: ConversationStore,
    locks: KeyedLocks,
    memory: MemoryDefaults,
    ctx: CommandContext,
) -> dict[str, Any]:
    user_id = cmd.user_id or ctx.user_id
    async with locks.hold(cmd.conversation_id):
        conv = store.get(cmd.conversation_id) or _new_conversation(
            cmd.conversation_id, user_id, memory
        )
        _owner_check(conv, user_id)
        if ctx.command_id in conv.applied:  # this turn was already taken (redelivery)
            return dict(conv.applied[ctx.command_id])
        if cmd.system is not None:
            conv.system_prompt = cmd.system
        if cmd.memory is not None:
            conv.strategy = cmd.memory.strategy or conv.strategy
            if cmd.memory.window_turns is not None:
                conv.window_turns = cmd.memory.window_turns
        model = gateway.resolve(cmd.model)
        out_tokens = gateway.output_tokens(model, cmd.max_tokens)
        budget = gateway.prompt_budget(model, out_tokens)
        context = build_context(conv, cmd.message, budget=budget, counter=gateway.counter)
        summarised = 0
        cost = 0.0
        if conv.strategy == "summary" and context.overflow:
            words = memory.summary_words
            prompt = summary_messages(conv, context.overflow, words=words, max_chars=budget * 3)
            prompt, _ = trim_messages(prompt, budget, gateway.counter)
            summary = await gateway.chat(
                model,
                prompt,
                max_tokens=min(out_tokens, words * 2),
                temperature=0.2,
                attempt=ctx.attempt,
            )
            _usage(ctx, summary)
            conv.summary = summary.response.text.strip()
            conv.summarized_turns += len(context.overflow)
            conv.add_cost(
                summary.response.prompt_tokens, summary.response.completion_tokens, summary.cost_usd
            )
            cost += summary.cost_usd
            summarised = len(context.overflow)
            context = build_context(conv, cmd.message, budget=budget, counter=gateway.counter)
        outcome = await gateway.chat(
            model,
            context.messages,
            max_tokens=out_tokens,
            temperature=cmd.temperature,
            attempt=ctx.attempt,
        )
        _usage(ctx, outcome)
        r = outcome.response
        conv.turns.append(
            Turn(
                role="user", content=cmd.message, command_id=ctx.command_id, tokens=r.prompt_tokens
            )
        )
        conv.turns.append(
            Turn(
                role="assistant",
                content=r.text,
                command_id=ctx.command_id,
                model=outcome.model.name,
                tokens=r.completion_tokens,
                cost_usd=outcome.cost_usd,
            )
        )
        conv.add_cost(r.prompt_tokens, r.completion_tokens, outcome.cost_usd)
        cost += outcome.cost_usd
        result = {
            "conversation_id": conv.conversation_id,
            "reply": r.text,
            **{k: v for k, v in _answer(outcome).items() if k != "text"},
            "cost_usd": round(cost, 10),
            "context": {
                "strategy": conv.strategy,
                "history_messages_sent": context.included,
                "left_out": len(context.overflow),
                "summarised_now": summarised,
                "prompt_tokens_estimate": context.prompt_tokens,
            },
            "conversation": {
                "turns": len(conv.turns),
                "prompt_tokens": conv.prompt_tokens,
                "completion_tokens": conv.completion_tokens,
                "cost_usd": conv.cost_usd,
            },
        }
        conv.remember(ctx.command_id, result)
        conv.compact(memory.max_stored_bytes)
        store.put(conv)
        used = ctx.usage
        add_user_usage(
            store,
            user_id,
            ctx.command_id,
            model=outcome.model.name,
            prompt_tokens=used.prompt_tokens or 0 if used else 0,
            completion_tokens=used.completion_tokens or 0 if used else 0,
            cost=cost,
        )
        return result


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
        conv = store.get(conversation_id) or _new_conversation(conversation_id, user_id, memory)
        _owner_check(conv, user_id)
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


async def handle_get_conversation(
    cmd: GetConversation, *, store: ConversationStore
) -> dict[str, Any]:
    conv = store.get(cmd.conversation_id)
    if conv is None:
        raise NotFoundError(f"no conversation {cmd.conversation_id!r}")
    return conv.view(last=cmd.last)


async def handle_delete_conversation(
    cmd: DeleteConversation, *, store: ConversationStore, locks: KeyedLocks
) -> dict[str, Any]:
    async with locks.hold(cmd.conversation_id):
        deleted = store.delete(cmd.conversation_id)
    return {"conversation_id": cmd.conversation_id, "deleted": deleted}


async def handle_list_models(
    cmd: ListModels, *, gateway: LlmGateway, templates: TemplateLibrary
) -> dict[str, Any]:
    models = gateway.listing()
    if cmd.provider:
        models = [m for m in models if m["provider"] == cmd.provider]
    try:
        default: str | None = gateway.resolve(None).name
    except Exception:
        default = None
    for m in models:
        m["default"] = m["name"] == default
        if m["provider"] == "local" and m["name"] in CATALOG:
            installed, status = model_status(m["name"])
            m["available"] = m["available"] and installed
            m["local"] = {"title": CATALOG[m["name"]].title, "status": status}
    return {
        "models": models,
        "default_model": default,
        "providers": sorted(gateway.providers),
        "templates": templates.listing(),
    }


async def handle_usage(cmd: GetUsage, *, store: ConversationStore) -> dict[str, Any]:
    usage = store.get_usage(cmd.user_id)
    if usage is None:
        raise NotFoundError(f"no usage recorded for user {cmd.user_id!r}")
    return usage.model_dump(mode="json", exclude={"recent_commands"})


async def handle_embed(cmd: Embed, *, gateway: LlmGateway, ctx: CommandContext) -> dict[str, Any]:
    info = gateway.registry.get(cmd.model)
    if info is None or info.kind != "embedding":
        raise PermanentError(f"{cmd.model!r} is not an embedding model", code="UNSUPPORTED_MODEL")
    provider = gateway.providers.get(info.provider)
    embed = getattr(provider, "embed", None)
    if embed is None:
        raise PermanentError(
            f"provider {info.provider!r} is not configured for embeddings",
            code="PROVIDER_NOT_CONFIGURED",
        )
    try:
        vectors, tokens = await embed(cmd.texts, model=info.api_model)
    except Exception:
        gateway.metrics.external_call(info.provider, error=True)
        raise
    gateway.metrics.external_call(info.provider, error=False)
    cost = info.cost(tokens, 0)
    ctx.add_usage(prompt_tokens=tokens, total_tokens=tokens, cost_usd=cost, model=info.name)
    return {
        "model": info.name,
        "dimension": len(vectors[0]) if vectors else 0,
        "vectors": vectors,
        "usage": {"prompt_tokens": tokens},
        "cost_usd": cost,
    }


COMMANDS = [
    CommandSpec(
        "assistant.complete",
        Complete,
        handle_complete,
        "One completion from a prompt, messages or a template (text, usage, cost).",
    ),
    CommandSpec(
        "assistant.chat",
        Chat,
        handle_chat,
        "One turn of a conversation with memory (window or summary strategy).",
    ),
    CommandSpec(
        "assistant.run_agent",
        RunAgent,
        handle_run_agent,
        "ReAct agent: tools run on the tool worker over the bus; answer plus step trace.",
    ),
    CommandSpec(
        "conversation.get",
        GetConversation,
        handle_get_conversation,
        "A conversation's turns, summary and cost.",
        read_only=True,
    ),
    CommandSpec(
        "conversation.delete",
        DeleteConversation,
        handle_delete_conversation,
        "Forget a conversation.",
    ),
    CommandSpec(
        "models.list",
        ListModels,
        handle_list_models,
        "Models (context window, output cap, prices, availability) and prompt templates.",
        read_only=True,
    ),
    CommandSpec(
        "usage.get", GetUsage, handle_usage, "Tokens and cost summed for a user.", read_only=True
    ),
    CommandSpec(
        "assistant.embed",
        Embed,
        handle_embed,
        "Embedding vectors from an embedding model (OpenAI or compatible).",
    ),
]
