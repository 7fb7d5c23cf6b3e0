"""The project's faust App: the I/O-bound stream processors (outbound, automail, deliver, csat, sla).

Agents are registered explicitly by the app factory, never at import. Durable state lives in Redis, not in
faust tables: on the embedded broker faust's table recovery lost updates (the README says why), and on Apache
Kafka tables would be safe. faust runs inside the caller's event loop (`start`/`stop`), so `omniroute dev`
hosts it next to the route worker and `omniroute worker outbound` runs it alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import faust
from pydantic import ValidationError

from contracts.outbound import DeliveryEvent
from contracts.topics import (
    AGENT_ACTIONS,
    DELIVERY,
    QUARANTINE,
    REJECTED,
    ROUTED,
    SINK_DEAD_LETTER,
    SINK_RECEIPTS,
    SINK_REPLAY,
    SLA_EVENTS,
)
from contracts.workitem import AgentAction
from workers.runtime.automail import AutomailProcessor
from workers.runtime.codec import encode
from workers.runtime.deliver import DeliverProcessor, Publication
from workers.runtime.deliver_lanes import run_in_lanes, work_item_of
from workers.runtime.event_metrics import count_delivery, count_sink
from workers.runtime.flow_metrics import BATCH_RECORDS, timed
from workers.runtime.outbound import OutboundProcessor
from workers.settings import Settings
from workers.stack.faust_compat import raw_topic, set_faust_fetch_wait
from workers.stack.kafka_options import consumer_options, group_timeouts, security_options, static_membership

log = logging.getLogger("omniroute.processors")


def create_faust_app(bootstrap: str, *, app_id: str = "omniroute-processors", fetch_max_wait_ms: int = 100,
                     session_timeout_s: float = 10.0, request_timeout_s: float = 40.0,
                     client_id: str = "omniroute-processors", credentials: faust.types.auth.CredentialsT | None = None,
                     group_instance_id: str | None = None) -> faust.App:
    """One App for every processor; its consumer group is `app_id`. Kafka options: `faust_options(settings)`."""
    set_faust_fetch_wait(fetch_max_wait_ms)
    return faust.App(app_id, broker=f"kafka://{bootstrap}", store="memory://", web_enabled=False,
                     autodiscover=False, topic_allow_declare=False, topic_disable_leader=True,
                     consumer_auto_offset_reset="earliest", broker_session_timeout=session_timeout_s,
                     broker_request_timeout=request_timeout_s, broker_heartbeat_interval=min(1.0, session_timeout_s / 3),
                     producer_acks=-1, broker_client_id=client_id, broker_credentials=credentials,
                     consumer_group_instance_id=group_instance_id)


def faust_options(settings: Settings, role: str) -> dict[str, Any]:
    """create_faust_app's Kafka options from the settings: credentials (SSL/SASL), client id, group timeouts,
    static membership. faust's aiokafka driver passes no rack and makes its producer idempotent only inside
    transactions, so those two settings do not reach the App (acks=all does)."""
    security = security_options(settings)
    protocol = security["security_protocol"]
    credentials: faust.types.auth.CredentialsT | None = None
    if protocol.startswith("SASL_"):
        credentials = faust.SASLCredentials(username=security["sasl_plain_username"],
                                            password=security["sasl_plain_password"],
                                            ssl_context=security.get("ssl_context"),
                                            mechanism=security["sasl_mechanism"])
    elif protocol == "SSL":
        credentials = faust.SSLCredentials(security["ssl_context"])
    timeouts = group_timeouts(settings)
    return {"credentials": credentials, "client_id": consumer_options(settings, role)["client_id"],
            "session_timeout_s": timeouts["session_timeout_ms"] / 1000,
            "request_timeout_s": timeouts["request_timeout_ms"] / 1000,
            "group_instance_id": static_membership(settings)[0]}


def register_outbound(app: faust.App, processor: OutboundProcessor,
                      on_event: Callable[[DeliveryEvent], None] | None = None) -> None:
    """`outbound`: agents' reply actions -> sends on the customer's channel -> support.delivery.v1."""
    actions, delivery = raw_topic(app, AGENT_ACTIONS.name), raw_topic(app, DELIVERY.name)

    @app.agent(actions, name="outbound")
    async def outbound(stream) -> None:  # noqa: ANN001 - a faust stream
        async for raw in stream:
            with timed("outbound"):
                try:
                    action = AgentAction.model_validate_json(raw)
                except ValidationError as exc:
                    log.warning("outbound: an agent action that is not an AgentAction skipped: %s", exc)
                    continue
                await emit_deliveries(delivery, await processor.handle(action), on_event)


def register_deliver(app: faust.App, processor: DeliverProcessor,
                     on_publication: Callable[[Publication], None] | None = None, *, batch: int = 32,
                     within_s: float = 0.05) -> None:
    """`deliver`: decisions (routed, and quarantines' review items), SLA events, agents' actions and DLQ replays ->
    the tenants' sinks -> receipts.

    Records are taken `batch` at a time (or what came `within_s`) and delivered in lanes, one per work item: a
    slow sink holds back the later events of its own items only, and one item's events keep their order. The
    batch's offsets are committed once all of it is delivered and its receipts acknowledged.
    """
    handlers = {ROUTED.name: processor.on_decision, QUARANTINE.name: processor.on_decision,
                SLA_EVENTS.name: processor.on_sla_event,
                AGENT_ACTIONS.name: processor.on_action, SINK_REPLAY.name: processor.on_replay}
    inputs = raw_topic(app, *handlers)
    outputs = {spec.name: raw_topic(app, spec.name) for spec in (SINK_RECEIPTS, SINK_DEAD_LETTER)}

    async def handle(event) -> list[Publication]:  # noqa: ANN001 - a faust event
        topic = event.message.topic
        with timed("deliver"):
            try:
                return await handlers[topic](event.value)
            except (ValidationError, ValueError) as exc:
                log.warning("deliver: a record on %s that is not its contract skipped: %s", topic, exc)
                return []

    @app.agent(inputs, name="deliver")
    async def deliver(stream) -> None:  # noqa: ANN001 - a faust stream
        async for events in stream.take_events(batch, within=within_s):
            BATCH_RECORDS.labels("deliver").observe(len(events))
            for publications in await run_in_lanes(events, lambda e: work_item_of(e.value), handle):
                for publication in publications:
                    sending = await outputs[publication.topic].send(key=publication.key,
                                                                    value=encode(publication.value))
                    await sending  # acknowledged before the batch's offsets can be committed
                    count_sink(publication.value)
                    if on_publication is not None:
                        on_publication(publication)


def register_automail(app: faust.App, processor: AutomailProcessor,
                      on_event: Callable[[DeliveryEvent], None] | None = None) -> None:
    """`automail`: routed and rejected email decisions -> the policy's automatic mail -> support.delivery.v1."""
    decisions, delivery = raw_topic(app, ROUTED.name, REJECTED.name), raw_topic(app, DELIVERY.name)

    @app.agent(decisions, name="automail")
    async def automail(stream) -> None:  # noqa: ANN001 - a faust stream
        async for raw in stream:
            with timed("automail"):
                try:
                    events = await processor.on_decision(raw)
                except (ValidationError, ValueError) as exc:
                    log.warning("automail: a record that is not a Decision skipped: %s", exc)
                    continue
                await emit_deliveries(delivery, events, on_event)


async def emit_deliveries(delivery: faust.TopicT, events: list[DeliveryEvent],
                on_event: Callable[[DeliveryEvent], None] | None) -> None:
    """Delivery events onto support.delivery.v1, each acknowledged before the input's offset can be committed."""
    for event in events:
        sending = await delivery.send(key=f"{event.tenant}:{event.work_item_id or event.outbound_id}".encode(),
                                      value=encode(event))
        await sending
        count_delivery(event)
        if on_event is not None:
            on_event(event)
