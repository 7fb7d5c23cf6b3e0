"""Live-chat visitor tokens and request bodies: the hostile inputs of channel-protocols §7 item 31 that need no I/O."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from channels.chat import config, tokens
from channels.chat.wire import MessageRequest, SessionRequest, plain_text

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
KEYS = {"signing_key": "current-key"}


def claims(**overrides) -> tokens.VisitorClaims:
    values = dict(tenant="izonie", session_id="cs_1", visitor_id="v_1", origin="https://izonie.com",
                  issued_at=NOW, expires_at=NOW + config.TOKEN_TTL)
    return tokens.VisitorClaims(**(values | overrides))


def read(token: str, secrets=KEYS, now=NOW) -> tokens.VisitorClaims:
    return tokens.read(token, tokens.verification_keys(secrets), now)


def b64(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_a_token_round_trips_its_claims() -> None:
    assert read(tokens.issue(claims(), KEYS["signing_key"])) == claims()


def test_an_expired_token_is_refused() -> None:
    token = tokens.issue(claims(), KEYS["signing_key"])
    with pytest.raises(tokens.TokenError, match="expired"):
        read(token, now=NOW + config.TOKEN_TTL + timedelta(minutes=1))


def test_a_tampered_token_is_refused() -> None:
    head, body, sig = tokens.issue(claims(), KEYS["signing_key"]).split(".")
    forged_body = b64({**json.loads(base64.urlsafe_b64decode(body + "==")), "sid": "cs_someone_else"})
    for forged in (f"{head}.{forged_body}.{sig}", f"{head}.{body}.{sig[:-2]}AA", f"{head}.{body}.", "a.b", "",
                   "x" * 5000, f"{head}.{body}.{sig}.extra", f"{head}.{body}.{sig}!"):
        with pytest.raises(tokens.TokenError):
            read(forged)


def test_alg_none_and_other_algorithms_are_refused() -> None:
    _, body, sig = tokens.issue(claims(), KEYS["signing_key"]).split(".")
    for alg in ("none", "HS512", "RS256"):
        header = b64({"alg": alg, "typ": "JWT", "kid": tokens.key_id(KEYS["signing_key"])})
        with pytest.raises(tokens.TokenError, match="algorithm"):
            read(f"{header}.{body}.{sig}")


def test_a_wrong_kid_is_refused_and_rotation_accepts_the_previous_key() -> None:
    old = tokens.issue(claims(), "old-key")
    with pytest.raises(tokens.TokenError, match="unknown key"):
        read(old)
    rotated = {"signing_key": "current-key", "previous_signing_key": "old-key"}
    assert read(old, rotated).session_id == "cs_1"
    head, body, sig = old.split(".")
    relabelled = b64({"alg": "HS256", "typ": "JWT", "kid": tokens.key_id("current-key")})
    with pytest.raises(tokens.TokenError, match="signature"):  # the kid names a key, it never picks the check
        read(f"{relabelled}.{body}.{sig}", rotated)


def test_no_key_configured_refuses_everything() -> None:
    with pytest.raises(tokens.TokenError, match="no signing key"):
        read(tokens.issue(claims(), "k"), {})


def test_bearer_header_parsing() -> None:
    assert tokens.bearer("Bearer abc") == "abc"
    assert tokens.bearer("bearer  abc ") == "abc"
    assert tokens.bearer("Basic abc") is None and tokens.bearer(None) is None and tokens.bearer("Bearer ") is None


def test_message_bodies_bound_text_and_ids() -> None:
    assert MessageRequest.model_validate({"client_message_id": "u-1", "text": "x" * 4000}).text == "x" * 4000
    for bad in ({"client_message_id": "u-1", "text": "x" * (config.MAX_TEXT_CHARS + 1)},
                {"client_message_id": "", "text": "hi"}, {"client_message_id": "a b<script>", "text": "hi"},
                {"text": "hi"}, {"client_message_id": "u-1", "text": 5},
                {"client_message_id": "u-1", "text": "hi", "attachments": [{"url": "javascript:alert(1)"}]}):
        with pytest.raises(ValidationError):
            MessageRequest.model_validate(bad)
    assert MessageRequest.model_validate({"client_message_id": "u-1", "text": " \u200b\x00 "}).text == ""


def test_markup_stays_text_and_control_characters_go() -> None:
    text = '<img src=x onerror=alert(1)>\x07 <b>hi</b>\u202e'
    assert plain_text(text) == "<img src=x onerror=alert(1)> <b>hi</b>"
    assert MessageRequest.model_validate({"client_message_id": "u", "text": "<script>alert(1)</script>"}).text \
        == "<script>alert(1)</script>"


def test_session_bodies() -> None:
    assert SessionRequest.model_validate({"name": " Ada\n", "email": "Ada@Example.com "}).email == "ada@example.com"
    assert SessionRequest.model_validate({}).name is None
    with pytest.raises(ValidationError):
        SessionRequest.model_validate({"email": "not an address"})
