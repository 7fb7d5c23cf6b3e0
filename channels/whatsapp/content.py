"""What one WhatsApp `messages[]` item says: kind, visible text, attachments, reply refs and flags, per type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from channels.filenames import safe_filename
from channels.webhook_json import sub_object, text_of
from contracts.inbound import AdapterFlag, Attachment, MessageKind

MEDIA_TYPES = ("image", "video", "audio", "voice", "document", "sticker")


@dataclass
class Content:
    """The per-type facts of a message, before sender and envelope are added."""

    kind: MessageKind = MessageKind.customer_message
    text: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    reply_to: str | None = None
    flags: list[AdapterFlag] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # goes to InboundMessage.provider


def read_content(message: dict[str, Any], change_errors: list[dict[str, Any]] | None = None) -> Content:
    """Read a message object (also the inner message of an `edit`); never raises on odd shapes."""
    content = Content()
    mtype = text_of(message.get("type")) or "unknown"
    reader = _READERS.get(mtype)
    if reader is None and mtype in MEDIA_TYPES:
        reader = _media
    if reader is None:
        _unsupported(message, content, mtype)
    else:
        reader(message, content, mtype)
    _context(message, content)
    errors = [e for e in (message.get("errors") or change_errors or []) if isinstance(e, dict)]
    if errors:
        content.extra["error_codes"] = [e.get("code") for e in errors]
    return content


def _text(message: dict[str, Any], content: Content, mtype: str) -> None:
    content.text = text_of(sub_object(message, "text").get("body")) or ""


def _media(message: dict[str, Any], content: Content, mtype: str) -> None:
    media = sub_object(message, mtype)
    if not media:
        _missing_object(content, mtype)
        return
    kind = "voice" if mtype == "voice" or media.get("voice") is True else mtype
    content.text = text_of(media.get("caption")) or ""
    content.attachments.append(
        Attachment(
            kind=kind,
            provider_id=text_of(media.get("id")),
            content_type=text_of(media.get("mime_type")),
            filename=safe_filename(text_of(media.get("filename"))),
        )
    )
    content.extra["media"] = {k: media[k] for k in ("id", "sha256", "url", "animated", "voice") if k in media}


def _location(message: dict[str, Any], content: Content, mtype: str) -> None:
    location = sub_object(message, "location")
    content.text = text_of(location.get("name")) or ""
    content.attachments.append(Attachment(kind="location", provider_id=text_of(location.get("url"))))
    content.extra["location"] = location


def _contacts(message: dict[str, Any], content: Content, mtype: str) -> None:
    shared = message.get("contacts")
    content.extra["shared_contacts"] = shared if isinstance(shared, list) else []


def _order(message: dict[str, Any], content: Content, mtype: str) -> None:
    order = sub_object(message, "order")
    content.text = text_of(order.get("text")) or ""
    content.extra["order"] = order


def _button(message: dict[str, Any], content: Content, mtype: str) -> None:
    button = sub_object(message, "button")
    content.text = text_of(button.get("text")) or ""
    content.extra["reply_id"] = text_of(button.get("payload"))


def _interactive(message: dict[str, Any], content: Content, mtype: str) -> None:
    interactive = sub_object(message, "interactive")
    itype = text_of(interactive.get("type"))
    if not interactive or itype is None:
        _missing_object(content, mtype)
        return
    content.extra["interactive_type"] = itype
    reply = sub_object(interactive, itype)
    if itype == "nfm_reply":
        content.text = text_of(reply.get("body")) or ""
        content.extra["flow_response_json"] = text_of(reply.get("response_json"))
        content.extra["flow_name"] = text_of(reply.get("name"))
    elif itype == "call_permission_reply":
        content.extra["call_permission_response"] = text_of(reply.get("response"))
    else:  # button_reply, list_reply and future *_reply objects carry {id, title, description?}
        content.text = text_of(reply.get("title")) or ""
        content.extra["reply_id"] = text_of(reply.get("id"))
        if reply.get("description"):
            content.extra["reply_description"] = text_of(reply.get("description"))


def _reaction(message: dict[str, Any], content: Content, mtype: str) -> None:
    reaction = sub_object(message, "reaction")
    emoji = text_of(reaction.get("emoji")) or ""
    content.kind = MessageKind.reaction if emoji else MessageKind.reaction_removed
    content.text = emoji
    content.reply_to = text_of(reaction.get("message_id"))


def _system(message: dict[str, Any], content: Content, mtype: str) -> None:
    system = sub_object(message, "system")
    content.kind = MessageKind.system_notice
    content.text = text_of(system.get("body")) or ""
    content.extra["system_type"] = text_of(system.get("type"))
    if system.get("wa_id"):
        content.extra["new_wa_id"] = text_of(system.get("wa_id"))


def _revoke(message: dict[str, Any], content: Content, mtype: str) -> None:
    content.kind = MessageKind.unsend
    content.reply_to = text_of(sub_object(message, "revoke").get("original_message_id"))


def _edit(message: dict[str, Any], content: Content, mtype: str) -> None:
    edit = sub_object(message, "edit")
    inner = read_content(sub_object(edit, "message"))
    content.kind = MessageKind.edit
    content.text, content.attachments = inner.text, inner.attachments
    content.flags.extend(inner.flags)
    content.extra.update(inner.extra)
    content.extra["edited_type"] = text_of(sub_object(edit, "message").get("type"))
    content.reply_to = text_of(edit.get("original_message_id"))


def _unsupported(message: dict[str, Any], content: Content, mtype: str) -> None:
    content.flags.append(AdapterFlag.unsupported_type)
    inner_type = text_of(sub_object(message, "unsupported").get("type"))
    if inner_type:
        content.extra["unsupported_type"] = inner_type


def _missing_object(content: Content, mtype: str) -> None:
    # Meta sends e.g. `interactive` without its object plus value.errors 131000 when it cannot render it.
    content.flags.append(AdapterFlag.unsupported_type)
    content.extra["missing_object"] = mtype


def _context(message: dict[str, Any], content: Content) -> None:
    context = sub_object(message, "context")
    if context.get("forwarded") is True:
        content.flags.append(AdapterFlag.forwarded)
    if context.get("frequently_forwarded") is True:
        content.flags.append(AdapterFlag.frequently_forwarded)
    if content.reply_to is None:
        content.reply_to = text_of(context.get("id"))
    if context.get("referred_product"):
        content.extra["referred_product"] = context["referred_product"]
    if isinstance(message.get("referral"), dict):
        content.flags.append(AdapterFlag.referral)
        content.extra["referral"] = message["referral"]


_READERS = {
    "text": _text,
    "location": _location,
    "contacts": _contacts,
    "order": _order,
    "button": _button,
    "interactive": _interactive,
    "reaction": _reaction,
    "system": _system,
    "revoke": _revoke,
    "edit": _edit,
    "unsupported": _unsupported,
    "unknown": _unsupported,
}
