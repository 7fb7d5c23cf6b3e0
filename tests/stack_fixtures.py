"""Session fixtures for tests that need the one-machine stack: an embedded broker and a Redis."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from contracts.topics import ALL_TOPICS
from workers.stack.broker import EmbeddedBroker
from workers.stack.kafka_compat import apply_tansu_leave_group_fix
from workers.stack.redis_server import ensure_redis
from workers.stack.topics import ensure_topics


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One in-memory Tansu broker for the whole session; tests must use their own topic and group names."""
    broker = EmbeddedBroker(tmp_path_factory.mktemp("broker"))
    bootstrap = asyncio.run(broker.start())
    apply_tansu_leave_group_fix()
    try:
        yield bootstrap
    finally:
        asyncio.run(broker.stop())


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """$REDIS_URL, else 127.0.0.1:6379 if it answers, else a throwaway server. It may be shared: prefix keys."""
    handle = asyncio.run(ensure_redis(os.environ.get("REDIS_URL") or None, tmp_path_factory.mktemp("redis")))
    try:
        yield handle.url
    finally:
        asyncio.run(handle.stop())


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_broker(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EmbeddedBroker]:
    """A broker of the requesting test module's own, its topics created with their production names."""
    broker = EmbeddedBroker(tmp_path_factory.mktemp("module-broker"))
    address = await broker.start()
    apply_tansu_leave_group_fix()  # a stopping worker leaves its group at once instead of after its session
    await ensure_topics(address, ALL_TOPICS)
    yield broker
    await broker.stop()
