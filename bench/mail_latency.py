"""Benchmark: time from IMAP APPEND to the routed work item, and to the automatic acknowledgement at the SMTP server.

One in-process stack as `omniroute dev` wires it (embedded broker, Redis, route worker, faust processors, one
poller with the default options: IDLE on pymap), Alkonect's mailbox on pymap and its SMTP on aiosmtpd. Mails are
appended one at a time, each from its own sender; the script waits for the item (Redis queue) and the
acknowledgement before the next. Prints p50/p90/max of both. Figures, not a test: the machine is shared.
Run: .venv/bin/python bench/mail_latency.py [--mails 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import AsyncExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests")]

from mail_servers import Mailbox, PymapServer, SmtpCatcher, mail  # noqa: E402

from channels.sinks.redis_queue import RedisWorkQueue  # noqa: E402
from contracts.topics import ALL_TOPICS  # noqa: E402
from workers.app import build_app  # noqa: E402
from workers.runtime.mail_pollers import start_mail_pollers  # noqa: E402
from workers.settings import Settings  # noqa: E402
from workers.stack.broker import EmbeddedBroker  # noqa: E402
from workers.stack.redis_server import delete_prefix, ensure_redis  # noqa: E402
from workers.stack.topics import ensure_topics  # noqa: E402


async def until(probe, what: str, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while not (value := await probe()):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)
    return value


async def main(mails: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="omniroute-bench-mail-"))
    imap, smtp = PymapServer(work / "pymap.log"), SmtpCatcher()
    smtp.start()
    box = Mailbox(imap)
    broker = EmbeddedBroker(work / "broker")
    bootstrap = await broker.start()
    redis = await ensure_redis(Settings().redis_url, work / "redis")
    prefix = f"omniroute-bench-{uuid.uuid4().hex[:8]}"
    try:
        await ensure_topics(bootstrap, ALL_TOPICS)
        settings = Settings(kafka_bootstrap_servers=bootstrap, redis_url=redis.url, redis_prefix=prefix)
        app = build_app(settings, environ={"ALKONECT_IMAP_URL": box.url(), "ALKONECT_SMTP_URL": smtp.url()})
        stop = asyncio.Event()
        worker = app.route_worker()
        task = asyncio.create_task(worker.run(stop))
        async with AsyncExitStack() as exits:
            await asyncio.wait_for(worker.ready.wait(), 60)
            ingress = await app.start_ingress(exits, is_ready=worker.ready.is_set, host="127.0.0.1", port=0)
            await app.start_processors(exits)
            await start_mail_pollers(app, exits, producer=ingress.producer, redis=ingress.redis)
            queue = RedisWorkQueue(ingress.redis, prefix=prefix)
            to_item, to_ack = [], []
            deliverer = await asyncio.to_thread(imap.client)  # one connection, as an MTA's (a login costs ~0.5 s)
            for n in range(mails + 1):  # the first round warms the stack up and is not counted
                sender, subject = f"c{n}-{uuid.uuid4().hex[:6]}@example.net", f"Order ALK-12{n:04d} is late"
                started = time.monotonic()
                await asyncio.to_thread(deliverer.append, box.folder, mail(subject, sender=sender,
                                                                           body=f"Order ALK-12{n:04d} is late."))

                async def item(subject=subject):
                    return any(i.subject == subject for i in await queue.list_open("alkonect"))

                async def ack(sender=sender):
                    return any(sender in r.rcpt_tos for r in smtp.received)

                await until(item, f"the work item of mail {n}")
                routed = time.monotonic()
                await until(ack, f"the acknowledgement of mail {n}")
                if n:
                    to_item.append(routed - started)
                    to_ack.append(time.monotonic() - started)
            await asyncio.to_thread(deliverer.logout)
            stop.set()
            await asyncio.wait_for(task, 30)
        for name, values in (("APPEND -> routed work item", to_item), ("APPEND -> acknowledgement at SMTP", to_ack)):
            ms = sorted(v * 1000 for v in values)
            print(f"{name}: p50 {statistics.median(ms):.0f} ms, p90 {ms[int(len(ms) * 0.9) - 1]:.0f} ms, "
                  f"max {ms[-1]:.0f} ms ({len(ms)} mails)")
    finally:
        await broker.stop()
        await delete_prefix(redis.url, prefix)
        await redis.stop()
        smtp.stop()
        imap.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=20)
    asyncio.run(main(parser.parse_args().mails))
