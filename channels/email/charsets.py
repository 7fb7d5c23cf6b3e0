"""Tolerant byte-to-text decoding: declared charset first, sensible fallbacks, never raises."""

from __future__ import annotations

import codecs

# Declared labels that are really a superset in practice (what mail clients actually send).
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "ansi_x3.4-1968": "utf-8",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "iso-8859-8-i": "iso-8859-8",
    "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8",
}

_FALLBACKS = ("utf-8", "cp1252")


def codec_for(label: str | None) -> str | None:
    """The Python codec for a declared charset label, or None when the label is unknown."""
    if not label:
        return None
    name = str(label).strip().strip("\"'").lower()
    name = _SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode `data` with the declared charset, then utf-8, then cp1252, then latin-1 (which cannot fail)."""
    tried: list[str] = []
    for name in (codec_for(declared), *_FALLBACKS):
        if not name or name in tried:
            continue
        tried.append(name)
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1")


def _single_byte_fallback(err: UnicodeError) -> tuple[str, int]:
    """Codec error handler: decode the offending bytes as cp1252 (latin-1 where cp1252 has holes)."""
    if not isinstance(err, UnicodeDecodeError):
        raise err
    bad = err.object[err.start:err.end]
    return "".join(bytes([b]).decode("cp1252", "ignore") or chr(b) for b in bad), err.end


codecs.register_error("omniroute-cp1252", _single_byte_fallback)


def decode_mixed(data: bytes) -> str:
    """UTF-8 where the bytes are valid UTF-8, cp1252 for stray 8-bit bytes (typical of raw headers)."""
    return data.decode("utf-8", "omniroute-cp1252")


def unescape_surrogates(text: str) -> str:
    """Turn surrogate-escaped raw 8-bit bytes (as the stdlib parser stores them) back into real text."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return decode_mixed(text.encode("utf-8", "surrogateescape"))
