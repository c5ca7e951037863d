"""Assistant worker handlers: plain async functions over the gateway, memory and tools.

The model-calling commands are in ``chat_handlers`` (complete, chat) and
``agent_handlers`` (run_agent); this module has the rest and ``COMMANDS``.
"""

from __future__ import annotations

from typing import Any

from agents.llm.agent_handlers import handle_run_agent
from agents.llm.chat_handlers import handle_chat, handle_complete
from agents.llm.gateway import LlmGateway
from agents.llm.handler_support import MemoryDefaults
from agents.llm.local_models import CATALOG, model_status
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
from agents.llm.ports import ConversationStore
from agents.llm.templates import TemplateLibrary
from enginedge_streams.errors import NotFoundError, PermanentError
from enginedge_streams.handlers import CommandContext, CommandSpec
from enginedge_streams.keyed_locks import KeyedLocks

__all__ = ["COMMANDS", "MemoryDefaults"]


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
