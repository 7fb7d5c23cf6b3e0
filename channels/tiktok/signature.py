"""TikTok webhook signature check (`TikTok-Signature: t=<unix seconds>,s=<hex>`).

Implements TikTok for Developers' documented scheme (webhooks-verification): HMAC-SHA256 keyed with the
client secret over `t + "." + raw_body`, compared in constant time, stale `t` rejected. That Business
Messaging webhooks (business-api.tiktok.com) sign the same way is UNVERIFIED: Chatwoot's TikTok channel
does, but no official Business API page was found.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime, timedelta

DEFAULT_TOLERANCE = timedelta(seconds=300)


def parse_tiktok_signature(header_value: str | None) -> tuple[int, list[str]] | None:
    """The timestamp and the candidate hex signatures of the header, or None when it is malformed."""
    if not header_value:
        return None
    stamp: int | None = None
    signatures: list[str] = []
    for part in header_value.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "t" and value.isdigit() and value.isascii():
            stamp = int(value)
        elif key == "s" and value.isascii() and value:
            signatures.append(value.lower())
    if stamp is None or not signatures:
        return None
    return stamp, signatures


def verify_tiktok_signature(
    raw_body: bytes,
    header_value: str | None,
    client_secret: str,
    *,
    now: datetime | float | None = None,
    tolerance: timedelta | None = DEFAULT_TOLERANCE,
) -> bool:
    """True when the header signs `raw_body` with `client_secret` and its `t` is within `tolerance` of now.

    `now` (a datetime or Unix seconds) defaults to the current time; `tolerance=None` skips the replay
    window (only for replaying stored bodies). Malformed headers and an empty secret give False.
    """
    if not isinstance(raw_body, (bytes, bytearray, memoryview)):
        raise TypeError("verify_tiktok_signature needs the raw request bytes")
    parsed = parse_tiktok_signature(header_value)
    if parsed is None or not client_secret:
        return False
    stamp, candidates = parsed
    if tolerance is not None:
        current = time.time() if now is None else now.timestamp() if isinstance(now, datetime) else float(now)
        if abs(current - stamp) > tolerance.total_seconds():
            return False
    signed = str(stamp).encode("ascii") + b"." + bytes(raw_body)
    expected = hmac.new(client_secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    # Check every candidate so the time taken does not depend on which one matched.
    matches = [hmac.compare_digest(expected, candidate) for candidate in candidates]
    return any(matches)
