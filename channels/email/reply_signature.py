"""Find where the signature starts in a block of reply lines (delimiters, mobile taglines, sender sign-offs)."""

from __future__ import annotations

import re
from email.utils import parseaddr

from channels.email import reply_patterns as P

_MAX_RFC_SIG_LINES = 15  # non-blank lines after "-- " still read as a signature
_MAX_FOOTER_LINES = 12  # non-blank lines after a "__" / "----" rule still read as a footer
_SHORT = 72  # a signature line is at most this long
_CONTACTISH = re.compile(r"@|https?://|www\.|\+?\d[\d ().-]{6,}\d|\b(?:tel|phone|mobile|fax|skype)\b", re.I)


def _nonblank(lines: list[str]) -> list[str]:
    return [line for line in lines if not P.is_blank(line)]


def _all_short(lines: list[str]) -> bool:
    return all(len(line.strip()) <= _SHORT for line in lines)


def _opens_signature(line: str) -> bool:
    return P.is_rfc_signature(line) or P.is_underscore_signature(line) or P.is_mobile_signature(line)


def _sender_tokens(sender: str | None) -> tuple[str, str, str]:
    """(full name, first name, email) of the sender, lower-cased; empty strings when unknown."""
    if not sender:
        return "", "", ""
    name, addr = parseaddr(sender)
    if not addr or "@" not in addr:
        name, addr = (name or sender), ""
    name = " ".join(name.split()).lower()
    first = name.split()[0] if name else ""
    return name, first, addr.lower()


def _names_sender(line: str, sender: tuple[str, str, str]) -> bool:
    full, first, addr = sender
    text = " ".join(P.scan(line).split()).lower()
    if not text or len(text) > _SHORT:
        return False
    if full and re.search(rf"(?<!\w){re.escape(full)}(?!\w)", text):
        return True
    if addr and addr in text:
        return True
    return bool(first) and len(first) > 1 and text.strip(" -–—,.!#") == first


def _paragraph_start(lines: list[str], index: int) -> int:
    while index > 0 and not P.is_blank(lines[index - 1]):
        index -= 1
    return index


def _sender_signature(lines: list[str], sender: tuple[str, str, str]) -> int | None:
    """Start of a trailing sign-off block that names the sender (talon-style), if any."""
    if not any(sender):
        return None
    tail_start = max(0, len(lines) - 40)
    for index in range(tail_start, len(lines)):
        if not _names_sender(lines[index], sender):
            continue
        rest = _nonblank(lines[index:])
        if len(rest) > 10 or not _all_short(rest):
            continue
        start = _paragraph_start(lines, index)
        if len(_nonblank(lines[start:index])) > 6 or not _all_short(lines[start:index]):
            start = index - 1 if index > 0 and P.is_closing(lines[index - 1]) else index
        # Walk up over short one-line paragraphs to a rule line ("-----") that opens the block.
        probe, hops = start, 0
        while probe > 0 and hops < 4:
            above = probe - 1
            while above > 0 and P.is_blank(lines[above]):
                above -= 1
            if P.is_separator(lines[above]):
                start = above
                break
            if len(lines[above].strip()) > 40 or not P.is_blank(lines[above - 1] if above else ""):
                break
            probe, hops = above, hops + 1
        if _nonblank(lines[:start]):
            return start
    return None


def signature_start(lines: list[str], sender: str | None = None) -> int | None:
    """Index of the first signature line in ``lines`` (one kept block of a reply), or None."""
    tokens = _sender_tokens(sender)
    count = len(lines)
    # after[i] = number of non-blank lines after line i; keeps the scan linear.
    after, running = [0] * count, 0
    for index in range(count - 1, -1, -1):
        after[index] = running
        running += 0 if P.is_blank(lines[index]) else 1
    for index, line in enumerate(lines):
        if P.is_blank(line):
            continue
        if P.is_mobile_signature(line):
            return index
        if P.is_rfc_signature(line) and after[index] <= _MAX_RFC_SIG_LINES:
            return index
        if P.is_underscore_signature(line) and after[index] <= _MAX_FOOTER_LINES:
            return index
        if after[index] > _MAX_FOOTER_LINES or not (P.is_separator(line) or P.is_dash_name(line)):
            continue
        rest = _nonblank(lines[index + 1 :])
        if (
            P.is_separator(line)
            and 0 < len(rest) <= _MAX_FOOTER_LINES
            and _all_short(rest)
            and any(_CONTACTISH.search(P.scan(r)) or _names_sender(r, tokens) for r in rest)
        ):
            return index
        if (
            P.is_dash_name(line)
            and index > 0
            and P.is_blank(lines[index - 1])
            and (not rest or _opens_signature(rest[0]))
            and not P.is_dash_name(lines[index - 2] if index > 1 else "")
        ):
            return index
    found = _sender_signature(lines, tokens)
    if found is not None:
        return found
    # Trailing lines with nothing to read (rules, tracking marks) go with the signature.
    end = count
    while end > 0 and P.is_junk(lines[end - 1]):
        end -= 1
    return end if end < count and _nonblank(lines[end:]) else None
