"""The external check on `omniroute dev`: five signed copies of one WhatsApp payload, a forgery, a stranger's number."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

from redis import Redis

from conftest import ROOT
from test_dev_command import EXE, _wait_line
from webhook_payloads import signed, whatsapp_body
from workers.stack.procs import free_port

SECRET = "external-check-secret"


def _post(url: str, raw: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=raw, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _conek_rows(env: dict[str, str]) -> list[dict]:
    out = subprocess.run([EXE, "queues", "--json", "--tenant", "conek"], env=env, capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_dev_takes_signed_whatsapp_once_refuses_forgeries_and_strangers(tmp_path: Path, redis_url: str) -> None:
    port, prefix = free_port(), f"omniroute-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "OMNIROUTE_STATE_FILE": str(tmp_path / "dev-stack.json"),
           "OMNIROUTE_RUN_DIR": str(tmp_path / "run"), "OMNIROUTE_REDIS_PREFIX": prefix, "REDIS_URL": redis_url,
           "CONEK_WHATSAPP_APP_SECRET": SECRET, "CONEK_WHATSAPP_VERIFY_TOKEN": "verify-me",
           "CONEK_WHATSAPP_ACCESS_TOKEN": "access"}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    proc = subprocess.Popen([EXE, "dev", "--http-port", str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    seen: list[str] = []
    url = f"http://127.0.0.1:{port}/webhooks/whatsapp/conek"
    try:
        _wait_line(proc, "ready:", 60, seen)
        raw = whatsapp_body(f"wamid.external-{uuid.uuid4().hex}", sender="27835550101")
        assert [_post(url, raw, signed(raw, SECRET)) for _ in range(5)] == [200] * 5
        assert _post(url, raw, signed(raw, "forged")) in (401, 403)
        stranger = whatsapp_body(f"wamid.stranger-{uuid.uuid4().hex}", sender="27835550102", number="199999999999999")
        assert _post(url, stranger, signed(stranger, SECRET)) == 200
        queues_env = {k: v for k, v in env.items() if k != "REDIS_URL"}
        deadline, rows = time.monotonic() + 60, []
        while time.monotonic() < deadline and not rows:
            rows = _conek_rows(queues_env)
            time.sleep(0.2)
        assert len(rows) == 1 and rows[0]["customer"].endswith("27835550101")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            metrics = answer.read().decode()
        assert 'omniroute_webhook_messages_total{channel="whatsapp",outcome="duplicates"} 4.0' in metrics
        assert 'omniroute_webhook_messages_total{channel="whatsapp",outcome="unofficial"} 1.0' in metrics
        assert _conek_rows(queues_env) == rows
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        client = Redis.from_url(redis_url)
        keys = list(client.scan_iter(f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
