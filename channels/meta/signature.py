"""Meta webhook signature check (X-Hub-Signature-256 / legacy X-Hub-Signature), shared with WhatsApp."""

from __future__ import annotations

import hashlib
import hmac

_ALGORITHMS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1}


def verify_meta_signature(raw_body: bytes, header_value: str | None, app_secret: str) -> bool:
    """True when `header_value` ("sha256=<hex>" or legacy "sha1=<hex>") is the HMAC of the raw body.

    The HMAC key is the Meta App Secret. Check the exact request bytes before any JSON parsing: Meta signs
    its escaped serialisation, which a re-serialised body does not reproduce. Missing or malformed headers
    and an empty secret give False, never an exception.
    """
    if not isinstance(raw_body, (bytes, bytearray, memoryview)):
        raise TypeError("verify_meta_signature needs the raw request bytes, not a decoded or re-serialised body")
    if not header_value or not app_secret:
        return False
    algorithm, sep, provided = header_value.strip().partition("=")
    digest = _ALGORITHMS.get(algorithm.strip().lower())
    provided = provided.strip().lower()
    if not sep or digest is None or not provided.isascii():
        return False
    expected = hmac.new(app_secret.encode("utf-8"), bytes(raw_body), digest).hexdigest()
    return hmac.compare_digest(expected, provided)
