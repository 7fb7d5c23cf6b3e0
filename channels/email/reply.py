"""Split a plain-text email body into the new reply, the quoted history and the signature.

The body is cut into text runs and quote regions. A quote region opens at a ``>`` line, an
"On <date>, <name> wrote:" header (any language, wrapped over up to five lines), an Outlook
"From:/Sent:/To:" block or a forward / original-message marker. After ``>`` quotes the author may
write again (bottom-posting, inline answers); after an unprefixed quote nothing that follows is new.
Each kept text run then loses its signature. Neither email library measured well enough on the
shared fixtures (see the conformance tests), so this is a small line classifier of our own.
"""

from __future__ import annotations

from dataclasses import dataclass

from channels.email import reply_patterns as P
from channels.email.reply_signature import signature_start

_HEADER_LOOKBACK = 4  # a wrapped quote header spans at most this many extra lines
_HEADER_BLOCK_SPAN = 8  # lines an Outlook "From:/Sent:/To:/Subject:" block may take


@dataclass(frozen=True, slots=True)
class ReplySplit:
    """The parts of a reply body; ``visible`` is never empty when the input has any text."""

    visible: str
    quoted: str = ""
    signature: str = ""

    @property
    def visible_with_signature(self) -> str:
        """The new text with its signature kept (what talon-style extractors return)."""
        return "\n\n".join(part for part in (self.visible, self.signature.strip()) if part)


@dataclass(frozen=True, slots=True)
class _Quote:
    start: int  # first line of the region (header, marker or first ">" line)
    body: int  # first line after the header / marker / header block
    prefixed: bool  # True when the quoted text is ">"-prefixed, so new text may follow it


def _header_ending_at(lines: list[str], end: int, floor: int) -> int | None:
    """Start line of a quote header whose last line is ``end``, or None."""
    if not P.may_end_header(lines[end]):
        return None
    valid: list[int] = []
    for start in range(end, max(floor, end - _HEADER_LOOKBACK) - 1, -1):
        first = lines[start]
        if P.is_blank(first) or P.is_quote_line(first) or len(first) > P.MAX_SCAN:
            continue
        middle = lines[start:end]
        if any(P.ends_sentence(line) for line in middle if not P.is_blank(line)):
            break
        if any(P.is_blank(line) for line in middle) and not P.has_time(first):
            continue
        parts = [line.strip().lstrip(">").strip() for line in lines[start : end + 1]]
        joined = " ".join(part for part in parts if part)
        if (start == end or P.can_start_header(first)) and P.is_quote_header(joined):
            valid.append(start)
    if not valid:
        return None
    openers = [start for start in valid if P.starts_with_opener(lines[start])]
    return max(openers) if openers else min(valid)


def _header_block_end(lines: list[str], start: int) -> int | None:
    """End (exclusive) of an Outlook header block starting at ``start``, or None if there is none."""
    if not P.is_header_key(lines[start]):
        return None
    keys, has_from, index = 0, False, start
    limit = min(len(lines), start + _HEADER_BLOCK_SPAN)
    while index < limit and not P.is_blank(lines[index]):
        if P.is_header_key(lines[index]):
            keys += 1
            has_from = has_from or P.is_from_key(lines[index])
        index += 1
    return index if keys >= 2 and has_from else None


def _skip_headers(lines: list[str], index: int) -> int:
    """Skip blank lines and a following header block (with wrapped values) after a forward marker."""
    while index < len(lines) and P.is_blank(lines[index]):
        index += 1
    if index < len(lines) and P.is_header_key(lines[index]):
        while index < len(lines) and not P.is_blank(lines[index]):
            index += 1
    return index


def _next_quote(lines: list[str], pos: int) -> _Quote | None:
    for index in range(pos, len(lines)):
        line = lines[index]
        start = _header_ending_at(lines, index, pos)
        if start is not None:
            after = index + 1
            while after < len(lines) and P.is_blank(lines[after]):
                after += 1
            prefixed = after < len(lines) and P.is_quote_line(lines[after])
            return _Quote(start, index + 1, prefixed)
        if P.is_quote_line(line):
            return _Quote(index, index, True)
        if P.is_forward_marker(line):
            return _Quote(index, _skip_headers(lines, index + 1), False)
        block_end = _header_block_end(lines, index)
        if block_end is not None:
            return _Quote(index, block_end, False)
    return None


def _back_up(lines: list[str], start: int, floor: int) -> int:
    """Move a quote's start up over the blank lines and rules that introduce it."""
    while start > floor and (P.is_blank(lines[start - 1]) or P.is_separator(lines[start - 1])):
        start -= 1
    return start


def _wrapped_quote(lines: list[str], index: int) -> bool:
    """A line that lost its ">" when a long quoted line was wrapped: sits directly between quote lines."""
    if index == 0 or not P.is_quote_line(lines[index - 1]):
        return False
    for after in lines[index + 1 : index + 3]:
        if P.is_quote_line(after):
            return True
        if P.is_blank(after):
            return False
    return False


def _segments(lines: list[str]) -> tuple[list[tuple[int, int]], list[tuple[int, int]], _Quote | None]:
    """Text runs and quote regions as (start, end) line ranges, plus the first quote found."""
    texts: list[tuple[int, int]] = []
    quotes: list[tuple[int, int]] = []
    first: _Quote | None = None
    pos = 0
    while pos < len(lines):
        quote = _next_quote(lines, pos)
        if quote is None:
            texts.append((pos, len(lines)))
            break
        first = first or quote
        start = _back_up(lines, quote.start, pos)
        texts.append((pos, start))
        if not quote.prefixed:
            quotes.append((start, len(lines)))
            break
        end = quote.body
        while end < len(lines):
            if P.is_blank(lines[end]) or P.is_quote_line(lines[end]) or _wrapped_quote(lines, end):
                end += 1
            else:
                break
        quotes.append((start, end))
        pos = end
    return texts, quotes, first


def _join(lines: list[str]) -> str:
    return "\n".join(line.rstrip() for line in lines).strip()


def split_reply(text: str, sender: str | None = None) -> ReplySplit:
    """Split ``text`` into visible reply, quoted history and signature.

    ``sender`` (a display name and/or address) lets the signature finder also recognise a
    trailing sign-off that names the sender, as talon does.
    """
    return _split(text, sender, 0)


def _split(text: str, sender: str | None, depth: int) -> ReplySplit:
    normalized = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    if not normalized.strip():
        return ReplySplit(visible="")
    lines = normalized.split("\n")
    texts, quotes, first = _segments(lines)
    visible_parts: list[str] = []
    signature_parts: list[str] = []
    for start, end in texts:
        block = lines[start:end]
        cut = signature_start(block, sender)
        cut = len(block) if cut is None else cut
        while cut > 0 and P.is_junk(block[cut - 1]):
            cut -= 1
        if body := _join(block[:cut]):
            visible_parts.append(body)
        if tail := _join(block[cut:]):
            signature_parts.append(tail)
    quoted = "\n".join(_join(lines[start:end]) for start, end in quotes).strip()
    signature = "\n\n".join(signature_parts)
    visible = "\n".join(visible_parts).strip()
    if not visible:
        visible = _fallback(lines, first, signature_parts, sender, depth) or normalized.strip()
    return ReplySplit(visible=visible, quoted=quoted, signature=signature if visible_parts else "")


def _fallback(
    lines: list[str], first: _Quote | None, signature_parts: list[str], sender: str | None, depth: int
) -> str:
    """The best non-empty text when stripping left nothing."""
    if signature_parts:
        return signature_parts[0]
    if first is not None and not first.prefixed and depth < 2:
        body = "\n".join(lines[first.body :])
        if body.strip():
            return _split(body, sender, depth + 1).visible
    return ""
