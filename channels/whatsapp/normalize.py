"""WhatsApp Cloud API webhook body -> InboundMessages (customer messages and business echoes)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from channels.errors import PayloadError
from channels.webhook_json import (
    arrival_time,
    epoch_to_utc,
    load_object,
    object_list,
    sub_object,
    text_of,
)
from channels.whatsapp.content import read_content
from contracts.channels import ChannelKind, EndpointKind
from contracts.inbound import AdapterFlag, Endpoint, InboundMessage, MessageKind, Sender

log = logging.getLogger(__name__)

OBJECT = "whatsapp_business_account"
_ECHO_KEYS = ("message_echoes",)  # field smb_message_echoes (coexistence) also delivers `message_echoes`
_PHONE = re.compile(r"^\+?\d{6,15}$")
_WHAT = "WhatsApp webhook body"


def normalize_whatsapp(
    body: bytes | str | Mapping[str, Any], *, tenant: str, received_at: datetime | None = None
) -> list[InboundMessage]:
    """Every inbound message and business echo in the body, in body order.

    Statuses, errors and non-message fields (account, template, calls, preferences, history) yield
    nothing. Raises PayloadError when the body is not JSON or not a WhatsApp Business Account envelope.
    """
    envelope = load_object(body, what=_WHAT)
    entries = object_list(envelope, "entry", what=_WHAT, strict=True)
    obj = envelope.get("object")
    if obj != OBJECT and (obj is not None or entries):
        raise PayloadError(f"{_WHAT}: 'object' is {obj!r}, expected {OBJECT!r}")
    out: list[InboundMessage] = []
    for entry in entries:
        for change in object_list(entry, "changes", what=_WHAT):
            value = sub_object(change, "value")
            out.extend(_from_value(value, tenant=tenant, waba_id=text_of(entry.get("id")), received_at=received_at))
    return out


def _from_value(
    value: dict[str, Any], *, tenant: str, waba_id: str | None, received_at: datetime | None
) -> Iterator[InboundMessage]:
    metadata = sub_object(value, "metadata")
    contacts = object_list(value, "contacts", what=_WHAT)
    change_errors = object_list(value, "errors", what=_WHAT)
    envelope_facts = {
        "waba_id": waba_id,
        "phone_number_id": text_of(metadata.get("phone_number_id")),
        "display_phone_number": text_of(metadata.get("display_phone_number")),
    }
    for message in object_list(value, "messages", what=_WHAT):
        built = _inbound(message, contacts, change_errors, envelope_facts, tenant, received_at, echo=False)
        if built is not None:
            yield built
    for key in _ECHO_KEYS:
        for message in object_list(value, key, what=_WHAT):
            built = _inbound(message, contacts, [], envelope_facts, tenant, received_at, echo=True)
            if built is not None:
                yield built


def _inbound(
    message: dict[str, Any],
    contacts: list[dict[str, Any]],
    change_errors: list[dict[str, Any]],
    facts: dict[str, str | None],
    tenant: str,
    received_at: datetime | None,
    *,
    echo: bool,
) -> InboundMessage | None:
    wamid = text_of(message.get("id"))
    if not wamid:
        log.warning("WhatsApp message without an id skipped (type %r)", message.get("type"))
        return None
    parties = _parties(message, contacts, facts, echo=echo)
    if parties is None:
        log.warning("WhatsApp message %s has no customer id (no from/to, no contacts); skipped", wamid)
        return None
    customer_id, sender, contact = parties
    content = read_content(message, change_errors)
    sent_at = epoch_to_utc(message.get("timestamp"), unit="s")
    flags = list(dict.fromkeys(([AdapterFlag.echo] if echo else []) + content.flags))
    provider = {k: v for k, v in facts.items() if v is not None}
    provider.update(_contact_facts(contact))
    provider.update({k: v for k, v in content.extra.items() if v is not None})
    if message.get("from_user_id"):
        provider["user_id"] = text_of(message["from_user_id"])
    if message.get("group_id"):
        provider["group_id"] = text_of(message["group_id"])
    number_id = facts["phone_number_id"]
    addressed = [Endpoint(kind=EndpointKind.whatsapp_phone_number_id, value=number_id)] if number_id else []
    return InboundMessage(
        tenant=tenant,
        channel=ChannelKind.whatsapp,
        kind=MessageKind.echo if echo else content.kind,
        provider_message_id=wamid,
        conversation_key=customer_id,
        sender=sender,
        addressed_to=addressed,
        sent_at=sent_at,
        received_at=arrival_time(received_at, sent_at),
        text=content.text,
        message_type=text_of(message.get("type")) or "unknown",
        attachments=content.attachments,
        reply=({"reply_to_provider_id": content.reply_to} if content.reply_to else {}),
        flags=flags,
        provider=provider,
    )


def _parties(
    message: dict[str, Any], contacts: list[dict[str, Any]], facts: dict[str, str | None], *, echo: bool
) -> tuple[str, Sender, dict[str, Any]] | None:
    """(customer id, sender, the customer's contacts[] entry); in an echo the business is the sender."""
    if echo:
        to_user = text_of(message.get("to_user_id"))
        contact = _matching_contact(contacts, text_of(message.get("to")), to_user)
        customer_id = text_of(message.get("to")) or to_user or _contact_id(contact)
        sender = Sender(platform_id=text_of(message.get("from")) or facts["display_phone_number"] or "business")
    else:
        from_id = text_of(message.get("from"))
        contact = _matching_contact(contacts, from_id, text_of(message.get("from_user_id")))
        customer_id = from_id or _contact_id(contact)
        sender = _customer(customer_id, contact) if customer_id else None
    if not customer_id or sender is None:
        return None
    return customer_id, sender, contact


def _matching_contact(contacts: list[dict[str, Any]], wa_id: str | None, user_id: str | None) -> dict[str, Any]:
    """The contacts[] entry for this customer; with no match, the only entry (or none when ambiguous)."""
    for contact in contacts:
        ids = {text_of(contact.get("wa_id")), text_of(contact.get("user_id"))} - {None}
        if (wa_id and wa_id in ids) or (user_id and user_id in ids):
            return contact
    if wa_id and len(contacts) > 1:
        return {}
    return contacts[0] if contacts else {}


def _contact_id(contact: dict[str, Any]) -> str | None:
    return text_of(contact.get("wa_id")) or text_of(contact.get("user_id"))


def _customer(customer_id: str, contact: dict[str, Any]) -> Sender:
    profile = sub_object(contact, "profile")
    phone = next((c for c in (customer_id, text_of(contact.get("wa_id"))) if c and _PHONE.match(c)), None)
    return Sender(
        platform_id=customer_id,
        handle=text_of(profile.get("username")),
        display_name=text_of(profile.get("name")),
        phone=phone.lstrip("+") if phone else None,
    )


def _contact_facts(contact: dict[str, Any]) -> dict[str, str]:
    facts = {key: text_of(contact.get(key)) for key in ("wa_id", "user_id", "parent_user_id")}
    return {f"contact_{k}" if k == "wa_id" else k: v for k, v in facts.items() if v}
