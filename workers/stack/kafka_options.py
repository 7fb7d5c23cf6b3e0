"""Kafka client options from the settings: security (SSL/SASL), client ids, rack, group timeouts, static membership."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.helpers import create_ssl_context
from aiokafka.protocol.metadata import MetadataRequest

from contracts.errors import ConfigError
from workers.settings import Settings
from workers.stack.partitioner import keyed_partition

TANSU_CLUSTER_ID = "tansu_cluster"  # what the embedded broker reports (the dev stack unsets CLUSTER_ID)


def security_options(settings: Settings) -> dict[str, Any]:
    """security_protocol, ssl_context and SASL credentials for any aiokafka client (admin, producer, consumer)."""
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = create_ssl_context(
            cafile=_path(settings.kafka_ssl_cafile), certfile=_path(settings.kafka_ssl_certfile),
            keyfile=_path(settings.kafka_ssl_keyfile))
    if protocol.startswith("SASL_"):
        if not settings.kafka_sasl_username or settings.kafka_sasl_password is None:
            raise ConfigError(f"OMNIROUTE_KAFKA_SECURITY_PROTOCOL={protocol} needs OMNIROUTE_KAFKA_SASL_USERNAME and "
                              "OMNIROUTE_KAFKA_SASL_PASSWORD (set them from a Secret)")
        options |= {"sasl_mechanism": settings.kafka_sasl_mechanism,
                    "sasl_plain_username": settings.kafka_sasl_username,
                    "sasl_plain_password": settings.kafka_sasl_password.get_secret_value()}
    return options


def admin_options(settings: Settings) -> dict[str, Any]:
    return security_options(settings) | {"client_id": f"{settings.kafka_client_id}-admin"}


def producer_options(settings: Settings, role: str) -> dict[str, Any]:
    """acks=all always; the idempotent producer on Apache Kafka (the embedded broker refuses InitProducerId).

    With OMNIROUTE_KAFKA_BROKER still `auto` (not resolved by `resolve_broker`) idempotence stays off unless forced.
    """
    idempotent = settings.kafka_idempotence == "on" or (settings.kafka_idempotence == "auto"
                                                        and settings.kafka_broker == "kafka")
    return security_options(settings) | {"client_id": f"{settings.kafka_client_id}-{role}", "acks": "all",
                                         "enable_idempotence": idempotent}


def consumer_options(settings: Settings, role: str) -> dict[str, Any]:
    """Client id per role, the rack for follower fetching (KIP-392), and static membership on Apache Kafka.

    Group timeouts are not in here: the workers keep them as config fields (`group_timeouts`), which tests tune.
    """
    options = security_options(settings) | {"client_id": f"{settings.kafka_client_id}-{role}"}
    if settings.kafka_rack:
        options["client_rack"] = settings.kafka_rack
    instance_id, _ = static_membership(settings)
    if instance_id:
        options["group_instance_id"] = instance_id
    return options


def static_membership(settings: Settings) -> tuple[str | None, str | None]:
    """(group instance id to use, or None; a line saying why OMNIROUTE_GROUP_INSTANCE_ID is ignored, or None).

    Only on Apache Kafka. The embedded broker accepts the id, but a static member that rejoins is handed its old
    partitions at once while the replica that took them over still holds them (measured on Tansu 0.6: both
    held the same 4 of 8 partitions), and a stopped static member sends no LeaveGroup, so its partitions wait a
    whole session timeout. With the broker not resolved yet (`auto`) it stays off, like idempotence.
    """
    wanted = (settings.group_instance_id or "").strip()
    if not wanted:
        return None, None
    if settings.kafka_broker == "kafka":
        return wanted, None
    where = "the embedded broker" if settings.kafka_broker == "embedded" else "a broker not identified yet"
    return None, (f"OMNIROUTE_GROUP_INSTANCE_ID={wanted} ignored on {where}: static membership is for Apache Kafka "
                  "(Tansu hands a returning static member partitions another replica still holds)")


def group_timeouts(settings: Settings) -> dict[str, int]:
    """session_timeout_ms and request_timeout_ms for the workers' consumer groups, checked against each other."""
    session, request = settings.kafka_session_timeout_ms, settings.kafka_request_timeout_ms
    if session < 1000:
        raise ConfigError(f"OMNIROUTE_KAFKA_SESSION_TIMEOUT_MS={session} is too short: heartbeats go every second "
                          "at most; use 1000 or more (Apache Kafka refuses less than its group.min.session.timeout.ms, "
                          "6000 by default)")
    if request <= session:
        raise ConfigError(f"OMNIROUTE_KAFKA_REQUEST_TIMEOUT_MS={request} must exceed OMNIROUTE_KAFKA_SESSION_TIMEOUT_MS"
                          f"={session}: a JoinGroup may be held for the session timeout (half of it on the embedded "
                          "broker), and faust refuses a shorter request timeout")
    return {"session_timeout_ms": session, "request_timeout_ms": request}


def worker_clients(c, **producer_extra) -> tuple[AIOKafkaProducer, AIOKafkaConsumer]:  # noqa: ANN001
    """A worker's producer (acks=all) and group consumer (not started), from its config (`RouteWorkerConfig`):
    manual commits, from the earliest record, heartbeats every second (or three times per
    session timeout when that is shorter), rebalances bounded by the session timeout."""
    producer = AIOKafkaProducer(**({"bootstrap_servers": c.bootstrap, "acks": "all", "linger_ms": 5,
                                    "client_id": c.client_id, "partitioner": keyed_partition} | producer_extra
                                   | c.producer_options | {"request_timeout_ms": c.request_timeout_ms}))
    group = {"group_id": c.group, "enable_auto_commit": False, "auto_offset_reset": "earliest",
             "fetch_max_wait_ms": c.fetch_max_wait_ms, "max_poll_records": c.max_batch,
             "session_timeout_ms": c.session_timeout_ms, "heartbeat_interval_ms": min(1000, c.session_timeout_ms // 3),
             "rebalance_timeout_ms": c.session_timeout_ms, "request_timeout_ms": c.request_timeout_ms}
    consumer = AIOKafkaConsumer(**({"bootstrap_servers": c.bootstrap, "client_id": c.client_id}
                                   | c.consumer_options | group))
    return producer, consumer


async def broker_is_embedded(bootstrap: str, settings: Settings) -> bool:
    """OMNIROUTE_KAFKA_BROKER when it says so, else ask the cluster for its id (the embedded broker's is fixed)."""
    if settings.kafka_broker != "auto":
        return settings.kafka_broker == "embedded"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **admin_options(settings))
    await admin.start()
    try:
        response = await admin._send_request(MetadataRequest([], allow_auto_topic_creation=False))
        return response.to_object().get("cluster_id") == TANSU_CLUSTER_ID
    finally:
        await admin.close()


async def resolve_broker(settings: Settings, bootstrap: str) -> Settings:
    """`settings` with OMNIROUTE_KAFKA_BROKER resolved to `embedded` or `kafka` for this bootstrap."""
    embedded = await broker_is_embedded(bootstrap, settings)
    return settings.model_copy(update={"kafka_broker": "embedded" if embedded else "kafka"})


def _path(value) -> str | None:  # noqa: ANN001 - Path | None
    return None if value is None else str(value)
