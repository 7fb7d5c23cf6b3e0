"""Prometheus metrics of the workers: decisions by action and flag (counted as decided), and a collector reading a worker's stats and lag at scrape time."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from prometheus_client import REGISTRY, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from contracts.decision import Decision

# Process-wide (the default registry): labels are tenant, channel, action, flag, never text or identities.
DECISIONS = Counter("omniroute_decisions", "Routing decisions by tenant, channel and action",
                    ["tenant", "channel", "action"], registry=REGISTRY)
DECISION_FLAGS = Counter("omniroute_decision_flags", "Decision flags (duplicate, abusive, rate_limited, ...) by tenant",
                         ["tenant", "flag"], registry=REGISTRY)


_COUNTS = {  # worker stats attribute -> (metric, meaning); absent attributes are skipped
    "dead_lettered": ("omniroute_worker_dead_lettered", "Records sent to support.deadletter.v1"),
    "skipped": ("omniroute_worker_skipped", "Undecodable records skipped (and dead-lettered)"),
    "opened": ("omniroute_worker_opened", "Work items opened"),
    "merged": ("omniroute_worker_merged", "Messages merged into open work items"),
    "batches": ("omniroute_worker_batches", "Batches handled"),
}


def count_decision(decision: Decision) -> None:
    """Count one decision: a message in (tenant, channel) and what happened to it (action, flags)."""
    _decisions(decision.tenant, str(decision.channel), str(decision.action)).inc()
    for flag in decision.flags:
        _flags(decision.tenant, str(flag)).inc()


# `labels()` validates and locks on every call; the children are remembered (label values are few and bounded)
@cache
def _decisions(tenant: str, channel: str, action: str) -> Any:
    return DECISIONS.labels(tenant, channel, action)


@cache
def _flags(tenant: str, flag: str) -> Any:
    return DECISION_FLAGS.labels(tenant, flag)


class WorkerCollector(Collector):
    """A route or SLA worker's counters and consumer lag per partition, read from the worker when scraped."""

    def __init__(self, role: str, worker: Any) -> None:
        self.role = role
        self.worker = worker

    def collect(self) -> Iterator[Any]:
        stats = self.worker.stats
        records = CounterMetricFamily("omniroute_worker_records", "Records consumed", labels=["role"])
        records.add_metric([self.role], stats.records)
        yield records
        for name, (metric, meaning) in _COUNTS.items():
            if hasattr(stats, name):
                family = CounterMetricFamily(metric, meaning, labels=["role"])
                family.add_metric([self.role], getattr(stats, name))
                yield family
        events = getattr(stats, "events", None)
        if events is not None:  # the SLA worker: warning, breach, escalated, met ...
            family = CounterMetricFamily("omniroute_sla_events", "SLA events published by kind", labels=["kind"])
            for kind, count in sorted(events.items()):
                family.add_metric([str(kind)], count)
            yield family
        lag = GaugeMetricFamily("omniroute_consumer_lag", "Records behind the end of each assigned partition",
                                labels=["role", "topic", "partition"])
        assigned = GaugeMetricFamily("omniroute_partitions_assigned", "Partitions this replica holds", labels=["role"])
        partitions = self._lag()
        for (topic, partition), behind in sorted(partitions.items()):
            lag.add_metric([self.role, topic, str(partition)], behind)
        assigned.add_metric([self.role], len(partitions))
        yield lag
        yield assigned

    def _lag(self) -> dict[tuple[str, int], int]:
        consumer = getattr(self.worker, "consumer", None)
        if consumer is None:
            return {}
        lags = {}
        for tp in consumer.assignment():
            end = consumer.highwater(tp)
            position = _position(self.worker, consumer, tp)
            if end is not None and position is not None:
                lags[(tp.topic, tp.partition)] = max(0, end - position)
        return lags


def _position(worker: Any, consumer: Any, tp: Any) -> int | None:
    """The next offset to process: the route worker's own bookkeeping, else the consumer's fetch position."""
    part = getattr(worker, "partitions", {}).get(tp)
    if part is not None and getattr(part, "next_offset", None) is not None:
        return part.next_offset
    try:  # aiokafka keeps the position in its subscription state; there is no synchronous public accessor
        return consumer._subscription.subscription.assignment.state_value(tp).position  # noqa: SLF001
    except AttributeError:
        return None
