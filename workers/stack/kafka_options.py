"""Kafka client options from the settings: security (SSL/SASL), client ids, rack, idempotence where the broker has it."""

from __future__ import annotations

from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.helpers import create_ssl_context
from aiokafka.protocol.metadata import MetadataRequest

from contracts.errors import ConfigError
from workers.settings import Settings

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
    """Client id per role, and the rack for follower fetching (KIP-392) when OMNIROUTE_KAFKA_RACK is set."""
    options = security_options(settings) | {"client_id": f"{settings.kafka_client_id}-{role}"}
    if settings.kafka_rack:
        options["client_rack"] = settings.kafka_rack
    return options


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
