"""What every sink is: a name, the tenant and queues it serves, and one delivery call per event."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from channels.sinks.http import SinkAttempt, SinkClient
from contracts.sinks import SinkEvent


class Sink(Protocol):
    name: str  # unique within the tenant: idempotency marks, receipts and dead letters are kept per sink
    kind: str
    tenant: str
    queues: frozenset[str] | None  # None: every queue of the tenant

    async def deliver(self, event: SinkEvent, client: SinkClient, now: datetime) -> SinkAttempt: ...


def serves(sink: Sink, event: SinkEvent) -> bool:
    """The sink takes the tenant's events for its queues (an escalated item counts for its new queue)."""
    return sink.tenant == event.tenant and (sink.queues is None or event.item.queue in sink.queues)
