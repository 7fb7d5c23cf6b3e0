"""Tolerant mailbox-list parsing: quoted names, encoded words, junk around addresses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from channels.email.headers import decode_words, raw_values

_ADDR = re.compile(r"[^\s<>()\[\]\",;:@]+@[^\s<>()\[\]\",;:@]+\.[^\s<>()\[\]\",;:@]+|[^\s<>()\[\]\",;:@]+@[A-Za-z0-9-]+")
_ANGLE = re.compile(r"<([^<>]*)>")
_COMMENT = re.compile(r"\(([^()]*)\)")


@dataclass(frozen=True)
class Mailbox:
    """One parsed mailbox: address as written (not lower-cased) and decoded display name."""

    address: str
    name: str | None = None

    @property
    def key(self) -> str:
        return self.address.lower()


def _split_list(value: str) -> list[str]:
    """Split an address list on commas outside quotes, angle brackets and comments."""
    chunks, buf, quoted, depth_angle, depth_paren, escaped = [], [], False, 0, 0, False
    for ch in value:
        if escaped:
            buf.append(ch)
            escaped = False
            continue
        if ch == "\\" and quoted:
            escaped = True
        elif ch == '"' and not depth_paren:
            quoted = not quoted
        elif not quoted:
            if ch == "<":
                depth_angle += 1
            elif ch == ">":
                depth_angle = max(0, depth_angle - 1)
            elif ch == "(":
                depth_paren += 1
            elif ch == ")":
                depth_paren = max(0, depth_paren - 1)
            elif ch in ",;" and not depth_angle and not depth_paren:
                chunks.append("".join(buf))
                buf = []
                continue
        buf.append(ch)
    chunks.append("".join(buf))
    return [c.strip() for c in chunks if c.strip()]


def _clean_name(raw: str) -> str | None:
    name = raw.strip().strip(",;").strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1]
    name = name.replace('\\"', '"').replace("\\\\", "\\")
    name = decode_words(name).strip().strip('"').strip()
    return name or None


def _valid(address: str) -> bool:
    return bool(_ADDR.fullmatch(address))


def parse_mailbox(chunk: str) -> Mailbox | None:
    """One mailbox from one list element; the angle-address wins over an address-like display name."""
    angles = [a.strip() for a in _ANGLE.findall(chunk) if _valid(a.strip())]
    if angles:
        address = angles[-1]
        name_part = _ANGLE.sub(" ", chunk)
        name_part = _COMMENT.sub(lambda m: m.group(1), name_part)
    else:
        without_comments = _COMMENT.sub(" ", chunk)
        found = _ADDR.findall(without_comments)
        if not found:
            return None
        address = found[0].strip(".")
        comments = _COMMENT.findall(chunk)
        name_part = comments[0] if comments else ""
    name = _clean_name(name_part)
    if name and name.lower() == address.lower():
        name = None
    return Mailbox(address=address, name=name)


def parse_mailboxes(value: str | None) -> list[Mailbox]:
    """Every well-formed mailbox in an address-list header value (malformed elements are skipped)."""
    if not value:
        return []
    out = []
    for chunk in _split_list(value):
        box = parse_mailbox(chunk)
        if box is not None:
            out.append(box)
    return out


def header_mailboxes(msg: Message, *names: str) -> list[Mailbox]:
    """Mailboxes from every occurrence of the given headers, in header order, deduped by address."""
    seen: dict[str, Mailbox] = {}
    for name in names:
        for value in raw_values(msg, name):
            for box in parse_mailboxes(value):
                seen.setdefault(box.key, box)
    return list(seen.values())


def first_mailbox(msg: Message, name: str) -> Mailbox | None:
    """The first well-formed mailbox of header `name`, if any."""
    boxes = header_mailboxes(msg, name)
    return boxes[0] if boxes else None


def name_of(msg: Message, name: str) -> str | None:
    """The decoded display name of header `name` even when its address is unusable."""
    for value in raw_values(msg, name):
        for chunk in _split_list(value):
            box = parse_mailbox(chunk)
            if box is not None:
                return box.name
            inner = _ANGLE.sub(" ", chunk)
            inner = _COMMENT.sub(lambda m: m.group(1), inner)
            cleaned = _clean_name(inner)
            if cleaned:
                return cleaned
    return None
