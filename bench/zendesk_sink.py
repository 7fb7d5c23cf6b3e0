"""The Zendesk sink's own cost: `work_item.created` (lookup + create) then a claim (lookup + update) per item, one at
a time as the deliver agent sends them, against the tests' local Zendesk fake and a real Redis (the per-item lock);
prints events/s, latency and CPU per event."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from redis.asyncio import Redis

_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(_ROOT), str(_ROOT / "tests")]  # this checkout, and the tests' Zendesk fake
from zendesk_fake import ZendeskFake  # noqa: E402 - the tests' fake, shared

from channels.sinks.http import SinkClient  # noqa: E402
from channels.sinks.zendesk import ZendeskSink  # noqa: E402
from channels.sinks.zendesk_ticket import TicketMap  # noqa: E402
from contracts.channels import ChannelKind  # noqa: E402
from contracts.decision import Priority, SlaTargets, TraceStep  # noqa: E402
from contracts.sinks import SinkEvent, SinkEventType  # noqa: E402
from contracts.workitem import WorkItem, WorkItemState  # noqa: E402


def _item(n: int, now: datetime) -> WorkItem:
    sla = SlaTargets(timezone="Africa/Johannesburg", clock="business", calendar="c", started_at=now, rule="r",
                     first_response_due=now + timedelta(hours=4))
    return WorkItem(id=f"wi-bench-{n}", tenant="conek", queue="orders", category="shipping_delivery",
                    priority=Priority.normal, channel=ChannelKind.whatsapp, customer=f"whatsapp:2783{n:07d}",
                    conversation_key=f"c{n}", text="My parcel has not arrived and tracking has not moved " * 3,
                    opened_at=now, sla=sla, trace=[TraceStep(rule=f"rule{i}", outcome="ok") for i in range(8)])


async def main(items: int) -> None:
    fake = ZendeskFake("bench@conek.example", "zd-bench")
    await fake.start()
    redis = Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"))
    prefix = f"omniroute-bench-{uuid.uuid4().hex[:8]}"
    session = aiohttp.ClientSession()
    sink = ZendeskSink(name="zendesk", tenant="conek", queues=None, base_url=fake.url, email="bench@conek.example",
                       token="zd-bench", mapping=TicketMap(agents={"5001": "ann"})).bind(redis, prefix)
    client, now = SinkClient(session), datetime.now(UTC)
    latencies: list[float] = []
    try:
        for n in range(20):  # warm-up: connections, scripts
            await sink.deliver(SinkEvent(id=f"msg_w{n}", type=SinkEventType.created, tenant="conek", at=now,
                                         item=_item(-n - 1, now)), client, now)
        cpu, wall = time.process_time(), time.perf_counter()
        for n in range(items):
            found = _item(n, now)
            for kind, item in ((SinkEventType.created, found),
                               (SinkEventType.updated, found.model_copy(update={"state": WorkItemState.claimed,
                                                                                "assignee": "ann"}))):
                start = time.perf_counter()
                attempt = await sink.deliver(SinkEvent(id=f"msg_{uuid.uuid4().hex}", type=kind, tenant="conek",
                                                       at=now, item=item), client, now)
                latencies.append(time.perf_counter() - start)
                assert attempt.ok, attempt.error
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        await session.close()
        await fake.stop()
        keys = [k async for k in redis.scan_iter(f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
    events = len(latencies)
    quantiles = statistics.quantiles(latencies, n=100)
    print(f"{events} events ({items} creates + {items} updates) in {wall:.2f} s: {events / wall:.0f} events/s, "
          f"p50 {quantiles[49] * 1000:.2f} ms, p99 {quantiles[98] * 1000:.2f} ms, "
          f"CPU {cpu / events * 1e6:.0f} µs/event (sink, fake Zendesk and its JSON all in this one process)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=500)
    asyncio.run(main(parser.parse_args().items))
