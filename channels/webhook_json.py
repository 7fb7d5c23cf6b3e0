"""Decoding webhook bodies and platform timestamps, shared by the WhatsApp, Meta and TikTok adapters."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from channels.errors import PayloadError

_BOM = b"\xef\xbb\xbf"
_DIGITS = re.compile(r"^\d+(\.\d+)?$")


def load_object(body: bytes | bytearray | memoryview | str | Mapping[str, Any], *, what: str) -> dict[str, Any]:
    """Parse a webhook body into a JSON object; `what` names the source in error messages."""
    if isinstance(body, Mapping):
        return dict(body)
    if isinstance(body, str):
        raw = body.encode("utf-8", "surrogatepass")
    elif isinstance(body, (bytes, bytearray, memoryview)):
        raw = bytes(body)
    else:
        raise PayloadError(f"{what}: expected bytes, str or dict, got {type(body).__name__}")
    if raw.startswith(_BOM):
        raw = raw[len(_BOM):]
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"{what}: not valid JSON ({exc})") from None
    if not isinstance(parsed, dict):
        raise PayloadError(f"{what}: top level must be a JSON object, got {_json_type(parsed)}")
    return parsed


def object_list(container: Mapping[str, Any], key: str, *, what: str, strict: bool = False) -> list[dict[str, Any]]:
    """The JSON objects in `container[key]`; a non-list is a PayloadError when strict, else nothing.

    Non-object elements inside the list are skipped: one odd element must not lose its batch neighbours.
    """
    value = container.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        if strict:
            raise PayloadError(f"{what}: '{key}' must be a list, got {_json_type(value)}")
        return []
    return [item for item in value if isinstance(item, dict)]


def sub_object(container: Mapping[str, Any] | None, key: str) -> dict[str, Any]:
    """`container[key]` when it is a JSON object, else an empty dict."""
    if not isinstance(container, Mapping):
        return {}
    value = container.get(key)
    return value if isinstance(value, dict) else {}


def text_of(value: Any) -> str | None:
    """A scalar id or text as a string (ids arrive as strings or numbers); None for absent or structured values."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    return str(value)


def epoch_to_utc(value: Any, *, unit: Literal["s", "ms"]) -> datetime | None:
    """An aware UTC datetime from a Unix time (int, float or digit string) or an ISO-8601 string.

    `unit` is the platform's documented unit. Meta says milliseconds but some senders (and fixtures) put
    seconds there; a value between 1e9 and 1e11 is only plausible as seconds (as ms it would fall in
    1970-01-12..1973), so it is read as seconds. Unparseable values give None, never an error.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not _DIGITS.match(text):
            return _iso_to_utc(text)
        value = float(text)
    if not isinstance(value, (int, float)):
        return None
    seconds = float(value)
    if unit == "ms" and not 1e9 <= seconds < 1e11:
        seconds /= 1000.0
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _iso_to_utc(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


def arrival_time(received_at: datetime | None, sent_at: datetime | None) -> datetime:
    """`received_at` when the caller knows it, else the platform's send time, else now (aware UTC)."""
    if received_at is not None:
        if received_at.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")
        return received_at
    # Only a body with no usable timestamp reaches the wall clock; ids never depend on it.
    return sent_at if sent_at is not None else datetime.now(UTC)
