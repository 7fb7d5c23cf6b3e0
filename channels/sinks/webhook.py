"""The signed webhook sink (Standard Webhooks): webhook-id, webhook-timestamp, webhook-signature over the body."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from standardwebhooks import Webhook

from channels.sinks.http import SinkAttempt, SinkClient, SinkRequest
from channels.sinks.payload import event_body
from contracts.errors import ConfigError
from contracts.sinks import SinkEvent


def signer(secret: str, variable: str) -> Webhook:
    """The signing key of a `whsec_<base64>` secret; a ConfigError naming the variable when it is not one."""
    try:
        return Webhook(secret)
    except Exception as exc:  # noqa: BLE001 - the package raises binascii errors and its own for bad secrets
        raise ConfigError(f"{variable} is not a Standard Webhooks secret (expected whsec_<base64>): "
                          f"{type(exc).__name__}") from None


def signed_request(event: SinkEvent, url: str, key: Webhook, now: datetime) -> SinkRequest:
    """The POST for one event: the event id is the webhook-id, so every redelivery carries the same id."""
    body = event_body(event)
    at = now.astimezone(timezone.utc)
    signature = key.sign(event.id, at, body.decode())
    return SinkRequest("POST", url, {"content-type": "application/json", "webhook-id": event.id,
                                     "webhook-timestamp": str(int(at.timestamp())),
                                     "webhook-signature": signature}, body)


@dataclass(frozen=True)
class WebhookSink:
    name: str
    tenant: str
    queues: frozenset[str] | None
    url: str
    key: Webhook
    kind: str = "webhook"

    async def deliver(self, event: SinkEvent, client: SinkClient, now: datetime) -> SinkAttempt:
        return await client.send(signed_request(event, self.url, self.key, now))
