"""Workers' /healthz, /readyz, /metrics: decisions by action and flag, workers' counters and lag per partition,
batch and handler histograms, SLA events, sink deliveries and replies by tenant."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone

import aiohttp
from aiokafka import TopicPartition
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from contracts.decision import DropDecision
from contracts.outbound import DeliveryEvent
from contracts.sinks import SinkDeadLetter, SinkEvent, SinkEventType, SinkReceipt
from contracts.workitem import SlaClockKind, SlaEvent, SlaEventKind
from workers.runtime.event_metrics import count_delivery, count_sink, count_sla_event
from workers.runtime.flow_metrics import observe_batch, timed
from workers.runtime.health_server import start_health_server
from workers.runtime.readiness import Readiness
from workers.runtime.worker_metrics import WorkerCollector, count_decision


@dataclass
class _Stats:
    records: int = 12
    dead_lettered: int = 1
    opened: int = 7
    merged: int = 2
    batches: int = 3


@dataclass
class _Partition:
    next_offset: int | None


class _Consumer:
    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition("support.inbound.v1", 0), TopicPartition("support.inbound.v1", 3)}

    def highwater(self, tp: TopicPartition) -> int:
        return 100


@dataclass
class _Worker:
    stats: _Stats = field(default_factory=_Stats)
    consumer: _Consumer = field(default_factory=_Consumer)
    partitions: dict = field(default_factory=lambda: {TopicPartition("support.inbound.v1", 0): _Partition(60),
                                                      TopicPartition("support.inbound.v1", 3): _Partition(100)})


def test_decisions_are_counted_by_action_and_flag() -> None:
    labels = {"tenant": "metrics-t", "channel": "email", "action": "drop"}
    before = REGISTRY.get_sample_value("omniroute_decisions_total", labels) or 0.0
    count_decision(DropDecision(message_id="m", tenant="metrics-t", channel="email", customer="c", reason="redelivery",
                                decided_at=datetime(2026, 1, 5, tzinfo=timezone.utc), flags=["duplicate"]))
    assert REGISTRY.get_sample_value("omniroute_decisions_total", labels) == before + 1
    assert REGISTRY.get_sample_value("omniroute_decision_flags_total", {"tenant": "metrics-t", "flag": "duplicate"}) >= 1


def test_the_collector_reads_stats_and_lag_when_scraped() -> None:
    registry = CollectorRegistry()
    worker = _Worker()
    registry.register(WorkerCollector({"route": worker}))
    assert registry.get_sample_value("omniroute_worker_records_total", {"role": "route"}) == 12
    lag = {"role": "route", "topic": "support.inbound.v1"}
    assert registry.get_sample_value("omniroute_consumer_lag", lag | {"partition": "0"}) == 40
    assert registry.get_sample_value("omniroute_consumer_lag", lag | {"partition": "3"}) == 0
    worker.stats.records = 20
    assert registry.get_sample_value("omniroute_worker_records_total", {"role": "route"}) == 20
    assert registry.get_sample_value("omniroute_partitions_assigned", {"role": "route"}) == 2


def test_health_readiness_and_metrics_over_http() -> None:
    async def scenario() -> list[tuple[int, str]]:
        ready = asyncio.Event()
        registry = CollectorRegistry()
        registry.register(WorkerCollector({"sla": _Worker()}))
        answers = []
        async with AsyncExitStack() as stack:
            url = await start_health_server(stack, host="127.0.0.1", port=0, alive=lambda: True,
                                            readiness=Readiness(started=ready.is_set), registries=[registry])
            async with aiohttp.ClientSession() as session:
                for path in ("/healthz", "/readyz"):
                    async with session.get(url + path) as response:
                        answers.append((response.status, await response.text()))
                ready.set()
                for path in ("/readyz", "/metrics"):
                    async with session.get(url + path) as response:
                        answers.append((response.status, await response.text()))
        return answers

    healthz, not_ready, ready, metrics = asyncio.run(asyncio.wait_for(scenario(), 20))
    assert healthz[0] == 200 and not_ready[0] == 503 and ready[0] == 200
    assert 'omniroute_worker_records_total{role="sla"} 12.0' in metrics[1]
    assert "omniroute_decisions_total" in metrics[1] and "process_cpu_seconds_total" in metrics[1]


def test_one_collector_serves_several_workers_each_family_once() -> None:
    registry = CollectorRegistry()
    registry.register(WorkerCollector({"route": _Worker(), "sla": _Worker(stats=_Stats(records=5))}))
    names = [f.name for f in text_string_to_metric_families(generate_latest(registry).decode())]
    assert len(names) == len(set(names)), names  # a family twice is refused by Prometheus
    assert registry.get_sample_value("omniroute_worker_records_total", {"role": "sla"}) == 5
    assert registry.get_sample_value("omniroute_consumer_lag",
                                     {"role": "sla", "topic": "support.inbound.v1", "partition": "0"}) == 40


def _count(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_batches_and_handler_time_land_in_histogram_buckets() -> None:
    before = _count("omniroute_batch_records_bucket", {"role": "metrics-test", "le": "50.0"})
    observe_batch("metrics-test", 40, 0.003)
    observe_batch("metrics-test", 400, 0.2)
    assert _count("omniroute_batch_records_bucket", {"role": "metrics-test", "le": "50.0"}) == before + 1
    assert _count("omniroute_batch_records_count", {"role": "metrics-test"}) >= 2
    assert _count("omniroute_handler_seconds_bucket", {"role": "metrics-test", "le": "0.005"}) >= 1
    slow = _count("omniroute_handler_seconds_bucket", {"role": "metrics-test", "le": "0.1"})
    assert _count("omniroute_handler_seconds_bucket", {"role": "metrics-test", "le": "0.25"}) == slow + 1
    failed = _count("omniroute_handler_seconds_count", {"role": "metrics-test-agent"})
    try:
        with timed("metrics-test-agent"):
            raise ValueError("a failing event is timed too")
    except ValueError:
        pass
    assert _count("omniroute_handler_seconds_count", {"role": "metrics-test-agent"}) == failed + 1


def test_sla_events_sink_deliveries_and_replies_are_counted_by_tenant() -> None:
    at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    for kind in (SlaEventKind.warning, SlaEventKind.breach, SlaEventKind.escalated):
        count_sla_event(SlaEvent(event_id=f"e-{kind}", kind=kind, work_item_id="wi", tenant="metrics-t",
                                 clock=SlaClockKind.first_response, at=at, due_at=at))
    for kind in ("warning", "breach", "escalated"):
        assert _count("omniroute_sla_events_total", {"tenant": "metrics-t", "kind": kind}) >= 1
    delivered = {"tenant": "metrics-t", "sink": "ops", "event": "work_item.created", "status": "delivered"}
    before = _count("omniroute_sink_deliveries_total", delivered)
    count_sink(SinkReceipt(event_id="msg_1", event_type=SinkEventType.created, tenant="metrics-t", work_item_id="wi",
                           sink="ops", status="delivered", at=at))
    count_sink(object())  # not a receipt or a dead letter: ignored
    assert _count("omniroute_sink_deliveries_total", delivered) == before + 1
    dead = delivered | {"event": "sla.breach", "status": "dead_lettered"}
    before = _count("omniroute_sink_deliveries_total", dead)
    event = SinkEvent.model_construct(id="msg_2", type=SinkEventType.sla_breach, tenant="metrics-t", at=at)
    count_sink(SinkDeadLetter.model_construct(sink="ops", event=event, error="HTTP 500", attempts=5, at=at))
    assert _count("omniroute_sink_deliveries_total", dead) == before + 1
    count_delivery(DeliveryEvent(outbound_id="o", tenant="metrics-t", work_item_id="wi", channel="whatsapp",
                                 status="failed", at=at, error="re-engagement window closed"))
    assert _count("omniroute_messages_out_total", {"tenant": "metrics-t", "channel": "whatsapp", "status": "failed"}) >= 1
