"""Replies going out to customers: where they go, what is sent, and what became of each send."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.channels import ChannelKind

_ID_NAMESPACE = uuid.UUID("0b8f1a52-6a0e-4f53-a0c1-41f2d4c9e7aa")


class ReplyTarget(BaseModel):
    """Where an answer to the customer's latest message goes: their channel, their id there, the message answered."""

    model_config = ConfigDict(frozen=True)

    channel: ChannelKind
    recipient: str  # the customer's id on the channel (wa_id or BSUID, PSID, IGSID, TikTok user, address, visitor)
    conversation_key: str  # the thread on the channel (TikTok conversation id, mail thread, chat session)
    endpoint: str | None = None  # the business address written to (phone_number_id, page or account id, mailbox)
    provider_message_id: str  # the customer's message being answered (quote-reply context)
    received_at: AwareDatetime  # customer-service windows count from the customer's last message
    subject: str | None = None


class OutboundKind(StrEnum):
    agent_reply = "agent_reply"  # written by a person: platforms' human-agent allowances apply
    policy_message = "policy_message"  # automated text the tenant's policy asks for


class OutboundMessage(BaseModel):
    """One text to send on a customer's channel (a long reply may be sent as several parts)."""

    schema_version: Literal[1] = 1
    id: str  # deterministic per agent action and part: a redelivered action is not sent twice
    tenant: str
    work_item_id: str
    kind: OutboundKind
    target: ReplyTarget
    text: str
    part: int = 1
    parts: int = 1
    tag: str | None = None  # e.g. Messenger's HUMAN_AGENT outside the standard window
    choices: list[str] = Field(default_factory=list)  # answers offered as buttons (last part) where a sender has them


def outbound_id_for(tenant: str, work_item_id: str, source: str, part: int) -> str:
    """The same action (by its source position or event id) always yields the same outbound ids."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{tenant}\x1f{work_item_id}\x1f{source}\x1f{part}"))


class DeliveryStatus(StrEnum):
    sent = "sent"  # the platform accepted it
    delivered = "delivered"
    read = "read"
    failed = "failed"


class DeliveryEvent(BaseModel):
    """What became of an outbound message: accepted, delivered, read, or failed with the platform's reason."""

    schema_version: Literal[1] = 1
    outbound_id: str | None  # None for a platform status we cannot match to a send of ours
    tenant: str
    work_item_id: str | None
    channel: ChannelKind | None  # None when the reply never got as far as a channel (unknown item)
    status: DeliveryStatus
    at: AwareDatetime
    provider_message_id: str | None = None
    error_code: str | None = None  # the platform's code (131047, 551, 40064, ...) or ours (outside_window, ...)
    error: str | None = None  # one line a person can act on
    attempts: int = 0


class PlatformStatus(BaseModel):
    """A platform's word on a message we sent (a status callback), before it is matched to our send."""

    provider_message_id: str
    status: DeliveryStatus
    at: AwareDatetime
    error_code: str | None = None
    error: str | None = None


STATUS_RANK = {DeliveryStatus.sent: 1, DeliveryStatus.delivered: 2, DeliveryStatus.read: 3, DeliveryStatus.failed: 4}


class SendResult(BaseModel):
    """A channel sender's reading of one platform answer."""

    ok: bool
    provider_message_id: str | None = None
    retry: bool = False  # a throttle or a server fault: the same request may succeed later
    retry_after_s: float | None = None
    error_code: str | None = None
    error: str | None = None
