"""Email replies: the threaded, loop-safe RFC 5322 message for an OutboundMessage, and SMTP answers as SendResults."""

from __future__ import annotations

import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate

from aiosmtplib import SMTPException, SMTPRecipientsRefused, SMTPResponseException
from aiosmtplib.errors import SMTPNotSupported

from channels.email.classify import NOTIFICATION_HEADER
from contracts.outbound import OutboundKind, OutboundMessage, SendResult

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_RE = re.compile(r"^\s*re\s*:", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"^[^<>\s@]+@[^<>\s@]+$")


class EmailSender:
    """Replies by mail: carried by the "smtp" transport, authorised by the tenant's `<TENANT>_SMTP_URL`."""

    transport = "smtp"
    token_role = "smtp_url"


class UnsendableMail(ValueError):
    """The reply cannot be written as a mail (no usable recipient or sender address); the text says which."""


def compose(message: OutboundMessage, from_address: str, *, from_name: str | None = None) -> EmailMessage:
    """The reply as a mail: our Message-ID on the sender's domain, In-Reply-To/References to the customer's mail,
    a Reply-To of the sender's mailbox plus-tagged with the outbound id (unless the sender address is tagged already),
    `Re:` subject, `Auto-Submitted: auto-replied` only on automatic mail, Exchange auto-replies suppressed.

    Header values are single lines (CR, LF and control characters become spaces) and addresses are parsed, so
    nothing a customer wrote can add a header.
    """
    target = message.target
    sender = mail_address(from_address, "sender", name=from_name)
    mail = EmailMessage(policy=SMTP)
    mail["From"] = sender
    mail["To"] = mail_address(target.recipient, "recipient")
    mail["Subject"] = reply_subject(target.subject)
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = f"<{our_message_id(message, sender.domain)}>"
    if "+" not in sender.username:
        mail["Reply-To"] = Address(display_name=sender.display_name, username=plus_address(sender.username, message),
                                   domain=sender.domain)
    parent = _message_id(target.provider_message_id)
    if parent:
        root = _message_id(target.conversation_key)
        mail["In-Reply-To"] = f"<{parent}>"
        mail["References"] = " ".join(f"<{i}>" for i in dict.fromkeys(i for i in (root, parent) if i))
    if message.kind == OutboundKind.policy_message:
        mail["Auto-Submitted"] = "auto-replied"  # RFC 3834: automatic responders must not answer this
    mail["X-Auto-Response-Suppress"] = "All"  # Exchange: no out-of-office or receipts back to us
    mail[NOTIFICATION_HEADER] = message.id  # our own mail, should it ever come back into a mailbox we poll
    mail.set_content(message.text)
    return mail


def our_message_id(message: OutboundMessage, domain: str) -> str:
    """Stable per outbound part (a retried send repeats it, so receivers dedupe); the delivery index knows it."""
    return f"omniroute.{message.id}@{domain}"


def plus_address(local: str, message: OutboundMessage) -> str:
    """The official mailbox's local part tagged with the outbound id (`support+<id>`): an answer sent to it is
    threaded by that tag even when the customer's client drops References (workers/runtime/mail_threads.py)."""
    return f"{local}+{message.id}"


def reply_subject(subject: str | None) -> str:
    text = " ".join(_CONTROL.sub(" ", subject or "").split())
    if not text:
        return "Re: your message"
    return text if _RE.match(text) else f"Re: {text}"


def read_smtp_error(exc: Exception) -> SendResult:
    """An SMTP failure: 4xx and lost connections are retried, 5xx and unsupported features are final."""
    if isinstance(exc, SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, SMTPResponseException):
        transient = 400 <= exc.code < 500
        return SendResult(ok=False, retry=transient, error_code=str(exc.code),
                          error=_one_line(f"{type(exc).__name__}: {exc.code} {exc.message}"))
    if isinstance(exc, SMTPNotSupported):
        return SendResult(ok=False, retry=False, error_code="smtp_not_supported", error=_one_line(str(exc)))
    if isinstance(exc, (SMTPException, OSError, TimeoutError)):
        return SendResult(ok=False, retry=True, error_code="unreachable",
                          error=_one_line(f"{type(exc).__name__}: {exc}"))
    raise exc


def refused_recipients(errors: dict) -> SendResult | None:
    """The partial-success answer of aiosmtplib (`{recipient: (code, text)}`) as a failure, or None."""
    for recipient, (code, text) in errors.items():
        return SendResult(ok=False, retry=400 <= code < 500, error_code=str(code),
                          error=_one_line(f"recipient {recipient} refused: {code} {text}"))
    return None


def mail_address(text: str, role: str, *, name: str | None = None) -> Address:
    """A parsed single-line address; UnsendableMail naming its `role` when it is none."""
    clean = (text or "").strip()
    if not clean or _CONTROL.search(clean):
        raise UnsendableMail(f"the {role} address {clean[:100]!r} is not a mail address")
    try:
        address = Address(display_name=" ".join(_CONTROL.sub(" ", name or "").split()), addr_spec=clean)
    except (ValueError, IndexError) as exc:
        raise UnsendableMail(f"the {role} address {clean[:100]!r} is not a mail address ({exc})") from None
    if not address.username or not address.domain:
        raise UnsendableMail(f"the {role} address {clean[:100]!r} is not a mail address (no user@domain)")
    return address


def _message_id(value: str | None) -> str | None:
    text = (value or "").strip().strip("<>")
    return text if _MESSAGE_ID.match(text) else None  # sha256: keys of mail without a Message-ID are not ids


def _one_line(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())[:500]
