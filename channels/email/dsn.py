"""Delivery-status facts (RFC 3464) from bounces: status codes, final recipients, diagnostics."""

from __future__ import annotations

import re
from email.message import Message
from typing import Any

from channels.email.charsets import unescape_surrogates
from channels.email.headers import raw_values
from channels.email.mime import iter_leaves, part_text

_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_FIELD = re.compile(r"^([A-Za-z-]+):[ \t]*(.*(?:\n[ \t]+.*)*)", re.MULTILINE)
_DSN_TYPES = ("message/delivery-status", "message/global-delivery-status")


def _blocks(part: Message) -> list[dict[str, str]]:
    """The per-message and per-recipient field blocks of a delivery-status part."""
    payload = part.get_payload()
    texts: list[str] = []
    if isinstance(payload, list):
        for block in payload:
            if isinstance(block, Message):
                texts.append("\n".join(f"{k}: {unescape_surrogates(str(v))}" for k, v in block.raw_items()))
    else:
        texts = re.split(r"\n\s*\n", part_text(part))
    blocks = []
    for text in texts:
        fields = {m.group(1).lower(): re.sub(r"\s+", " ", m.group(2)).strip() for m in _FIELD.finditer(text)}
        if fields:
            blocks.append(fields)
    return blocks


def _address(value: str | None) -> str | None:
    if not value:
        return None
    addr = value.split(";", 1)[-1].strip().strip("<>").strip()
    return addr.lower() or None


def dsn_facts(msg: Message, fallback_text: str = "") -> dict[str, Any] | None:
    """Structured bounce facts, from delivery-status parts or (for plain-text DSNs) the text; None if none."""
    recipients: list[dict[str, Any]] = []
    for part in iter_leaves(msg):
        if part.get_content_type() not in _DSN_TYPES:
            continue
        for block in _blocks(part):
            if not any(k in block for k in ("final-recipient", "original-recipient", "status", "action")):
                continue
            status = _STATUS.search(block.get("status", ""))
            recipients.append({
                "final_recipient": _address(block.get("final-recipient") or block.get("original-recipient")),
                "action": (block.get("action") or "").lower() or None,
                "status": status.group(1) if status else None,
                "diagnostic_code": block.get("diagnostic-code"),
            })
    failed = [v.strip().lower() for value in raw_values(msg, "X-Failed-Recipients") for v in value.split(",") if v.strip()]
    codes = [r["status"] for r in recipients if r["status"]]
    if not codes:
        codes = list(dict.fromkeys(_STATUS.findall(fallback_text)))
    if not recipients and not failed and not codes:
        return None
    return {
        "status_codes": codes,
        "permanent": any(c.startswith("5") for c in codes) if codes else None,
        "recipients": recipients,
        "failed_recipients": failed,
    }
