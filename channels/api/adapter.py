"""The generic API channel adapter: trusted integrations post InboundMessage-shaped JSON with a bearer token."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import datetime

from channels.api import config
from channels.api.normalize import normalize_api
from contracts.adapters import Handshake, Verification
from contracts.channels import ChannelKind, EndpointKind
from contracts.inbound import InboundMessage
from contracts.outbound import PlatformStatus


class ApiAdapter:
    name = "api"
    kinds = (ChannelKind.api,)
    endpoint_kinds = (EndpointKind.api,)
    native_input = {ChannelKind.api: config.NATIVE_INPUT}
    secrets = config.SECRETS
    webhook = None  # served at POST /v1/{tenant}/messages, with the 422 field report integrations expect
    sender = None  # integrations fetch replies themselves; nothing to push

    def verify(self, raw: bytes, headers: Mapping[str, str], secrets: Mapping[str, str], now: datetime) -> Verification:
        token = secrets.get("api_token", "")
        given = headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not token:
            return Verification.refused(f"the API channel is disabled: set {config.TOKEN_VARIABLE}")
        if not hmac.compare_digest(given.encode(), token.encode()):
            return Verification.refused("missing or wrong bearer token")
        return Verification.passed("bearer token")

    def handshake(self, query: Mapping[str, str], secrets: Mapping[str, str]) -> Handshake | None:
        return None

    def normalize(self, raw: bytes, *, tenant: str, channel: ChannelKind | None,
                  received_at: datetime | None) -> list[InboundMessage]:
        return normalize_api(raw, tenant=tenant, received_at=received_at)

    def statuses(self, raw: bytes) -> list[PlatformStatus]:
        return []
