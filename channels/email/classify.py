"""What kind of mail this is: customer message, auto-reply, bounce, complaint, read receipt, own notice."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from email.message import Message

from channels.email.headers import raw_value, raw_values
from channels.email.mime import iter_leaves
from contracts.inbound import AdapterFlag, MessageKind

NOTIFICATION_HEADER = "X-Omniroute-Notification"
_DAEMON_LOCALPARTS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "maildaemon", "mailerdaemon"})
_DSN_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (status notification|failure|failed|has failed|problem)|returned mail|"
    r"failure notice|mail delivery failed|delivery failure|non-?delivery|could not be delivered|"
    r"delayed mail|warning: could not send",
    re.IGNORECASE,
)
_DSN_BODY = re.compile(
    r"\b[45]\.\d{1,3}\.\d{1,3}\b|delivery to the following recipient|permanent(ly)? fail|"
    r"could not be delivered|undeliverable|recipient address rejected|user unknown|mailbox (is )?(full|unavailable)",
    re.IGNORECASE,
)
# Prefixes mail systems put on automatic answers (RFC 3834 "Auto:", Outlook, common clients).
_AUTO_SUBJECT = re.compile(
    r"^\s*(auto|automatic reply|auto[- ]?reply|auto[- ]?response|out of (the )?office( reply)?|ooo|"
    r"abwesenheitsnotiz|automatische antwort|r[ée]ponse automatique|respuesta autom[aá]tica|"
    r"risposta automatica|automatisch antwoord|autosvar)\s*:",
    re.IGNORECASE,
)
_VACATION_WORDS = re.compile(r"\b(vacation|on leave|away from (the )?office|out of office)\b", re.IGNORECASE)


@dataclass
class Classification:
    """The message kind plus the wire facts noticed on the way."""

    kind: MessageKind
    flags: list[AdapterFlag] = field(default_factory=list)


def _containers(msg: Message) -> Iterator[Message]:
    yield msg
    payload = msg.get_payload()
    if msg.get_content_maintype() == "multipart" and isinstance(payload, list):
        for sub in payload:
            if isinstance(sub, Message) and sub.get_content_maintype() == "multipart":
                yield from _containers(sub)


def report_types(msg: Message) -> set[str]:
    """report-type values of multipart/report containers, plus the report leaf types present."""
    found: set[str] = set()
    for part in _containers(msg):
        if part.get_content_type() == "multipart/report":
            value = part.get_param("report-type")
            if isinstance(value, str):
                found.add(value.strip().strip('"').lower())
    for part in iter_leaves(msg):
        ctype = part.get_content_type()
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            found.add("delivery-status")
        elif ctype in ("message/disposition-notification", "message/global-disposition-notification"):
            found.add("disposition-notification")
        elif ctype == "message/feedback-report":
            found.add("feedback-report")
    return found


def _header_is(msg: Message, name: str, *values: str) -> bool:
    return any(v.strip().lower().split(";")[0].strip() in values for v in raw_values(msg, name))


def auto_submitted(msg: Message, subject: str | None) -> bool:
    """RFC 3834 and vendor signals that a machine, not a person, wrote this answer."""
    auto = raw_value(msg, "Auto-Submitted")
    if auto is not None and auto.strip().lower().split(";")[0].strip() not in ("", "no"):
        return True
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoreply-From", "X-Autorespond-From"):
        value = raw_value(msg, name)
        if value is not None and value.strip().lower() not in ("no", "false", "0"):
            return True
    if _header_is(msg, "Precedence", "auto_reply", "auto-reply"):
        return True
    suppress = (raw_value(msg, "X-Auto-Response-Suppress") or "").lower()
    if "all" in suppress and raw_value(msg, "X-MS-Exchange-Inbox-Rules-Loop") is not None:
        return True  # Exchange out-of-office
    subject = subject or ""
    if _AUTO_SUBJECT.search(subject):
        return True
    # Weak signal: vacation wording only counts next to a bulk / suppress hint.
    return bool(_VACATION_WORDS.search(subject) and (suppress or _header_is(msg, "Precedence", "bulk", "junk")))


def mailing_list(msg: Message) -> bool:
    """List-* headers (RFC 2369 / 2919) or Precedence: list / bulk."""
    if any(raw_value(msg, h) is not None for h in ("List-Id", "List-Unsubscribe", "List-Post")):
        return True
    return _header_is(msg, "Precedence", "list", "bulk")


def _is_daemon(address: str | None) -> bool:
    return bool(address) and address.split("@", 1)[0].lower() in _DAEMON_LOCALPARTS


def looks_like_bounce(msg: Message, from_address: str | None, subject: str | None, text: str) -> bool:
    """A DSN without multipart/report: daemon (or null) sender plus DSN wording, or X-Failed-Recipients."""
    if raw_value(msg, "X-Failed-Recipients") is not None:
        return True
    null_path = (raw_value(msg, "Return-Path") or "").replace(" ", "") == "<>"
    daemon = _is_daemon(from_address) or (from_address is None and null_path)
    if not daemon:
        return False
    return bool(_DSN_SUBJECT.search(subject or "") or _DSN_BODY.search(text[:4000]))


def is_own_notification(msg: Message, address: str | None, notifier_addresses: Collection[str]) -> bool:
    """Our notifier's mail: the marker header, or a configured notifier address or `@domain`."""
    if raw_value(msg, NOTIFICATION_HEADER) is not None:
        return True
    if not address:
        return False
    address = address.lower()
    domain = "@" + address.rsplit("@", 1)[-1]
    wanted = {a.strip().lower() for a in notifier_addresses}
    return address in wanted or domain in wanted


def classify(
    msg: Message,
    *,
    from_address: str | None,
    subject: str | None,
    text: str,
    notifier_addresses: Collection[str] = (),
) -> Classification:
    """Decide the MessageKind; reports first, then bounces, our own notices, auto-replies."""
    flags: list[AdapterFlag] = []
    is_auto = auto_submitted(msg, subject)
    if is_auto:
        flags.append(AdapterFlag.auto_submitted)
    if mailing_list(msg):
        flags.append(AdapterFlag.mailing_list)
    reports = report_types(msg)
    if "feedback-report" in reports:
        kind = MessageKind.complaint
    elif "disposition-notification" in reports:
        kind = MessageKind.read_receipt
    elif "delivery-status" in reports or looks_like_bounce(msg, from_address, subject, text):
        kind = MessageKind.bounce
    elif is_own_notification(msg, from_address, notifier_addresses):
        kind = MessageKind.system_notification
    elif is_auto:
        kind = MessageKind.auto_reply
    else:
        kind = MessageKind.customer_message
    return Classification(kind=kind, flags=flags)
