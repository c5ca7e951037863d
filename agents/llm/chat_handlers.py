"""``assistant.complete`` and ``assistant.chat`` (a conversation with window or summary memory)."""

from __future__ import annotations

from typing import Any

from agents.llm.conversation import (
    add_user_usage,
    build_context,
    summary_messages,
    trim_messages,
)
from agents.llm.gateway import LlmGateway
from agents.llm.handler_support import (
    MemoryDefaults,
    Streamer,
    answer_view,
    new_conversation,
    owner_check,
    record_usage,
)
from agents.llm.memory import Turn
from agents.llm.messages import Chat, Complete
from agents.llm.ports import ChatMessage, ConversationStore
from agents.llm.templates import TemplateLibrary
from enginedge_streams.handlers import CommandContext
from enginedge_streams.keyed_locks import KeyedLocks


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
    streamer = Streamer(ctx) if cmd.stream else None
    outcome = await gateway.chat(
        model,
        messages,
        max_tokens=out_tokens,
        temperature=cmd.temperature,
        attempt=ctx.attempt,
        on_delta=streamer,
    )
    record_usage(ctx, outcome)
    add_user_usage(
        store,
        ctx.user_id,
        ctx.command_id,
        model=outcome.model.name,
        prompt_tokens=outcome.response.prompt_tokens,
        completion_tokens=outcome.response.completion_tokens,
        cost=outcome.cost_usd,
    )
    return {**answer_view(outcome), "trimmed_messages": dropped, "streamed": cmd.stream}


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
        conv = store.get(cmd.conversation_id) or new_conversation(
            cmd.conversation_id, user_id, memory
        )
        owner_check(conv, user_id)
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
            record_usage(ctx, summary)
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
        record_usage(ctx, outcome)
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
            **{k: v for k, v in answer_view(outcome).items() if k != "text"},
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
