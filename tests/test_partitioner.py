"""The producers' partitioner picks aiokafka's default partition for every key, remembering hashes within a bound."""

from __future__ import annotations

import random

from aiokafka.partitioner import DefaultPartitioner

from workers.stack import partitioner
from workers.stack.partitioner import keyed_partition


def test_keys_go_where_the_default_partitioner_sends_them() -> None:
    rng = random.Random(12)
    keys = [rng.randbytes(rng.randrange(0, 40)) for _ in range(2_000)] + [b"izonie:+2348012345678", b"conek:c17"]
    for count in (1, 3, 8, 64):
        parts = list(range(count))
        for key in keys + keys:  # the second pass reads remembered hashes
            assert keyed_partition(key, parts, parts) == DefaultPartitioner()(key, parts, parts)


def test_a_record_without_key_goes_to_an_available_partition() -> None:
    assert all(keyed_partition(None, [0, 1, 2, 3], [2]) == 2 for _ in range(20))


def test_the_memo_is_bounded(monkeypatch) -> None:
    monkeypatch.setattr(partitioner, "_LIMIT", 10)
    partitioner._HASHES.clear()
    for i in range(25):
        keyed_partition(f"k{i}".encode(), [0, 1], [0, 1])
    assert len(partitioner._HASHES) <= 10
