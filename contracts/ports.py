"""Small protocols the core depends on, implemented by the runtime (and by fakes in unit tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class Publisher(Protocol):
    async def publish(self, topic: str, key: bytes, value: bytes) -> None: ...


class KeyValueState(Protocol):
    def get(self, key: str, default: object = None) -> object: ...

    def __setitem__(self, key: str, value: object) -> None: ...

    def __delitem__(self, key: str) -> None: ...


@dataclass(frozen=True)
class StoredContent:
    """Where a content store keeps some bytes, and their sha256 (the key: equal bytes are kept once)."""

    uri: str  # file:///... for the local-disk store
    sha256: str
    size: int


class ContentStore(Protocol):
    """Bytes kept by reference (attachments), never inline in Kafka; `put` returns only once they are durable."""

    def put(self, data: bytes) -> StoredContent: ...

    def get(self, sha256: str) -> bytes: ...
