"""The dev stack's live chat: a signing key per chat tenant when unset (demo only) and the demo pages' URLs."""

from __future__ import annotations

import secrets
from dataclasses import replace

from contracts.channels import EndpointKind
from workers.app import App
from workers.channel_secrets import ChannelSecrets

ROLE = "signing_key"


def chat_tenants(app: App) -> list[str]:
    """Tenants whose policy names an official live-chat origin."""
    return [t for t, p in sorted(app.policies.items()) if any(e.kind == EndpointKind.chat_origin
                                                               for e in p.official_endpoints)]


def with_generated_keys(app: App) -> tuple[App, list[str]]:
    """The app with a random signing key for every chat tenant that has none, and the variables so filled."""
    generated = {variable: secrets.token_urlsafe(32) for tenant in chat_tenants(app)
                 if (variable := app.secrets.missing("chat", tenant, ROLE))}
    if not generated:
        return app, []
    extra = ChannelSecrets.from_environ(app.adapters, app.policies, generated)
    values = {key: {**app.secrets.values.get(key, {}), **extra.values.get(key, {})}
              for key in {*app.secrets.values, *extra.values}}
    return replace(app, secrets=ChannelSecrets(values, app.secrets.variables)), sorted(generated)


def chat_lines(app: App, base_url: str) -> list[str]:
    """One line per chat tenant: its demo page, or the variable it waits for."""
    lines = []
    for tenant in chat_tenants(app):
        missing = app.secrets.missing("chat", tenant, ROLE)
        page = f"{base_url}/chat/{tenant}/"
        lines.append(f"chat: {tenant} demo page {page} (widget {page}widget.js)" if missing is None
                     else f"chat: {page} and /chat/{tenant}/* answer 503 until {missing} is set")
    return lines
