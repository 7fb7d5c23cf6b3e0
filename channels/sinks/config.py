"""Sink configuration: what a tenant's `deploy/sinks/<tenant>.yaml` may say (secrets are named, never written)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class SinkKind(StrEnum):
    webhook = "webhook"  # Standard Webhooks, signed


class SinkSpec(BaseModel):
    """One sink: where a tenant's events for some queues go; URL and secret come from the named variables."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    kind: SinkKind
    queues: list[str] | None = None  # None: every queue
    url_env: str
    secret_env: str


class SinkFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sinks: list[SinkSpec] = Field(default_factory=list)


def default_webhook_variables(tenant: str) -> tuple[str, str]:
    """The tenant-wide Standard Webhooks delivery: <TENANT>_WEBHOOK_SINK_URL and <TENANT>_WEBHOOK_SINK_SECRET."""
    upper = tenant.upper().replace("-", "_")
    return f"{upper}_WEBHOOK_SINK_URL", f"{upper}_WEBHOOK_SINK_SECRET"
