"""The TikTok Business Messaging channel adapter."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from channels.tiktok import config
from channels.tiktok.normalize import normalize_tiktok
from channels.tiktok.send import TikTokSender
from channels.tiktok.webhook import sign_timestamped, verify_signed_timestamp
from contracts.adapters import Handshake, Verification
from contracts.channels import ChannelKind, EndpointKind
from contracts.inbound import InboundMessage
from contracts.outbound import PlatformStatus


class TikTokAdapter:
    name = "tiktok"
    kinds = (ChannelKind.tiktok,)
    endpoint_kinds = (EndpointKind.tiktok_business_id,)
    native_input = {ChannelKind.tiktok: config.NATIVE_INPUT}
    secrets = config.SECRETS
    webhook = config.WEBHOOK
    sender = TikTokSender()

    def verify(self, raw: bytes, headers: Mapping[str, str], secrets: Mapping[str, str], now: datetime) -> Verification:
        return verify_signed_timestamp(raw, headers, secrets.get("app_secret", ""), now)

    def sign(self, raw: bytes, secrets: Mapping[str, str], now: datetime) -> dict[str, str]:
        """The headers the platform attaches (for the demo and the bench, which play the platform)."""
        return sign_timestamped(raw, secrets.get("app_secret", ""), now)

    def handshake(self, query: Mapping[str, str], secrets: Mapping[str, str]) -> Handshake | None:
        return None  # TikTok has no GET subscription check

    def normalize(self, raw: bytes, *, tenant: str, channel: ChannelKind | None,
                  received_at: datetime | None) -> list[InboundMessage]:
        return normalize_tiktok(raw, tenant=tenant, received_at=received_at)

    def statuses(self, raw: bytes) -> list[PlatformStatus]:
        return []  # read receipts name no message of ours (im_mark_read_msg carries none)
