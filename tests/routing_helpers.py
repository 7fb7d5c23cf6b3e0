"""Builders for routing tests: real tenant policies and compact InboundMessages."""

from __future__ import annotations

import itertools
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from conftest import ROOT
from contracts.channels import CAPABILITIES, ChannelKind
from contracts.inbound import Attachment, Endpoint, InboundMessage, MessageKind, ReplyRefs, Sender
from routing.decide import decide
from routing.policy import TenantPolicy
from routing.record import record
from routing.state import MemoryState
from workers.policy_files import load_policy

OFFICIAL = {
    ("alkonect", "email"): "support@alkonect.com",
    ("alkonect", "chat"): "https://alkonect.com",
    ("izonie", "email"): "support@izonie.com",
    ("izonie", "chat"): "https://izonie.com",
    ("izonie", "messenger"): "110200300400500",
    ("izonie", "instagram"): "17841400000000123",
    ("izonie", "tiktok"): "7000000000000000123",
    ("conek", "email"): "info.connect.platform@gmail.com",
    ("conek", "whatsapp"): "106540000000001",
}
ZONES = {"alkonect": "Africa/Lagos", "izonie": "Africa/Lagos", "conek": "Africa/Johannesburg"}
_ids = itertools.count(1)


@cache
def policy(tenant: str) -> TenantPolicy:
    return load_policy(ROOT / "deploy" / "policies" / f"{tenant}.yaml")


def local(tenant: str, text: str) -> datetime:
    """A wall-clock time in the tenant's zone."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(ZONES[tenant]))


def msg(
    tenant: str, channel: str, text: str, *, at: str = "2026-11-24T10:00:00", sender: str = "cust-1",
    email: str | None = None, phone: str | None = None, to: str | None = None, provider_id: str | None = None,
    kind: MessageKind = MessageKind.customer_message, subject: str | None = None, body_sha: str | None = None,
    in_reply_to: list[str] | None = None, attachments: list[Attachment] | None = None,
) -> InboundMessage:
    ch = ChannelKind(channel)
    provider_id = provider_id or f"p-{next(_ids)}"
    if ch == ChannelKind.email and email is None:
        email = sender if "@" in sender else f"{sender}@example.com"
        sender = email
    return InboundMessage(
        tenant=tenant, channel=ch, kind=kind, provider_message_id=provider_id,
        conversation_key=(in_reply_to or [provider_id])[0] if ch == ChannelKind.email else f"conv-{sender}", sender=Sender(platform_id=sender, email=email, phone=phone),
        addressed_to=[Endpoint(kind=CAPABILITIES[ch].endpoint_kind, value=to or OFFICIAL[(tenant, channel)])],
        received_at=local(tenant, at), text=text, subject=subject,
        provider={"body_sha256": body_sha} if body_sha else {},
        reply=ReplyRefs(in_reply_to=in_reply_to or []), attachments=attachments or [],
    )


class Stream:
    """Decide and record messages in order against one state, as the dry-run does."""

    def __init__(self, tenant: str) -> None:
        self.policy = policy(tenant)
        self.state = MemoryState()

    def __call__(self, message: InboundMessage):
        decision = decide(message, self.state, message.received_at, self.policy)
        record(self.state, message, decision, self.policy)
        return decision
