"""The live-chat channel adapter: events the chat gateway forwards for a website's visitors."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from channels.chat import config
from channels.chat.normalize import normalize_chat
from contracts.adapters import Handshake, Verification
from contracts.channels import ChannelKind, EndpointKind
from contracts.inbound import InboundMessage
from contracts.outbound import PlatformStatus


class ChatAdapter:
    name = "chat"
    kinds = (ChannelKind.chat,)
    endpoint_kinds = (EndpointKind.chat_origin,)
    native_input = {ChannelKind.chat: config.NATIVE_INPUT}
    secrets = config.SECRETS
    webhook = None  # visitors talk to the chat gateway (its own routes), not to a platform webhook
    sender = None  # pushing replies to the visitor is not built yet

    def verify(self, raw: bytes, headers: Mapping[str, str], secrets: Mapping[str, str], now: datetime) -> Verification:
        # Visitor tokens signed with the tenant's key are checked by the chat gateway, which does not exist yet:
        # until it does, nothing reaches omniroute as a verified chat request.
        return Verification.refused("live-chat visitor tokens are checked by the chat gateway, which is not built yet")

    def handshake(self, query: Mapping[str, str], secrets: Mapping[str, str]) -> Handshake | None:
        return None

    def normalize(self, raw: bytes, *, tenant: str, channel: ChannelKind | None,
                  received_at: datetime | None) -> list[InboundMessage]:
        return normalize_chat(raw, tenant=tenant, received_at=received_at)

    def statuses(self, raw: bytes) -> list[PlatformStatus]:
        return []
