"""`omniroute dev --demo`: play the shipped sample traffic of the three tenants and show the queues live."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aiokafka import AIOKafkaProducer

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.channels import ChannelKind
from contracts.inbound import InboundMessage
from workers.channel_registry import NORMALIZERS
from workers.queues_view import format_queue_table
from workers.runtime.publisher import publish

SCRIPT: tuple[tuple[str, ChannelKind, str], ...] = (
    ("alkonect", ChannelKind.email, "*.eml"),
    ("izonie", ChannelKind.messenger, "*.json"),
    ("conek", ChannelKind.whatsapp, "*.json"),
)


def scripted_day(samples: Path, now: datetime) -> list[tuple[str, InboundMessage]]:
    """The samples re-timed to arrive from `now` on, keeping their order and their spacing up to a minute."""
    out: list[tuple[str, InboundMessage]] = []
    for tenant, channel, pattern in SCRIPT:
        for path in sorted((samples / tenant).glob(pattern)):
            for message in NORMALIZERS[channel](path.read_bytes(), tenant, None):
                out.append((f"{tenant}/{channel.value}/{path.name}", message))
    first = min(m.received_at for _, m in out)
    return [(label, m.model_copy(update={"received_at": now + min(m.received_at - first, timedelta(minutes=1))}))
            for label, m in out]


async def play(producer: AIOKafkaProducer, queue: RedisWorkQueue, samples: Path, stop: asyncio.Event,
               echo: Callable[[str], None], *, pace_s: float = 0.7, refresh_s: float = 2.0) -> None:
    """Publish the scripted traffic one message at a time, then keep showing the queues until stopped."""
    for label, message in scripted_day(samples, datetime.now(timezone.utc)):
        if stop.is_set():
            return
        await publish(producer, [message])
        echo(f"demo: published {label} ({message.kind.value}, from {message.sender.platform_id})")
        await asyncio.sleep(pace_s)
    while not stop.is_set():
        items = await queue.list_open()
        echo(f"\n== open work items, by SLA due ({datetime.now(timezone.utc):%H:%M:%S} UTC) ==")
        echo(format_queue_table(items, datetime.now(timezone.utc)) if items else "(none yet)")
        try:
            await asyncio.wait_for(stop.wait(), refresh_s * 5)
        except TimeoutError:
            pass
