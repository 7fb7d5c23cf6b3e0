"""MIME structure: parsing bytes, walking leaf parts, choosing and decoding the body parts."""

from __future__ import annotations

import email
import email.policy
import email.utils
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message

from channels.email.charsets import decode_bytes, unescape_surrogates
from channels.email.headers import decode_words

# Parts of a multipart/report that carry machine-readable report data, not content.
REPORT_PARTS = frozenset({
    "message/delivery-status", "message/global-delivery-status", "message/disposition-notification",
    "message/feedback-report", "text/rfc822-headers", "message/rfc822-headers",
})


def parse(raw: bytes, *, strict: bool = True) -> Message:
    """Parse RFC 5322 bytes; `strict=False` uses the lenient compat32 policy."""
    policy = email.policy.default if strict else email.policy.compat32
    return email.message_from_bytes(raw, policy=policy)


def iter_leaves(msg: Message) -> Iterator[Message]:
    """Every non-multipart part in document order; message/* parts are leaves (not descended into)."""
    payload = msg.get_payload()
    if msg.get_content_maintype() != "message" and msg.is_multipart() and isinstance(payload, list):
        for sub in payload:
            if isinstance(sub, Message):
                yield from iter_leaves(sub)
    else:
        yield msg


def disposition(part: Message) -> str | None:
    """The Content-Disposition type (attachment / inline), lower-cased."""
    try:
        value = part.get_content_disposition()
    except (ValueError, TypeError, AttributeError, IndexError):
        return None
    return value.lower() if value else None


def raw_filename(part: Message) -> str | None:
    """The declared filename (Content-Disposition filename, else Content-Type name), decoded."""
    for param, header in (("filename", "content-disposition"), ("name", "content-type")):
        try:
            value = part.get_param(param, header=header)
        except (ValueError, TypeError, AttributeError, IndexError):
            continue
        if value is None:
            continue
        if isinstance(value, tuple):  # RFC 2231: (charset, language, value)
            value = email.utils.collapse_rfc2231_value(value, errors="replace")
        return decode_words(unescape_surrogates(str(value)))
    return None


def is_attachment_like(part: Message) -> bool:
    """Whether a text part is really a file: disposition attachment, or a named file."""
    return disposition(part) == "attachment" or bool((raw_filename(part) or "").strip())


def part_bytes(part: Message) -> bytes:
    """The transfer-decoded payload bytes of a leaf part (b'' when there is none)."""
    try:
        data = part.get_payload(decode=True)
    except (ValueError, TypeError, AssertionError):
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


def part_text(part: Message) -> str:
    """Decoded text of a leaf part, honouring its declared charset, never raising."""
    try:
        charset = part.get_content_charset()
    except (ValueError, TypeError, AttributeError, IndexError):
        charset = None
    text = decode_bytes(part_bytes(part), charset)
    return text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")


@dataclass
class Body:
    """The chosen body parts of a message."""

    plain: Message | None = None
    html: Message | None = None
    broken: Message | None = None  # a multipart whose boundaries never appear: its raw text

    def parts(self) -> set[int]:
        return {id(p) for p in (self.plain, self.html, self.broken) if p is not None}


def find_body(msg: Message) -> Body:
    """First text/plain and first text/html that are not attachments (a plain part with text wins)."""
    body = Body()
    for part in iter_leaves(msg):
        ctype = part.get_content_type()
        if ctype.startswith("multipart/"):
            body.broken = body.broken or part
            continue
        if ctype not in ("text/plain", "text/html") or is_attachment_like(part):
            continue
        if ctype == "text/plain" and body.plain is None and part_text(part).strip():
            body.plain = part
        elif ctype == "text/html" and body.html is None:
            body.html = part
    return body
