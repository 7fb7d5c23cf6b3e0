"""Commands packed by hiredis are byte for byte redis-py's, for every connection kind, and Redis answers them."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest
from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection

from workers.runtime import redis_packing
from workers.runtime.redis_packing import packing_client

ARGS = [
    ("EVALSHA", "a" * 40, 0, "omniroute", 86400, 7.5, 0.1, 1e20, -3, 1.5e-7, "wi-1", "é ü ñ 中文 🙂", b"\x00\xff raw"),
    ("CONFIG GET", "maxmemory"),  # a command name of two words is sent as two arguments
    (b"HSET", "k", "f", "x" * 20_000),  # past redis-py's buffer cutoff: it sends the value as its own chunk
    ("SET", "k", memoryview(b"view")),  # hiredis does not pack memoryviews: redis-py's path does
]


def test_the_hiredis_module_is_there() -> None:
    assert redis_packing._pack is not None, "hiredis missing: install redis[hiredis] (pyproject.toml)"


@pytest.mark.parametrize("args", ARGS, ids=["mixed", "two-word-name", "large", "memoryview"])
def test_packed_bytes_are_redis_pys(args: tuple) -> None:
    plain = Connection()
    packed = redis_packing._packing(Connection)()
    assert b"".join(bytes(p) for p in packed.pack_command(*args)) == b"".join(bytes(p) for p in plain.pack_command(*args))


def test_booleans_are_refused_as_redis_py_refuses_them() -> None:
    with pytest.raises(Exception) as plain:
        Connection().pack_command("SET", "k", True)
    with pytest.raises(type(plain.value)):
        redis_packing._packing(Connection)().pack_command("SET", "k", True)


@pytest.mark.parametrize("url, kind", [("redis://h:6379/0", Connection), ("rediss://h:6380/0", SSLConnection),
                                       ("unix:///tmp/redis.sock", UnixDomainSocketConnection)])
def test_the_url_still_chooses_the_connection_kind(url: str, kind: type) -> None:
    cls = packing_client(url).connection_pool.connection_class
    assert issubclass(cls, kind) and issubclass(cls, redis_packing._HiredisPacking)


def test_redis_answers_packed_commands(redis_url: str) -> None:
    async def main() -> None:
        client = packing_client(redis_url, socket_connect_timeout=2)
        key = f"test-packing:{uuid4().hex}"
        try:
            value = "é 中文 " + "x" * 10_000
            await client.hset(key, mapping={"text": value, "score": 2.5, "n": 3})
            async with client.pipeline(transaction=True) as pipe:
                pipe.hget(key, "text").hget(key, "score").hincrby(key, "n", 4)
                got = await pipe.execute()
            assert got == [value.encode(), b"2.5", 7]
            assert await client.eval("return #ARGV[1]", 0, value) == len(value.encode())
        finally:
            await client.delete(key)
            await client.aclose()

    asyncio.run(main())
