"""The issue's external check on `omniroute dev`: a Conek item reaches a Standard Webhooks receiver, signed, and
`omniroute act ITEM --kind resolve` (no token, tenant or agent given) follows as `work_item.resolved`."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from conftest import ROOT
from redis import Redis
from standardwebhooks import Webhook, WebhookVerificationError
from test_dev_command import EXE, _request, _wait_line

from workers.stack.procs import free_port

SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()


class Receiver(ThreadingHTTPServer):
    """Records every POST with whether its Standard Webhooks signature verified."""

    def __init__(self) -> None:
        self.deliveries: list[dict] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def wait_for(self, kind: str, item_id: str | None = None, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for d in self.deliveries:
                    if d["body"]["type"] == kind and item_id in (None, d["body"]["data"]["work_item"]["id"]):
                        return d
            time.sleep(0.05)
        raise AssertionError(f"no {kind} delivery within {timeout}s; got {[d['body']['type'] for d in self.deliveries]}")


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            Webhook(SECRET).verify(raw, headers)
            verified = True
        except WebhookVerificationError:
            verified = False
        with self.server.lock:
            self.server.deliveries.append({"headers": headers, "body": json.loads(raw), "verified": verified})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:  # noqa: ANN002 - quiet
        pass


def test_dev_delivers_a_conek_item_signed_and_its_resolution(tmp_path: Path, redis_url: str) -> None:
    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    port, prefix = free_port(), f"omniroute-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "OMNIROUTE_STATE_FILE": str(tmp_path / "dev-stack.json"),
           "OMNIROUTE_RUN_DIR": str(tmp_path / "run"), "OMNIROUTE_REDIS_PREFIX": prefix, "REDIS_URL": redis_url,
           "CONEK_WEBHOOK_SINK_URL": f"http://127.0.0.1:{receiver.server_address[1]}/hooks",
           "CONEK_WEBHOOK_SINK_SECRET": SECRET}
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "OMNIROUTE_API_TOKEN"):
        env.pop(name, None)
    proc = subprocess.Popen([EXE, "dev", "--http-port", str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    seen: list[str] = []
    cli_env = {k: v for k, v in env.items() if k != "REDIS_URL"}  # the CLI finds the stack through its state file
    try:
        _wait_line(proc, "ready:", 90, seen)
        assert any(line.startswith("sinks: conek/webhook (webhook, every queue)") for line in seen), seen
        made = subprocess.run([EXE, "tokens", "create", "--tenant", "conek", "--label", "contact form"], env=cli_env,
                              capture_output=True, text=True, timeout=30)
        assert made.returncode == 0, made.stderr
        token = made.stdout.splitlines()[-1]
        message = {"provider_message_id": f"form-{uuid.uuid4().hex}", "conversation_key": "form-1",
                   "sender": {"platform_id": "jane@example.com", "email": "jane@example.com"},
                   "text": "My parcel has not arrived and tracking has not moved for a week"}
        status, body = _request(f"http://127.0.0.1:{port}/v1/conek/messages", json.dumps(message).encode(), token)
        assert status == 202, body
        assert _request(f"http://127.0.0.1:{port}/v1/izonie/messages", json.dumps(message).encode(), token)[0] == 403
        created = receiver.wait_for("work_item.created")
        assert created["verified"] and created["headers"]["webhook-id"].startswith("msg_")
        item = created["body"]["data"]["work_item"]
        assert item["tenant"] == "conek" and item["channel"] == "api" and item["sla_due"]
        acted = subprocess.run([EXE, "act", item["id"], "--kind", "resolve"], env=cli_env, capture_output=True,
                               text=True, timeout=30)
        assert acted.returncode == 0 and acted.stdout.startswith("accepted: resolve"), acted.stderr
        resolved = receiver.wait_for("work_item.resolved", item["id"])
        assert resolved["verified"] and resolved["body"]["data"]["work_item"]["state"] == "resolved"
        again = subprocess.run([EXE, "act", item["id"], "--kind", "resolve"], env=cli_env, capture_output=True,
                               text=True, timeout=30)
        assert again.returncode == 1 and "HTTP 409" in again.stderr
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        receiver.shutdown()
        client = Redis.from_url(redis_url)
        keys = list(client.scan_iter(f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
