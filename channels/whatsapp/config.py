"""WhatsApp Cloud API channel settings: secret names, webhook path and limits."""

from __future__ import annotations

from datetime import timedelta

from contracts.adapters import SecretSpec, WebhookSpec

SECRETS = (
    SecretSpec("app_secret", "{TENANT}_WHATSAPP_APP_SECRET"),
    SecretSpec("verify_token", "{TENANT}_WHATSAPP_VERIFY_TOKEN"),
    SecretSpec("access_token", "{TENANT}_WHATSAPP_ACCESS_TOKEN"),
)
# Payloads reach 3 MB (reference §0.6); Meta retries WhatsApp webhooks for up to 7 days (§1.7).
WEBHOOK = WebhookSpec(path="whatsapp", signature="app_secret", handshake="verify_token", max_body=5 * 1024 * 1024,
                      redelivery_window=timedelta(days=7))
NATIVE_INPUT = "a WhatsApp Cloud API webhook body (JSON)"
