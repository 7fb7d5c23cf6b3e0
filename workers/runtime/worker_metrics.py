"""Prometheus metrics of the workers: decisions by action and flag (counted as decided), and a collector reading workers' stats and lag at scrape time."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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
    """Route and SLA workers' counters and consumer lag per partition, read from the workers when scraped.

    One collector for every worker a process hosts (`omniroute dev` hosts both), so each family appears once.
    """

    def __init__(self, workers: Mapping[str, Any]) -> None:
        self.workers = dict(workers)  # role -> a worker with `stats` (and `consumer` once it runs)

    def add(self, role: str, worker: Any) -> None:
        """Read one more worker (e.g. the faust App, `workers.runtime.faust_view`, started after the ingress)."""
        self.workers[role] = worker

    def collect(self) -> Iterator[Any]:
        records = CounterMetricFamily("omniroute_worker_records", "Records consumed", labels=["role"])
        for role, worker in self.workers.items():
            records.add_metric([role], worker.stats.records)
        yield records
        for name, (metric, meaning) in _COUNTS.items():
            family = CounterMetricFamily(metric, meaning, labels=["role"])
            for role, worker in self.workers.items():
                if hasattr(worker.stats, name):
                    family.add_metric([role], getattr(worker.stats, name))
            if family.samples:
                yield family
        lag = GaugeMetricFamily("omniroute_consumer_lag", "Records behind the end of each assigned partition",
                                labels=["role", "topic", "partition"])
        assigned = GaugeMetricFamily("omniroute_partitions_assigned", "Partitions this replica holds", labels=["role"])
        for role, worker in self.workers.items():
            held, partitions = _lag(worker)
            for (topic, partition), behind in sorted(partitions.items()):
                lag.add_metric([role, topic, str(partition)], behind)
            assigned.add_metric([role], held)
        yield lag
        yield assigned


def _lag(worker: Any) -> tuple[int, dict[tuple[str, int], int]]:
    """Partitions held, and records behind per partition where both the end and the position are known."""
    consumer = getattr(worker, "consumer", None)
    if consumer is None:
        return 0, {}
    assignment = consumer.assignment()
    lags = {}
    for tp in assignment:
        end = consumer.highwater(tp)
        position = _position(worker, consumer, tp)
        if end is not None and position is not None:
            lags[(tp.topic, tp.partition)] = max(0, end - position)
    return len(assignment), lags


def _position(worker: Any, consumer: Any, tp: Any) -> int | None:
    """The next offset to process: the route worker's own bookkeeping, else the consumer's fetch position."""
    part = getattr(worker, "partitions", {}).get(tp)
    if part is not None and getattr(part, "next_offset", None) is not None:
        return part.next_offset
    try:  # aiokafka keeps the position in its subscription state; there is no synchronous public accessor
        return consumer._subscription.subscription.assignment.state_value(tp).position  # noqa: SLF001
    except AttributeError:
        return None
