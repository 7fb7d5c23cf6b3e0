"""The email reply transport as the app builds it: SMTP URLs checked at start-up, each tenant's official address."""

from __future__ import annotations

from redis.asyncio import Redis

from channels.email.config import parse_smtp_url
from channels.email.loops import AutoMailCap
from channels.email.smtp import SmtpTransport
from contracts.channels import EndpointKind

ADAPTER = "email"


def smtp_transport(app, redis: Redis) -> SmtpTransport:
    """Raises ConfigError naming the variable when a tenant's `<TENANT>_SMTP_URL` is malformed."""
    for tenant in sorted(app.policies):
        value = app.secrets.for_tenant(ADAPTER, tenant).get("smtp_url")
        if value:
            parse_smtp_url(value, app.secrets.variable(ADAPTER, tenant, "smtp_url"))
    official = {tenant: next((e.value for e in policy.official_endpoints if e.kind == EndpointKind.mailbox), None)
                for tenant, policy in app.policies.items()}
    return SmtpTransport({t: a for t, a in official.items() if a},
                         cap=AutoMailCap(redis, prefix=app.settings.redis_prefix))
