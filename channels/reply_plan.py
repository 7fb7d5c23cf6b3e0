"""How a reply goes out on a channel: inside its customer-service window, split to its text limit, or refused."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from contracts.channels import CAPABILITIES
from contracts.outbound import (
    OutboundKind,
    OutboundMessage,
    ReplyTarget,
    outbound_id_for,
)

MAX_PARTS = 4  # beyond this a reply is a document, not a chat message: the agent is told to shorten it
_BREAKS = (re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?])\s+"), re.compile(r"\s+"))


@dataclass(frozen=True)
class Refusal:
    """Why a reply cannot be sent as it is; `code` is ours, the text tells the agent what to do."""

    code: str
    reason: str


def plan_reply(text: str, target: ReplyTarget, *, tenant: str, work_item_id: str, source: str, kind: OutboundKind,
               now: datetime, choices: Sequence[str] = ()) -> list[OutboundMessage] | Refusal:
    """The parts to send, or the refusal; `source` identifies the action so ids repeat on redelivery; `choices`
    (answers a sender may offer as buttons) go with the last part."""
    caps = CAPABILITIES[target.channel]
    text = text.strip()
    if not text:
        return Refusal("empty_text", "the reply has no text")
    tag = None
    if caps.reply_window is not None and now - target.received_at > caps.reply_window:
        human_window = caps.human_reply_window if kind == OutboundKind.agent_reply else None
        if human_window is None or now - target.received_at > human_window:
            hours = (human_window or caps.reply_window).total_seconds() / 3600
            return Refusal("outside_window", f"{target.channel.value} allows free text only within {hours:g} h of "
                           f"the customer's last message ({target.received_at.isoformat()}); an approved template "
                           "is needed now, and none is configured — answer on another channel or wait for the customer")
        tag = "HUMAN_AGENT"
    parts = split_text(text, caps.max_text_chars)
    if len(parts) > MAX_PARTS:
        return Refusal("text_too_long", f"the reply needs {len(parts)} messages of at most {caps.max_text_chars} "
                       f"characters on {target.channel.value} (limit {MAX_PARTS}); shorten it")
    return [OutboundMessage(id=outbound_id_for(tenant, work_item_id, source, n), tenant=tenant,
                            work_item_id=work_item_id, kind=kind, target=target, text=part, part=n, parts=len(parts),
                            tag=tag, choices=list(choices) if n == len(parts) else [])
            for n, part in enumerate(parts, 1)]


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at paragraph, line, sentence or word breaks where possible."""
    parts: list[str] = []
    while len(text) > limit:
        window = text[:limit + 1]
        cut = next((m.start() for pattern in _BREAKS for m in reversed(list(pattern.finditer(window)))
                    if limit // 2 < m.start() <= limit), limit)
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*parts, text] if text else parts
