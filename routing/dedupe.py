"""Duplicate and repeated-request detection: provider redeliveries, repeats, cross-channel asks, follow-ups."""

from __future__ import annotations

from contracts.channels import CAPABILITIES, ChannelKind
from contracts.decision import DecisionFlag as F
from contracts.inbound import InboundMessage, Sender
from routing.analysis import Analysis
from routing.policy import DedupeRule
from routing.similarity import similarity
from routing.state import MemoryState, OpenItem

_SHORT_NUDGE_WORDS = 8  # "any update?", "hello??" — a nudge about whatever is already open


def redelivery_key(message: InboundMessage) -> str:
    """Same provider id = same message; email adds a body hash, since senders do reuse Message-IDs."""
    body = message.provider.get("body_sha256", "") if message.channel == "email" else ""
    return f"{message.channel.value}\x1f{message.provider_message_id}\x1f{body}"


def identity_keys(message: InboundMessage) -> list[str]:
    """`message.sender.identity_keys(message.channel)`, kept for the last sender: decide() and record() both ask.

    Senders are frozen, so the same sender object on the same channel always has the same keys; callers only
    read the list.
    """
    global _last_identity
    sender, channel = message.sender, message.channel
    last = _last_identity
    if last[0] is sender and last[1] == channel:
        return last[2]
    keys = sender.identity_keys(channel)
    _last_identity = (sender, channel, keys)
    return keys


_last_identity: tuple[Sender | None, ChannelKind | None, list[str]] = (None, None, [])


def subject_key(message: InboundMessage) -> str | None:
    """The sender + normalised subject a mail is threaded by when its reply headers thread nothing (the adapter
    strips `Re:`, `AW:`, `Fwd:` ... into `provider["thread_subject"]`); None on other channels or without one."""
    subject = message.provider.get("thread_subject")
    if not subject or not CAPABILITIES[message.channel].threaded_by_headers:
        return None
    return f"subject\x1f{message.sender.platform_id.lower()}\x1f{subject}"


def subject_item(state: MemoryState, message: InboundMessage, analysis: Analysis, rule: DedupeRule) -> OpenItem | None:
    """The sender's open item with the same subject, last seen within `subject_window`, unless the message names
    a different order (a different request)."""
    key = subject_key(message)
    item = state.item_for_conversation(key) if key else None
    if item is None or message.received_at - item.last_seen > rule.subject_window.as_timedelta():
        return None
    if item.references and analysis.references and not item.references & analysis.references:
        return None
    return item


def live_session_item(state: MemoryState, message: InboundMessage, rule: DedupeRule) -> OpenItem | None:
    """The open work item of the live-chat session this message continues, if the session is still going."""
    if not CAPABILITIES[message.channel].live:
        return None
    item = state.item_for_conversation(message.conversation_key)
    if item is None or message.received_at - item.last_seen > rule.session_idle.as_timedelta():
        return None
    return item


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

    session = live_session_item(state, message, rule)
    if session is not None:
        return session, [F.follow_up], f"next line of the live chat session of open item {session.id}"

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
        # last resort, for clients that strip References: the same sender on the same subject
        item = subject_item(state, message, analysis, rule)
        if item is not None:
            return item, [F.follow_up], (
                f"no reply header threads it: same sender and subject as open item {item.id} "
                f"within {rule.subject_window}")

    best: tuple[float, OpenItem] | None = None
    open_items = state.open_items_for(customer)
    for item in open_items:
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

    if not open_items or analysis.category != "general" or len(message.text.split()) > _SHORT_NUDGE_WORDS:
        return None
    items = [i for i in open_items if eligible(i)]
    if items:
        item = max(items, key=lambda i: i.last_seen)
        return item, [F.follow_up], f"short follow-up to the customer's open item {item.id}"
    return None
