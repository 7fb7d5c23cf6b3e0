"""RFC 5322 bytes to an InboundMessage: sender, recipients, threading, text, attachments, kind."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from datetime import datetime
from email.errors import MessageError
from email.message import Message

from channels.email.addresses import Mailbox, first_mailbox, header_mailboxes, name_of
from channels.email.attachments import Keep, collect_attachments
from channels.email.classify import classify
from channels.email.content import extract
from channels.email.dsn import dsn_facts
from channels.email.headers import header_text, parse_date, raw_value, received_date
from channels.email.mime import find_body, parse
from channels.email.refs import conversation_key, is_forward_subject, normalized_subject, reply_refs
from channels.errors import PayloadError
from contracts.channels import ChannelKind, EndpointKind
from contracts.inbound import AdapterFlag, Endpoint, InboundMessage, MessageKind, Sender

RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To", "X-Forwarded-For")
UNKNOWN_SENDER = "unknown-sender@invalid"  # RFC 2606 reserved: mail whose sender has no usable address
_REPORT_KINDS = (MessageKind.bounce, MessageKind.complaint, MessageKind.read_receipt)
_PARSER_ERRORS = (MessageError, ValueError, TypeError, IndexError, AttributeError, LookupError, AssertionError)


class EmailParseError(PayloadError):
    """The bytes cannot be turned into an InboundMessage: not a mail at all, or no date and no receive time."""


_HEADER_LINE = re.compile(rb"^(?:[!-9;-~]+[ \t]*:|From )")  # a header field name, or an mbox "From " line


def _check_is_mail(raw: bytes) -> None:
    """Refuse input that is plainly not RFC 5322 (empty, binary, no header on the first line) with a clear reason."""
    head = raw[:8192].lstrip(b"\xef\xbb\xbf").lstrip(b"\r\n\t ")
    if not head:
        raise EmailParseError("empty input: an RFC 5322 message starts with header lines such as From: and Date:")
    if b"\x00" in head:
        raise EmailParseError("binary data (NUL bytes), not an RFC 5322 message")
    if not _HEADER_LINE.match(head.split(b"\n", 1)[0]):
        raise EmailParseError("not an RFC 5322 message: the first line is not a header field (Name: value)")


def _sender(msg: Message, recipients: list[Mailbox]) -> tuple[Sender, Mailbox | None]:
    """Reply-To when well-formed, else X-Original-Sender (Google groups), else From; plus the From box.

    A Reply-To that points at one of the message's own recipients is a list's munged Reply-To, not the author.
    """
    from_box = first_mailbox(msg, "From") or first_mailbox(msg, "Sender")
    reply_to = first_mailbox(msg, "Reply-To")
    if reply_to is not None and reply_to.key in {box.key for box in recipients}:
        reply_to = None
    chosen = reply_to or first_mailbox(msg, "X-Original-Sender") or from_box
    if chosen is None:
        return Sender(platform_id=UNKNOWN_SENDER, display_name=name_of(msg, "From")), None
    name = chosen.name
    if not name and from_box is not None and (chosen is not reply_to or chosen.key == from_box.key):
        name = from_box.name  # the group's / the author's name when the chosen box carries none
    return Sender(platform_id=chosen.key, display_name=name, email=chosen.key), from_box


def body_sha256(text: str, subject: str | None) -> str:
    """Content fingerprint of the visible text and subject (whitespace-insensitive)."""
    canonical = " ".join((subject or "").split()) + "\x1f" + " ".join(text.split())
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _build(msg: Message, raw: bytes, tenant: str, received_at: datetime | None,
           notifier_addresses: Collection[str], keep: Keep | None) -> InboundMessage:
    recipients = header_mailboxes(msg, *RECIPIENT_HEADERS)
    sender, from_box = _sender(msg, recipients)
    subject = header_text(msg, "Subject")
    addressed_to = [Endpoint(kind=EndpointKind.mailbox, value=box.key) for box in recipients]
    refs = reply_refs(msg, [box.key for box in recipients])

    sent_at = parse_date(raw_value(msg, "Date"))
    received = received_at or sent_at or received_date(msg)
    if received is None:
        raise EmailParseError("mail has no usable Date or Received date and no received_at was given")

    body = find_body(msg)
    content = extract(body, sender.email)
    attachments = collect_attachments(msg, body.parts(), content.html, content.plain, keep)
    verdict = classify(msg, from_address=from_box.address if from_box else None, subject=subject,
                       text=content.full or content.text, notifier_addresses=notifier_addresses)
    flags = list(verdict.flags)
    if content.quoted:
        flags.append(AdapterFlag.has_quoted_history)
    if not content.text:
        flags.append(AdapterFlag.empty_text)
    encloses_mail = any(a.content_type in ("message/rfc822", "message/news") for a in attachments)
    if verdict.kind not in _REPORT_KINDS and (encloses_mail or is_forward_subject(subject)):
        flags.append(AdapterFlag.forwarded)

    provider: dict = {
        "body_sha256": body_sha256(content.text, subject),
        "raw_sha256": hashlib.sha256(raw).hexdigest(),
        "from": from_box.key if from_box else None,
        "from_name": from_box.name if from_box else name_of(msg, "From"),
        "has_html": content.html is not None,
    }
    if content.signature:
        provider["signature"] = content.signature
    if thread_subject := normalized_subject(subject):
        provider["thread_subject"] = thread_subject  # routing's last-resort thread match, with the sender
    if verdict.kind == MessageKind.bounce or raw_value(msg, "X-Failed-Recipients") is not None:
        dsn = dsn_facts(msg, content.full or content.text)
        if dsn is not None:
            provider["dsn"] = dsn
    return InboundMessage(
        tenant=tenant,
        channel=ChannelKind.email,
        kind=verdict.kind,
        provider_message_id=refs.message_id or "sha256:" + provider["raw_sha256"],
        conversation_key=conversation_key(refs, sender.platform_id, subject),
        sender=sender,
        addressed_to=addressed_to,
        sent_at=sent_at,
        received_at=received,
        subject=subject,
        text=content.text,
        quoted_text=content.quoted,
        message_type="email",
        attachments=attachments,
        reply=refs,
        flags=list(dict.fromkeys(flags)),
        provider=provider,
    )


def normalize_email(
    raw: bytes,
    *,
    tenant: str,
    received_at: datetime | None = None,
    notifier_addresses: Collection[str] = (),
    keep: Keep | None = None,
) -> InboundMessage:
    """Normalize one RFC 5322 message; `notifier_addresses` are our own notifier senders (or `@domain`); `keep`
    stores attachments' bytes by reference (`channels.content_store.AttachmentKeeper`), else only metadata."""
    _check_is_mail(raw)
    try:
        return _build(parse(raw), raw, tenant, received_at, notifier_addresses, keep)
    except EmailParseError:
        raise
    except _PARSER_ERRORS:
        # The default policy's header objects choke on some malformed mail; compat32 is lenient.
        return _build(parse(raw, strict=False), raw, tenant, received_at, notifier_addresses, keep)
