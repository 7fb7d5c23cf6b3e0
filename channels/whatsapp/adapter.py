"""The WhatsApp Cloud API channel adapter."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from channels.whatsapp import config
from channels.whatsapp.normalize import normalize_whatsapp
from channels.whatsapp.send import WhatsAppSender
from channels.whatsapp.statuses import whatsapp_statuses
from channels.whatsapp.webhook import hub_handshake, sign_hub, verify_hub_signature
from contracts.adapters import Handshake, Verification
from contracts.channels import ChannelKind, EndpointKind
from contracts.inbound import InboundMessage
from contracts.outbound import PlatformStatus


class WhatsAppAdapter:
    name = "whatsapp"
    kinds = (ChannelKind.whatsapp,)
    endpoint_kinds = (EndpointKind.whatsapp_phone_number_id,)
    native_input = {ChannelKind.whatsapp: config.NATIVE_INPUT}
    secrets = config.SECRETS
    webhook = config.WEBHOOK
    sender = WhatsAppSender()

    def verify(self, raw: bytes, headers: Mapping[str, str], secrets: Mapping[str, str], now: datetime) -> Verification:
        return verify_hub_signature(raw, headers, secrets.get("app_secret", ""))

    def sign(self, raw: bytes, secrets: Mapping[str, str], now: datetime) -> dict[str, str]:
        """The headers the platform attaches (for the demo and the bench, which play the platform)."""
        return sign_hub(raw, secrets.get("app_secret", ""))

    def handshake(self, query: Mapping[str, str], secrets: Mapping[str, str]) -> Handshake | None:
        return hub_handshake(query, secrets.get("verify_token", ""))

    def normalize(self, raw: bytes, *, tenant: str, channel: ChannelKind | None,
                  received_at: datetime | None) -> list[InboundMessage]:
        return normalize_whatsapp(raw, tenant=tenant, received_at=received_at)

    def statuses(self, raw: bytes) -> list[PlatformStatus]:
        return whatsapp_statuses(raw)
