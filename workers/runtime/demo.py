"""`omniroute dev --demo`: play the shipped sample traffic of the three tenants, show the queues and SLA events live."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aiokafka import AIOKafkaProducer

from channels import registry
from channels.sinks.redis_queue import RedisWorkQueue
from contracts.channels import ChannelKind
from contracts.inbound import InboundMessage
from contracts.outbound import DeliveryEvent, DeliveryStatus
from contracts.ports import Clock
from contracts.topics import AGENT_ACTIONS
from contracts.workitem import (
    AgentAction,
    AgentActionKind,
    SlaEvent,
    SlaEventKind,
    WorkItem,
)
from workers.queues_view import format_queue_table
from workers.runtime.actions_api import action_key
from workers.runtime.clock import SystemClock
from workers.runtime.codec import encode
from workers.runtime.customer_keys import CustomerKeys
from workers.runtime.demo_mail import DemoMail
from workers.runtime.demo_webhooks import DemoWebhooks
from workers.runtime.publisher import publish
from workers.runtime.sla_store import SlaStore

SCRIPT: tuple[tuple[str, ChannelKind, str], ...] = (
    ("alkonect", ChannelKind.email, "*.eml"),
    ("izonie", ChannelKind.messenger, "*.json"),
    ("conek", ChannelKind.whatsapp, "*.json"),
)


@dataclass(frozen=True)
class Sample:
    label: str
    tenant: str
    channel: ChannelKind
    raw: bytes
    messages: list[InboundMessage]


def scripted_day(samples: Path, now: datetime) -> list[Sample]:
    """The samples in order; their messages re-timed to arrive from `now` on, keeping their spacing up to a minute."""
    out = [Sample(f"{tenant}/{channel.value}/{path.name}", tenant, channel, path.read_bytes(),
                  registry.normalize(channel, path.read_bytes(), tenant, None))
           for tenant, channel, pattern in SCRIPT for path in sorted((samples / tenant).glob(pattern))]
    first = min(m.received_at for sample in out for m in sample.messages)
    return [Sample(s.label, s.tenant, s.channel, s.raw, [
        m.model_copy(update={"received_at": now + min(m.received_at - first, timedelta(minutes=1))})
        for m in s.messages]) for s in out]


_MARK = {SlaEventKind.warning: "WARNING ", SlaEventKind.breach: "BREACH  ", SlaEventKind.met: "met     ",
         SlaEventKind.escalated: "ESCALATE"}


def describe_delivery(event: DeliveryEvent) -> str:
    """One terminal line per delivery outcome of an agent's reply."""
    channel = event.channel.value if event.channel else "-"
    item = event.work_item_id or "(no work item)"  # e.g. the notice to mail sent to an unofficial address
    if event.status == DeliveryStatus.sent:
        return (f"outbound: {event.tenant} {item} reply sent on {channel} ({event.provider_message_id}, "
                f"{event.attempts} attempt(s))")
    return f"outbound: {event.tenant} {item} reply {event.status.value} on {channel}: {event.error}"


def describe_event(event: SlaEvent) -> str:
    """One terminal line per SLA event, in SLA time."""
    line = (f"sla: {_MARK[event.kind]} {event.tenant} {event.work_item_id} {event.clock.value} "
            f"at {event.at:%a %H:%M} UTC (due {event.due_at:%a %H:%M})")
    return line + (f" -> queue {event.escalate_to}" if event.kind == SlaEventKind.escalated else "")


async def with_live_clocks(items: list[WorkItem], store: SlaStore) -> list[WorkItem]:
    """Items whose SLA shows the clocks as the SLA worker runs them: stopped or paused clocks show no due."""
    out = []
    for item in items:
        fields = await store.clock_fields(item.id) if item.sla else {}
        if not fields:
            out.append(item)
            continue
        due = {}
        for kind in ("first_response", "resolution"):
            running = fields.get(f"{kind}:state") == "running"
            due[f"{kind}_due"] = (datetime.fromtimestamp(float(fields[f"{kind}:due"]), timezone.utc)
                                  if running else None)
        out.append(item.model_copy(update={"sla": item.sla.model_copy(update=due)}))
    return out


async def play(producer: AIOKafkaProducer, queue: RedisWorkQueue, samples: Path, stop: asyncio.Event,
               echo: Callable[[str], None], *, clock: Clock | None = None, sla_store: SlaStore | None = None,
               customers: CustomerKeys | None = None, webhooks: DemoWebhooks | None = None,
               mail: DemoMail | None = None, pace_s: float = 0.7, refresh_s: float = 5.0) -> None:
    """Play the scripted traffic one input at a time, answer two items, then keep showing the queues.

    WhatsApp and Messenger samples go through the stack's signed webhook endpoints when `webhooks` is given;
    mail is APPENDed to the tenant's folder on the local IMAP server when `mail` takes the tenant (its poller takes
    it in), else published directly. The agent answers the email item due first and the other item due first.

    Countdowns are in SLA time (`clock`, sped up in the demo); SLA events are printed by the SLA worker.
    """
    clock = clock or SystemClock()
    for sample in scripted_day(samples, datetime.now(timezone.utc)):
        if stop.is_set():
            return
        if webhooks is not None and registry.adapter_for(sample.channel).webhook is not None:
            status, answer = await webhooks.post(sample.channel, sample.tenant, sample.raw)
            said = ", ".join(f"{k} {v}" for k, v in answer.items() if v) if status == 200 else answer.get("error")
            echo(f"demo: signed webhook {sample.label} -> HTTP {status} ({said or 'nothing to route'})")
        elif mail is not None and mail.takes(sample.tenant):
            first = sample.messages[0]  # one mail, one message
            uid = await mail.append(sample.tenant, sample.raw, first.received_at)
            echo(f"demo: appended {sample.label} to {mail.source(sample.tenant)} (UID {uid}, from "
                 f"{first.sender.platform_id})")
        else:
            await publish(producer, sample.messages, customers)
            for message in sample.messages:
                echo(f"demo: published {sample.label} ({message.kind.value}, from {message.sender.platform_id})")
        await asyncio.sleep(pace_s)
    replied: set[bool] = set()  # is_email of the items answered
    while not stop.is_set():
        items = await queue.list_open()
        for is_email in (True, False):  # an agent answers: the item's first-response clock stops (met)
            item = next((i for i in items if (i.channel == ChannelKind.email) == is_email), None)
            if item is None or is_email in replied:
                continue
            replied.add(is_email)
            action = AgentAction(kind=AgentActionKind.reply, work_item_id=item.id, tenant=item.tenant,
                                 agent_id="demo-agent", at=datetime.now(timezone.utc), text="On it!")
            await producer.send_and_wait(AGENT_ACTIONS.name, value=encode(action), key=action_key(action))
            echo(f"demo: agent demo-agent replied to {item.tenant} {item.id} ({item.channel.value})")
        if sla_store is not None:
            items = await with_live_clocks(items, sla_store)
        now = clock.now()
        echo(f"\n== open work items, by SLA due (SLA clock {now:%a %H:%M} UTC) ==")
        echo(format_queue_table(items, now) if items else "(none yet)")
        try:
            await asyncio.wait_for(stop.wait(), refresh_s)
        except TimeoutError:
            pass
