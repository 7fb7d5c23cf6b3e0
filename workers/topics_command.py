"""`omniroute topics plan|apply`: the topics file against the target cluster (KAFKA_BOOTSTRAP_SERVERS or the dev stack)."""

from __future__ import annotations

from collections.abc import Callable

from aiokafka.admin import AIOKafkaAdminClient

from contracts.errors import ConfigError
from workers.settings import Settings
from workers.stack import statefile
from workers.stack.kafka_options import admin_options
from workers.stack.topic_file import load_topics
from workers.stack.topic_plan import apply, describe, plan


def target_bootstrap(settings: Settings) -> str:
    """KAFKA_BOOTSTRAP_SERVERS, else the running dev stack's broker."""
    if settings.kafka_bootstrap_servers:
        return settings.kafka_bootstrap_servers
    running = statefile.read_live(settings.state_file)
    if running is None:
        raise ConfigError("no Kafka to compare with: set KAFKA_BOOTSTRAP_SERVERS or start `omniroute dev`")
    return running.bootstrap


async def run_topics(settings: Settings, *, execute: bool, allow_repartition: bool,
                     echo: Callable[[str], None]) -> int:
    """Print the plan (and carry it out with `execute`); returns the number of refused changes."""
    entries = load_topics(settings.topics_file)
    bootstrap = target_bootstrap(settings)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000, **admin_options(settings))
    await admin.start()
    try:
        cluster = await describe(admin, [e.name for e in entries])
        changes = plan(entries, cluster, allow_repartition=allow_repartition)
        echo(f"topics: {settings.topics_file} against {bootstrap} ({cluster.brokers} broker"
             f"{'s' if cluster.brokers != 1 else ''}{', the embedded broker' if cluster.embedded else ''})")
        for change in changes:
            echo(change.line())
        refused = sum(c.kind == "refuse" for c in changes)
        pending = [c for c in changes if c.kind in ("create", "grow", "configs")]
        if not pending:
            echo("nothing to change")
        elif execute:
            for line in await apply(admin, pending, brokers=cluster.brokers):
                echo(f"done: {line}")
        else:
            echo(f"{len(pending)} change(s) pending: run `omniroute topics apply`")
        return refused
    finally:
        await admin.close()
