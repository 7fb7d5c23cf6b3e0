"""Messenger / Instagram webhook body (Graph `object: page | instagram`) -> InboundMessages."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from channels.errors import PayloadError
from channels.meta.events import EventContent, read_event
from channels.webhook_json import (
    arrival_time,
    epoch_to_utc,
    load_object,
    object_list,
    sub_object,
    text_of,
)
from contracts.channels import ChannelKind, EndpointKind
from contracts.inbound import AdapterFlag, Endpoint, InboundMessage, MessageKind, Sender

log = logging.getLogger(__name__)

CHANNEL_OF_OBJECT = {"page": ChannelKind.messenger, "instagram": ChannelKind.instagram}
_ENDPOINT_KIND = {ChannelKind.messenger: EndpointKind.messenger_page_id,
                  ChannelKind.instagram: EndpointKind.instagram_account_id}
_WHAT = "Meta webhook body"


def normalize_meta(
    body: bytes | str | Mapping[str, Any],
    *,
    tenant: str,
    channel: ChannelKind | None = None,
    received_at: datetime | None = None,
) -> list[InboundMessage]:
    """Every customer message, postback, reaction, edit, unsend and business echo in the body.

    Reads `entry[].messaging[]` and `entry[].standby[]` (events seen while another app owns the thread).
    Raises PayloadError for non-JSON, a non-object top level, an `object` other than page / instagram,
    or one that disagrees with `channel`. An empty body `{}` gives an empty list.
    """
    envelope = load_object(body, what=_WHAT)
    entries = object_list(envelope, "entry", what=_WHAT, strict=True)
    resolved = _channel(envelope.get("object"), channel, has_entries=bool(entries))
    out: list[InboundMessage] = []
    for entry in entries:
        entry_id = text_of(entry.get("id"))
        for key in ("messaging", "standby"):
            for event in object_list(entry, key, what=_WHAT):
                built = _inbound(event, resolved, entry_id, tenant, received_at, standby=key == "standby")
                if built is not None:
                    out.append(built)
    return out


def _channel(obj: Any, requested: ChannelKind | None, *, has_entries: bool) -> ChannelKind:
    if obj is None:
        if requested is not None or not has_entries:
            return requested or ChannelKind.messenger
        raise PayloadError(f"{_WHAT}: 'object' is missing; expected 'page' or 'instagram'")
    found = CHANNEL_OF_OBJECT.get(obj) if isinstance(obj, str) else None
    if found is None:
        raise PayloadError(f"{_WHAT}: 'object' is {obj!r}, expected 'page' or 'instagram'")
    if requested is not None and ChannelKind(requested) != found:
        raise PayloadError(f"{_WHAT}: 'object' is {obj!r} ({found.value}) but the endpoint expects {requested}")
    return found


def _inbound(
    event: dict[str, Any],
    channel: ChannelKind,
    entry_id: str | None,
    tenant: str,
    received_at: datetime | None,
    *,
    standby: bool,
) -> InboundMessage | None:
    content = read_event(event)
    if content is None:
        return None
    sender_id = text_of(sub_object(event, "sender").get("id"))
    recipient_id = text_of(sub_object(event, "recipient").get("id"))
    # In an echo the business account is the sender and the customer the recipient.
    customer_id, business_id = (recipient_id, sender_id) if content.echo else (sender_id, recipient_id)
    business_id = business_id or entry_id
    if not customer_id or not sender_id:
        log.warning("%s event without sender/recipient id skipped", channel.value)
        return None
    sent_at = epoch_to_utc(event.get("timestamp"), unit="ms")
    provider: dict[str, Any] = {"entry_id": entry_id, "recipient_id": recipient_id, **content.extra}
    if standby:
        provider["standby"] = True
    if isinstance(event.get("prior_message"), dict):
        provider["prior_message"] = event["prior_message"]
    return InboundMessage(
        tenant=tenant,
        channel=channel,
        kind=MessageKind.echo if content.echo else content.kind,
        provider_message_id=content.mid or _synthetic_id(event),
        conversation_key=customer_id,
        sender=Sender(platform_id=sender_id),
        addressed_to=[Endpoint(kind=_ENDPOINT_KIND[channel], value=business_id)] if business_id else [],
        sent_at=sent_at,
        received_at=arrival_time(received_at, sent_at),
        text=content.text,
        message_type=content.message_type,
        attachments=content.attachments,
        reply={"reply_to_provider_id": content.reply_to} if content.reply_to else {},
        flags=_flags(content),
        provider={k: v for k, v in provider.items() if v is not None},
    )


def _flags(content: EventContent) -> list[AdapterFlag]:
    return list(dict.fromkeys(([AdapterFlag.echo] if content.echo else []) + content.flags))


def _synthetic_id(event: dict[str, Any]) -> str:
    """A stable id for events without a mid (old postbacks, reactions): a redelivery hashes the same."""
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    digest = hashlib.blake2s(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"evt:{digest}"
