"""The behaviour every ChannelAdapter shows, as a base test case subclassed once per channel.

Like FastStream's one broker suite run against every broker: a channel package passes it or is not done.
The third-party conformance suites (`test_conformance_*`) stay as the second layer, for field-level facts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from contracts.adapters import ChannelAdapter
from contracts.channels import ChannelKind
from contracts.errors import OmnirouteError, PayloadError
from contracts.inbound import InboundMessage, MessageKind

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
TENANT = "acme"


class AdapterBehaviour:
    """Subclasses set the adapter, its inputs and how to sign; every test here then runs for that channel."""

    adapter: ChannelAdapter
    channel: ChannelKind
    secrets: Mapping[str, str] = {}

    def golden(self) -> list[tuple[str, bytes, int]]:
        """(label, native raw bytes, customer-side messages expected) from real payloads."""
        raise NotImplementedError

    def sign(self, raw: bytes, secrets: Mapping[str, str], now: datetime) -> dict[str, str]:
        """The headers a genuine sender attaches (lower-case names); channels without signatures return {}."""
        return {}

    def not_routed(self) -> list[tuple[str, bytes]]:
        """Inputs that hold only statuses, receipts or echoes of the business's own messages."""
        return []

    def redelivered(self) -> tuple[bytes, bytes]:
        """One message as first delivered and as redelivered (possibly in another envelope or batch)."""
        raise NotImplementedError

    def junk(self) -> list[tuple[str, bytes]]:
        """Inputs that are not this channel's format at all."""
        return [("empty", b""), ("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), ("json array", b"[1, 2]"),
                ("json string", b'"hello"'), ("invalid utf-8", b"\xff\xfe{not json")]

    def with_unknowns(self) -> tuple[bytes, bytes]:
        """A message, and the same message with unknown event types and unknown fields added."""
        raise NotImplementedError

    # -- helpers ---------------------------------------------------------------------------------------
    def normalize(self, raw: bytes) -> list[InboundMessage]:
        return self.adapter.normalize(raw, tenant=TENANT, channel=self.channel, received_at=NOW)

    @staticmethod
    def customer_side(messages: list[InboundMessage]) -> list[InboundMessage]:
        return [m for m in messages if m.kind != MessageKind.echo]

    # -- the behaviour ---------------------------------------------------------------------------------
    def test_the_adapter_serves_its_channel(self) -> None:
        assert self.channel in self.adapter.kinds
        assert self.adapter.native_input[self.channel]
        assert self.adapter.endpoint_kinds

    def test_golden_payloads_normalize_to_valid_contracts(self) -> None:
        cases = self.golden()
        assert cases, "a channel needs golden payloads"
        assert sum(expected for _, _, expected in cases) > 0
        for label, raw, expected in cases:
            messages = self.normalize(raw)
            assert len(self.customer_side(messages)) == expected, label
            for m in messages:
                again = InboundMessage.model_validate_json(m.model_dump_json())
                assert again == m, label
                assert m.tenant == TENANT and m.channel in self.adapter.kinds, label
                assert m.provider_message_id and m.sender.platform_id, label
                assert m.received_at == NOW, label

    def test_a_genuine_signature_passes_and_forgeries_are_refused(self) -> None:
        label, raw, _ = self.golden()[0]
        if self.adapter.webhook is None:  # no platform signs these; the channel's own test covers how it trusts input
            assert self.adapter.handshake({"hub.mode": "subscribe"}, self.secrets) is None
            return
        genuine = self.sign(raw, self.secrets, NOW)
        assert self.adapter.verify(raw, genuine, self.secrets, NOW).ok, label
        parsed = json.loads(raw)
        reserialised = next(c for c in (json.dumps(parsed, indent=1).encode(),
                                        json.dumps(parsed, separators=(",", ":")).encode()) if c != raw)
        forgeries = {
            "no signature": (raw, {}),
            "re-serialised body": (reserialised, genuine),
            "one byte changed": (raw.replace(b"}", b" }", 1), genuine),
            "another secret": (raw, self.sign(raw, {k: v + "x" for k, v in self.secrets.items()}, NOW)),
            "garbage header": (raw, {k: "sha256=zz,t=,s=" for k in genuine}),
        }
        for name, (body, headers) in forgeries.items():
            verdict = self.adapter.verify(body, headers, self.secrets, NOW)
            assert not verdict.ok and verdict.reason, name
        assert not self.adapter.verify(raw, genuine, {}, NOW).ok, "an unset secret must refuse, never accept"

    def test_echoes_and_statuses_are_not_routed(self) -> None:
        for label, raw in self.not_routed():
            assert self.customer_side(self.normalize(raw)) == [], label

    def test_the_idempotency_key_is_stable_across_redeliveries(self) -> None:
        first, again = self.redelivered()
        a, b = self.customer_side(self.normalize(first)), self.customer_side(self.normalize(again))
        assert a and {m.id for m in a} <= {m.id for m in b}
        assert [m.id for m in self.customer_side(self.normalize(first))] == [m.id for m in a]

    def test_junk_is_the_channels_payload_error(self) -> None:
        for label, raw in self.junk():
            with pytest.raises(PayloadError) as caught:
                self.normalize(raw)
            assert isinstance(caught.value, OmnirouteError) and str(caught.value), label

    def test_unknown_event_types_and_fields_are_ignored(self) -> None:
        plain, extended = self.with_unknowns()
        strip = lambda ms: [m.model_dump(exclude={"provider"}) for m in self.customer_side(ms)]  # noqa: E731
        assert strip(self.normalize(extended)) == strip(self.normalize(plain)) != []
