"""The composition root: `build_app(settings, clock)` wires registry, secrets, producers, workers and HTTP service.

`omniroute dev`, `omniroute worker ROLE` and the end-to-end tests all build their parts here, so a process
runs the same wiring whatever starts it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta

import aiohttp
import faust
from aiohttp import web
from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis

from channels import registry
from channels.platform_client import PlatformClient
from channels.sinks.redis_queue import RedisWorkQueue
from contracts.adapters import ChannelAdapter
from contracts.errors import ConfigError
from contracts.outbound import DeliveryEvent
from contracts.ports import Clock
from contracts.workitem import SlaEvent
from routing.policy import TenantPolicy
from workers.channel_secrets import ChannelSecrets
from workers.policy_files import load_policies
from workers.processors import create_faust_app, faust_options, register_automail, register_deliver, register_outbound
from workers.runtime.agents_wiring import agents_api_deps, deliver_processor
from workers.runtime.automail import AutomailProcessor
from workers.runtime.chat_frames import ChatTransport
from workers.runtime.chat_gateway import ChatOptions, add_chat_routes
from workers.runtime.chat_mail import ChatMailCopies
from workers.runtime.chat_policy import register_chat_policy
from workers.runtime.chat_store import ChatStore
from workers.runtime.chat_typing import AgentTyping
from workers.runtime.clock import SystemClock
from workers.runtime.csat import CsatProcessor, register_csat
from workers.runtime.csat_answers import CsatAnswers
from workers.runtime.csat_store import CsatStore
from workers.runtime.customer_keys import CustomerKeys
from workers.runtime.deliver import Publication
from workers.runtime.delivery_index import DeliveryIndex
from workers.runtime.dependency_probes import KafkaProbe, kafka_dependency, redis_dependency
from workers.runtime.edge_guard import EdgeGuard
from workers.runtime.edge_metrics import EdgeMetrics
from workers.runtime.ingress import build_ingress
from workers.runtime.mail_transport import smtp_transport
from workers.runtime.outbound import OutboundProcessor
from workers.runtime.publisher import new_producer
from workers.runtime.readiness import HasHealth, Readiness
from workers.runtime.route_worker import RouteWorker, RouteWorkerConfig
from workers.runtime.sla_agent import register_sla
from workers.runtime.sla_processor import SlaProcessor
from workers.runtime.slack_interactivity import SlackDeps, add_slack_routes
from workers.runtime.zendesk_events import ZendeskDeps, add_zendesk_routes
from workers.runtime.take_action import ActionChecks
from workers.runtime.webhooks import EdgeDeps
from workers.runtime.worker_metrics import WorkerCollector
from workers.settings import Settings
from workers.sink_files import SinkSet, load_sinks
from workers.stack.kafka_options import (
    consumer_options,
    group_timeouts,
    producer_options,
    security_options,
    static_membership,
)

log = logging.getLogger("omniroute.app")


@dataclass
class Ingress:
    """A running HTTP service and what it publishes with."""

    url: str
    producer: AIOKafkaProducer
    redis: Redis
    customers: CustomerKeys
    metrics: EdgeMetrics
    paths: list[str]
    workers: WorkerCollector | None = None  # the hosted workers' counters and lag on /metrics (`omniroute dev`)


@dataclass
class App:
    settings: Settings
    clock: Clock
    policies: dict[str, TenantPolicy]
    adapters: Sequence[ChannelAdapter]
    secrets: ChannelSecrets
    sinks: SinkSet = field(default_factory=SinkSet)

    @property
    def bootstrap(self) -> str:
        if not self.settings.kafka_bootstrap_servers:
            raise ConfigError("no Kafka to use: set KAFKA_BOOTSTRAP_SERVERS (or run `omniroute dev`)")
        return self.settings.kafka_bootstrap_servers

    @property
    def redis_url(self) -> str:
        if not self.settings.redis_url:
            raise ConfigError("no Redis to use: set REDIS_URL (or run `omniroute dev`)")
        return self.settings.redis_url

    def _common(self) -> dict:
        return dict(bootstrap=self.bootstrap, redis_url=self.redis_url, redis_prefix=self.settings.redis_prefix,
                    fetch_max_wait_ms=self.settings.fetch_max_wait_ms)

    def _kafka(self, role: str) -> dict:
        """Security, client id, rack, idempotence, group timeouts and static membership for a worker role."""
        settings = self.settings
        instance_id, ignored = static_membership(settings)
        if ignored:
            log.warning("%s worker: %s", role, ignored)
        elif instance_id:
            log.info("%s worker: static group member %s", role, instance_id)
        return dict(group_timeouts(settings), client_id=f"{settings.kafka_client_id}-{role}",
                    producer_options=producer_options(settings, role), consumer_options=consumer_options(settings, role))

    def route_worker(self, **overrides) -> RouteWorker:
        return RouteWorker(RouteWorkerConfig(**(self._common() | self._kafka("route") | overrides)), self.policies,
                           self.clock)

    def sla_processor(self, stack: AsyncExitStack, on_event: Callable[[SlaEvent], None] | None = None) -> SlaProcessor:
        """The SLA processor on a Redis client of its own (closed by `stack`); `start_processors(sla=...)` hosts it."""
        client = Redis.from_url(self.redis_url)
        stack.push_async_callback(client.aclose)
        return SlaProcessor(client, prefix=self.settings.redis_prefix, clock=self.clock, on_event=on_event,
                            policies=self.policies)

    async def start_processors(self, stack: AsyncExitStack, *,
                               on_delivery: Callable[[DeliveryEvent], None] | None = None,
                               on_sink: Callable[[Publication], None] | None = None,
                               sla: SlaProcessor | None = None) -> faust.App:
        """Start the faust App and its agents (outbound, automail, deliver, csat, sla and its timer) in this loop;
        `stack` stops it. `sla`: the SLA processor to host (its health and demo hook are the caller's)."""
        session = aiohttp.ClientSession()
        stack.push_async_callback(session.close)
        client = Redis.from_url(self.redis_url)
        stack.push_async_callback(client.aclose)
        prefix = self.settings.redis_prefix
        platforms = PlatformClient(session, {"graph": self.settings.graph_api_base,
                                             "tiktok": self.settings.tiktok_api_base})
        chat = ChatStore(client, prefix=prefix)
        transports = {"graph": platforms, "tiktok": platforms, "chat": ChatTransport(chat, self.clock),
                      "smtp": smtp_transport(self, client)}
        processor = OutboundProcessor(client, RedisWorkQueue(client, prefix=prefix), transports, self.secrets,
                                      self.clock, prefix=prefix,
                                      copies={"chat": ChatMailCopies(chat, self.policies)})
        processors = create_faust_app(self.bootstrap, app_id=f"{prefix}-processors",
                                      fetch_max_wait_ms=self.settings.fetch_max_wait_ms,
                                      **faust_options(self.settings, "processors"))
        register_outbound(processors, processor, on_delivery)
        register_automail(processors, AutomailProcessor(processor, self.policies), on_delivery)
        register_chat_policy(processors, chat, self.clock)
        register_deliver(processors, deliver_processor(self, client, session), on_sink)
        register_csat(processors, CsatProcessor(processor, CsatStore(client, prefix=prefix), self.policies, self.clock,
                                                answer_window=timedelta(hours=self.settings.csat_answer_window_h)),
                      on_delivery)
        register_sla(processors, sla or self.sla_processor(stack))
        await processors.start()
        stack.push_async_callback(processors.stop)
        return processors

    def readiness(self, stack: AsyncExitStack, redis: Redis, *, workers: Mapping[str, HasHealth] | None = None,
                  started: Callable[[], bool] = lambda: True, redis_required: bool = True) -> Readiness:
        """Probes of this process's Kafka and Redis (the Kafka one on its own connection, closed by `stack`)."""
        kafka = KafkaProbe(self.bootstrap, **security_options(self.settings),
                           client_id=f"{self.settings.kafka_client_id}-readiness")
        stack.push_async_callback(kafka.close)
        return Readiness([kafka_dependency(kafka), redis_dependency(redis, required=redis_required)],
                         workers=workers, started=started)

    def webhooks(self) -> list[tuple[ChannelAdapter, str]]:
        """(adapter, tenant) for every webhook a tenant's policy names an official address for."""
        return [(adapter, tenant) for adapter in self.adapters if adapter.webhook is not None
                for tenant, policy in sorted(self.policies.items())
                if {e.kind for e in policy.official_endpoints} & set(adapter.endpoint_kinds)]

    def webhook_secrets_missing(self) -> list[str]:
        """One line per tenant webhook whose signing secret is unset (it answers 503 until it is set)."""
        return [f"/webhooks/{adapter.webhook.path}/{tenant} answers 503 until {missing} is set"
                for adapter, tenant in self.webhooks()
                if (missing := self.secrets.missing(adapter.name, tenant, adapter.webhook.signature))]

    async def start_ingress(self, stack: AsyncExitStack, *, is_ready: Callable[[], bool] = lambda: True,
                            hosted: Mapping[str, HasHealth] | None = None,
                            host: str | None = None, port: int | None = None) -> Ingress:
        """Start the HTTP service (and its producer and Redis client); `stack` stops them in order.

        `/readyz` probes Kafka and Redis and reads the health of the `hosted` workers (the dev stack's), whose
        counters and consumer lag `/metrics` serves too; until `is_ready` says so it answers "starting". Alone (the
        ingress role) it needs Kafka only: without Redis it degrades (keys by sender, no edge dedupe) and stays ready.
        """
        producer = new_producer(self.bootstrap, **producer_options(self.settings, "ingress"))
        await producer.start()
        stack.push_async_callback(producer.stop)
        client = Redis.from_url(self.redis_url)
        stack.push_async_callback(client.aclose)
        prefix = self.settings.redis_prefix
        customers = CustomerKeys(client, prefix=prefix, policies=self.policies)
        deps = EdgeDeps(producer=producer, policies=self.policies, secrets=self.secrets,
                        guard=EdgeGuard(client, prefix=prefix), customers=customers, metrics=EdgeMetrics(),
                        clock=self.clock, deliveries=DeliveryIndex(client, prefix=prefix),
                        ack_timeout_s=self.settings.kafka_ack_timeout_s,
                        answers=CsatAnswers(CsatStore(client, prefix=prefix), self.clock))
        collector = None
        if hosted:  # `omniroute dev`: the hosted workers' counters and consumer lag on this /metrics too
            collector = WorkerCollector({role: w for role, w in hosted.items() if hasattr(w, "stats")})
            deps.metrics.registry.register(collector)
        token = self.settings.api_token.get_secret_value() if self.settings.api_token else None
        agents = agents_api_deps(token, client, prefix, self.policies)
        readiness = self.readiness(stack, client, workers=hosted, started=is_ready, redis_required=bool(hosted))
        chat = ChatStore(client, prefix=prefix)
        application = build_ingress(deps, self.adapters, agents.auth, readiness, agents=agents,
                                    typing=AgentTyping(agents.queue, chat, self.clock))
        add_chat_routes(application, deps, chat,
                        ChatOptions(auth_timeout_s=self.settings.chat_auth_timeout_s, demo=self.settings.chat_demo))
        slack_session = aiohttp.ClientSession()  # ephemeral answers to Slack users (closed after the runner)
        stack.push_async_callback(slack_session.close)
        checks = ActionChecks(agents.queue, self.policies, agents.history)
        add_slack_routes(application, SlackDeps(producer, checks, self.sinks, self.clock, slack_session))
        add_zendesk_routes(application, ZendeskDeps(producer, checks, self.sinks, self.clock, client, prefix))
        runner = web.AppRunner(application)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        host = host or self.settings.http_host
        port = self.settings.http_port if port is None else port
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1] if port == 0 else port  # noqa: SLF001 - the chosen port
        paths = sorted({r.resource.canonical for r in application.router.routes() if r.resource is not None})
        return Ingress(url=f"http://{host}:{bound}", producer=producer, redis=client, customers=customers,
                       metrics=deps.metrics, paths=paths, workers=collector)


def build_app(settings: Settings, clock: Clock | None = None, *, environ: Mapping[str, str] | None = None) -> App:
    """Everything a process needs to run any role, from typed settings read once (secrets from `environ`)."""
    policies = load_policies(settings.policy_dirs)
    adapters = registry.ADAPTERS
    return App(settings=settings, clock=clock or SystemClock(), policies=policies, adapters=adapters,
               secrets=ChannelSecrets.from_environ(adapters, policies, environ),
               sinks=load_sinks(settings.sinks_dir, policies, environ, slack_api_base=settings.slack_api_base))
