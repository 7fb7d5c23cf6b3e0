"""`omniroute dev` as an operator runs it: ready line, health, API channel, queues, Ctrl-C leaves nothing behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from redis import Redis

from conftest import ROOT
from workers.stack.procs import free_port, group_alive, pid_alive

EXE = str(Path(sys.executable).with_name("omniroute"))


def _request(url: str, body: bytes | None = None, token: str | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _wait_line(proc: subprocess.Popen, needle: str, timeout: float, seen: list[str]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return
    raise AssertionError(f"{needle!r} not printed within {timeout}s:\n{''.join(seen)}")


def _wait_lines(proc: subprocess.Popen, needles: list[str], timeout: float, seen: list[str]) -> None:
    """Every needle printed, in any order (lines read before count too)."""
    deadline = time.monotonic() + timeout
    while missing := [n for n in needles if not any(n in line for line in seen)]:
        line = proc.stdout.readline() if time.monotonic() < deadline else ""
        if not line:
            raise AssertionError(f"{missing} not printed within {timeout}s:\n{''.join(seen)}")
        seen.append(line)


def test_dev_demo_runs_the_whole_stack_and_stops_cleanly(tmp_path: Path, redis_url: str) -> None:
    port, prefix, token = free_port(), f"omniroute-test-{uuid.uuid4().hex[:8]}", "t0ken"
    state_file = tmp_path / "dev-stack.json"
    env = {**os.environ, "OMNIROUTE_STATE_FILE": str(state_file), "OMNIROUTE_RUN_DIR": str(tmp_path / "run"),
           "OMNIROUTE_REDIS_PREFIX": prefix, "REDIS_URL": redis_url, "OMNIROUTE_API_TOKEN": token}
    for name in ("KAFKA_BOOTSTRAP_SERVERS", *(f"{t}_{k}_URL" for t in ("ALKONECT", "IZONIE", "CONEK")
                                             for k in ("IMAP", "SMTP"))):
        env.pop(name, None)
    proc = subprocess.Popen([EXE, "dev", "--demo", "--http-port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen: list[str] = []
    try:
        _wait_line(proc, "ready:", 60, seen)
        assert any(line.startswith("kafka: embedded Tansu broker") for line in seen)
        assert any(f"http://127.0.0.1:{port}" in line for line in seen)
        stack = json.loads(state_file.read_text())
        broker_pid = stack["pids"]["broker"]
        base = f"http://127.0.0.1:{port}"
        assert _request(f"{base}/healthz") == (200, {"status": "ok"})
        assert _request(f"{base}/readyz")[0] == 200

        message = {"provider_message_id": "crm-1", "conversation_key": "crm-1", "text": "I was charged twice",
                   "sender": {"platform_id": "crm-user-1", "email": "u1@example.com"},
                   "addressed_to": [{"kind": "api", "value": "crm"}]}
        status, body = _request(f"{base}/v1/conek/messages", json.dumps(message).encode(), token)
        assert status == 202 and body["topic"] == "support.inbound.v1"
        assert _request(f"{base}/v1/conek/messages", json.dumps(message).encode(), "wrong")[0] == 401
        assert _request(f"{base}/v1/nobody/messages", json.dumps(message).encode(), token)[0] == 404
        status, body = _request(f"{base}/v1/conek/messages", b'{"text": "no sender"}', token)
        assert status == 422 and {f["field"] for f in body["fields"]} >= {"sender", "provider_message_id"}

        queues_env = {k: v for k, v in env.items() if k != "REDIS_URL"}  # found through the state file
        deadline, rows = time.monotonic() + 60, []
        while time.monotonic() < deadline:
            out = subprocess.run([EXE, "queues", "--json"], env=queues_env, capture_output=True, text=True, timeout=30)
            assert out.returncode == 0, out.stderr
            rows = json.loads(out.stdout)
            if len(rows) >= 10:
                break
            time.sleep(1)
        # 8 from the demo traffic (a threat among them), the insult's review item and 1 from the API channel
        assert len(rows) == 10, rows
        assert {"item_id", "tenant", "queue", "category", "channel", "customer", "sla_due", "state"} <= rows[0].keys()
        review = [r for r in rows if r["queue"] == "trust_safety"]
        assert [r["tenant"] for r in review] == ["izonie"] and review[0]["sla_due"] is None  # no clocks on it
        assert all(r["sla_due"] for r in rows if r not in review)
        table = subprocess.run([EXE, "queues", "--tenant", "conek"], env=queues_env, capture_output=True, text=True)
        assert table.stdout.count("conek") == 4

        # the demo mail went through the local IMAP server; the acknowledgements, the notice to the unofficial
        # address and the agent's reply arrived in the SMTP catcher, threaded on the customer's mail
        _wait_lines(proc, ["mail catcher: automatic mail to ada.okafor@example.ng (In-Reply-To <ada-1@example.ng>)",
                           "mail catcher: automatic mail to ngozi@example.ng (In-Reply-To <ngozi-1@example.ng>)",
                           "mail catcher: automatic mail to tunde@example.ng (In-Reply-To <tunde-1@example.ng>)",
                           "mail catcher: reply to ada.okafor@example.ng (In-Reply-To <ada-"], 60, seen)
        assert any(line.startswith("demo: mailboxes of alkonect, conek, izonie on a local IMAP server") for line in seen)
        assert any(line.startswith("demo: appended alkonect/email/01-order-question.eml to imap://127.0.0.1:")
                   for line in seen)
        assert not any(line.startswith("demo: published alkonect/email") for line in seen)
        caught = [line for line in seen if line.startswith("mail catcher:")]
        assert not [line for line in caught if "chidi@" in line or "bola@" in line], caught  # abuse, auto-reply
        assert sum("ada.okafor@example.ng" in line and "automatic" in line for line in caught) == 1, caught

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        rest = proc.stdout.read()
        assert "stopped" in rest and "Traceback" not in rest
        deadline = time.monotonic() + 5
        while (pid_alive(broker_pid) or group_alive(broker_pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not pid_alive(broker_pid) and not group_alive(broker_pid)
        assert not state_file.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        client = Redis.from_url(redis_url)
        keys = list(client.scan_iter(f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def test_dev_refuses_a_second_stack(tmp_path: Path) -> None:
    from workers.stack import statefile

    state_file = tmp_path / "dev-stack.json"
    state = statefile.StackState(bootstrap="127.0.0.1:1", redis_url="redis://127.0.0.1:1")
    with statefile.claim(state_file):  # as a running stack holds it
        statefile.write(state_file, state)
        env = {**os.environ, "OMNIROUTE_STATE_FILE": str(state_file), "OMNIROUTE_RUN_DIR": str(tmp_path / "run")}
        out = subprocess.run([EXE, "dev"], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 1
        assert "already running" in out.stderr and "Traceback" not in out.stderr
        assert statefile.read(state_file) == state


def test_two_route_worker_replicas_share_the_partitions_and_route_each_message_once(
        tmp_path: Path, redis_url: str) -> None:
    """`omniroute worker route` twice in one group: 8 partitions split between them, every item once."""
    import asyncio

    from workers.stack.broker import EmbeddedBroker

    broker = EmbeddedBroker(tmp_path / "broker")  # its own: the topics carry the production names
    kafka_bootstrap = asyncio.run(broker.start())
    try:
        _two_replicas(tmp_path, redis_url, kafka_bootstrap)
    finally:
        asyncio.run(broker.stop())


def _two_replicas(tmp_path: Path, redis_url: str, kafka_bootstrap: str) -> None:
    import asyncio

    from channels.sinks.redis_queue import RedisWorkQueue
    from contracts.channels import ChannelKind
    from test_e2e_route import native
    from workers.runtime.publisher import new_producer, publish

    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "REDIS_URL": redis_url,
           "OMNIROUTE_REDIS_PREFIX": prefix, "OMNIROUTE_STATE_FILE": str(tmp_path / "none.json")}
    procs = [subprocess.Popen([EXE, "worker", "route"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    seen: list[list[str]] = [[], []]
    try:
        for proc, lines in zip(procs, seen):
            _wait_line(proc, "route worker: ready", 60, lines)

        async def publish_and_read():
            from redis.asyncio import Redis as AsyncRedis
            producer = new_producer(kafka_bootstrap)
            await producer.start()
            try:
                await publish(producer, [*native("alkonect", ChannelKind.email, "*.eml"),
                                         *native("conek", ChannelKind.whatsapp, "*.json")])
            finally:
                await producer.stop()
            client = AsyncRedis.from_url(redis_url)
            try:
                queue = RedisWorkQueue(client, prefix=prefix)
                for _ in range(100):
                    items = await queue.list_open()
                    if len(items) >= 6:
                        return items
                    await asyncio.sleep(0.3)
                return await queue.list_open()
            finally:
                await client.aclose()

        items = asyncio.run(publish_and_read())
        for proc in procs:
            proc.send_signal(signal.SIGINT)
        outputs = [lines + [proc.communicate(timeout=60)[0]] for proc, lines in zip(procs, seen)]
        assert [p.returncode for p in procs] == [0, 0], outputs
        assert all("route worker: stopped" in "".join(out) for out in outputs)
        assert len(items) == 6 and len({i.id for i in items}) == 6  # alkonect 3 (a threat among them) + conek 3, once
        assigned = [_partitions_said("".join(out)) for out in outputs]
        assert sorted(p for ps in assigned for p in ps) == list(range(8)) and all(assigned), assigned
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        Redis.from_url(redis_url).delete(*(Redis.from_url(redis_url).keys(f"{prefix}*") or ["-"]))


def _partitions_said(output: str) -> list[int]:
    """The partitions of the last 'partitions N,N' a worker printed."""
    said = [line.rsplit("partitions ", 1)[1].strip() for line in output.splitlines() if "partitions " in line]
    return [int(p) for p in said[-1].split(",")] if said and said[-1] != "none" else []
