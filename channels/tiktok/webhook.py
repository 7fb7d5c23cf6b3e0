"""TikTok webhook check: `TikTok-Signature: t=<unix s>,s=<hex>` over `t.body`, within a replay window."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from channels.tiktok.config import SIGNATURE_TOLERANCE
from channels.tiktok.signature import parse_tiktok_signature, verify_tiktok_signature
from contracts.adapters import Verification

SIGNATURE_HEADER = "tiktok-signature"


def verify_signed_timestamp(raw: bytes, headers: Mapping[str, str], app_secret: str, now: datetime) -> Verification:
    """Passed only for a well-formed, fresh signature of these exact bytes."""
    value = headers.get(SIGNATURE_HEADER)
    if not value:
        return Verification.refused("missing TikTok-Signature header")
    parsed = parse_tiktok_signature(value)
    if parsed is None:
        return Verification.refused("TikTok-Signature must be 't=<unix seconds>,s=<hex>'")
    if abs(now.timestamp() - parsed[0]) > SIGNATURE_TOLERANCE.total_seconds():
        return Verification.refused(f"TikTok-Signature timestamp is more than {SIGNATURE_TOLERANCE.seconds} s "
                                    "from now (a replay, or a clock far off)")
    if not verify_tiktok_signature(raw, value, app_secret, now=now, tolerance=SIGNATURE_TOLERANCE):
        return Verification.refused("TikTok-Signature does not match the body (another secret, or re-serialised JSON)")
    return Verification.passed("TikTok-Signature")


def sign_timestamped(raw: bytes, app_secret: str, now: datetime) -> dict[str, str]:
    """The header TikTok attaches to a body at `now`: for the demo, the bench and tests that play the platform."""
    t = str(int(now.timestamp()))
    digest = hmac.new(app_secret.encode(), t.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return {SIGNATURE_HEADER: f"t={t},s={digest}"}
