"""Process-wide histograms of the processors' work, by role: records per batch and time per batch or per event."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import REGISTRY, Histogram

# Labels are roles only (route, sla, outbound, automail, deliver): never tenants' data.
BATCH_RECORDS = Histogram("omniroute_batch_records", "Records per batch taken from Kafka, by role", ["role"],
                          buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000), registry=REGISTRY)
HANDLER_SECONDS = Histogram("omniroute_handler_seconds",
                            "Time to handle one batch (route, sla) or one event (the faust agents), by role", ["role"],
                            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                                     10.0),
                            registry=REGISTRY)


def observe_batch(role: str, records: int, seconds: float) -> None:
    """One batch handled: how many records it held and how long deciding or applying them took."""
    BATCH_RECORDS.labels(role).observe(records)
    HANDLER_SECONDS.labels(role).observe(seconds)


@contextmanager
def timed(role: str) -> Iterator[None]:
    """Time one event's handling (a faust agent's loop body), failures included."""
    began = time.perf_counter()
    try:
        yield
    finally:
        HANDLER_SECONDS.labels(role).observe(time.perf_counter() - began)
