"""Sink configuration: what a tenant's `deploy/sinks/<tenant>.yaml` may say (secrets are named, never written)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SinkKind(StrEnum):
    webhook = "webhook"  # Standard Webhooks, signed
    slack = "slack"  # one Slack message per work item, updated in place, with Claim and Resolve buttons
    zendesk = "zendesk"  # one Zendesk ticket per work item (external_id = item id); comments and solves come back
    email = "email"  # one mail per event to a team mailbox, threaded per work item


class SinkSpec(BaseModel):
    """One sink: where a tenant's events for some queues go; URLs, tokens and secrets come from named variables.

    A webhook names `url_env` and `secret_env`. A Slack sink names a Slack channel per queue (`channels`, the key
    `"*"` for every other queue), may map Slack users to agent ids (`agents`), and reads its bot token and signing
    secret from `<TENANT>_SLACK_BOT_TOKEN` and `<TENANT>_SLACK_SIGNING_SECRET` unless `token_env` and
    `signing_secret_env` name others.

    A Zendesk sink reads `<TENANT>_ZENDESK_URL`, `_EMAIL`, `_API_TOKEN` and `_WEBHOOK_SECRET` unless `url_env`,
    `email_env`, `token_env` and `signing_secret_env` name others; it may map Zendesk user ids to agent ids
    (`agents`), queues to Zendesk group ids (`groups`), and put the category and the SLA due time in custom fields
    (`category_field`, `due_field`; without `due_field` the ticket is a task with `due_at`). A team email sink
    names a mailbox per queue (`mailboxes`, `"*"` for every other queue), an optional `from_address`, and sends
    through `<TENANT>_SMTP_URL` (the email channel's) unless `url_env` names another.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    kind: SinkKind
    queues: list[str] | None = None  # None: every queue (a Slack sink: the queues of `channels`)
    url_env: str | None = None
    secret_env: str | None = None
    channels: dict[str, str] | None = None  # Slack: queue (or "*") -> channel id, e.g. C0123ABCD
    agents: dict[str, str] = Field(default_factory=dict)  # Slack user id (U0123ABCD) / Zendesk user id -> agent id
    token_env: str | None = None
    signing_secret_env: str | None = None
    email_env: str | None = None  # Zendesk: the variable holding the API user's email
    groups: dict[str, int] | None = None  # Zendesk: queue (or "*") -> group id
    category_field: int | None = None  # Zendesk: custom field id taking the category (it is a tag either way)
    due_field: int | None = None  # Zendesk: custom field id taking the SLA due time (else: type task, due_at)
    mailboxes: dict[str, str] | None = None  # team email: queue (or "*") -> address
    from_address: str | None = None  # team email: the From (else the SMTP URL's user)

    @model_validator(mode="after")
    def _fields_of_its_kind(self) -> SinkSpec:
        given = {k for k in _KIND_FIELDS[SinkKind.webhook] | _OTHER_FIELDS if getattr(self, k)}
        if self.kind == SinkKind.slack and (self.url_env or self.secret_env):
            raise ValueError("a slack sink takes no url_env/secret_env: its token and signing secret come "
                             "from token_env and signing_secret_env (default <TENANT>_SLACK_BOT_TOKEN and "
                             "<TENANT>_SLACK_SIGNING_SECRET)")
        if foreign := sorted(given - _KIND_FIELDS[self.kind]):
            owners = sorted(k.value for k, taken in _KIND_FIELDS.items() if set(foreign) <= taken) or ["other"]
            raise ValueError(f"{', '.join(foreign)}: only a {' or '.join(owners)} sink takes these")
        if self.kind == SinkKind.webhook and (not self.url_env or not self.secret_env):
            raise ValueError("a webhook sink names url_env and secret_env (the variables holding its URL "
                             "and whsec_ secret)")
        if self.kind == SinkKind.slack and not self.channels:
            raise ValueError("a slack sink names its channels: {queue: channel id}, with \"*\" for every "
                             "other queue")
        if self.kind == SinkKind.email and not self.mailboxes:
            raise ValueError("an email sink names its mailboxes: {queue: address}, with \"*\" for every other "
                             "queue")
        if bad := sorted(a for a in (self.mailboxes or {}).values() if "@" not in a.strip(" @")):
            raise ValueError(f"mailboxes: {bad[0]!r} is not a mail address (team@example.com)")
        if self.kind in (SinkKind.slack, SinkKind.email) and self.queues is not None:
            raise ValueError(f"a {self.kind.value} sink's queues are the keys of its "
                             f"{'channels' if self.kind == SinkKind.slack else 'mailboxes'}: leave queues out")
        return self

    def slack_queues(self) -> frozenset[str] | None:
        """The queues a Slack sink serves: those it names a channel for, or all of them with "*"."""
        return None if "*" in (self.channels or {}) else frozenset(self.channels or {})

    def served_queues(self) -> frozenset[str] | None:
        """The queues the sink serves: a Slack or email sink's are its map's keys ("*": all), others' `queues`."""
        targets = self.channels if self.kind == SinkKind.slack else self.mailboxes
        if self.kind in (SinkKind.slack, SinkKind.email):
            return None if "*" in (targets or {}) else frozenset(targets or {})
        return frozenset(self.queues) if self.queues is not None else None


_OTHER_FIELDS = {"channels", "agents", "token_env", "signing_secret_env", "email_env", "groups", "category_field",
                 "due_field", "mailboxes", "from_address"}
_KIND_FIELDS = {
    SinkKind.webhook: {"url_env", "secret_env"},
    SinkKind.slack: {"channels", "agents", "token_env", "signing_secret_env"},
    SinkKind.zendesk: {"url_env", "email_env", "token_env", "signing_secret_env", "agents", "groups",
                       "category_field", "due_field"},
    SinkKind.email: {"url_env", "mailboxes", "from_address"},
}


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


def zendesk_variables(tenant: str, spec: SinkSpec) -> tuple[str, str, str, str]:
    """The variables holding a Zendesk sink's base URL, API user email, API token and webhook signing secret."""
    upper = _upper(tenant)
    return (spec.url_env or f"{upper}_ZENDESK_URL", spec.email_env or f"{upper}_ZENDESK_EMAIL",
            spec.token_env or f"{upper}_ZENDESK_API_TOKEN",
            spec.signing_secret_env or f"{upper}_ZENDESK_WEBHOOK_SECRET")


def team_mail_variable(tenant: str, spec: SinkSpec) -> str:
    """The variable holding a team email sink's SMTP URL: the email channel's `<TENANT>_SMTP_URL` by default."""
    return spec.url_env or f"{_upper(tenant)}_SMTP_URL"
