"""Process-wide counters of what the processors emit, by tenant: SLA events, sink deliveries, replies sent."""

from __future__ import annotations

from prometheus_client import REGISTRY, Counter

from contracts.outbound import DeliveryEvent
from contracts.sinks import ReceiptStatus, SinkDeadLetter, SinkReceipt
from contracts.workitem import SlaEvent

# Labels are tenants, kinds, configured sink names, channels and statuses: never text, addresses or phone numbers.
SLA_EVENTS = Counter("omniroute_sla_events", "SLA events published, by tenant and kind (warning, breach, escalated, met)",
                     ["tenant", "kind"], registry=REGISTRY)
SINK_DELIVERIES = Counter("omniroute_sink_deliveries",
                          "Events handed to the tenants' sinks, by tenant, sink, event type and status "
                          "(delivered, dead_lettered)", ["tenant", "sink", "event", "status"], registry=REGISTRY)
MESSAGES_OUT = Counter("omniroute_messages_out",
                       "Replies to customers by tenant, channel and delivery status (sent, delivered, read, failed)",
                       ["tenant", "channel", "status"], registry=REGISTRY)


def count_sla_event(event: SlaEvent) -> None:
    """One SLA event acknowledged by Kafka (the SLA worker's outbox drain calls it once per event it publishes)."""
    SLA_EVENTS.labels(event.tenant, str(event.kind)).inc()


def count_sink(value: object) -> None:
    """One receipt or dead letter the deliver agent publishes; other values are ignored."""
    if isinstance(value, SinkReceipt):
        SINK_DELIVERIES.labels(value.tenant, value.sink, str(value.event_type), str(value.status)).inc()
    elif isinstance(value, SinkDeadLetter):
        SINK_DELIVERIES.labels(value.event.tenant, value.sink, str(value.event.type),
                               str(ReceiptStatus.dead_lettered)).inc()


def count_delivery(event: DeliveryEvent) -> None:
    """One delivery event about a reply (accepted, delivered, read or failed on the customer's channel)."""
    MESSAGES_OUT.labels(event.tenant, str(event.channel or "none"), str(event.status)).inc()
