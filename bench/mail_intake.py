"""Benchmark: mails per second one IMAP poller takes in from a full folder, and APPEND -> routed work item time.

One in-process stack as `omniroute dev` wires it (embedded broker, Redis, route worker, one poller with the default
options: batches of 50, IDLE on pymap) and Alkonect's mailbox on pymap (loopback, in memory). Phase 1: N mails
(10,000 by default), each from its own sender, are APPENDed before the poller starts; it is then timed from start
until the intake has published every one to Kafka (acknowledged, \\Seen set, checkpoint moved), and until the route
worker has opened every work item. Phase 2: M more mails appended one at a time into the idle folder, each timed
from APPEND to its work item in Redis. Figures, not a test: the machine is shared, and the route worker, broker,
Redis, pymap and the poller share its cores.
Run: .venv/bin/python bench/mail_intake.py [--mails 10000] [--latency 20]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests")]

from mail_servers import Mailbox, PymapServer, mail  # noqa: E402
from mail_stack import mail_stack, print_latencies, until  # noqa: E402

from workers.runtime.mail_pollers import start_mail_pollers  # noqa: E402


def fill(imap: PymapServer, folder: str, count: int) -> float:
    """APPEND `count` mails over one connection; returns the seconds it took."""
    started = time.monotonic()
    with imap.client() as client:
        for n in range(count):
            client.append(folder, mail(f"Order ALK-{n:06d} is late", sender=f"b{n}-{uuid.uuid4().hex[:6]}@example.net",
                                       body=f"Order ALK-{n:06d} has not arrived, please check."))
    return time.monotonic() - started


async def main(mails: int, latency: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="omniroute-bench-intake-"))
    imap = PymapServer(work / "pymap.log")
    box = Mailbox(imap)
    print(f"filling {box.folder} with {mails:,} mails ...", flush=True)
    filled = await asyncio.to_thread(fill, imap, box.folder, mails)
    print(f"APPEND of {mails:,} mails over one connection: {filled:.1f} s ({mails / filled:,.0f} mails/s)", flush=True)
    try:
        async with mail_stack(work, {"ALKONECT_IMAP_URL": box.url()}, content_dir=work / "content") as stack:
            app, ingress, queue, exits = stack.app, stack.ingress, stack.queue, stack.exits

            async def open_items() -> int:
                return await ingress.redis.zcard(queue.tenant_key("alkonect"))

            started = time.monotonic()
            pollers = await start_mail_pollers(app, exits, producer=ingress.producer, redis=ingress.redis)
            counts, poller = pollers.intake.counts, pollers.pollers[0]

            async def taken() -> bool:
                return counts.published + counts.duplicates + counts.rate_limited + counts.dead_lettered >= mails

            await until(taken, "the backlog published", timeout=1800, every_s=0.01)
            published = time.monotonic() - started
            await until(lambda: _at_least(open_items, mails), "every work item", timeout=1800, every_s=0.1)
            routed = time.monotonic() - started
            print(f"one poller, {mails:,}-mail folder -> Kafka: {published:.1f} s, {mails / published:,.0f} mails/s "
                  f"(published {counts.published:,}, duplicates {counts.duplicates}, rate-limited "
                  f"{counts.rate_limited}, dead-lettered {counts.dead_lettered}, batches of "
                  f"{pollers.pollers[0].options.batch})")
            print(f"  ... every work item open in Redis after {routed:.1f} s ({mails / routed:,.0f} mails/s end to end)")
            to_kafka, to_item = [], []
            deliverer = await asyncio.to_thread(imap.client)  # one connection, as an MTA's (a login costs ~0.5 s)
            for n in range(latency + 1):  # the first round warms the idle path up and is not counted
                sender, subject = f"c{n}-{uuid.uuid4().hex[:6]}@example.net", f"Parcel ALK-9{n:05d} is late"
                # APPEND only into an idle folder: pymap announces changes on events only, so mail that lands
                # between the poller's last look and its IDLE would wait for the next change or the IDLE renewal
                await until(lambda: _true(poller.stats.idling), f"the poller in IDLE before mail {n}", timeout=120)
                await asyncio.sleep(0.2)  # pacing: pymap watches the folder a moment after it acknowledged IDLE
                before, published_before = await open_items(), counts.published
                appended = time.monotonic()
                await asyncio.to_thread(deliverer.append, box.folder, mail(subject, sender=sender,
                                                                           body=f"Parcel ALK-9{n:05d} is late."))
                await until(lambda p=published_before: _true(counts.published > p), f"mail {n} published",
                            timeout=120, every_s=0.002)
                in_kafka = time.monotonic()
                await until(lambda before=before: _at_least(open_items, before + 1), f"the work item of mail {n}",
                            timeout=120, every_s=0.005)
                if n:
                    to_kafka.append(in_kafka - appended)
                    to_item.append(time.monotonic() - appended)
            await asyncio.to_thread(deliverer.logout)
        print_latencies([("APPEND -> published to Kafka (idle folder, IDLE)", to_kafka),
                         ("APPEND -> routed work item in Redis", to_item)])
    finally:
        imap.stop()


async def _true(value: bool) -> bool:
    return value


async def _at_least(probe, wanted: int) -> bool:
    return await probe() >= wanted


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=10_000, help="mails in the folder before the poller starts")
    parser.add_argument("--latency", type=int, default=20, help="mails then appended one at a time and timed")
    args = parser.parse_args()
    asyncio.run(main(args.mails, args.latency))
