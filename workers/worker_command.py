"""`omniroute worker route|sla|ingress|outbound|email`: one process of one role, a replica among others (built by the app factory)."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from contracts.errors import OmnirouteError
from workers.app import App, build_app
from workers.runtime.faust_view import FaustView
from workers.runtime.health_server import start_health_server
from workers.runtime.mail_pollers import serve_mail_pollers
from workers.runtime.route_worker import RouteWorker
from workers.runtime.supervise import supervise
from workers.runtime.worker_metrics import WorkerCollector
from workers.settings import Settings
from workers.stack import statefile
from workers.stack.kafka_compat import apply_tansu_leave_group_fix
from workers.stack.kafka_options import admin_options, resolve_broker
from workers.stack.redis_server import redact
from workers.stack.topic_file import topic_specs
from workers.stack.topics import ensure_topics, mismatch_error

KINDS = ("route", "sla", "ingress", "outbound", "deliver", "email")
PROGRESS_EVERY_S = 10.0


class WorkerError(OmnirouteError):
    """The worker cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class Target:
    bootstrap: str
    redis_url: str
    redis_prefix: str
    source: str  # where the addresses came from, for the first log line


def find_target(settings: Settings) -> Target:
    """KAFKA_BOOTSTRAP_SERVERS + REDIS_URL when both are set, else the running dev stack's (to add a replica)."""
    if settings.kafka_bootstrap_servers and settings.redis_url:
        return Target(settings.kafka_bootstrap_servers, settings.redis_url, settings.redis_prefix,
                      "KAFKA_BOOTSTRAP_SERVERS and REDIS_URL")
    running = statefile.read_live(settings.state_file)
    if running is not None:
        return Target(running.bootstrap, running.redis_url, running.redis_prefix or settings.redis_prefix,
                      f"the dev stack of pid {running.supervisor_pid}")
    missing = [name for name, value in (("KAFKA_BOOTSTRAP_SERVERS", settings.kafka_bootstrap_servers),
                                        ("REDIS_URL", settings.redis_url)) if not value]
    raise WorkerError(f"no running dev stack found and {' and '.join(missing)} not set; start `omniroute dev` "
                      "or point the worker at Kafka and Redis")


async def run_worker(kind: str, settings: Settings, echo: Callable[[str], None]) -> None:
    if kind not in KINDS:
        raise WorkerError(f"unknown worker kind {kind!r}; choose one of: {', '.join(KINDS)}")
    target = find_target(settings)
    settings = await resolve_broker(settings, target.bootstrap)
    if settings.kafka_broker == "embedded":
        apply_tansu_leave_group_fix()  # the embedded broker's first group generation is 0; never on Apache Kafka
    reports = await ensure_topics(target.bootstrap, topic_specs(settings.topics_file),
                                  client_options=admin_options(settings))
    mismatch = mismatch_error(reports)
    if mismatch:
        raise WorkerError(mismatch)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    app = build_app(settings.model_copy(update={"kafka_bootstrap_servers": target.bootstrap,
                                                "redis_url": target.redis_url, "redis_prefix": target.redis_prefix}))
    echo(f"{kind}: kafka {target.bootstrap}, redis {redact(target.redis_url)} prefix '{target.redis_prefix}' "
         f"(from {target.source})")
    if kind == "ingress":
        await _serve_ingress(app, stop, echo)
        return
    if kind in ("outbound", "deliver", "sla"):  # one faust App hosts every agent (automail, csat, sla too): any of
        # these names runs a replica of it
        await _serve_processors(app, stop, echo, kind)
        return
    if kind == "email":
        await serve_mail_pollers(app, stop, echo)
        return
    worker = app.route_worker()
    echo(f"{kind} worker: group {worker.config.group}")
    task = asyncio.create_task(supervise(f"{kind} worker", worker.run, stop, echo), name=f"{kind}-worker")
    async with AsyncExitStack() as health:
        url = await serve_worker_health(health, app, kind, worker, task)
        echo(f"{kind} worker: {url}/healthz, /readyz, /metrics")
        await _report(kind, worker, task, stop, echo)
    echo(f"{kind} worker: stopping (final checkpoint and commit)")
    await asyncio.wait_for(task, 60)  # re-raises a failure while stopping (others were restarted)
    echo(f"{kind} worker: stopped")


async def _serve_ingress(app: App, stop: asyncio.Event, echo: Callable[[str], None]) -> None:
    """The HTTP service alone, for deployment behind a load balancer; ready while Kafka answers."""
    async with AsyncExitStack() as stack:
        ingress = await app.start_ingress(stack)
        echo(f"ingress: listening on {ingress.url} ({', '.join(ingress.paths)})")
        for line in app.webhook_secrets_missing():
            echo(f"ingress: {line}")
        await stop.wait()
        echo("ingress: stopping")
    echo("ingress: stopped")


async def _serve_processors(app: App, stop: asyncio.Event, echo: Callable[[str], None], kind: str) -> None:
    """The faust App's processors (outbound, automail, deliver, csat, sla), a replica in the `<prefix>-processors`
    group; /readyz reads the SLA processor's health too (its Redis and Kafka faults, retried meanwhile)."""
    async with AsyncExitStack() as stack:
        sla = app.sla_processor(stack)
        processors = await app.start_processors(stack, sla=sla)
        redis = Redis.from_url(app.redis_url)
        stack.push_async_callback(redis.aclose)
        registry = CollectorRegistry()
        registry.register(WorkerCollector({"processors": FaustView(processors)}))  # records and lag per partition
        url = await start_health_server(stack, host=app.settings.health_host, port=app.settings.health_port,
                                        alive=lambda: not stop.is_set(),
                                        readiness=app.readiness(stack, redis, workers={"sla": sla}),
                                        registries=[registry])
        echo(f"{kind} worker: {url}/healthz, /readyz, /metrics")
        echo(f"{kind} worker: ready, faust app {processors.conf.id} (agents: {', '.join(processors.agents)}); "
             f"sends to {app.settings.graph_api_base} and {app.settings.tiktok_api_base}; "
             f"sinks: {', '.join(app.sinks.describe()) or 'none configured'}")
        for note in app.sinks.notes:
            echo(f"{kind} worker: sink {note}")
        await stop.wait()
        echo(f"{kind} worker: stopping")
    echo(f"{kind} worker: stopped")


async def _report(kind: str, worker: RouteWorker, task: asyncio.Task, stop: asyncio.Event,
                  echo: Callable[[str], None]) -> None:
    """Say when partitions are assigned or move (replicas joining or leaving) and how many records were handled."""
    said_partitions, last_count, last_at = None, 0, time.monotonic()
    while not stop.is_set() and not task.done():
        await asyncio.wait([task, asyncio.create_task(stop.wait())], timeout=0.5,
                           return_when=asyncio.FIRST_COMPLETED)
        if not worker.ready.is_set():
            continue
        partitions = _partitions(worker)
        if partitions != said_partitions:
            echo(f"{kind} worker: {'ready, ' if said_partitions is None else ''}partitions {partitions}")
            said_partitions = partitions
        count = worker.stats.records
        if count != last_count and time.monotonic() - last_at >= PROGRESS_EVERY_S:
            echo(f"{kind} worker: {count:,} records handled")
            last_count, last_at = count, time.monotonic()


async def serve_worker_health(stack: AsyncExitStack, app: App, kind: str, worker: RouteWorker,
                              task: asyncio.Task) -> str:
    """/healthz (the supervised worker runs), /readyz (it holds partitions, its Kafka and Redis answer and it reports
    no failing dependency), /metrics (its stats and lag) until `stack` closes."""
    registry = CollectorRegistry()
    registry.register(WorkerCollector({kind: worker}))
    redis = Redis.from_url(app.redis_url)
    stack.push_async_callback(redis.aclose)
    readiness = app.readiness(stack, redis, workers={kind: worker}, started=worker.ready.is_set)
    return await start_health_server(stack, host=app.settings.health_host, port=app.settings.health_port,
                                     alive=lambda: not task.done(), readiness=readiness, registries=[registry])


def _partitions(worker: RouteWorker) -> str:
    consumer = getattr(worker, "consumer", None)
    assigned = sorted(tp.partition for tp in consumer.assignment()) if consumer is not None else []
    return ",".join(map(str, assigned)) or "none"
