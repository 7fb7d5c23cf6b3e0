"""API channel settings: the bearer token trusted integrations present."""

from __future__ import annotations

from contracts.adapters import SecretSpec

TOKEN_VARIABLE = "OMNIROUTE_API_TOKEN"
SECRETS = (SecretSpec("api_token", TOKEN_VARIABLE),)
NATIVE_INPUT = "an InboundMessage-shaped JSON object"
