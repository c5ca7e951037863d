"""Conversation context: what of the history goes to the model, and summarising the rest.

* ``window``: the last ``window_turns`` messages, then fewer while the prompt
  does not fit the model's context window (oldest dropped first).
* ``summary``: the same, but messages that fall out are folded into a running
  summary by a model call, and the summary goes into the system prompt.

The system prompt and the new message are always kept; if those alone do not
fit, the request fails with ``CONTEXT_TOO_LARGE`` before any provider call.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.llm.memory import Conversation, Turn, UserUsage
from agents.llm.ports import ChatMessage, ConversationStore, TokenCounter
from enginedge_streams.errors import LimitExceededError

SUMMARY_PROMPT = (
    "Summarise the conversation below for your own memory in at most {words} words. Keep "
    "names, numbers, facts, decisions and open questions. Answer with the summary only."
)


@dataclass
class Context:
    messages: list[ChatMessage]
    included: int  # history messages sent
    overflow: list[Turn]  # unsummarised messages that did not fit (oldest first)
    prompt_tokens: int


def system_text(conv: Conversation, system: str | None) -> str:
    parts = [p for p in (system or conv.system_prompt or "",) if p]
    if conv.summary:
        parts.append(f"Summary of the earlier conversation: {conv.summary}")
    return "\n\n".join(parts)


def build_context(
    conv: Conversation,
    new_message: str,
    *,
    budget: int,
    counter: TokenCounter,
    system: str | None = None,
) -> Context:
    sys_text = system_text(conv, system)
    head = [ChatMessage("system", sys_text)] if sys_text else []
    tail = [ChatMessage("user", new_message)]
    base = counter.count_messages(head + tail)
    if base > budget:
        raise LimitExceededError(
            f"the message and system prompt need ~{base} tokens; the model leaves {budget} "
            "for the prompt",
            code="CONTEXT_TOO_LARGE",
            details={"prompt_tokens": base, "budget": budget},
        )
    history = conv.messages()[conv.summarized_turns :]
    window = history[-conv.window_turns :] if conv.window_turns else []
    chosen: list[ChatMessage] = []
    used = base
    for turn in reversed(window):
        msg = ChatMessage(turn.role, turn.content)
        cost = counter.count_messages([msg]) - 3
        if used + cost > budget:
            break
        chosen.insert(0, msg)
        used += cost
    overflow = history[: len(history) - len(chosen)]
    return Context(head + chosen + tail, len(chosen), overflow, used)


def transcript(turns: list[Turn], *, max_chars: int) -> str:
    lines = [f"{t.role.capitalize()}: {t.content}" for t in turns]
    text = "\n".join(lines)
    return text[-max_chars:]


def summary_messages(
    conv: Conversation, turns: list[Turn], *, words: int, max_chars: int
) -> list[ChatMessage]:
    body = transcript(turns, max_chars=max_chars)
    if conv.summary:
        body = f"Earlier summary: {conv.summary}\n\n{body}"
    return [
        ChatMessage("system", SUMMARY_PROMPT.format(words=words)),
        ChatMessage("user", body),
    ]


def add_user_usage(
    store: ConversationStore,
    user_id: str | None,
    command_id: str,
    *,
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    cost: float,
) -> UserUsage | None:
    """Add one command's usage to its user's totals (once per command id)."""
    if not user_id:
        return None
    usage = store.get_usage(user_id) or UserUsage(user_id=user_id)
    if usage.add(command_id, model, prompt_tokens, completion_tokens, cost):
        store.put_usage(usage)
    return usage


def trim_messages(
    messages: list[ChatMessage], budget: int, counter: TokenCounter
) -> tuple[list[ChatMessage], int]:
    """Drop the oldest non-system messages (never the last) until the prompt fits ``budget``."""
    kept = list(messages)
    dropped = 0
    while counter.count_messages(kept) > budget:
        index = next((i for i, m in enumerate(kept[:-1]) if m.role != "system"), None)
        if index is None:
            raise LimitExceededError(
                f"the prompt needs ~{counter.count_messages(kept)} tokens; the model leaves "
                f"{budget} for the prompt",
                code="CONTEXT_TOO_LARGE",
                details={"prompt_tokens": counter.count_messages(kept), "budget": budget},
            )
        del kept[index]
        dropped += 1
    return kept, dropped
