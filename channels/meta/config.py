"""Messenger and Instagram channel settings: secret names, webhook path and limits."""

from __future__ import annotations

from datetime import timedelta

from contracts.adapters import SecretSpec, WebhookSpec
from contracts.channels import ChannelKind

SECRETS = (
    SecretSpec("app_secret", "{TENANT}_META_APP_SECRET"),
    SecretSpec("verify_token", "{TENANT}_META_VERIFY_TOKEN"),
    SecretSpec("access_token", "{TENANT}_META_PAGE_TOKEN"),
)
# Meta batches up to 1,000 updates per POST; 5 MiB leaves room (reference/channel-protocols.md §0.6).
WEBHOOK = WebhookSpec(path="meta", signature="app_secret", handshake="verify_token", max_body=5 * 1024 * 1024,
                      redelivery_window=timedelta(days=7))
NATIVE_INPUT = {ChannelKind.messenger: "a Messenger webhook body (JSON, object=page)",
                ChannelKind.instagram: "an Instagram webhook body (JSON, object=instagram)"}
