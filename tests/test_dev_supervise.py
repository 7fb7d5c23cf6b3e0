"""`omniroute dev` restarts a worker that fails (with backoff and a visible line) instead of stopping the stack."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

from redis import Redis

from channels.sinks.redis_queue import RedisWorkQueue
from conftest import ROOT
from polling import wait_until
from test_dev_command import EXE, _request
from workers.stack.procs import free_port

TOKEN = "supervise-t0ken"


def _message(n: int, tag: str, customer: int | None = None) -> bytes:
    return json.dumps({"provider_message_id": f"{tag}-{n}", "conversation_key": f"{tag}-{n}",
                       "text": "I was charged twice for my order",
                       "sender": {"platform_id": f"{tag}-customer-{customer or n}"},
                       "addressed_to": [{"kind": "api", "value": "crm"}]}).encode()


class Lines:
    """The stack's output read on a thread, so waiting for a line has a deadline even when nothing is printed."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.queue: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=lambda: [self.queue.put(line) for line in proc.stdout], daemon=True).start()

    def wait(self, needle: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.queue.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            if needle in line:
                return line
        raise AssertionError(f"{needle!r} not printed within {timeout} s:\n{''.join(self.seen)}")

    def rest(self, timeout: float = 5.0) -> str:
        out, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                out.append(self.queue.get(timeout=0.2))
            except queue.Empty:
                if out:
                    break
        return "".join(out)


def _in_items(redis: Redis, prefix: str, message_id: str) -> bool:
    """Whether some work item of the dev stack (Redis hashes `<prefix>-dev:wq:{...}:item:*`) holds the message."""
    items = f"{RedisWorkQueue(redis, prefix=f'{prefix}-dev').item_key('')}*"
    return any(message_id.encode() in (redis.hget(k, "json") or b"") for k in redis.scan_iter(items, count=1000))


def test_a_failing_route_worker_is_restarted_and_the_stack_stays_up(tmp_path: Path, redis_url: str) -> None:
    port, prefix, tag = free_port(), f"omniroute-test-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex[:6]
    env = {**os.environ, "OMNIROUTE_STATE_FILE": str(tmp_path / "dev-stack.json"),
           "OMNIROUTE_RUN_DIR": str(tmp_path / "run"), "OMNIROUTE_REDIS_PREFIX": prefix, "REDIS_URL": redis_url,
           "OMNIROUTE_API_TOKEN": TOKEN}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    proc = subprocess.Popen([EXE, "dev", "--http-port", str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    base, lines, redis = f"http://127.0.0.1:{port}", Lines(proc), Redis.from_url(redis_url)
    state_keys = f"{prefix}-dev:route-state:*"
    try:
        lines.wait("ready:", 90)
        status, first = _request(f"{base}/v1/conek/messages", _message(1, tag), TOKEN)
        assert status == 202
        wait_until(lambda: _in_items(redis, prefix, first["id"]), 60, "the first item")
        tables = wait_until(lambda: [k for k in redis.scan_iter(state_keys, count=1000) if redis.type(k) == b"hash"], 30,
                       "a checkpoint of the routing state")

        # Sabotage: the state tables (the same customer's repeat dirties the same partition's tables) become strings, so the next checkpoint fails with WRONGTYPE (a fault no retry
        # cures) and so does every restore until the keys are gone.
        for key in tables:
            redis.delete(key)
            redis.set(key, b"not a hash")
        status, _ = _request(f"{base}/v1/conek/messages", _message(2, tag, customer=1), TOKEN)
        assert status == 202
        lines.wait("route worker: failed (ResponseError", 60)
        again = lines.wait("route worker: failed (ResponseError", 60)  # the restore fails too: restarted again
        assert "WRONGTYPE" in again and "restarting in 2 s" in again  # the backoff grows
        assert proc.poll() is None and _request(f"{base}/healthz")[0] == 200
        assert _request(f"{base}/readyz")[0] == 503  # the route worker holds no partitions meanwhile

        redis.delete(*tables)  # the operator repairs Redis: the next restart restores and the stack routes again
        wait_until(lambda: _request(f"{base}/readyz")[0] == 200, 90, "/readyz 200 after the repair")
        status, third = _request(f"{base}/v1/conek/messages", _message(3, tag), TOKEN)
        assert status == 202
        wait_until(lambda: _in_items(redis, prefix, third["id"]), 60, "an item for a message after the restart")

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        rest = lines.rest()
        assert "stopped" in rest and "Traceback" not in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        keys = list(redis.scan_iter(f"{prefix}*", count=1000))
        if keys:
            redis.delete(*keys)
        redis.close()
