"""`omniroute dev`: start, supervise and cleanly stop the whole one-machine system."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import datetime, timezone

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.errors import OmnirouteError
from workers.app import build_app
from workers.policy_files import load_policies
from workers.runtime import demo
from workers.runtime.chat_demo import chat_lines, with_generated_keys
from workers.runtime.clock import ScaledClock, SystemClock
from workers.runtime.deliver import describe_dead_letters
from workers.runtime.demo_mail import LocalMailError, start_demo_mail
from workers.runtime.demo_sinks import start_demo_receiver
from workers.runtime.demo_webhooks import DemoWebhooks, demo_secrets
from workers.runtime.faust_view import FaustView
from workers.runtime.mail_pollers import start_mail_pollers
from workers.runtime.sla_store import SlaStore
from workers.runtime.supervise import supervise
from workers.runtime.tokens import TokenStore
from workers.settings import SHIPPED_POLICIES, Settings
from workers.stack import operator_credential, statefile
from workers.stack.broker import EmbeddedBroker
from workers.stack.kafka_compat import apply_tansu_leave_group_fix
from workers.stack.kafka_options import admin_options, resolve_broker
from workers.stack.platform_fake import PlatformFake, describe_send
from workers.stack.redis_server import delete_prefix, ensure_redis, redact
from workers.stack.topic_file import topic_specs
from workers.stack.topics import ensure_topics, mismatch_error

SAMPLES = SHIPPED_POLICIES.parent / "samples"
DEMO_SLA_SPEED = 3600.0  # one SLA hour per real second: the demo's first warnings and breaches within a minute


class StackError(OmnirouteError):
    """The stack cannot start; the message says why and what to do."""


async def run_dev(settings: Settings, *, http_port: int, play_demo: bool, echo: Callable[[str], None]) -> None:
    policies = load_policies(settings.policy_dirs)
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        try:  # first: of two starts at once exactly one goes on, and its lock is released last
            stack.enter_context(statefile.claim(settings.state_file))
        except statefile.StackRunning as exc:
            raise StackError(str(exc)) from None
        pids: dict[str, int] = {}
        # pymap starts and logs in within about a second: spawned first, it is ready by the time the broker is
        demo_mail = await start_demo_mail(stack, policies, settings.run_dir, echo) if play_demo else None
        mail_ready = asyncio.create_task(demo_mail.ready()) if demo_mail is not None else None
        if mail_ready is not None:
            stack.callback(mail_ready.cancel)  # a start-up that fails before it is awaited leaves nothing running
        bootstrap = settings.kafka_bootstrap_servers
        if bootstrap:
            echo(f"kafka: using {bootstrap} (KAFKA_BOOTSTRAP_SERVERS)")
            settings = await resolve_broker(settings, bootstrap)
        else:
            broker = EmbeddedBroker(settings.run_dir / "broker")
            bootstrap = await broker.start()
            stack.push_async_callback(broker.stop)
            apply_tansu_leave_group_fix()
            settings = settings.model_copy(update={"kafka_broker": "embedded"})
            pids["broker"] = broker.pid or 0
            echo(f"kafka: embedded Tansu broker on {bootstrap}, memory storage (nothing persists across restarts, "
                 f"and its memory is never freed: restart the stack for long runs); log {broker.log_path}")
        redis_handle = await ensure_redis(settings.redis_url, settings.run_dir / "redis")
        stack.push_async_callback(redis_handle.stop)
        if redis_handle.pid:
            pids["redis"] = redis_handle.pid
        echo(f"redis: {redact(redis_handle.url)}" + (" (started for this stack)" if redis_handle.started else ""))
        prefix = settings.redis_prefix
        if not settings.kafka_bootstrap_servers:
            # The embedded broker starts empty, so state and queues an earlier dev stack left in Redis are stale:
            # restoring them would seek past the new log's first records.
            prefix = f"{settings.redis_prefix}-dev"
            cleared = await delete_prefix(redis_handle.url, prefix)
            if cleared:
                echo(f"redis: cleared {cleared} keys under '{prefix}:' left by an earlier dev stack")
        reports = await ensure_topics(bootstrap, topic_specs(settings.topics_file),
                                      client_options=admin_options(settings))
        mismatch = mismatch_error(reports)
        if mismatch:
            raise StackError(mismatch)
        echo("topics: " + ", ".join(f"{r.name}[{r.actual_partitions}] {r.status}" for r in reports))
        settings = settings.model_copy(update={"kafka_bootstrap_servers": bootstrap, "redis_url": redis_handle.url,
                                               "redis_prefix": prefix})
        settings = settings.model_copy(update={"chat_demo": True})  # /chat/{tenant}/ demo pages on this stack
        if play_demo and settings.graph_api_base == Settings.model_fields["graph_api_base"].default:
            fake = PlatformFake(on_request=lambda r: echo(f"platform fake: {r.api} POST {r.path}: {describe_send(r)}"))
            await fake.start()
            stack.push_async_callback(fake.stop)
            settings = settings.model_copy(update={"graph_api_base": fake.base_urls["graph"],
                                                   "tiktok_api_base": fake.base_urls["tiktok"]})
            echo(f"demo: replies go to a local platform fake on {fake.url}, never to Meta or TikTok")
        sink_env = await start_demo_receiver(stack, policies, echo) if play_demo else {}
        if demo_mail is not None:
            try:
                await mail_ready
                sink_env |= demo_mail.env
            except LocalMailError as exc:
                echo(f"demo: {exc}; the demo mail goes straight to Kafka instead")
                demo_mail = None
        app = build_app(settings, SystemClock(), environ={**os.environ, **sink_env})
        if play_demo and (extra := demo_secrets(app)):
            app = build_app(settings, SystemClock(), environ={**os.environ, **sink_env, **extra})
            echo(f"demo: webhook secrets set for this stack only (your own variables win when set): "
                 f"{', '.join(f'{k}={v}' for k, v in sorted(extra.items()))}")
        if play_demo and (generated := with_generated_keys(app))[1]:
            app = generated[0]
            echo(f"demo: live-chat signing keys generated for this stack only: {', '.join(generated[1])}")
        # A worker that fails is restarted with backoff and a visible line; the rest of the stack goes on.
        worker = app.route_worker()
        worker_task = asyncio.create_task(supervise("route worker", worker.run, stop, echo), name="route-worker")
        stack.push_async_callback(_finish, worker_task, stop)  # before the broker and Redis go away
        # the SLA processor runs as an agent and a timer of the faust App below (started after the ingress)
        sla = app.sla_processor(stack, on_event=(lambda event: echo(demo.describe_event(event))) if play_demo else None)
        ingress = await app.start_ingress(stack, is_ready=worker.ready.is_set, hosted={"route": worker, "sla": sla},
                                          port=http_port)
        processors = await app.start_processors(
            stack, on_delivery=(lambda e: echo(demo.describe_delivery(e))) if play_demo else None,
            on_sink=describe_dead_letters(echo), sla=sla)
        if ingress.workers is not None:  # the faust agents' records and lag on the same /metrics
            ingress.workers.add("processors", FaustView(processors))
        await operator_credential.issue(settings.state_file, TokenStore(ingress.redis, prefix=prefix))
        stack.callback(operator_credential.remove, settings.state_file)
        echo(f"sinks: {', '.join(app.sinks.describe()) or 'none (set <TENANT>_WEBHOOK_SINK_URL and _SECRET)'}")
        for note in app.sinks.notes:
            echo(f"sinks: {note}")
        mail = await start_mail_pollers(app, stack, producer=ingress.producer, redis=ingress.redis)
        for line in mail.describe():
            echo(f"email: polling {line}")
        http_url = ingress.url
        webhooks = ", ".join(p for p in ingress.paths if p.startswith("/webhooks/"))
        echo(f"http: {http_url}  (POST /v1/{{tenant}}/messages, POST /v1/{{tenant}}/work-items/{{id}}/actions, "
             f"GET /v1/{{tenant}}/queues[/{{queue}}/items], GET /v1/{{tenant}}/work-items/{{id}}, GET /openapi.json, "
             f"GET|POST {webhooks}, GET /healthz, GET /readyz, GET /metrics)"
             + f"; `omniroute act` uses the operator credential in "
               f"{operator_credential.path_for(settings.state_file)}")
        for line in app.webhook_secrets_missing():
            echo(f"webhooks: {line}")
        for line in chat_lines(app, http_url):
            echo(line)
        statefile.write(settings.state_file, statefile.StackState(bootstrap=bootstrap, redis_url=redis_handle.url,
                                                                   http_url=http_url, pids=pids,
                                                                   redis_prefix=prefix))
        await _until_ready(worker, worker_task, stop)
        await _until_ready(sla, worker_task, stop, "SLA agent")
        if play_demo:  # the demo clock starts with the traffic, so its first deadlines are a minute away, not less
            sla.clock = clock = ScaledClock(DEMO_SLA_SPEED, datetime.now(timezone.utc))
            echo(f"sla: DEMO CLOCK — SLA time runs {clock.describe()}; deadlines, warnings and breaches come "
                 "that much sooner than in production")
        echo(f"ready: route, SLA and outbound workers consuming; tenants {', '.join(sorted(policies))}; "
             "`omniroute queues` lists open work, `omniroute act` acts on it; Ctrl-C stops everything")
        tasks = [worker_task]
        if play_demo:
            queue = RedisWorkQueue(ingress.redis, prefix=prefix)
            play = demo.play(ingress.producer, queue, SAMPLES, stop, echo, clock=sla.clock,
                             sla_store=SlaStore(ingress.redis, prefix=prefix), customers=ingress.customers,
                             webhooks=DemoWebhooks(ingress.url, app.secrets, app.clock), mail=demo_mail)
            tasks.append(asyncio.create_task(play, name="demo"))
        await asyncio.wait([asyncio.create_task(stop.wait()), *tasks], return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        echo("stopping: the route worker checkpoints its state and commits its offsets; the faust agents commit")
        results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
        failures = [r for r in results if isinstance(r, Exception)]
        if failures:
            raise failures[0]
    echo("stopped")


async def _finish(task: asyncio.Task, stop: asyncio.Event) -> None:
    stop.set()
    if not task.done():
        try:
            await asyncio.wait_for(asyncio.shield(task), 30)
        except Exception:  # noqa: BLE001 - reported by the caller; here only the order of shutdown matters
            pass


async def _until_ready(worker, task: asyncio.Task, stop: asyncio.Event,
                       name: str = "route worker") -> None:
    waiter = asyncio.create_task(worker.ready.wait())
    done, _ = await asyncio.wait([waiter, task, asyncio.create_task(stop.wait())], timeout=60,
                                 return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raises what stopped the worker
    if not done:
        raise StackError(f"the {name} did not get its partitions within 60 s; see the broker log")
