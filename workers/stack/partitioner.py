"""Kafka's default key partitioning (murmur2, as the Java client and aiokafka hash it), each key's hash remembered."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner, murmur2

_HASHES: dict[bytes, int] = {}  # key -> murmur2(key) & 0x7FFFFFFF; keys are per sender, so they repeat
_LIMIT = 100_000
_DEFAULT = DefaultPartitioner()


def keyed_partition(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    """aiokafka's `DefaultPartitioner` (its murmur2 is pure Python, ~10 us a key), with the hash remembered."""
    if key is None:
        return _DEFAULT(key, all_partitions, available)
    hashed = _HASHES.get(key)
    if hashed is None:
        if len(_HASHES) >= _LIMIT:
            _HASHES.clear()
        hashed = _HASHES[key] = murmur2(key) & 0x7FFFFFFF
    return all_partitions[hashed % len(all_partitions)]
