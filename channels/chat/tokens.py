"""Live-chat visitor tokens: compact HS256 JWTs bound to tenant, session and origin, with a `kid` for rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

ISSUER = "omniroute-chat"
MAX_TOKEN_CHARS = 2048
_HEADER_ALG = "HS256"
_B64URL = re.compile(r"[A-Za-z0-9_-]+")


class TokenError(ValueError):
    """A token that does not authenticate a visitor; the message says why (never echoes the token)."""


@dataclass(frozen=True, slots=True)
class VisitorClaims:
    """What a valid token asserts: this visitor of this tenant's site holds this session until `expires_at`."""

    tenant: str
    session_id: str
    visitor_id: str
    origin: str
    issued_at: datetime
    expires_at: datetime


def key_id(key: str) -> str:
    """A public id of a signing key (a hash prefix): says which key signed, reveals nothing of it."""
    return hashlib.sha256(b"omniroute-chat-kid\x00" + key.encode()).hexdigest()[:12]


def verification_keys(secrets: Mapping[str, str]) -> dict[str, str]:
    """kid -> key for the tenant's current `signing_key` and, during a rotation, its `previous_signing_key`."""
    keys = [secrets.get("signing_key"), secrets.get("previous_signing_key")]
    return {key_id(k): k for k in keys if k}


def issue(claims: VisitorClaims, key: str) -> str:
    """The signed token for `claims`, signed with the tenant's current key."""
    header = {"alg": _HEADER_ALG, "typ": "JWT", "kid": key_id(key)}
    payload = {"iss": ISSUER, "ten": claims.tenant, "sid": claims.session_id, "sub": claims.visitor_id,
               "org": claims.origin, "iat": int(claims.issued_at.timestamp()), "exp": int(claims.expires_at.timestamp())}
    signing_input = f"{_b64(_json(header))}.{_b64(_json(payload))}"
    return f"{signing_input}.{_b64(_sign(key, signing_input))}"


def read(token: str, keys: Mapping[str, str], now: datetime, *, leeway: timedelta = timedelta(seconds=5)) -> VisitorClaims:
    """The claims of a genuine, unexpired token signed with one of `keys` (kid -> key); else TokenError."""
    if not keys:
        raise TokenError("no signing key is configured for this tenant")
    if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        raise TokenError("malformed token")
    head64, body64, sig64 = token.split(".")
    try:
        header = json.loads(_unb64(head64))
        signature = _unb64(sig64)
    except ValueError:
        raise TokenError("malformed token") from None
    if not isinstance(header, dict) or header.get("alg") != _HEADER_ALG:
        raise TokenError("unsupported token algorithm")
    key = keys.get(str(header.get("kid", "")))
    if key is None:
        raise TokenError("token signed with an unknown key (rotated out, or not ours)")
    if not hmac.compare_digest(signature, _sign(key, f"{head64}.{body64}")):
        raise TokenError("bad token signature")
    try:
        payload = json.loads(_unb64(body64))
        claims = VisitorClaims(tenant=str(payload["ten"]), session_id=str(payload["sid"]),
                               visitor_id=str(payload["sub"]), origin=str(payload["org"]),
                               issued_at=_time(payload["iat"]), expires_at=_time(payload["exp"]))
    except (ValueError, KeyError, TypeError, OverflowError):
        raise TokenError("malformed token claims") from None
    if payload.get("iss") != ISSUER:
        raise TokenError("token not issued by the chat gateway")
    if now >= claims.expires_at + leeway:
        raise TokenError("token expired")
    if claims.issued_at > now + leeway:
        raise TokenError("token issued in the future")
    return claims


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value, else None."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    return (value.strip() or None) if scheme.lower() == "bearer" else None


def _sign(key: str, signing_input: str) -> bytes:
    return hmac.new(key.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or not _B64URL.fullmatch(text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _time(value: object) -> datetime:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("not an integer time")
    return datetime.fromtimestamp(value, timezone.utc)
