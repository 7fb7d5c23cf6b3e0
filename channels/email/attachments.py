"""Attachment metadata from MIME leaves: safe filenames, sizes, and which parts the body embeds."""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import Message
from urllib.parse import unquote

from channels.email.mime import (
    REPORT_PARTS,
    disposition,
    iter_leaves,
    part_bytes,
    raw_filename,
)
from channels.filenames import safe_filename
from contracts.inbound import Attachment

_CID_REF = re.compile(r"cid:([^\"'\s)>]+)", re.IGNORECASE)
_IMAGE_PLACEHOLDER = re.compile(r"\[image:\s*([^\]]+?)\s*\]", re.IGNORECASE)


def _content_id(part: Message) -> str | None:
    value = part.get("Content-ID")
    if value is None:
        return None
    cid = str(value).strip().strip("<>").strip()
    return cid or None


# keep(data, attachment) -> attachment: stores the bytes and returns the attachment with their reference
Keep = Callable[[bytes, Attachment], Attachment]


def _content(part: Message, ctype: str) -> bytes:
    """The attachment's bytes: the decoded payload, or the enclosed message as it was sent."""
    if not ctype.startswith("message/"):
        return part_bytes(part)
    try:
        return part.as_bytes()
    except (ValueError, TypeError, UnicodeError, LookupError, AttributeError):
        return str(part.get_payload()).encode("utf-8", "surrogateescape")


def embedded_refs(html: str | None, plain: str | None) -> tuple[set[str], set[str]]:
    """Content-ids referenced as cid: in the HTML, and filenames of `[image: name]` placeholders in text."""
    cids = {unquote(m).strip("<>").lower() for m in _CID_REF.findall(html or "")}
    names = {m.lower() for m in _IMAGE_PLACEHOLDER.findall(plain or "")}
    return cids, names


def _is_attachment(part: Message, ctype: str) -> bool:
    if ctype in ("message/rfc822", "message/news", "message/global"):
        return True  # forwarded message
    named = bool((raw_filename(part) or "").strip())
    if ctype in REPORT_PARTS or ctype.startswith("multipart/"):
        return named or disposition(part) == "attachment"
    if ctype.startswith("text/"):
        return named or disposition(part) == "attachment"
    return True


def collect_attachments(msg: Message, skip: set[int], html: str | None, plain: str | None,
                        keep: Keep | None = None) -> list[Attachment]:
    """Every attachment leaf except the body parts in `skip`; `inline` marks parts the body displays; `keep`, when
    given, stores each one's bytes (the content store) and returns it with their reference."""
    cids, placeholder_names = embedded_refs(html, plain)
    out: list[Attachment] = []
    for part in iter_leaves(msg):
        if id(part) in skip:
            continue
        ctype = part.get_content_type()
        if not _is_attachment(part, ctype):
            continue
        declared = raw_filename(part)
        filename = safe_filename(declared, len(out) + 1, ctype)
        cid = _content_id(part)
        embedded = bool(cid and cid.lower() in cids) or bool(declared and declared.strip().lower() in placeholder_names)
        data = _content(part, ctype)
        attachment = Attachment(
            filename=filename,
            content_type=ctype,
            size=len(data),
            inline=embedded,
            content_id=cid,
            kind=ctype.split("/", 1)[0],
        )
        out.append(keep(data, attachment) if keep is not None else attachment)
    return out
