"""Every channel kind has a registered normalizer, and each one reads a real native input."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from conftest import ROOT
from contracts.channels import CAPABILITIES, ChannelKind
from workers.channel_registry import NATIVE_INPUT, NORMALIZERS


def test_every_channel_kind_is_registered() -> None:
    assert set(NORMALIZERS) == set(ChannelKind)
    assert set(NATIVE_INPUT) == set(ChannelKind)
    assert set(CAPABILITIES) == set(ChannelKind)


CHAT_EVENT = b'{"id": "c-1", "session_id": "s-1", "origin": "https://alkonect.com", "visitor": {"id": "v-1", "email": "a@b.c"}, "text": "hi"}'
API_MESSAGE = (b'{"provider_message_id": "crm-9", "conversation_key": "k", "sender": {"platform_id": "u-1"},'
               b' "addressed_to": [{"kind": "api", "value": "crm"}], "received_at": "2026-11-24T10:00:00+01:00", "text": "hi"}')


@pytest.mark.parametrize(("channel", "raw"), [
    (ChannelKind.email, (ROOT / "deploy/samples/alkonect/01-order-question.eml").read_bytes()),
    (ChannelKind.whatsapp, (ROOT / "deploy/samples/conek/01-refund-missing-info.json").read_bytes()),
    (ChannelKind.messenger, (ROOT / "deploy/samples/izonie/01-seller-delay.json").read_bytes()),
    (ChannelKind.chat, CHAT_EVENT),
    (ChannelKind.api, API_MESSAGE),
])
def test_registered_normalizer_reads_native_input(channel: ChannelKind, raw: bytes) -> None:
    at = datetime(2026, 11, 24, 9, tzinfo=timezone.utc)
    messages = NORMALIZERS[channel](raw, "alkonect", at)
    assert len(messages) == 1
    assert messages[0].channel == channel and messages[0].tenant == "alkonect"
    assert messages[0].received_at == at
