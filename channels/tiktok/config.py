"""TikTok Business Messaging channel settings: secret names, webhook path, limits and the replay window."""

from __future__ import annotations

from datetime import timedelta

from contracts.adapters import SecretSpec, WebhookSpec

SECRETS = (
    SecretSpec("app_secret", "{TENANT}_TIKTOK_APP_SECRET"),
    SecretSpec("access_token", "{TENANT}_TIKTOK_ACCESS_TOKEN"),
)
SIGNATURE_TOLERANCE = timedelta(seconds=300)  # a signed timestamp older or newer than this is a replay
WEBHOOK = WebhookSpec(path="tiktok", signature="app_secret", handshake=None, max_body=5 * 1024 * 1024,
                      redelivery_window=timedelta(days=3))
NATIVE_INPUT = "a TikTok Business Messaging webhook body (JSON)"
