"""Readiness: required and optional dependencies, hosted workers' health, the probe bound and its cache."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from workers.runtime.dependency_probes import KafkaProbe, kafka_dependency, redis_dependency
from workers.runtime.health import Health
from workers.runtime.readiness import Dependency, Readiness

pytestmark = pytest.mark.asyncio


class Server:
    """A dependency that answers, refuses, or hangs, as the test sets it; counts the questions."""

    def __init__(self) -> None:
        self.mode, self.asked = "up", 0

    async def probe(self) -> None:
        self.asked += 1
        if self.mode == "down":
            raise ConnectionRefusedError("connection refused")
        if self.mode == "frozen":
            await asyncio.sleep(3600)


class Worker:
    def __init__(self) -> None:
        self.state = Health("redis", "kafka")

    def health(self):
        return self.state.view()


async def test_a_required_dependency_down_is_unavailable_and_an_optional_one_degrades() -> None:
    kafka, redis = Server(), Server()
    readiness = Readiness([Dependency("kafka", kafka.probe), Dependency("redis", redis.probe, required=False,
                                                                         without="keys by sender")], cache_s=0)
    assert (await readiness.report()).status == "ready"
    redis.mode = "down"
    report = await readiness.report()
    assert report.status == "degraded" and report.ready
    assert report.as_json()["dependencies"]["redis"]["meanwhile"] == "keys by sender"
    kafka.mode = "down"
    report = await readiness.report()
    assert report.status == "unavailable" and not report.ready
    assert "ConnectionRefusedError" in report.as_json()["dependencies"]["kafka"]["error"]


async def test_a_frozen_dependency_fails_the_bound_and_its_failing_since_holds_until_it_answers() -> None:
    kafka = Server()
    readiness = Readiness([Dependency("kafka", kafka.probe)], timeout_s=0.05, cache_s=0)
    kafka.mode = "frozen"
    first = (await readiness.report()).findings["kafka"]
    second = (await readiness.report()).findings["kafka"]
    assert not first.ok and "no answer within 0.05 s" in first.error and first.since == second.since
    kafka.mode = "up"
    assert (await readiness.report()).findings["kafka"].ok
    kafka.mode = "down"
    assert (await readiness.report()).findings["kafka"].since > first.since  # a new run of failures


async def test_not_started_is_starting_and_a_hosted_workers_failing_dependency_is_unavailable() -> None:
    started, worker = False, Worker()
    readiness = Readiness([], workers={"route": worker}, started=lambda: started, cache_s=0)
    assert (await readiness.report()).status == "starting"
    started = True
    assert (await readiness.report()).status == "ready"
    worker.state.failing("redis", ConnectionError("Connection refused"))
    report = await readiness.report()
    assert report.status == "unavailable"
    assert report.as_json()["dependencies"]["route.redis"]["error"] == "ConnectionError: Connection refused"
    worker.state.ok("redis")
    assert (await readiness.report()).status == "ready"


async def test_concurrent_and_repeated_questions_share_one_probe_within_the_cache() -> None:
    kafka = Server()
    readiness = Readiness([Dependency("kafka", kafka.probe)], cache_s=60)
    reports = await asyncio.gather(*(readiness.report() for _ in range(20)))
    await readiness.report()
    assert kafka.asked == 1 and all(r.ready for r in reports)


async def test_the_real_probes_against_real_servers(redis_url: str, module_broker) -> None:
    redis = Redis.from_url(redis_url)
    probe = KafkaProbe(module_broker.bootstrap)
    nowhere = KafkaProbe("127.0.0.1:1")
    try:
        readiness = Readiness([kafka_dependency(probe), redis_dependency(redis, required=True)], cache_s=0)
        assert (await readiness.report()).status == "ready"
        broken = Readiness([kafka_dependency(nowhere)], cache_s=0)
        report = await broken.report()
        assert report.status == "unavailable" and report.findings["kafka"].since <= datetime.now(UTC)
    finally:
        await probe.close()
        await nowhere.close()
        await redis.aclose()
