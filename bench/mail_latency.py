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
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests")]

from mail_servers import Mailbox, PymapServer, SmtpCatcher, mail  # noqa: E402
from mail_stack import mail_stack, print_latencies, until  # noqa: E402

from workers.runtime.mail_pollers import start_mail_pollers  # noqa: E402


async def main(mails: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="omniroute-bench-mail-"))
    imap, smtp = PymapServer(work / "pymap.log"), SmtpCatcher()
    smtp.start()
    box = Mailbox(imap)
    try:
        async with mail_stack(work, {"ALKONECT_IMAP_URL": box.url(), "ALKONECT_SMTP_URL": smtp.url()}) as stack:
            await stack.app.start_processors(stack.exits)
            await start_mail_pollers(stack.app, stack.exits, producer=stack.ingress.producer,
                                     redis=stack.ingress.redis)
            to_item, to_ack = [], []
            deliverer = await asyncio.to_thread(imap.client)  # one connection, as an MTA's (a login costs ~0.5 s)
            for n in range(mails + 1):  # the first round warms the stack up and is not counted
                sender, subject = f"c{n}-{uuid.uuid4().hex[:6]}@example.net", f"Order ALK-12{n:04d} is late"
                started = time.monotonic()
                await asyncio.to_thread(deliverer.append, box.folder, mail(subject, sender=sender,
                                                                           body=f"Order ALK-12{n:04d} is late."))

                async def item(subject=subject):
                    return any(i.subject == subject for i in await stack.queue.list_open("alkonect"))

                async def ack(sender=sender):
                    return any(sender in r.rcpt_tos for r in smtp.received)

                await until(item, f"the work item of mail {n}")
                routed = time.monotonic()
                await until(ack, f"the acknowledgement of mail {n}")
                if n:
                    to_item.append(routed - started)
                    to_ack.append(time.monotonic() - started)
            await asyncio.to_thread(deliverer.logout)
        print_latencies([("APPEND -> routed work item", to_item), ("APPEND -> acknowledgement at SMTP", to_ack)])
    finally:
        smtp.stop()
        imap.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=20)
    asyncio.run(main(parser.parse_args().mails))
