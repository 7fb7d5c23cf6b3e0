"""What one Messenger / Instagram `messaging[]` event says: message, postback, reaction or edit content."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from channels.webhook_json import sub_object, text_of
from contracts.inbound import AdapterFlag, Attachment, MessageKind


@dataclass
class EventContent:
    """The facts of one event that becomes an InboundMessage; `mid` is None when the event has no own id."""

    kind: MessageKind
    mid: str | None
    message_type: str
    text: str = ""
    echo: bool = False
    attachments: list[Attachment] = field(default_factory=list)
    reply_to: str | None = None
    flags: list[AdapterFlag] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def read_event(event: dict[str, Any]) -> EventContent | None:
    """The content of a message, postback, reaction or edit event; None for everything else.

    read / delivery / optin / handover / account_linking / checkout / game_play events, a standalone
    `referral` (an entry point, nothing written) and unknown keys carry nothing the customer wrote.
    """
    if isinstance(event.get("message"), dict):
        return _message(event["message"], event)
    if isinstance(event.get("postback"), dict):
        return _postback(event["postback"])
    if isinstance(event.get("reaction"), dict):
        return _reaction(event["reaction"])
    if isinstance(event.get("message_edit"), dict):
        return _edit(event["message_edit"])
    return None


def _message(message: dict[str, Any], event: dict[str, Any]) -> EventContent:
    mid = text_of(message.get("mid"))
    echo = message.get("is_echo") is True
    if message.get("is_deleted") is True:
        # The unsend carries the deleted message's mid; give it its own id so dedupe keeps both.
        return EventContent(MessageKind.unsend, f"{mid}#deleted" if mid else None, "deleted", echo=echo, reply_to=mid)
    attachments, extra = _attachments(message.get("attachments"))
    content = EventContent(
        MessageKind.customer_message,
        mid,
        "text" if message.get("text") is not None or not attachments else attachments[0].kind or "attachment",
        text=text_of(message.get("text")) or "",
        echo=echo,
        attachments=attachments,
        extra=extra,
    )
    quick_reply = sub_object(message, "quick_reply")
    if quick_reply:
        content.message_type = "quick_reply"
        content.extra["payload"] = text_of(quick_reply.get("payload"))
    reply_to = sub_object(message, "reply_to")
    story = sub_object(reply_to, "story")
    content.reply_to = text_of(reply_to.get("mid")) or text_of(story.get("id"))
    if story:
        content.extra["reply_to_story_url"] = text_of(story.get("url"))
    if message.get("is_unsupported") is True:
        content.flags.append(AdapterFlag.unsupported_type)
    referral = message.get("referral") or event.get("referral")
    if isinstance(referral, dict):
        content.flags.append(AdapterFlag.referral)
        content.extra["referral"] = referral
    for key in ("app_id", "metadata"):
        if message.get(key) is not None:
            content.extra[key] = message[key]
    return content


def _attachments(raw: Any) -> tuple[list[Attachment], dict[str, Any]]:
    attachments: list[Attachment] = []
    extra: dict[str, Any] = {}
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        payload = sub_object(item, "payload")
        kind = text_of(item.get("type")) or "unknown"
        url = text_of(payload.get("url")) or text_of(item.get("url")) or text_of(item.get("URL"))
        attachments.append(Attachment(kind=kind, provider_id=url or text_of(payload.get("sticker_id"))))
        if kind == "location" and payload.get("coordinates"):
            extra["location"] = payload["coordinates"]
        if item.get("title"):
            extra.setdefault("attachment_titles", []).append(text_of(item["title"]))
    return attachments, extra


def _postback(postback: dict[str, Any]) -> EventContent:
    content = EventContent(
        MessageKind.customer_message,
        text_of(postback.get("mid")),
        "postback",
        text=text_of(postback.get("title")) or "",
        extra={"payload": text_of(postback.get("payload"))},
    )
    if isinstance(postback.get("referral"), dict):
        content.flags.append(AdapterFlag.referral)
        content.extra["referral"] = postback["referral"]
    return content


def _reaction(reaction: dict[str, Any]) -> EventContent:
    emoji = text_of(reaction.get("emoji")) or ""
    removed = reaction.get("action") == "unreact" or not (emoji or reaction.get("reaction"))
    return EventContent(
        MessageKind.reaction_removed if removed else MessageKind.reaction,
        None,
        "reaction",
        text="" if removed else emoji or text_of(reaction.get("reaction")) or "",
        reply_to=text_of(reaction.get("mid")),
        extra={"reaction": text_of(reaction.get("reaction")), "action": text_of(reaction.get("action"))},
    )


def _edit(edit: dict[str, Any]) -> EventContent:
    mid = text_of(edit.get("mid"))
    num = text_of(edit.get("num_edit")) or "0"
    return EventContent(
        MessageKind.edit,
        f"{mid}#edit{num}" if mid else None,
        "edit",
        text=text_of(edit.get("text")) or "",
        reply_to=mid,
    )
