"""Live-chat channel settings: the key that signs visitor tokens."""

from __future__ import annotations

from contracts.adapters import SecretSpec

SECRETS = (SecretSpec("signing_key", "{TENANT}_LIVECHAT_SIGNING_KEY"),)
NATIVE_INPUT = "a live-chat gateway event (JSON)"
