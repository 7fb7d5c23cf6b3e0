"""`omniroute dev --demo`: a local Standard Webhooks receiver every tenant without its own sink delivers to."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable, Iterable, Mapping
from contextlib import AsyncExitStack

from channels.sinks.config import default_webhook_variables
from workers.stack.webhook_receiver import WebhookReceiver, describe_delivery


async def start_demo_receiver(stack: AsyncExitStack, tenants: Iterable[str], echo: Callable[[str], None],
                              environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Start the receiver; returns the sink variables to set for tenants that have none (their own win)."""
    env = os.environ if environ is None else environ
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    receiver = WebhookReceiver(secret, on_delivery=lambda d: echo(describe_delivery(d)))
    url = await receiver.start()
    stack.push_async_callback(receiver.stop)
    extra: dict[str, str] = {}
    for tenant in sorted(tenants):
        url_var, secret_var = default_webhook_variables(tenant)
        if not env.get(url_var):
            extra |= {url_var: url, secret_var: secret}
    if extra:
        echo(f"demo: work items of {', '.join(sorted(v.split('_WEBHOOK')[0].lower() for v in extra if v.endswith('URL')))}"
             f" are delivered to a local webhook receiver on {url} (Standard Webhooks, verified as they arrive)")
    return extra
