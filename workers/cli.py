"""The `omniroute` command line."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Optional
from zoneinfo import ZoneInfo

import orjson
import typer

from contracts.channels import ChannelKind
from contracts.errors import OmnirouteError
from workers.dry_run import InputError, NoMessages, as_output, route_files, summary_line
from workers.policy_files import PolicyError, duplicate_tenant, load_policies, load_policy
from workers.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="omniroute: omnichannel support-message routing.")
policy_app = typer.Typer(no_args_is_help=True, help="Tenant policy files.")
app.add_typer(policy_app, name="policy")
topics_app = typer.Typer(no_args_is_help=True, help="Kafka topics from deploy/topics.yaml (OMNIROUTE_TOPICS_FILE).")
app.add_typer(topics_app, name="topics")


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"omniroute: {message}", err=True)
    raise typer.Exit(code)


@app.command()
def route(
    files: Annotated[list[Path], typer.Argument(help="native inputs, decided in order as one stream")],
    tenant: Annotated[str, typer.Option(help="tenant id, e.g. alkonect, izonie, conek")],
    channel: Annotated[ChannelKind, typer.Option(help="channel of the inputs")],
    at: Annotated[Optional[str], typer.Option(help="override the received time (ISO 8601; no offset = tenant local time)")] = None,
    policy_dir: Annotated[Optional[list[Path]], typer.Option(
        help="another policy folder, combined with the shipped one and OMNIROUTE_POLICY_DIR's (repeatable)")] = None,
    summary: Annotated[bool, typer.Option("--summary", help="one readable line per message instead of JSON")] = False,
) -> None:
    """Dry-run routing: print one JSON decision per inbound message."""
    directories = [*Settings().policy_dirs, *(policy_dir or [])]
    folders = ", ".join(map(str, directories)) or "none (OMNIROUTE_SHIPPED_POLICIES=false and no OMNIROUTE_POLICY_DIR)"
    try:
        policies = load_policies(directories)
    except PolicyError as exc:
        more = f" (and {len(exc.issues) - 1} more; `omniroute policy check` lists them)" if len(exc.issues) > 1 else ""
        _fail(f"invalid policy files: {exc.issues[0]}{more}")
    if tenant not in policies:
        _fail(f"unknown tenant {tenant!r}; known tenants: {', '.join(sorted(policies)) or 'none'} (policy folders: {folders})")
    policy = policies[tenant]
    received = _parse_at(at, policy.timezone) if at else None
    failed = 0
    out = sys.stdout.buffer
    for result in route_files(files, policy=policy, channel=channel, at=received):
        if isinstance(result, (InputError, NoMessages)):  # a note for an input without messages, not a failure
            failed += isinstance(result, InputError)
            typer.echo(f"omniroute: {result}", err=True)
            continue
        line = summary_line(result) if summary else orjson.dumps(as_output(result)).decode()
        out.write(line.encode() + b"\n")
        out.flush()
    if failed:
        raise typer.Exit(1)


def _parse_at(text: str, zone: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        _fail(f"--at {text!r} is not an ISO 8601 time; write e.g. 2026-11-23T09:30:00+01:00")
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(zone))


@policy_app.command("check")
def policy_check(files: Annotated[list[Path], typer.Argument(help="policy YAML files, or folders of them")]) -> None:
    """Validate policy files and explain every error with file, key, line and fix."""
    bad = 0
    tenants: dict[str, Path] = {}
    paths = [p for f in files for p in (sorted(f.glob("*.yaml")) if f.is_dir() else [f])]
    for path in paths:
        try:
            policy = load_policy(path)
            if policy.tenant in tenants and tenants[policy.tenant].resolve() != path.resolve():
                raise PolicyError([duplicate_tenant(policy.tenant, tenants[policy.tenant], path)])
        except PolicyError as exc:
            bad += 1
            for issue in exc.issues:
                typer.echo(str(issue), err=True)
            continue
        tenants[policy.tenant] = path
        typer.echo(f"ok: {path}: tenant {policy.tenant}, {len(policy.official_endpoints)} official endpoints, "
                   f"{len(policy.sla.rules)} SLA rules, {len(policy.served_categories)} categories served")
    if bad:
        raise typer.Exit(1)


@app.command()
def dev(
    demo: Annotated[bool, typer.Option("--demo", help="also play the shipped sample traffic and show the queues live")] = False,
    http_port: Annotated[Optional[int], typer.Option(help="HTTP ingress port [default 8080, env OMNIROUTE_HTTP_PORT]")] = None,
) -> None:
    """Start the whole system on this machine: broker, Redis, topics, route worker, HTTP ingress."""

    from workers.runtime.dev_stack import run_dev

    logging_setup()
    settings = Settings()
    try:
        run_loop(run_dev(settings, http_port=http_port or settings.http_port, play_demo=demo,
                            echo=lambda line: typer.echo(line)))
    except (OmnirouteError, OSError) as exc:
        _fail(str(exc).splitlines()[0] if not isinstance(exc, OSError) else f"cannot start: {exc}", code=1)
    except Exception as exc:  # noqa: BLE001 - one line for the operator, the traceback in a file
        import traceback

        log = settings.run_dir / "dev-error.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(traceback.format_exc())
        _fail(f"the stack stopped on an unexpected {type(exc).__name__}: {exc} (traceback in {log})", code=1)


@app.command()
def worker(
    kind: Annotated[str, typer.Argument(help="route, sla, ingress, outbound, deliver or email")],
) -> None:
    """Run one process of one role: a route or SLA replica in its consumer group (Kafka shares the partitions
    out among replicas), the HTTP ingress (API channel, platform webhooks, agents' API), the faust App's
    processors (`outbound`: agents' replies to the customers' channels; `deliver`: work items and SLA events to
    the tenants' sinks; either name runs the one App with all its agents, a replica in its group), or the email
    pollers (one per tenant with <TENANT>_IMAP_URL set).

    Uses KAFKA_BOOTSTRAP_SERVERS and REDIS_URL when both are set, else joins the running dev stack. Ctrl-C (or
    SIGTERM) stops it after a final checkpoint and commit.
    """

    from workers.worker_command import run_worker

    logging_setup()
    try:
        run_loop(run_worker(kind, Settings(), echo=lambda line: typer.echo(line)))
    except OmnirouteError as exc:
        _fail(str(exc).splitlines()[0], code=1)
    except OSError as exc:
        _fail(f"the {kind} worker stopped: cannot reach Kafka or Redis ({exc})", code=1)


@app.command()
def queues(
    tenant: Annotated[Optional[str], typer.Option(help="only this tenant")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON rows instead of a table")] = False,
    limit: Annotated[Optional[int], typer.Option(min=1, help="show the first N by SLA due (default 50; 1000 with --json)")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="show every open item")] = False,
) -> None:
    """List each queue's open work items, ordered by SLA due, and its CSAT over 7 days (from the running dev stack
    or REDIS_URL)."""
    import asyncio

    from workers.queues_view import CSAT_DAYS, format_csat_table, format_queue_table, more_line, queue_rows_json
    from workers.runtime.queue_reader import open_items, queue_csat, redis_for_cli

    if show_all and limit is not None:
        _fail("--all and --limit exclude each other")
    found = redis_for_cli(Settings())
    if found is None:
        _fail("no running dev stack found and REDIS_URL is not set; start one with `omniroute dev`", code=1)
    # JSON keeps the 1,000 rows it always gave, so scripts reading it see no fewer than before
    shown = None if show_all else limit or (1000 if as_json else 50)
    try:
        items, total = asyncio.run(open_items(*found, tenant, shown))
        since = datetime.now(ZoneInfo("UTC")) - timedelta(days=CSAT_DAYS)
        csat = [] if as_json else asyncio.run(queue_csat(*found, tenant, since))
    except OSError as exc:
        _fail(f"cannot read the queues from Redis ({exc})", code=1)
    more = None if show_all else more_line(len(items), total)
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(queue_rows_json(items), option=orjson.OPT_INDENT_2) + b"\n")
    else:
        typer.echo(format_queue_table(items, datetime.now(ZoneInfo("UTC"))) if items else "no open work items")
    if more:
        typer.echo(more, err=as_json)
    if not as_json:
        typer.echo("\n" + format_csat_table(csat))


@app.command()
def act(
    item_id: Annotated[str, typer.Argument(help="work item id, as `omniroute queues` lists it")],
    kind: Annotated[str, typer.Option(help="claim, reply, resolve, escalate, wait_customer, reassign, note or request_info")],
    tenant: Annotated[Optional[str], typer.Option(help="tenant the item belongs to [default: the item's own]")] = None,
    agent: Annotated[Optional[str], typer.Option(help="agent id [default: your login name]")] = None,
    text: Annotated[Optional[str], typer.Option(help="reply text; a note's text (never sent to the customer); words before a request_info's fields")] = None,
    escalate_to: Annotated[Optional[str], typer.Option(help="queue to escalate to (kind escalate; default: the policy's escalation queue)")] = None,
    to_queue: Annotated[Optional[str], typer.Option(help="queue to move the item to (kind reassign)")] = None,
    to_agent: Annotated[Optional[str], typer.Option(help="agent to hand the item to (kind reassign; without it the item is open for claiming)")] = None,
    fields: Annotated[Optional[str], typer.Option(help="details to ask the customer for, comma-separated, e.g. order_number,photo (kind request_info)")] = None,
) -> None:
    """Act on a work item in the running dev stack (with its operator credential, or OMNIROUTE_API_TOKEN)."""
    from workers.act_command import ActError, describe_accepted, post_action

    try:
        answer = post_action(Settings(), item_id, tenant=tenant, kind=kind, agent=agent, text=text,
                             escalate_to=escalate_to, to_queue=to_queue, to_agent=to_agent,
                             fields=[f.strip() for f in fields.split(",") if f.strip()] if fields else None)
    except ActError as exc:
        _fail(str(exc), code=1)
    typer.echo(describe_accepted(kind, item_id, answer))


tokens_app = typer.Typer(no_args_is_help=True, help="Per-tenant API tokens (stored hashed in Redis).")
app.add_typer(tokens_app, name="tokens")


@tokens_app.command("create")
def tokens_create(
    tenant: Annotated[str, typer.Option(help="the only tenant this token reaches")],
    agent: Annotated[Optional[str], typer.Option(help="the only agent id its actions may carry")] = None,
    label: Annotated[Optional[str], typer.Option(help="a note: who or what holds it")] = None,
) -> None:
    """Create a token; it is printed once and only its hash is kept."""
    from workers import tokens_command as tc

    try:
        principal, token = tc.create(Settings(), tenant, agent, label)
    except OmnirouteError as exc:
        _fail(str(exc), code=1)
    typer.echo(f"{tc.describe(principal)}\n{token}")


@tokens_app.command("list")
def tokens_list() -> None:
    """List tokens (ids, tenants, agents; never the tokens)."""
    from workers import tokens_command as tc

    try:
        found = tc.listed(Settings())
    except OmnirouteError as exc:
        _fail(str(exc), code=1)
    typer.echo("\n".join(tc.describe(p) for p in found) if found else "no tokens")


@tokens_app.command("revoke")
def tokens_revoke(token_id: Annotated[str, typer.Argument(help="the id `omniroute tokens list` shows")]) -> None:
    """Revoke a token: it is refused from the next request on."""
    from workers import tokens_command as tc

    try:
        principal = tc.revoke(Settings(), token_id)
    except OmnirouteError as exc:
        _fail(str(exc), code=1)
    typer.echo(f"revoked: {tc.describe(principal)}")


dlq_app = typer.Typer(no_args_is_help=True, help="Deliveries a sink did not take within its retry budget.")
app.add_typer(dlq_app, name="dlq")


@dlq_app.command("list")
def dlq_list(
    tenant: Annotated[Optional[str], typer.Option(help="only this tenant")] = None,
    sink: Annotated[Optional[str], typer.Option(help="only this sink")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="also those delivered since")] = False,
) -> None:
    """List dead-lettered deliveries (pending ones unless --all)."""
    from workers.dlq_command import run_list

    try:
        letters = [x for x in run_list(Settings(), tenant=tenant, sink=sink) if show_all or not x.delivered]
    except (OmnirouteError, OSError) as exc:
        _fail(str(exc), code=1)
    typer.echo("\n".join(x.describe() for x in letters) if letters else "no dead-lettered deliveries")


@dlq_app.command("replay")
def dlq_replay(
    tenant: Annotated[Optional[str], typer.Option(help="only this tenant")] = None,
    sink: Annotated[Optional[str], typer.Option(help="only this sink")] = None,
    event: Annotated[Optional[str], typer.Option(help="only this event id (webhook-id)")] = None,
) -> None:
    """Send pending dead letters again through the running deliver processors."""
    from workers.dlq_command import run_replay

    try:
        count = run_replay(Settings(), tenant=tenant, sink=sink, event_id=event)
    except (OmnirouteError, OSError) as exc:
        _fail(str(exc), code=1)
    typer.echo(f"replaying {count} dead-lettered deliver{'y' if count == 1 else 'ies'}")


retention_app = typer.Typer(no_args_is_help=True, help="Delete stored conversation data on each tenant's schedule.")
app.add_typer(retention_app, name="retention")


def _instant(at: Optional[str]) -> datetime:
    """An ISO time (UTC when it has no offset), else now."""
    if at is None:
        return datetime.now(ZoneInfo("UTC"))
    try:
        parsed = datetime.fromisoformat(at)
    except ValueError:
        _fail(f"--at {at!r} is not an ISO 8601 time; write e.g. 2026-06-01T02:00:00+00:00")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo("UTC"))


@retention_app.command("run")
def retention_run(
    tenant: Annotated[Optional[str], typer.Option(help="only this tenant")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="count what is due, delete nothing")] = False,
    at: Annotated[Optional[str], typer.Option(help="plan as of this ISO time instead of now (e.g. with --dry-run)")] = None,
    batch: Annotated[int, typer.Option(min=1, max=10000, help="work items per SCAN batch")] = 500,
) -> None:
    """Delete work items resolved longer ago than the policy's retention, with their actions, clocks and transcripts."""
    from workers import retention_command as rc

    try:
        rc.run(Settings(), _instant(at), tenant=tenant, dry_run=dry_run, batch=batch, echo=typer.echo)
    except (OmnirouteError, OSError) as exc:
        _fail(str(exc), code=1)


@retention_app.command("suspend")
def retention_suspend(
    tenant: Annotated[str, typer.Option(help="the customer's tenant")],
    customer: Annotated[str, typer.Option(help="the customer key, as work items carry it (e.g. email:jane@example.com)")],
    at: Annotated[Optional[str], typer.Option(help="when the account was suspended (ISO time) [default: now]")] = None,
) -> None:
    """Record a suspension for non-payment: the customer's data goes after the policy's shorter period."""
    from workers import retention_command as rc

    when = _instant(at)
    try:
        rc.suspend(Settings(), tenant, customer, when)
    except (OmnirouteError, OSError) as exc:
        _fail(str(exc), code=1)
    typer.echo(f"recorded: {tenant} customer {customer} suspended for non-payment at {when.isoformat()}")


@retention_app.command("lift")
def retention_lift(
    tenant: Annotated[str, typer.Option(help="the customer's tenant")],
    customer: Annotated[str, typer.Option(help="the customer key the suspension was recorded under")],
) -> None:
    """Forget a non-payment suspension (the customer paid and was reactivated)."""
    from workers import retention_command as rc

    try:
        lifted = rc.lift(Settings(), tenant, customer)
    except (OmnirouteError, OSError) as exc:
        _fail(str(exc), code=1)
    typer.echo(f"lifted: {tenant} customer {customer}" if lifted else f"no suspension recorded for {customer} in {tenant}")


def _topics(execute: bool, allow_repartition: bool) -> None:
    import asyncio

    from workers.topics_command import run_topics

    try:
        refused = asyncio.run(run_topics(Settings(), execute=execute, allow_repartition=allow_repartition,
                                         echo=typer.echo))
    except (OmnirouteError, OSError) as exc:
        _fail(str(exc), code=1)
    if refused:
        _fail(f"{refused} change(s) refused (marked !): the lines above say why and what it would take", code=1)


@topics_app.command("plan")
def topics_plan(
    allow_repartition: Annotated[bool, typer.Option("--allow-repartition", help="plan growing keyed topics too")] = False,
) -> None:
    """Show what `topics apply` would change on the target cluster (KAFKA_BOOTSTRAP_SERVERS or the dev stack)."""
    _topics(False, allow_repartition)


@topics_app.command("apply")
def topics_apply(
    allow_repartition: Annotated[bool, typer.Option("--allow-repartition", help="also grow keyed topics (read the plan first)")] = False,
) -> None:
    """Create missing topics, grow partitions, set configs; never shrinks, never repartitions a key silently."""
    _topics(True, allow_repartition)


def run_loop(main) -> None:  # noqa: ANN001 - a coroutine
    """Run a long-lived process on uvloop (libuv: ~2x less event-loop CPU for the HTTP edge than asyncio's)."""
    import asyncio

    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def logging_setup() -> None:
    """structlog rendering for every logger: JSON off a terminal, PII redacted, `omniroute.*` at OMNIROUTE_LOG_LEVEL."""
    from workers.runtime.logs import configure_logging

    settings = Settings()
    configure_logging(level=settings.log_level, fmt=settings.log_format, pii=settings.log_pii)


@app.command()
def schemas(
    write: Annotated[bool, typer.Option("--write", help="rewrite contracts/schemas/*.json")] = False,
) -> None:
    """Print the contracts' JSON Schemas, or rewrite the committed copies with --write."""
    from contracts.schemas import json_schemas

    directory = Path(__file__).resolve().parents[1] / "contracts" / "schemas"
    for name, schema in json_schemas().items():
        text = orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
        if write:
            (directory / name).write_bytes(text)
            typer.echo(f"wrote {directory / name}")
        else:
            typer.echo(f"== {name}")
            sys.stdout.buffer.write(text)


@app.command("migrate-redis-keys")
def migrate_redis_keys(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="count the keys to rename, rename nothing")] = False,
) -> None:
    """Rename the keys an earlier version wrote to their Redis Cluster hash-tagged names (once, before upgrading)."""
    import asyncio

    from redis.exceptions import RedisError

    from workers.runtime.queue_reader import redis_for_cli
    from workers.stack.redis_rename import rename_at

    found = redis_for_cli(Settings())
    if found is None:
        _fail("no running dev stack found and REDIS_URL is not set", code=1)
    url, prefix = found
    try:
        done = asyncio.run(rename_at(url, prefix, dry_run=dry_run))
    except (OSError, RedisError) as exc:
        _fail(f"cannot reach Redis ({exc})", code=1)
    verb = "would rename" if dry_run else "renamed"
    left = f"; {done.taken} left (the new name is taken)" if done.taken else ""
    typer.echo(f"{verb} {done.renamed} keys under {prefix}:{left}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
