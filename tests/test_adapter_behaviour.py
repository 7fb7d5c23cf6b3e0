"""The adapter behaviour suite, run once per channel package with its golden native payloads."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from datetime import datetime

import pytest

from adapter_behaviour import NOW, AdapterBehaviour
from channels import registry
from channels.api.adapter import ApiAdapter
from channels.chat.adapter import ChatAdapter
from channels.email.adapter import EmailAdapter
from channels.meta.adapter import MetaAdapter
from channels.tiktok.adapter import TikTokAdapter
from channels.whatsapp.adapter import WhatsAppAdapter
from conftest import ROOT, SHARED
from contracts.channels import CAPABILITIES, ChannelKind

SAMPLES = ROOT / "deploy" / "samples"


def shared_json(relative: str) -> dict:
    path = SHARED / "conformance" / relative
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI must have shared/ beside the repository")
        pytest.skip(f"{path} not found; set OMNIROUTE_SHARED")
    return json.loads(path.read_bytes())


def dumps(value: object) -> bytes:
    """Compact JSON with non-ASCII escaped and '/' as '\\/', the way Meta serialises (and signs) bodies."""
    return json.dumps(value, separators=(",", ":")).replace("/", "\\/").encode()


def hub_signature(raw: bytes, secrets: Mapping[str, str]) -> dict[str, str]:
    digest = hmac.new(secrets.get("app_secret", "").encode(), raw, hashlib.sha256).hexdigest()
    return {"x-hub-signature-256": f"sha256={digest}"}


def test_every_channel_kind_has_exactly_one_adapter() -> None:
    kinds = [kind for adapter in registry.ADAPTERS for kind in adapter.kinds]
    assert sorted(kinds) == sorted(ChannelKind)
    assert set(CAPABILITIES) == set(ChannelKind)
    assert {a.name for a in registry.webhook_adapters()} == {"whatsapp", "meta", "tiktok"}
    assert len({a.webhook.path for a in registry.webhook_adapters()}) == 3


def test_every_channel_package_has_the_same_cast_of_files() -> None:
    for adapter in registry.ADAPTERS:
        package = ROOT / "channels" / adapter.name
        assert {"config.py", "normalize.py", "adapter.py"} <= {p.name for p in package.glob("*.py")}, adapter.name
        if adapter.webhook is not None:
            assert (package / "webhook.py").is_file(), adapter.name


class TestWhatsApp(AdapterBehaviour):
    adapter, channel = WhatsAppAdapter(), ChannelKind.whatsapp
    secrets = {"app_secret": "wa-secret", "verify_token": "wa-verify"}

    def golden(self):
        signed = shared_json("whatsapp/signature_cases.json")["cases"]["valid"]["raw_body"].encode()
        samples = [(p.name, p.read_bytes(), 0 if "status-only" in p.name else 1)
                   for p in sorted((SAMPLES / "conek").glob("*.json"))]
        return [("pywa signed body", signed, 1), *samples]

    def sign(self, raw, secrets, now):
        return hub_signature(raw, secrets)

    def not_routed(self):
        body = json.loads((SAMPLES / "conek" / "01-refund-missing-info.json").read_bytes())
        value = body["entry"][0]["changes"][0]["value"]
        echo = {**value, "message_echoes": [{**value["messages"][0], "from": "27832885137", "to": "27820000000"}]}
        echo.pop("messages")
        return [("statuses", (SAMPLES / "conek" / "05-status-only.json").read_bytes()),
                ("echo", dumps({**body, "entry": [{**body["entry"][0], "changes": [{"field": "messages", "value": echo}]}]}))]

    def redelivered(self):
        body = json.loads((SAMPLES / "conek" / "01-refund-missing-info.json").read_bytes())
        other = json.loads((SAMPLES / "conek" / "04-holiday.json").read_bytes())
        rebatched = {**body, "entry": [*other["entry"], *body["entry"]]}
        return dumps(body), dumps(rebatched)

    def with_unknowns(self):
        body = json.loads((SAMPLES / "conek" / "01-refund-missing-info.json").read_bytes())
        extended = json.loads(json.dumps(body))
        extended["entry"][0]["changes"].append({"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}})
        extended["entry"][0]["changes"][0]["value"]["messages"][0]["novel_field"] = {"x": 1}
        extended["future_top_level"] = True
        return dumps(body), dumps(extended)

    def test_meta_handshake(self) -> None:
        ok = {"hub.mode": "subscribe", "hub.verify_token": "wa-verify", "hub.challenge": "1158201444"}
        assert self.adapter.handshake(ok, self.secrets).status == 200
        assert self.adapter.handshake(ok, self.secrets).body == "1158201444"
        assert self.adapter.handshake({**ok, "hub.verify_token": "nope"}, self.secrets).status == 403
        assert self.adapter.handshake({**ok, "hub.mode": "unsubscribe"}, self.secrets).status == 403
        assert self.adapter.handshake({k: v for k, v in ok.items() if k != "hub.challenge"}, self.secrets).status == 400
        assert self.adapter.handshake(ok, {}).status == 403

    def test_the_recorded_pywa_signature_verifies(self) -> None:
        case = shared_json("whatsapp/signature_cases.json")["cases"]["valid"]
        headers = {"x-hub-signature-256": case["x_hub_signature_256"]}
        assert self.adapter.verify(case["raw_body"].encode(), headers, {"app_secret": case["app_secret"]}, NOW).ok
        assert not self.adapter.verify(case["raw_body"].encode(), {"x-hub-signature-256": "sha1=" + case[
            "x_hub_signature_256"][7:]}, {"app_secret": case["app_secret"]}, NOW).ok


class TestMessenger(AdapterBehaviour):
    adapter, channel = MetaAdapter(), ChannelKind.messenger
    secrets = {"app_secret": "meta-secret", "verify_token": "meta-verify"}

    def golden(self):
        return [(p.name, p.read_bytes(), 0 if "read-receipt" in p.name else 1)
                for p in sorted((SAMPLES / "izonie").glob("*.json"))]

    def sign(self, raw, secrets, now):
        return hub_signature(raw, secrets)

    def not_routed(self):
        body = json.loads((SAMPLES / "izonie" / "01-seller-delay.json").read_bytes())
        event = body["entry"][0]["messaging"][0]
        echo = {**event, "sender": event["recipient"], "recipient": event["sender"],
                "message": {**event["message"], "is_echo": True, "app_id": 1}}
        return [("read receipt", (SAMPLES / "izonie" / "06-read-receipt.json").read_bytes()),
                ("echo", dumps({**body, "entry": [{**body["entry"][0], "messaging": [echo]}]}))]

    def redelivered(self):
        body = json.loads((SAMPLES / "izonie" / "01-seller-delay.json").read_bytes())
        other = json.loads((SAMPLES / "izonie" / "04-escalation.json").read_bytes())
        return dumps(body), dumps({**body, "entry": [*other["entry"], *body["entry"]]})

    def with_unknowns(self):
        body = json.loads((SAMPLES / "izonie" / "01-seller-delay.json").read_bytes())
        extended = json.loads(json.dumps(body))
        extended["entry"][0]["messaging"].append({"sender": {"id": "1"}, "recipient": {"id": "2"},
                                                   "brand_new_event": {"x": 1}})
        extended["entry"][0]["messaging"][0]["message"]["novel_field"] = [1, 2]
        return dumps(body), dumps(extended)


class TestInstagram(TestMessenger):
    channel = ChannelKind.instagram

    def _cases(self) -> dict:
        return shared_json("meta/instagram/chatwoot_cases.json")["cases"]

    def golden(self):
        out = []
        for name, case in self._cases().items():
            expected = [e for e in case["expected"].get("events", []) if e.get("category") != "echo"
                        and any(e.get("category", "").startswith(p) for p in (
                            "customer_message", "reaction", "message_deleted", "message_edited", "postback"))]
            out.append((name, dumps(case["payload"]), len(expected)))
        return out

    def not_routed(self):
        return [(n, dumps(c["payload"])) for n, c in self._cases().items()
                if c["expected"].get("events") and all(e.get("category") in ("echo", "read", "read_receipt")
                                                        for e in c["expected"]["events"])]

    def redelivered(self):
        payload = self._cases()["instagram_message_create_event"]["payload"]
        return dumps(payload), dumps({**payload, "entry": payload["entry"] * 2})

    def with_unknowns(self):
        payload = self._cases()["instagram_message_create_event"]["payload"]
        extended = json.loads(json.dumps(payload))
        extended["entry"][0]["messaging"].append({"sender": {"id": "1"}, "brand_new_event": {}})
        extended["entry"][0]["novel"] = "x"
        return dumps(payload), dumps(extended)


def tiktok_signature(raw: bytes, secrets: Mapping[str, str], now: datetime) -> dict[str, str]:
    t = str(int(now.timestamp()))
    digest = hmac.new(secrets.get("app_secret", "").encode(), t.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return {"tiktok-signature": f"t={t},s={digest}"}


class TestTikTok(AdapterBehaviour):
    adapter, channel = TikTokAdapter(), ChannelKind.tiktok
    secrets = {"app_secret": "tt-secret"}

    def _cases(self) -> dict:
        return shared_json("tiktok/chatwoot_cases.json")["cases"]

    def golden(self):
        return [(name, dumps(case["payload"]),
                 int(case["expected"].get("category", "").startswith("customer_message")))
                for name, case in self._cases().items()]

    def sign(self, raw, secrets, now):
        return tiktok_signature(raw, secrets, now)

    def not_routed(self):
        return [(n, dumps(c["payload"])) for n, c in self._cases().items()
                if not c["expected"].get("category", "").startswith("customer_message")]

    def redelivered(self):
        payload = self._cases()["text"]["payload"]
        return dumps(payload), json.dumps(payload, indent=2).encode()

    def with_unknowns(self):
        payload = self._cases()["text"]["payload"]
        content = json.loads(payload["content"]) | {"novel": {"x": 1}}
        return dumps(payload), dumps({**payload, "content": json.dumps(content), "new_envelope_field": 1})

    def test_a_stale_or_future_timestamp_is_a_replay(self) -> None:
        _, raw, _ = self.golden()[0]
        from datetime import timedelta
        for shift in (timedelta(minutes=6), -timedelta(minutes=6)):
            headers = tiktok_signature(raw, self.secrets, NOW + shift)
            verdict = self.adapter.verify(raw, headers, self.secrets, NOW)
            assert not verdict.ok and "replay" in verdict.reason


class TestEmail(AdapterBehaviour):
    adapter, channel = EmailAdapter(), ChannelKind.email

    def golden(self):
        return [(p.name, p.read_bytes(), 1) for p in sorted((SAMPLES / "alkonect").glob("*.eml"))]

    def not_routed(self):
        return []  # mail has no statuses; auto-replies and bounces are kinds that decide() drops or quarantines

    def redelivered(self):
        raw = (SAMPLES / "alkonect" / "01-order-question.eml").read_bytes()
        return raw, b"Received: from relay.example (relay.example [192.0.2.1]); Mon, 23 Nov 2026 09:00:00 +0000\r\n" + raw

    def junk(self):
        return [*super().junk(), ("whitespace", b"\r\n \r\n"), ("prose", b"hello, this is not a mail\n")]

    def with_unknowns(self):
        raw = (SAMPLES / "alkonect" / "01-order-question.eml").read_bytes()
        return raw, b"X-Unknown-Vendor-Header: 1\r\n" + raw


class TestChat(AdapterBehaviour):
    adapter, channel = ChatAdapter(), ChannelKind.chat
    EVENT = {"id": "c-1", "session_id": "s-1", "origin": "https://alkonect.com",
             "visitor": {"id": "v-1", "email": "a@b.c"}, "text": "Where is my order ALK-900001?"}

    def golden(self):
        return [("message", dumps(self.EVENT), 1), ("two", dumps([self.EVENT, {**self.EVENT, "id": "c-2"}]), 2)]

    def not_routed(self):
        return [("typing", dumps({**self.EVENT, "type": "typing"}))]

    def redelivered(self):
        return dumps(self.EVENT), dumps([{**self.EVENT, "id": "c-0"}, self.EVENT])

    def junk(self):
        return [*super().junk(), ("no visitor", dumps({"id": "x", "session_id": "s", "origin": "o"}))]

    def with_unknowns(self):
        return dumps(self.EVENT), dumps([{**self.EVENT, "novel": 1}, {**self.EVENT, "id": "c-9", "type": "seen"}])

    def test_chat_verifies_the_visitor_token_of_the_gateway(self) -> None:
        from datetime import timedelta

        from channels.chat import tokens

        claims = tokens.VisitorClaims(tenant="acme", session_id="s-1", visitor_id="v-1", origin="https://alkonect.com",
                                      issued_at=NOW, expires_at=NOW + timedelta(hours=1))
        raw, genuine = dumps(self.EVENT), {"authorization": f"Bearer {tokens.issue(claims, 'k')}"}
        assert self.adapter.verify(raw, genuine, {"signing_key": "k"}, NOW).ok
        assert self.adapter.verify(raw, genuine, {"signing_key": "new", "previous_signing_key": "k"}, NOW).ok
        assert not self.adapter.verify(raw, {}, {"signing_key": "k"}, NOW).ok
        assert not self.adapter.verify(raw, genuine, {"signing_key": "other"}, NOW).ok
        assert not self.adapter.verify(raw, genuine, {}, NOW).ok
        assert not self.adapter.verify(raw, genuine, {"signing_key": "k"}, NOW + timedelta(hours=2)).ok


class TestApi(AdapterBehaviour):
    adapter, channel = ApiAdapter(), ChannelKind.api
    MESSAGE = {"provider_message_id": "crm-9", "conversation_key": "k", "sender": {"platform_id": "u-1"},
               "addressed_to": [{"kind": "api", "value": "crm"}], "received_at": "2026-11-24T10:00:00+01:00",
               "text": "hi"}

    def golden(self):
        return [("message", dumps(self.MESSAGE), 1)]

    def redelivered(self):
        return dumps(self.MESSAGE), json.dumps(self.MESSAGE, indent=2).encode()

    def junk(self):
        return [*super().junk(), ("missing fields", b'{"text": "hi"}')]

    def with_unknowns(self):
        return dumps(self.MESSAGE), dumps(self.MESSAGE)  # the API contract forbids unknown fields (422 names them)

    def test_the_bearer_token_is_checked(self) -> None:
        raw = dumps(self.MESSAGE)
        assert self.adapter.verify(raw, {"authorization": "Bearer t0k"}, {"api_token": "t0k"}, NOW).ok
        assert not self.adapter.verify(raw, {"authorization": "Bearer nope"}, {"api_token": "t0k"}, NOW).ok
        refused = self.adapter.verify(raw, {"authorization": "Bearer t0k"}, {}, NOW)
        assert not refused.ok and "OMNIROUTE_API_TOKEN" in refused.reason
