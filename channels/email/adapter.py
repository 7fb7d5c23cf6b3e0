"""The email channel adapter: RFC 5322 bytes from the tenant's own mailbox."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from channels.email import config
from channels.email.normalize import normalize_email
from channels.email.send import EmailSender
from contracts.adapters import Handshake, Verification
from contracts.channels import ChannelKind, EndpointKind
from contracts.inbound import InboundMessage
from contracts.outbound import PlatformStatus


class EmailAdapter:
    name = "email"
    kinds = (ChannelKind.email,)
    endpoint_kinds = (EndpointKind.mailbox,)
    native_input = {ChannelKind.email: config.NATIVE_INPUT}
    secrets = config.SECRETS
    webhook = None  # mail is fetched from the tenant's mailbox, never posted to us
    sender = EmailSender()  # replies by SMTP through <TENANT>_SMTP_URL

    def verify(self, raw: bytes, headers: Mapping[str, str], secrets: Mapping[str, str], now: datetime) -> Verification:
        # Mail is read from the tenant's own mailbox over an authenticated IMAP session: the source is the proof.
        # Sender spoofing is a different question (official-channel and abuse rules), not transport authenticity.
        return Verification.passed("read from the tenant's mailbox")

    def handshake(self, query: Mapping[str, str], secrets: Mapping[str, str]) -> Handshake | None:
        return None

    def normalize(self, raw: bytes, *, tenant: str, channel: ChannelKind | None,
                  received_at: datetime | None) -> list[InboundMessage]:
        return [normalize_email(raw, tenant=tenant, received_at=received_at)]

    def statuses(self, raw: bytes) -> list[PlatformStatus]:
        return []  # bounces are mail, and normalize classifies them
