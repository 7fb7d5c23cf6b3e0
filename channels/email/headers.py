"""Header reading that survives malformed mail: raw 8-bit bytes, RFC 2047 words, broken dates."""

from __future__ import annotations

import re
from datetime import datetime
from email.errors import HeaderParseError
from email.header import decode_header
from email.message import Message
from email.utils import parsedate_to_datetime

from channels.email.charsets import decode_bytes, unescape_surrogates

_FOLD = re.compile(r"\r?\n[ \t]*")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?]*\?=")


def raw_values(msg: Message, name: str) -> list[str]:
    """Every raw value of header `name`, unfolded, with raw 8-bit bytes decoded (no RFC 2047 yet)."""
    wanted = name.lower()
    out: list[str] = []
    for key, value in msg.raw_items():
        if key.lower() != wanted:
            continue
        text = value if isinstance(value, str) else str(value)
        out.append(_FOLD.sub(" ", unescape_surrogates(text)).strip())
    return out


def raw_value(msg: Message, name: str) -> str | None:
    """The first raw value of header `name`, or None when absent."""
    values = raw_values(msg, name)
    return values[0] if values else None


def decode_words(text: str) -> str:
    """Decode RFC 2047 encoded words; adjacent words in one charset are joined before decoding."""
    if not _ENCODED_WORD.search(text):
        return text
    try:
        parts = decode_header(text)
    except (HeaderParseError, ValueError, LookupError, AssertionError):
        return text
    pieces: list[str] = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            pieces.append(chunk)
        elif charset is None:
            # decode_header hands back unencoded runs as raw-unicode-escape bytes
            try:
                pieces.append(chunk.decode("raw-unicode-escape"))
            except UnicodeDecodeError:
                pieces.append(decode_bytes(chunk))
        else:
            pieces.append(decode_bytes(chunk, charset))
    return "".join(pieces)


def header_text(msg: Message, name: str) -> str | None:
    """The decoded, unfolded text of header `name`, or None when absent."""
    value = raw_value(msg, name)
    return None if value is None else decode_words(value)


def parse_date(value: str | None) -> datetime | None:
    """An RFC 5322 date as an aware datetime; None when missing, unparseable or without a zone."""
    if not value or not value.strip():
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None or parsed.tzinfo is None or parsed.utcoffset() is None:
        return None
    return parsed


def received_date(msg: Message) -> datetime | None:
    """The date stamped by the topmost (latest) Received header that carries a parseable one."""
    for value in raw_values(msg, "Received"):
        if ";" in value:
            stamp = parse_date(value.rsplit(";", 1)[1])
            if stamp is not None:
                return stamp
    return None
