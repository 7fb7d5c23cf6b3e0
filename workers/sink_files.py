"""The sinks of every tenant, built once at start-up from `deploy/sinks/*.yaml` and the environment."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError
from redis.asyncio import Redis

from channels.email.config import parse_smtp_url
from channels.sinks.base import Sink, serves
from channels.sinks.config import (
    SinkFile,
    SinkKind,
    SinkSpec,
    default_webhook_variables,
    slack_variables,
    team_mail_variable,
    zendesk_variables,
)
from channels.sinks.slack import DEFAULT_API_BASE, SlackSink
from channels.sinks.team_mail import TeamMailSink
from channels.sinks.webhook import WebhookSink, signer
from channels.sinks.zendesk import ZendeskSink
from channels.sinks.zendesk_ticket import TicketMap
from contracts.errors import ConfigError
from contracts.sinks import SinkEvent

DEFAULT_WEBHOOK = "webhook"


@dataclass
class SinkSet:
    """Every configured sink; `notes` says which are off and which variable would turn each on."""

    sinks: list[Sink] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def for_event(self, event: SinkEvent) -> list[Sink]:
        return [s for s in self.sinks if serves(s, event)]

    def named(self, tenant: str, name: str) -> Sink | None:
        return next((s for s in self.sinks if s.tenant == tenant and s.name == name), None)

    def bound(self, redis: Redis, prefix: str) -> SinkSet:
        """The same sinks with their state in `redis` (those that keep any: Slack's message records)."""
        return SinkSet([s.bind(redis, prefix) if hasattr(s, "bind") else s for s in self.sinks], list(self.notes))

    def slack(self, tenant: str) -> list[SlackSink]:
        """The tenant's Slack sinks (its interactivity endpoint answers for them)."""
        return [s for s in self.sinks if isinstance(s, SlackSink) and s.tenant == tenant]

    def zendesk(self, tenant: str) -> list[ZendeskSink]:
        """The tenant's Zendesk sinks (its Zendesk webhook endpoint answers for them)."""
        return [s for s in self.sinks if isinstance(s, ZendeskSink) and s.tenant == tenant]

    def describe(self) -> list[str]:
        return [f"{s.tenant}/{s.name} ({s.kind}, {'every queue' if s.queues is None else ', '.join(sorted(s.queues))})"
                for s in self.sinks]


def load_sinks(directory: Path, tenants: Iterable[str], environ: Mapping[str, str] | None = None, *,
               slack_api_base: str = DEFAULT_API_BASE) -> SinkSet:
    """The tenant-wide webhook where its variables are set, plus each tenant file's sinks."""
    env = os.environ if environ is None else environ
    found = SinkSet()
    for tenant in sorted(tenants):
        url_var, secret_var = default_webhook_variables(tenant)
        specs = [SinkSpec(name=DEFAULT_WEBHOOK, kind=SinkKind.webhook, url_env=url_var, secret_env=secret_var)]
        path = directory / f"{tenant}.yaml"
        if path.is_file():
            specs += _read(path).sinks
        for spec in specs:
            if spec.kind == SinkKind.slack:
                sink = _build_slack(tenant, spec, env, found.notes, slack_api_base)
            elif spec.kind == SinkKind.zendesk:
                sink = _build_zendesk(tenant, spec, env, found.notes)
            elif spec.kind == SinkKind.email:
                sink = _build_team_mail(tenant, spec, env, found.notes)
            else:
                sink = _build(tenant, spec, env, found.notes, optional=spec.name == DEFAULT_WEBHOOK)
            if sink is not None:
                found.sinks.append(sink)
    return found


def _read(path: Path) -> SinkFile:
    try:
        return SinkFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the sink file ({exc})") from None
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise ConfigError(f"{path}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def _build(tenant: str, spec: SinkSpec, env: Mapping[str, str], notes: list[str], *, optional: bool) -> Sink | None:
    assert spec.url_env and spec.secret_env  # SinkSpec checks a webhook names both
    url, secret = env.get(spec.url_env, "").strip(), env.get(spec.secret_env, "").strip()
    if not url:
        if not optional:
            notes.append(f"{tenant}/{spec.name} is off until {spec.url_env} is set")
        return None
    if not secret:
        notes.append(f"{tenant}/{spec.name} is off until {spec.secret_env} is set (never unsigned)")
        return None
    queues = frozenset(spec.queues) if spec.queues is not None else None
    return WebhookSink(name=spec.name, tenant=tenant, queues=queues, url=url, key=signer(secret, spec.secret_env))


def _build_slack(tenant: str, spec: SinkSpec, env: Mapping[str, str], notes: list[str],
                 api_base: str) -> SlackSink | None:
    token_var, signing_var = slack_variables(tenant, spec)
    token, signing = env.get(token_var, "").strip(), env.get(signing_var, "").strip()
    if not token:
        notes.append(f"{tenant}/{spec.name} is off until {token_var} is set")
        return None
    if not signing:
        notes.append(f"{tenant}/{spec.name}: its Claim/Resolve buttons answer 503 until {signing_var} is set")
    return SlackSink(name=spec.name, tenant=tenant, queues=spec.slack_queues(), channels=dict(spec.channels or {}),
                     token=token, base_url=api_base, agents=dict(spec.agents), signing_secret=signing or None,
                     signing_secret_env=signing_var)


def _build_zendesk(tenant: str, spec: SinkSpec, env: Mapping[str, str], notes: list[str]) -> ZendeskSink | None:
    variables = zendesk_variables(tenant, spec)
    url, email, token, signing = (env.get(v, "").strip() for v in variables)
    if missing := [v for v, value in zip(variables[:3], (url, email, token), strict=True) if not value]:
        verb = "is" if len(missing) == 1 else "are"
        notes.append(f"{tenant}/{spec.name} is off until {' and '.join(missing)} {verb} set")
        return None
    if not url.startswith(("https://", "http://")):
        raise ConfigError(f"{variables[0]} is malformed: write the Zendesk account's base URL, like "
                          "https://acme.zendesk.com")
    if not signing:
        notes.append(f"{tenant}/{spec.name}: its webhook (comments and solves back) answers 503 until {variables[3]} "
                     "is set")
    mapping = TicketMap(groups=dict(spec.groups or {}), agents=dict(spec.agents),
                        category_field=spec.category_field, due_field=spec.due_field)
    return ZendeskSink(name=spec.name, tenant=tenant, queues=spec.served_queues(), base_url=url, email=email,
                       token=token, mapping=mapping, signing_secret=signing or None, signing_secret_env=variables[3])


def _build_team_mail(tenant: str, spec: SinkSpec, env: Mapping[str, str], notes: list[str]) -> TeamMailSink | None:
    variable = team_mail_variable(tenant, spec)
    value = env.get(variable, "").strip()
    if not value:
        notes.append(f"{tenant}/{spec.name} is off until {variable} is set")
        return None
    url = parse_smtp_url(value, variable)
    sender = spec.from_address or url.user or ""
    if "@" not in sender:
        raise ConfigError(f"{tenant}/{spec.name}: name a from_address in deploy/sinks/{tenant}.yaml (the SMTP URL's "
                          f"user {sender!r} is not a mail address)")
    return TeamMailSink(name=spec.name, tenant=tenant, queues=spec.served_queues(), url=url,
                        mailboxes=dict(spec.mailboxes or {}), from_address=sender)
