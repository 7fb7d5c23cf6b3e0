"""TikTok Business Messaging webhook body (`im_receive_msg` / `im_send_msg`) -> InboundMessages.

The envelope and content shapes come from Chatwoot's TikTok channel, not from an official doc page
(see reference/channel-protocols.md §3.1): treat field names beyond those as unverified.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from channels.errors import PayloadError
from channels.webhook_json import (
    arrival_time,
    epoch_to_utc,
    load_object,
    sub_object,
    text_of,
)
from contracts.channels import ChannelKind, EndpointKind
from contracts.inbound import (
    AdapterFlag,
    Attachment,
    Endpoint,
    InboundMessage,
    MessageKind,
    Sender,
)

log = logging.getLogger(__name__)

RECEIVE_EVENTS = frozenset({"im_receive_msg"})
ECHO_EVENTS = frozenset({"im_send_msg"})  # our own sends (also those made in the TikTok app)
_MEDIA_TYPES = ("image", "video", "audio", "file")
_WHAT = "TikTok webhook body"


def normalize_tiktok(
    body: bytes | str | Mapping[str, Any], *, tenant: str, received_at: datetime | None = None
) -> list[InboundMessage]:
    """The customer message (or business echo) in the body; read receipts and unknown events give [].

    Raises PayloadError when the body or its `content` (a JSON string inside the JSON) is not a JSON
    object, or `event` is missing. A message event whose content lacks a message id or sender is
    skipped: it cannot be deduplicated or answered.
    """
    envelope = load_object(body, what=_WHAT)
    event = envelope.get("event")
    if not isinstance(event, str):
        raise PayloadError(f"{_WHAT}: 'event' must be a string, got {event!r}")
    if event not in RECEIVE_EVENTS | ECHO_EVENTS:
        return []
    raw_content = envelope.get("content")
    if raw_content is None:
        raise PayloadError(f"{_WHAT}: {event} without 'content'")
    content = load_object(raw_content, what=f"{_WHAT} 'content'")
    built = _inbound(envelope, content, tenant, received_at, echo=event in ECHO_EVENTS)
    return [built] if built is not None else []


def _inbound(
    envelope: dict[str, Any], content: dict[str, Any], tenant: str, received_at: datetime | None, *, echo: bool
) -> InboundMessage | None:
    message_id = text_of(content.get("message_id"))
    from_id = text_of(sub_object(content, "from_user").get("id"))
    to_id = text_of(sub_object(content, "to_user").get("id"))
    business_id = text_of(envelope.get("user_openid")) or (from_id if echo else to_id)
    conversation = text_of(content.get("conversation_id"))
    if not message_id or not from_id:
        log.warning("TikTok %s without message_id or from_user.id skipped", envelope.get("event"))
        return None
    customer_id = to_id if echo else from_id
    mtype = text_of(content.get("type")) or "unknown"
    text, attachments, flags, extra = _body(content, mtype)
    sent_at = epoch_to_utc(content.get("timestamp"), unit="ms") or epoch_to_utc(envelope.get("create_time"), unit="s")
    reply_to = text_of(sub_object(content, "referenced_message_info").get("referenced_message_id"))
    provider = {
        "business_id": business_id,
        "conversation_id": conversation,
        "to_user_id": to_id,
        "client_key": text_of(envelope.get("client_key")),
        **extra,
    }
    return InboundMessage(
        tenant=tenant,
        channel=ChannelKind.tiktok,
        kind=MessageKind.echo if echo else MessageKind.customer_message,
        provider_message_id=message_id,
        conversation_key=conversation or customer_id or from_id,
        sender=Sender(platform_id=from_id, handle=_handle(content)),
        addressed_to=[Endpoint(kind=EndpointKind.tiktok_business_id, value=business_id)] if business_id else [],
        sent_at=sent_at,
        received_at=arrival_time(received_at, sent_at),
        text=text,
        message_type=mtype,
        attachments=attachments,
        reply={"reply_to_provider_id": reply_to} if reply_to else {},
        flags=([AdapterFlag.echo] if echo else []) + flags,
        provider={k: v for k, v in provider.items() if v is not None},
    )


def _handle(content: dict[str, Any]) -> str | None:
    """The sender's TikTok username (`from`), else its `unique_identifier`."""
    return text_of(content.get("from")) or text_of(sub_object(content, "from_user").get("unique_identifier"))


def _body(content: dict[str, Any], mtype: str) -> tuple[str, list[Attachment], list[AdapterFlag], dict[str, Any]]:
    """Visible text, attachments, flags and provider extras of one content object."""
    if mtype == "text":
        return text_of(sub_object(content, "text").get("body")) or "", [], [], {}
    if mtype in _MEDIA_TYPES and sub_object(content, mtype).get("media_id"):
        media = sub_object(content, mtype)
        return "", [Attachment(kind=mtype, provider_id=text_of(media.get("media_id")))], [], {}
    if mtype == "share_post" and sub_object(content, "share_post").get("embed_url"):
        post = sub_object(content, "share_post")
        attachment = Attachment(kind="share_post", provider_id=text_of(post.get("embed_url")))
        return "", [attachment], [], {"video_id": text_of(post.get("video_id"))}
    # Stickers and anything newer have no content we can show; the agent must look in the TikTok app.
    return "", [], [AdapterFlag.unsupported_type], {}
