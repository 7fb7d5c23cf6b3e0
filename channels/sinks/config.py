"""Sink configuration: what a tenant's `deploy/sinks/<tenant>.yaml` may say (secrets are named, never written)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SinkKind(StrEnum):
    webhook = "webhook"  # Standard Webhooks, signed
    slack = "slack"  # one Slack message per work item, updated in place, with Claim and Resolve buttons


class SinkSpec(BaseModel):
    """One sink: where a tenant's events for some queues go; URLs, tokens and secrets come from named variables.

    A webhook names `url_env` and `secret_env`. A Slack sink names a Slack channel per queue (`channels`, the key
    `"*"` for every other queue), may map Slack users to agent ids (`agents`), and reads its bot token and signing
    secret from `<TENANT>_SLACK_BOT_TOKEN` and `<TENANT>_SLACK_SIGNING_SECRET` unless `token_env` and
    `signing_secret_env` name others.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    kind: SinkKind
    queues: list[str] | None = None  # None: every queue (a Slack sink: the queues of `channels`)
    url_env: str | None = None
    secret_env: str | None = None
    channels: dict[str, str] | None = None  # Slack: queue (or "*") -> channel id, e.g. C0123ABCD
    agents: dict[str, str] = Field(default_factory=dict)  # Slack: user id (U0123ABCD) -> agent id
    token_env: str | None = None
    signing_secret_env: str | None = None

    @model_validator(mode="after")
    def _fields_of_its_kind(self) -> SinkSpec:
        slack_only = {"channels": self.channels, "agents": self.agents, "token_env": self.token_env,
                      "signing_secret_env": self.signing_secret_env}
        if self.kind == SinkKind.webhook:
            if not self.url_env or not self.secret_env:
                raise ValueError("a webhook sink names url_env and secret_env (the variables holding its URL "
                                 "and whsec_ secret)")
            if given := sorted(k for k, v in slack_only.items() if v):
                raise ValueError(f"{', '.join(given)}: only a slack sink takes these")
        if self.kind == SinkKind.slack:
            if not self.channels:
                raise ValueError("a slack sink names its channels: {queue: channel id}, with \"*\" for every "
                                 "other queue")
            if self.url_env or self.secret_env:
                raise ValueError("a slack sink takes no url_env/secret_env: its token and signing secret come "
                                 "from token_env and signing_secret_env (default <TENANT>_SLACK_BOT_TOKEN and "
                                 "<TENANT>_SLACK_SIGNING_SECRET)")
            if self.queues is not None:
                raise ValueError("a slack sink's queues are the keys of its channels: leave queues out")
        return self

    def slack_queues(self) -> frozenset[str] | None:
        """The queues a Slack sink serves: those it names a channel for, or all of them with "*"."""
        return None if "*" in (self.channels or {}) else frozenset(self.channels or {})


class SinkFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sinks: list[SinkSpec] = Field(default_factory=list)


def _upper(tenant: str) -> str:
    return tenant.upper().replace("-", "_")


def default_webhook_variables(tenant: str) -> tuple[str, str]:
    """The tenant-wide Standard Webhooks delivery: <TENANT>_WEBHOOK_SINK_URL and <TENANT>_WEBHOOK_SINK_SECRET."""
    upper = _upper(tenant)
    return f"{upper}_WEBHOOK_SINK_URL", f"{upper}_WEBHOOK_SINK_SECRET"


def slack_variables(tenant: str, spec: SinkSpec) -> tuple[str, str]:
    """The variables holding a Slack sink's bot token (xoxb-...) and its app's signing secret."""
    upper = _upper(tenant)
    return (spec.token_env or f"{upper}_SLACK_BOT_TOKEN",
            spec.signing_secret_env or f"{upper}_SLACK_SIGNING_SECRET")
