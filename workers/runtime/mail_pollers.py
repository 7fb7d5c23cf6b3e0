"""The tenants' mailbox pollers as one unit: configured from `<TENANT>_IMAP_URL`, started and stopped together."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis

from channels.content_store import AttachmentKeeper, LocalContentStore
from channels.email.config import MailServerUrl, parse_imap_url
from channels.email.poller import Checkpoints, MailboxPoller, PollerOptions
from workers.runtime.csat_answers import CsatAnswers
from workers.runtime.csat_store import CsatStore
from workers.runtime.customer_keys import CustomerKeys
from workers.runtime.delivery_index import DeliveryIndex
from workers.runtime.edge_guard import EdgeGuard
from workers.runtime.mail_intake import MailIntake
from workers.runtime.publisher import new_producer

ADAPTER = "email"


@dataclass(frozen=True)
class Mailbox:
    tenant: str
    url: MailServerUrl
    variable: str


def configured_mailboxes(app) -> list[Mailbox]:
    """Every tenant with `<TENANT>_IMAP_URL` set; a malformed URL raises ConfigError naming the variable."""
    out = []
    for tenant in sorted(app.policies):
        value = app.secrets.for_tenant(ADAPTER, tenant).get("imap_url")
        if value:
            variable = app.secrets.variable(ADAPTER, tenant, "imap_url")
            out.append(Mailbox(tenant, parse_imap_url(value, variable), variable))
    return out


@dataclass
class MailPollers:
    """Running pollers; `stop()` ends them (each finishes its command and logs out)."""

    pollers: list[MailboxPoller]
    intake: MailIntake | None
    tasks: list[asyncio.Task] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def describe(self) -> list[str]:
        return [f"{p.tenant}: {p.source} (from {p.variable})" for p in self.pollers]

    async def stop(self) -> None:
        self.stopping.set()
        if self.tasks:
            await asyncio.wait_for(asyncio.gather(*self.tasks, return_exceptions=True), 30)


async def start_mail_pollers(app, stack: AsyncExitStack, *, producer: AIOKafkaProducer | None = None,
                             redis: Redis | None = None, options: PollerOptions | None = None) -> MailPollers:
    """One poller per configured mailbox, publishing through `producer` (else its own); `stack` stops them first.

    Attachments go to the local-disk content store (OMNIROUTE_CONTENT_DIR) up to OMNIROUTE_ATTACHMENT_MAX_BYTES;
    `options` default to PollerOptions with OMNIROUTE_MAIL_MAX_BYTES."""
    mailboxes = configured_mailboxes(app)  # a malformed URL stops start-up before anything runs
    if not mailboxes:
        return MailPollers([], None)
    if producer is None:
        producer = new_producer(app.bootstrap)
        await producer.start()
        stack.push_async_callback(producer.stop)
    if redis is None:
        redis = Redis.from_url(app.redis_url)
        stack.push_async_callback(redis.aclose)
    settings = app.settings
    options = options or PollerOptions(max_message_bytes=settings.mail_max_bytes)
    prefix = settings.redis_prefix
    keep = AttachmentKeeper(LocalContentStore(settings.content_dir), settings.attachment_max_bytes)
    intake = MailIntake(producer, app.policies, EdgeGuard(redis, prefix=prefix), CustomerKeys(redis, prefix=prefix),
                        ack_timeout_s=settings.kafka_ack_timeout_s, keep=keep,
                        index=DeliveryIndex(redis, prefix=prefix),
                        answers=CsatAnswers(CsatStore(redis, prefix=prefix), app.clock))
    checkpoints = Checkpoints(redis, prefix=prefix)
    pollers = [MailboxPoller(m.tenant, m.url, m.variable, checkpoints=checkpoints, deliver=intake, options=options)
               for m in mailboxes]
    running = MailPollers(pollers, intake)
    running.tasks = [asyncio.create_task(p.run(running.stopping), name=f"email-poller-{p.tenant}") for p in pollers]
    stack.push_async_callback(running.stop)  # before the producer and Redis client close
    return running


def missing_mailboxes(app) -> list[str]:
    """Tenants whose policy names an official mailbox but who have no `<TENANT>_IMAP_URL` set."""
    return [app.secrets.variable(ADAPTER, tenant, "imap_url") for tenant, policy in sorted(app.policies.items())
            if any(e.kind.value == "mailbox" for e in policy.official_endpoints)
            and not app.secrets.for_tenant(ADAPTER, tenant).get("imap_url")]


async def serve_mail_pollers(app, stop: asyncio.Event, echo: Callable[[str], None]) -> None:
    """`omniroute worker email`: the pollers alone, until Ctrl-C or SIGTERM."""
    async with AsyncExitStack() as stack:
        running = await start_mail_pollers(app, stack)
        if not running.pollers:
            echo("email worker: no mailbox configured; set " + ", ".join(missing_mailboxes(app)) +
                 " (imaps://user:password@host/INBOX)")
            return
        for line in running.describe():
            echo(f"email worker: polling {line}")
        await stop.wait()
        echo("email worker: stopping")
    echo("email worker: stopped")
