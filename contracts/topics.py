"""Kafka topic specs as data: names, keys, value schemas and partition counts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class TopicSpec(BaseModel):
    """One topic: every processing topic shares the conversation key and the partition count."""

    model_config = ConfigDict(frozen=True)

    name: str
    key: str  # what the record key is
    value: str  # the contract model carried
    partitions: int = 8
    compacted: bool = False
    retention_hours: int | None = 168


INBOUND = TopicSpec(name="support.inbound.v1", key="tenant:customer", value="InboundMessage")
ROUTED = TopicSpec(name="support.routed.v1", key="tenant:customer", value="Decision")
REJECTED = TopicSpec(name="support.rejected.v1", key="tenant:customer", value="Decision")
QUARANTINE = TopicSpec(name="support.quarantine.v1", key="tenant:customer", value="Decision")
SLA_EVENTS = TopicSpec(name="support.sla-events.v1", key="tenant:work_item", value="SlaEvent")
AGENT_ACTIONS = TopicSpec(name="support.agent-actions.v1", key="tenant:work_item", value="AgentAction")
DELIVERY = TopicSpec(name="support.delivery.v1", key="tenant:work_item", value="DeliveryEvent")
DEAD_LETTER = TopicSpec(name="support.deadletter.v1", key="original key", value="bytes + error", partitions=1)
SINK_RECEIPTS = TopicSpec(name="support.sink-receipts.v1", key="tenant:work_item", value="SinkReceipt")
SINK_DEAD_LETTER = TopicSpec(name="support.sink-deadletter.v1", key="dead letter, by tenant:work_item", value="SinkDeadLetter",
                             partitions=1)
SINK_REPLAY = TopicSpec(name="support.sink-replay.v1", key="tenant:work_item", value="SinkDeadLetter")
CSAT = TopicSpec(name="support.csat.v1", key="tenant:work_item", value="CsatRating")

ALL_TOPICS: tuple[TopicSpec, ...] = (INBOUND, ROUTED, REJECTED, QUARANTINE, SLA_EVENTS, AGENT_ACTIONS, DELIVERY,
                                     DEAD_LETTER, SINK_RECEIPTS, SINK_DEAD_LETTER, SINK_REPLAY, CSAT)
