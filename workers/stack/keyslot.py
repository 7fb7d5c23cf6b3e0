"""Redis Cluster hash slots (CRC16/XMODEM mod 16384, `{hash tags}`), to check that a script's keys share one slot."""

from __future__ import annotations

from collections.abc import Iterable

SLOTS = 16384


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def keyslot(key: str | bytes) -> int:
    """What `CLUSTER KEYSLOT key` answers: only the first non-empty `{...}` is hashed when there is one."""
    raw = key.encode() if isinstance(key, str) else key
    start = raw.find(b"{")
    if start != -1:
        end = raw.find(b"}", start + 1)
        if end > start + 1:
            raw = raw[start + 1:end]
    return _crc16(raw) % SLOTS


def cross_slot(keys: Iterable[str | bytes]) -> dict[int, list[str | bytes]]:
    """Keys grouped by slot when they span more than one slot (what a Cluster refuses as CROSSSLOT); {} if fine."""
    slots: dict[int, list[str | bytes]] = {}
    for key in keys:
        slots.setdefault(keyslot(key), []).append(key)
    return slots if len(slots) > 1 else {}
