"""Attachment file names made safe to show and store: no path parts, no control characters, bounded."""

from __future__ import annotations

import mimetypes
import re
import unicodedata

MAX_FILENAME_CHARS = 120
_EXTRA_EXTENSIONS = {"message/rfc822": ".eml", "message/news": ".eml", "image/jpg": ".jpg"}


def safe_filename(name: str | None, index: int | None = None, content_type: str | None = None) -> str | None:
    """A display-safe basename; when nothing usable is left, `attachment-<index><ext>`, or None without index."""
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[\\/]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = text.strip().strip(".").strip()
    if not text:
        if index is None:
            return None
        ext = _EXTRA_EXTENSIONS.get(content_type or "") or mimetypes.guess_extension(content_type or "") or ".bin"
        return f"attachment-{index}{ext}"
    if len(text) > MAX_FILENAME_CHARS:
        stem, dot, ext = text.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            text = stem[: MAX_FILENAME_CHARS - len(ext) - 1].rstrip() + "." + ext
        else:
            text = text[:MAX_FILENAME_CHARS].rstrip()
    return text
