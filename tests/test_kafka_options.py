"""Kafka client options from settings: SASL/SSL, client ids, rack, idempotence only where the broker has it."""

from __future__ import annotations

import asyncio
import ssl

import pytest
from pydantic import SecretStr

from contracts.errors import ConfigError
from workers.settings import Settings
from workers.stack.kafka_options import consumer_options, producer_options, resolve_broker, security_options


def test_plaintext_by_default_and_client_ids_per_role() -> None:
    settings = Settings()
    assert security_options(settings) == {"security_protocol": "PLAINTEXT"}
    assert consumer_options(settings, "route")["client_id"] == "omniroute-route"
    assert "client_rack" not in consumer_options(settings, "route")
    assert consumer_options(Settings(kafka_rack="eu-west-1a"), "sla")["client_rack"] == "eu-west-1a"


def test_sasl_needs_credentials_and_says_which() -> None:
    with pytest.raises(ConfigError, match="OMNIROUTE_KAFKA_SASL_USERNAME and OMNIROUTE_KAFKA_SASL_PASSWORD"):
        security_options(Settings(kafka_security_protocol="SASL_SSL"))
    options = security_options(Settings(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="SCRAM-SHA-512",
                                        kafka_sasl_username="omniroute", kafka_sasl_password=SecretStr("pw")))
    assert options["sasl_mechanism"] == "SCRAM-SHA-512" and options["sasl_plain_password"] == "pw"
    assert isinstance(options["ssl_context"], ssl.SSLContext)


def test_settings_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIROUTE_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("OMNIROUTE_KAFKA_SASL_USERNAME", "u")
    monkeypatch.setenv("OMNIROUTE_KAFKA_SASL_PASSWORD", "p")
    assert "ssl_context" not in security_options(Settings())
    assert security_options(Settings())["sasl_plain_username"] == "u"


def test_idempotence_on_apache_kafka_only_unless_forced() -> None:
    assert producer_options(Settings(kafka_broker="kafka"), "ingress")["enable_idempotence"] is True
    assert producer_options(Settings(kafka_broker="embedded"), "ingress")["enable_idempotence"] is False
    assert producer_options(Settings(), "ingress")["enable_idempotence"] is False  # unresolved: the safe side
    assert producer_options(Settings(kafka_broker="kafka", kafka_idempotence="off"), "x")["enable_idempotence"] is False
    assert producer_options(Settings(kafka_broker="embedded"), "ingress")["acks"] == "all"


def test_the_embedded_broker_is_recognised(kafka_bootstrap: str) -> None:
    resolved = asyncio.run(asyncio.wait_for(resolve_broker(Settings(), kafka_bootstrap), 20))
    assert resolved.kafka_broker == "embedded"
    forced = asyncio.run(resolve_broker(Settings(kafka_broker="kafka"), kafka_bootstrap))
    assert forced.kafka_broker == "kafka"
