"""The demo plays the platforms: it signs sample webhook bodies with the stack's secrets and posts them over HTTP."""

from __future__ import annotations

import aiohttp

from channels import registry
from contracts.channels import ChannelKind
from contracts.ports import Clock
from workers.app import App
from workers.channel_secrets import ChannelSecrets


def demo_secrets(app: App) -> dict[str, str]:
    """Values for the webhook secrets the operator left unset, so the demo's signed traffic is accepted."""
    out = {}
    for adapter, tenant in app.webhooks():
        roles = (adapter.webhook.signature, adapter.webhook.handshake, adapter.sender and adapter.sender.token_role)
        for role in filter(None, roles):
            variable = app.secrets.missing(adapter.name, tenant, role)
            if variable:
                out[variable] = f"demo-{tenant}-{adapter.name}-{role.replace('_', '-')}"
    return out


class DemoWebhooks:
    """Posts native bodies to `/webhooks/{path}/{tenant}`, signed as the platform would sign them."""

    def __init__(self, base_url: str, secrets: ChannelSecrets, clock: Clock) -> None:
        self.base_url, self.secrets, self.clock = base_url, secrets, clock

    async def post(self, channel: ChannelKind, tenant: str, raw: bytes) -> tuple[int, dict]:
        adapter = registry.adapter_for(channel)
        assert adapter.webhook is not None, f"{channel} has no webhook"
        headers = adapter.sign(raw, self.secrets.for_tenant(adapter.name, tenant), self.clock.now())
        url = f"{self.base_url}/webhooks/{adapter.webhook.path}/{tenant}"
        async with aiohttp.ClientSession() as http, http.post(url, data=raw, headers=headers) as answer:
            return answer.status, await answer.json(content_type=None)
