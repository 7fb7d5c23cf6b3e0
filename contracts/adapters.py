"""The ChannelAdapter protocol: what every channel package offers the edge, and the values it answers with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from contracts.channels import ChannelKind, EndpointKind
from contracts.inbound import InboundMessage
from contracts.outbound import OutboundMessage, PlatformStatus, SendResult


@dataclass(frozen=True, slots=True)
class Verification:
    """Whether a request is authentic; a refusal is a value with a reason for the caller, not an exception."""

    ok: bool
    reason: str = ""

    @classmethod
    def passed(cls, how: str = "") -> Verification:
        return cls(True, how)

    @classmethod
    def refused(cls, reason: str) -> Verification:
        return cls(False, reason)


@dataclass(frozen=True, slots=True)
class Handshake:
    """The answer to a platform's subscription check (Meta's GET with hub.challenge)."""

    status: int
    body: str  # sent as text/plain, never HTML (the challenge is attacker-controlled)


@dataclass(frozen=True, slots=True)
class SecretSpec:
    """One secret a channel needs, by role, and the environment variable that holds it for a tenant."""

    role: str  # app_secret, verify_token, access_token, signing_key, ...
    variable: str  # may contain {TENANT}, replaced by the upper-cased tenant id

    def variable_for(self, tenant: str) -> str:
        return self.variable.replace("{TENANT}", tenant.upper())


@dataclass(frozen=True, slots=True)
class WebhookSpec:
    """How a channel's webhook is served: `/webhooks/{path}/{tenant}`, signed with the `signature` secret."""

    path: str
    signature: str  # role of the secret that verifies POST bodies
    handshake: str | None  # role of the secret a GET handshake compares against, if the platform has one
    max_body: int  # bytes; larger bodies are refused with 413 before they are read whole
    redelivery_window: timedelta  # how long the platform may redeliver: edge idempotency keys live longer


@dataclass(frozen=True, slots=True)
class Sent:
    """A transport's report: the final result and how many attempts it took."""

    result: SendResult
    attempts: int


@dataclass(frozen=True, slots=True)
class PlatformRequest:
    """One HTTP call to a platform's send API, built without I/O so one client module can send every channel's."""

    method: str
    url: str
    headers: Mapping[str, str]
    json: object


class ReplySender(Protocol):
    """How a channel sends a text. `transport` names the one client that carries it for every sender of that kind
    ("graph" and "tiktok": the platform HTTP client; a mail or chat transport for those channels)."""

    transport: str
    token_role: str  # the secret role that authorises sends (an access token, a mailbox URL, ...)


class HttpReplySender(ReplySender, Protocol):
    """A sender over a platform's HTTP API: the request to make, and how to read the answer (no I/O here)."""

    def request(self, message: OutboundMessage, token: str, base_url: str) -> PlatformRequest: ...

    def read(self, status: int, body: object, headers: Mapping[str, str]) -> SendResult: ...


class ReplyTransport(Protocol):
    """Carries one OutboundMessage for a sender and reports what happened (after its own retries)."""

    async def send(self, sender: ReplySender, message: OutboundMessage, token: str) -> Sent: ...


class ChannelAdapter(Protocol):
    """One channel package seen from the edge: identity, capabilities, verify, normalize.

    `verify` receives the raw body bytes, the request headers with lower-cased names, and the tenant's secrets
    by role; it never raises for a bad signature. `normalize` turns raw bytes into contracts, raising
    `PayloadError` for input that is not the channel's native format, and yields no message for statuses,
    receipts and unknown event types. Echoes of the business's own messages come back with kind `echo`.
    """

    name: str  # the package: email, chat, whatsapp, meta, tiktok, api
    kinds: tuple[ChannelKind, ...]  # the channel kinds it normalizes (meta: messenger and instagram)
    endpoint_kinds: tuple[EndpointKind, ...]  # the business addresses it receives on
    native_input: Mapping[ChannelKind, str]  # what each kind's raw input is, for messages to people
    secrets: tuple[SecretSpec, ...]
    webhook: WebhookSpec | None  # None: no public webhook (polled, or posted through another route)
    sender: ReplySender | None  # None: replies on this channel are not built yet

    def verify(self, raw: bytes, headers: Mapping[str, str], secrets: Mapping[str, str],
               now: datetime) -> Verification: ...

    def handshake(self, query: Mapping[str, str], secrets: Mapping[str, str]) -> Handshake | None: ...

    def normalize(self, raw: bytes, *, tenant: str, channel: ChannelKind | None,
                  received_at: datetime | None) -> list[InboundMessage]: ...

    def statuses(self, raw: bytes) -> list[PlatformStatus]:
        """Status callbacks in a verified body about messages we sent (delivered, read, failed)."""
        ...
