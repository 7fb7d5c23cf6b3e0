"""Meta webhook checks shared by Messenger, Instagram and WhatsApp: X-Hub-Signature-256 and the GET handshake."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from channels.meta.signature import verify_meta_signature
from contracts.adapters import Handshake, Verification

SIGNATURE_HEADER = "x-hub-signature-256"


def verify_hub_signature(raw: bytes, headers: Mapping[str, str], app_secret: str) -> Verification:
    """Passed only for `X-Hub-Signature-256: sha256=<hex HMAC of the raw bytes>` under the app secret."""
    value = headers.get(SIGNATURE_HEADER)
    if not value:
        return Verification.refused("missing X-Hub-Signature-256 header")
    if not value.strip().startswith("sha256="):
        return Verification.refused("X-Hub-Signature-256 must be 'sha256=<hex>'")
    if not verify_meta_signature(raw, value, app_secret):
        return Verification.refused("X-Hub-Signature-256 does not match the body (another secret, or re-serialised JSON)")
    return Verification.passed("X-Hub-Signature-256")


def hub_handshake(query: Mapping[str, str], verify_token: str) -> Handshake:
    """Meta's subscription check: echo `hub.challenge` as plain text when the mode and the token are right."""
    given = query.get("hub.verify_token", "")
    if query.get("hub.mode") != "subscribe":
        return Handshake(403, "hub.mode must be 'subscribe'")
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        return Handshake(403, "hub.verify_token does not match")
    challenge = query.get("hub.challenge")
    if not challenge:
        return Handshake(400, "hub.challenge is missing")
    return Handshake(200, challenge)


def sign_hub(raw: bytes, app_secret: str) -> dict[str, str]:
    """The header Meta attaches to a body: for the demo, the bench and tests that play the platform."""
    return {SIGNATURE_HEADER: "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()}
