"""The Messenger and Instagram channel adapter (one Graph webhook, `object: page | instagram`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from channels.meta import config
from channels.meta.normalize import normalize_meta
from channels.meta.send import MetaSender
from channels.meta.statuses import meta_statuses
from channels.meta.webhook import hub_handshake, sign_hub, verify_hub_signature
from contracts.adapters import Handshake, Verification
from contracts.channels import ChannelKind, EndpointKind
from contracts.inbound import InboundMessage
from contracts.outbound import PlatformStatus


class MetaAdapter:
    name = "meta"
    kinds = (ChannelKind.messenger, ChannelKind.instagram)
    endpoint_kinds = (EndpointKind.messenger_page_id, EndpointKind.instagram_account_id)
    native_input = config.NATIVE_INPUT
    secrets = config.SECRETS
    webhook = config.WEBHOOK
    sender = MetaSender()

    def verify(self, raw: bytes, headers: Mapping[str, str], secrets: Mapping[str, str], now: datetime) -> Verification:
        return verify_hub_signature(raw, headers, secrets.get("app_secret", ""))

    def sign(self, raw: bytes, secrets: Mapping[str, str], now: datetime) -> dict[str, str]:
        """The headers the platform attaches (for the demo and the bench, which play the platform)."""
        return sign_hub(raw, secrets.get("app_secret", ""))

    def handshake(self, query: Mapping[str, str], secrets: Mapping[str, str]) -> Handshake | None:
        return hub_handshake(query, secrets.get("verify_token", ""))

    def normalize(self, raw: bytes, *, tenant: str, channel: ChannelKind | None,
                  received_at: datetime | None) -> list[InboundMessage]:
        """`channel` None: the body's `object` decides (the shared webhook); else it must agree with it."""
        return normalize_meta(raw, tenant=tenant, channel=channel, received_at=received_at)

    def statuses(self, raw: bytes) -> list[PlatformStatus]:
        return meta_statuses(raw)
