"""The visible text of a mail: plain part quote-stripped, else HTML converted without quotes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from channels.email.html_text import html_to_text, html_to_text_without_quotes
from channels.email.mime import Body, part_text
from channels.email.reply import split_reply

_PLACEHOLDER = re.compile(r"\[image:[^\]]*\]", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")


@dataclass
class Content:
    """Visible text, what was removed from it, and the raw decoded bodies."""

    text: str = ""
    quoted: str | None = None
    signature: str | None = None
    full: str = ""
    html: str | None = None
    plain: str | None = None


def _tidy(text: str) -> str:
    """Drop image placeholders and zero-width characters, squeeze blank runs; keep `-- ` lines intact."""
    text = _INVISIBLE.sub("", _PLACEHOLDER.sub("", text.replace("\r\n", "\n")))
    return re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", text).strip()


def _removed(full: str, visible: str) -> str | None:
    """What `visible` left out of `full`: the lines after its last line, else all of `full`."""
    wanted = [line.strip() for line in visible.split("\n") if line.strip()]
    lines = full.split("\n")
    pos = 0
    for target in wanted:
        while pos < len(lines) and lines[pos].strip() != target:
            pos += 1
        if pos == len(lines):
            return full if full.strip() else None
        pos += 1
    rest = "\n".join(lines[pos:]).strip()
    return rest or None


def extract(body: Body, sender: str | None = None) -> Content:
    """Pick and strip the body text; never empty when any part holds text."""
    plain = part_text(body.plain) if body.plain is not None else None
    html = part_text(body.html) if body.html is not None else None
    content = Content(html=html, plain=plain)
    if plain is not None and plain.strip():
        full = _tidy(plain)
        split = split_reply(full, sender)
        visible = _tidy(split.visible) or full
        removed = [p.strip() for p in (split.quoted, split.signature) if p and p.strip()]
        content.text, content.full = visible, full
        content.signature = split.signature.strip() or None
        content.quoted = "\n\n".join(removed) if removed else _removed(full, visible)
        return content
    if html is not None and html.strip():
        full = _tidy(html_to_text(html))
        visible = _tidy(html_to_text_without_quotes(html)) or full
        if full or visible:
            content.text, content.full, content.quoted = visible, full, _removed(full, visible)
            return content
    if body.broken is not None:
        content.text = content.full = _tidy(part_text(body.broken))
    return content
