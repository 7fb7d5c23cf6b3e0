"""The faust App as the workers' metrics collector reads a worker: records received and lag per assigned partition."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class _Stats:
    records: int


@dataclass(frozen=True)
class _Position:
    next_offset: int


class _Consumer:
    """faust's consumer, answering "nothing assigned" and "end unknown" while it is not started or is stopping."""

    def __init__(self, consumer: Any) -> None:
        self._consumer = consumer

    def assignment(self) -> set:
        try:
            return set(self._consumer.assignment())
        except Exception:  # noqa: BLE001 - a scrape must not fail because the consumer is between states
            return set()

    def highwater(self, tp: Any) -> int | None:
        try:
            return self._consumer.highwater(tp)
        except Exception:  # noqa: BLE001 - as above
            return None


class FaustView:
    """`stats.records`, `consumer` (assignment, highwater) and `partitions` (next offset read) of a started App."""

    def __init__(self, app: Any) -> None:
        self.app = app

    @property
    def stats(self) -> _Stats:
        return _Stats(records=self.app.monitor.messages_received_total)

    @property
    def consumer(self) -> _Consumer:
        return _Consumer(self.app.consumer)

    @property
    def partitions(self) -> dict[Any, _Position]:
        # faust keeps the offset of the last record handed to the agents per partition (no public accessor)
        read = self.app.consumer._read_offset  # noqa: SLF001
        return {tp: _Position(offset + 1) for tp, offset in list(read.items()) if offset is not None}
