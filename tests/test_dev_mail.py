"""The issue's external check on `omniroute dev` (issue 8): Alkonect's mailbox on a real IMAP server and its SMTP
on a real catcher; a customer mail and an auto-reply appended; one email work item, the mail \\Seen, and exactly
one acknowledgement to the customer, threaded and marked automatic, none to the auto-responder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import urllib.request
import uuid
from email import message_from_bytes, policy
from pathlib import Path

from conftest import ROOT
from mail_servers import Mailbox, PymapServer, SmtpCatcher, mail
from polling import wait_until
from redis import Redis
from test_dev_command import EXE, _wait_line

from workers.stack.procs import free_port

CUSTOMER, RESPONDER = "ada@example.net", "holiday@example.org"


def drops(port: int) -> float:
    """Alkonect email messages the route worker dropped (auto-replies among them), from GET /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    wanted = 'omniroute_decision_flags_total{flag="auto_reply",tenant="alkonect"}'
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(wanted))


def test_dev_takes_a_mailbox_in_and_acknowledges_the_customer_only(tmp_path: Path, redis_url: str) -> None:
    imap = PymapServer(tmp_path / "pymap.log")
    smtp = SmtpCatcher()
    smtp.start()
    box = Mailbox(imap, "INBOX")
    port, prefix = free_port(), f"omniroute-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "OMNIROUTE_STATE_FILE": str(tmp_path / "dev-stack.json"),
           "OMNIROUTE_RUN_DIR": str(tmp_path / "run"), "OMNIROUTE_REDIS_PREFIX": prefix, "REDIS_URL": redis_url,
           "ALKONECT_IMAP_URL": imap.url("INBOX"), "ALKONECT_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}"}
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "OMNIROUTE_API_TOKEN", "IZONIE_IMAP_URL", "CONEK_IMAP_URL"):
        env.pop(name, None)
    proc = subprocess.Popen([EXE, "dev", "--http-port", str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    seen: list[str] = []
    cli_env = {k: v for k, v in env.items() if k != "REDIS_URL"}  # the CLI finds the stack through its state file
    try:
        _wait_line(proc, "ready:", 90, seen)
        assert any(line.startswith("email: polling alkonect") for line in seen), "".join(seen)
        threading.Thread(target=lambda: [seen.append(line) for line in proc.stdout], daemon=True).start()
        customer_id = f"<{uuid.uuid4().hex}@example.net>"
        responder_id = f"<{uuid.uuid4().hex}@example.org>"
        uid = box.append(mail("Where is my order ALK-120044?", sender=CUSTOMER, message_id=customer_id,
                              body="I ordered last week (order ALK-120044) and nothing has arrived yet."))
        box.append(mail("Automatic reply: Out of office", sender=RESPONDER, message_id=responder_id,
                        body="I am on holiday until Monday.", extra="Auto-Submitted: auto-replied\r\n"))

        def email_items() -> list[dict]:
            listed = subprocess.run([EXE, "queues", "--tenant", "alkonect", "--json"], env=cli_env,
                                    capture_output=True, text=True, timeout=30)
            assert listed.returncode == 0, listed.stderr
            return [row for row in json.loads(listed.stdout) if row["channel"] == "email"]

        items = wait_until(email_items, 60, "the customer's work item")
        wait_until(lambda: b"\\Seen" in box.flags(uid), 60, "\\Seen on the customer's mail")
        acks = wait_until(lambda: [r for r in smtp.received if CUSTOMER in r.rcpt_tos], 60, "the acknowledgement")
        # the auto-reply is decided (dropped: never published, so never answered), as /metrics counts
        wait_until(lambda: drops(port) >= 1, 60, "the auto-reply dropped by the route worker")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, "".join(seen)

        assert len(items) == 1 and CUSTOMER in items[0]["customer"], items
        assert len(acks) == 1 and acks[0].mail_from == "<>"  # a null envelope sender (RFC 3834 §3.3)
        ack = message_from_bytes(acks[0].content, policy=policy.default)
        assert ack["In-Reply-To"] == customer_id and customer_id in ack["References"]
        assert ack["Auto-Submitted"] == "auto-replied" and ack["From"] == "support@alkonect.com"
        assert ack["Subject"] == "Re: Where is my order ALK-120044?"
        assert "We will answer within" in ack.get_content()
        assert not [r for r in smtp.received if RESPONDER in r.rcpt_tos]
        assert len(smtp.received) == 1, [r.rcpt_tos for r in smtp.received]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        smtp.stop()
        imap.stop()
        client = Redis.from_url(redis_url)
        keys = list(client.scan_iter(f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
