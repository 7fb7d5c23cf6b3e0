"""Redis commands packed by hiredis (in C) instead of redis-py's per-argument Python loop; same bytes on the wire."""

from __future__ import annotations

from functools import cache

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection

try:
    from hiredis import pack_command as _pack
except ImportError:  # hiredis is a dependency (redis[hiredis]); without it the client packs as redis-py does
    _pack = None


class _HiredisPacking:
    """Mixin over a redis-py asyncio connection class: `pack_command` through `hiredis.pack_command`."""

    def pack_command(self, *args):
        encoder = self.encoder
        if encoder.encoding != "utf-8" or encoder.encoding_errors != "strict":
            return super().pack_command(*args)
        if isinstance(args[0], str):  # a command name may hold several words ("CONFIG GET"): sent apart
            args = (*args[0].encode().split(), *args[1:])
        elif b" " in args[0]:
            args = (*args[0].split(), *args[1:])
        try:
            return [_pack(args)]
        except TypeError:  # memoryviews, booleans, other types hiredis does not pack: redis-py's encoder decides
            return super().pack_command(*args)


@cache
def _packing(cls: type[AbstractConnection]) -> type[AbstractConnection]:
    return type(f"HiredisPacking{cls.__name__}", (_HiredisPacking, cls), {})


def packing_client(url: str, **options) -> Redis:
    """`Redis.from_url(url, **options)` whose connections (plain, TLS or Unix socket, as the URL says) pack
    commands with hiredis when it is installed."""
    client = Redis.from_url(url, **options)
    pool = client.connection_pool
    if _pack is not None and not issubclass(pool.connection_class, _HiredisPacking):
        pool.connection_class = _packing(pool.connection_class)
    return client
