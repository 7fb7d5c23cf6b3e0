"""The normalized inbound message every channel adapter produces."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.channels import ChannelKind, EndpointKind

_ID_NAMESPACE = uuid.UUID("6f1c8f0e-3b8e-4c8e-9a57-0d5e0b8a1c11")


class MessageKind(StrEnum):
    """What an inbound event is; only customer_message (and its edits) may open or update work."""

    customer_message = "customer_message"
    reaction = "reaction"
    reaction_removed = "reaction_removed"
    edit = "edit"  # the customer edited an earlier message
    unsend = "unsend"  # the customer deleted an earlier message
    system_notice = "system_notice"  # platform notice about the customer (number changed, identity changed)
    echo = "echo"  # the business's own outbound message, echoed back
    auto_reply = "auto_reply"  # RFC 3834 auto-submitted mail, out-of-office, vacation
    bounce = "bounce"  # delivery status notification
    complaint = "complaint"  # ARF abuse report from a mailbox provider
    read_receipt = "read_receipt"  # MDN
    system_notification = "system_notification"  # mail from our own helpdesk / notifier


class AdapterFlag(StrEnum):
    """Facts the adapter noticed about the message on the wire."""

    echo = "echo"
    auto_submitted = "auto_submitted"
    unsupported_type = "unsupported_type"
    forwarded = "forwarded"
    frequently_forwarded = "frequently_forwarded"
    mailing_list = "mailing_list"
    has_quoted_history = "has_quoted_history"
    empty_text = "empty_text"
    referral = "referral"  # came from an ad / referral link


class Sender(BaseModel):
    """Who wrote: the channel's own id plus whatever contact facts the channel exposes."""

    model_config = ConfigDict(frozen=True)

    platform_id: str  # email address, WhatsApp wa_id or user_id, PSID, IGSID, TikTok user id, chat visitor id
    handle: str | None = None  # username / @handle where the platform has one
    display_name: str | None = None
    email: str | None = None
    phone: str | None = None  # E.164 digits where known; never required (WhatsApp usernames may hide it)

    def identity_keys(self, channel: ChannelKind) -> list[str]:
        """Stable keys under which this sender may be linked to the same customer on other channels."""
        keys = [f"{channel.value}:{self.platform_id.lower()}"]
        if self.email:
            keys.append(f"email:{self.email.lower()}")
        if self.phone:
            keys.append(f"phone:{''.join(ch for ch in self.phone if ch.isdigit())}")
        return list(dict.fromkeys(keys))


class Endpoint(BaseModel):
    """A business-side address: a mailbox, a phone_number_id, a page/account id, a chat origin."""

    model_config = ConfigDict(frozen=True)

    kind: EndpointKind
    value: str

    def normalized(self) -> str:
        """The comparison form: case-folded, trailing slashes dropped for origins."""
        v = self.value.strip().lower()
        return v.rstrip("/") if self.kind == EndpointKind.chat_origin else v


class Attachment(BaseModel):
    """Metadata of one attachment; content stays with the provider, or in the content store (mail) by reference."""

    filename: str | None = None  # made safe by the adapter (no path parts, no control characters)
    content_type: str | None = None
    size: int | None = None
    provider_id: str | None = None  # media id / url on platforms
    inline: bool = False
    content_id: str | None = None
    kind: str | None = None  # platform attachment type: image, video, audio, sticker, location, ...
    sha256: str | None = None  # of the decoded bytes, when the content store keeps them
    uri: str | None = None  # where the content store keeps them (file:///... for the local-disk store)
    dropped: str | None = None  # why the bytes were not kept (over the attachment size limit); metadata stays


class ReplyRefs(BaseModel):
    """References that thread a message onto earlier ones."""

    message_id: str | None = None  # RFC 5322 Message-ID (email)
    in_reply_to: list[str] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    reply_to_provider_id: str | None = None  # platform id of the message replied/reacted to
    thread_token: str | None = None  # e.g. the uuid of a reply+<uuid>@ address


class InboundMessage(BaseModel):
    """One customer-side event, normalized across channels (schema version 1)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    id: str = ""  # filled by `with_id()` from tenant, channel and provider id when empty
    tenant: str
    channel: ChannelKind
    kind: MessageKind = MessageKind.customer_message
    provider_message_id: str  # the idempotency key across provider redeliveries
    conversation_key: str  # thread key within the channel
    sender: Sender
    addressed_to: list[Endpoint] = Field(default_factory=list)  # every business address it was sent to
    sent_at: AwareDatetime | None = None
    received_at: AwareDatetime
    subject: str | None = None
    text: str = ""  # visible text: quoted history and signature removed
    quoted_text: str | None = None  # what was removed, kept for agents
    message_type: str = "text"  # the provider's type (text, image, interactive, ...)
    attachments: list[Attachment] = Field(default_factory=list)
    reply: ReplyRefs = Field(default_factory=ReplyRefs)
    flags: list[AdapterFlag] = Field(default_factory=list)
    provider: dict[str, Any] = Field(default_factory=dict)  # opaque provider bag

    def model_post_init(self, __context: Any) -> None:
        if not self.id:
            self.id = message_id_for(self.tenant, self.channel, self.provider_message_id)

    @property
    def effective_time(self) -> datetime:
        """When the message reached us (the clock-start basis)."""
        return self.received_at


def message_id_for(tenant: str, channel: ChannelKind | str, provider_message_id: str) -> str:
    """Deterministic id: a provider redelivery gets the same id."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{tenant}\x1f{ChannelKind(channel).value}\x1f{provider_message_id}"))
