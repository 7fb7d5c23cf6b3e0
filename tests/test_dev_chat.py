"""`omniroute dev` with a chat signing key set, checked as the issue's external check does it, over real HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aiohttp
from redis import Redis

from conftest import ROOT
from workers.stack.procs import free_port

EXE = str(Path(sys.executable).with_name("omniroute"))
IZONIE = "https://izonie.com"


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


async def _chat(base: str, env: dict[str, str]) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/chat/izonie/sessions", json={}, headers={"Origin": "https://evil.example"}) as r:
            assert r.status == 403
        async with http.post(f"{base}/chat/izonie/sessions", json={}, headers={"Origin": IZONIE}) as r:
            assert r.status == 201
            session = await r.json()
        body = {"client_message_id": "cm-1", "text": "My order IZ-77001 has not arrived, please help"}
        headers = {"Authorization": f"Bearer {session['token']}", "Origin": IZONIE}
        answers = []
        for _ in range(2):
            async with http.post(f"{base}/chat/izonie/messages", json=body, headers=headers) as r:
                assert r.status == 202, await r.text()
                answers.append(await r.json())
        assert [a["duplicate"] for a in answers] == [False, True]  # the second copy never reached Kafka
        ws = await http.ws_connect(f"{base}/chat/izonie/ws", origin=IZONIE)
        await ws.send_json({"type": "auth", "token": session["token"], "last_seq": 0})
        items = await _items(env)
        assert len(items) == 1, items
        act = await asyncio.create_subprocess_exec(
            EXE, "act", items[0]["item_id"], "--tenant", "izonie", "--kind", "reply", "--agent", "a1", "--text",
            "Your parcel is with the courier.", env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await act.communicate()
        assert act.returncode == 0, (out, err)
        frame = (await ws.receive(timeout=30)).json()
        assert frame["type"] == "agent_reply" and frame["text"] == "Your parcel is with the courier."
        await ws.close()


async def _items(env: dict[str, str]) -> list[dict]:
    """The stack's open Izonie chat items, once there is one (the CLI reads them through the state file)."""
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        out = await asyncio.create_subprocess_exec(EXE, "queues", "--json", "--tenant", "izonie", env=env,
                                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        stdout, _ = await out.communicate()
        rows = [r for r in json.loads(stdout or b"[]") if r["channel"] == "chat"]
        if rows or asyncio.get_running_loop().time() > deadline:
            return rows
        await asyncio.sleep(0.5)


def test_dev_serves_the_chat_gateway_end_to_end(tmp_path: Path, redis_url: str) -> None:
    port, prefix = free_port(), f"omniroute-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "OMNIROUTE_STATE_FILE": str(tmp_path / "dev-stack.json"),
           "OMNIROUTE_RUN_DIR": str(tmp_path / "run"), "OMNIROUTE_REDIS_PREFIX": prefix, "REDIS_URL": redis_url,
           "OMNIROUTE_API_TOKEN": "t0ken", "IZONIE_LIVECHAT_SIGNING_KEY": "izonie-dev-key",
           "PYTHONPATH": str(ROOT)}  # this checkout's code, also where the installed package is another one's
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    env.pop("ALKONECT_LIVECHAT_SIGNING_KEY", None)
    proc = subprocess.Popen([EXE, "dev", "--http-port", str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    seen: list[str] = []
    try:
        _wait_line(proc, "ready:", 60, seen)
        base = f"http://127.0.0.1:{port}"
        assert f"chat: izonie demo page {base}/chat/izonie/ (widget {base}/chat/izonie/widget.js)\n" in seen
        assert any("ALKONECT_LIVECHAT_SIGNING_KEY is set" in line for line in seen)
        queues_env = {k: v for k, v in env.items() if k != "REDIS_URL"}  # the CLI finds the stack by its state file
        asyncio.run(_chat(base, queues_env))
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
