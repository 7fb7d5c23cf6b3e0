"""The live-chat channel adapter: events the chat gateway forwards for a website's visitors."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from channels.chat import config, tokens
from channels.chat.normalize import normalize_chat
from channels.chat.send import ChatSender
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
    webhook = None  # visitors talk to the chat gateway (`/chat/{tenant}/...`), not to a platform webhook
    sender = ChatSender()

    def verify(self, raw: bytes, headers: Mapping[str, str], secrets: Mapping[str, str], now: datetime) -> Verification:
        """A visitor request is authentic when it bears (`Authorization: Bearer`) an unexpired token signed with
        the tenant's current or previous signing key. The gateway also checks the token's tenant and session."""
        token = tokens.bearer(headers.get("authorization"))
        if token is None:
            return Verification.refused("no visitor token (Authorization: Bearer <token>)")
        try:
            claims = tokens.read(token, tokens.verification_keys(secrets), now)
        except tokens.TokenError as exc:
            return Verification.refused(str(exc))
        return Verification.passed(f"visitor token of session {claims.session_id}")

    def handshake(self, query: Mapping[str, str], secrets: Mapping[str, str]) -> Handshake | None:
        return None

    def normalize(self, raw: bytes, *, tenant: str, channel: ChannelKind | None,
                  received_at: datetime | None) -> list[InboundMessage]:
        return normalize_chat(raw, tenant=tenant, received_at=received_at)

    def statuses(self, raw: bytes) -> list[PlatformStatus]:
        return []
