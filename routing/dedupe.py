"""Duplicate and repeated-request detection: provider redeliveries, repeats, cross-channel asks, follow-ups."""

from __future__ import annotations

from contracts.channels import CAPABILITIES
from contracts.decision import DecisionFlag as F
from contracts.inbound import InboundMessage
from routing.analysis import Analysis
from routing.policy import DedupeRule
from routing.similarity import similarity
from routing.state import MemoryState, OpenItem

_SHORT_NUDGE_WORDS = 8  # "any update?", "hello??" — a nudge about whatever is already open


def redelivery_key(message: InboundMessage) -> str:
    """Same provider id = same message; email adds a body hash, since senders do reuse Message-IDs."""
    body = message.provider.get("body_sha256", "") if message.channel == "email" else ""
    return f"{message.channel.value}\x1f{message.provider_message_id}\x1f{body}"


def find_merge_target(
    state: MemoryState, message: InboundMessage, customer: str, analysis: Analysis, rule: DedupeRule
) -> tuple[OpenItem, list[F], str] | None:
    """The open work item this message belongs to, the flags that say why, and a sentence for the trace."""
    received = message.received_at
    window = rule.repeat_window.as_timedelta()

    def eligible(item: OpenItem) -> bool:
        same_channel = item.channel == message.channel or message.channel in item.channels_seen
        return received - item.last_seen <= window and (rule.cross_channel or same_channel)

    def flags_for(item: OpenItem, base: F) -> list[F]:
        cross = message.channel not in item.channels_seen and message.channel != item.channel
        return [base, F.cross_channel] if cross else [base]

    for ref in sorted(analysis.references):
        item = state.item_for_reference(ref)
        if item is not None and eligible(item):
            return item, flags_for(item, F.repeated_request), f"same reference {ref} as open item {item.id}"

    if CAPABILITIES[message.channel].threaded_by_headers:
        # Only explicit reply headers thread: a reused Message-ID must not pull unrelated mail into a thread.
        for key in (*message.reply.in_reply_to, *message.reply.references):
            item = state.item_for_conversation(key)
            if item is not None and eligible(item):
                return item, [F.follow_up], f"reply in the thread of open item {item.id}"

    best: tuple[float, OpenItem] | None = None
    for item in state.open_items_for(customer):
        if not eligible(item) or (item.references and analysis.references and not item.references & analysis.references):
            continue  # a different order is a different request
        score = similarity(analysis.tokens, item.tokens)
        if item.category == analysis.category:
            score = max(score, rule.similarity)
        if score >= rule.similarity and (best is None or score > best[0]):
            best = (score, item)
    if best is not None:
        score, item = best
        return item, flags_for(item, F.repeated_request), (
            f"same customer asked again within {rule.repeat_window} (similarity {score:.2f}, item {item.id})"
        )

    nudge = analysis.category == "general" and len(message.text.split()) <= _SHORT_NUDGE_WORDS
    items = [i for i in state.open_items_for(customer) if eligible(i)]
    if nudge and items:
        item = max(items, key=lambda i: i.last_seen)
        return item, [F.follow_up], f"short follow-up to the customer's open item {item.id}"
    return None
