"""Kafka client options from settings: SASL/SSL, client ids, rack, idempotence, group timeouts, static membership,
and proof that they reach the route and SLA workers' clients and the faust App."""

from __future__ import annotations

import asyncio
import ssl
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import SecretStr

from contracts.errors import ConfigError
from contracts.topics import INBOUND
from workers.app import build_app
from workers.processors import create_faust_app, faust_options
from workers.settings import Settings
from workers.stack.kafka_options import (
    consumer_options,
    group_timeouts,
    producer_options,
    resolve_broker,
    security_options,
    static_membership,
)
from workers.stack.topics import ensure_topics


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


PRODUCTION = dict(kafka_broker="kafka", kafka_client_id="acme", kafka_security_protocol="SASL_SSL",
                  kafka_sasl_mechanism="SCRAM-SHA-256", kafka_sasl_username="omniroute",
                  kafka_sasl_password=SecretStr("pw"), kafka_rack="zone-b", group_instance_id="route-7f9c-abcde",
                  kafka_session_timeout_ms=7000, kafka_request_timeout_ms=31000,
                  kafka_bootstrap_servers="kafka-0:9093", redis_url="redis://127.0.0.1:6379/0")


def test_the_settings_reach_the_route_workers_clients() -> None:  # the SLA agent's: the faust App's (faust_options)
    role = "route"
    app = build_app(Settings(**PRODUCTION))

    async def clients():  # aiokafka clients are made inside a running loop, as the workers make them
        return app.route_worker().clients()

    producer, consumer = asyncio.run(clients())
    for client in (producer.client, consumer._client):
        assert client._client_id == f"acme-{role}"
        assert (client._security_protocol, client._sasl_mechanism) == ("SASL_SSL", "SCRAM-SHA-256")
        assert (client._sasl_plain_username, client._sasl_plain_password) == ("omniroute", "pw")
        assert isinstance(client._ssl_context, ssl.SSLContext)
        assert client._request_timeout_ms == 31000
    assert producer._txn_manager is not None  # idempotent: Apache Kafka
    assert consumer._client_rack == "zone-b"
    assert consumer._group_instance_id == "route-7f9c-abcde"
    assert consumer._session_timeout_ms == 7000 and consumer._heartbeat_interval_ms == 1000


def test_a_test_or_bench_override_still_wins_over_the_settings() -> None:
    app = build_app(Settings(**PRODUCTION))

    async def consumer():
        return app.route_worker(session_timeout_ms=3000, group="g-x").clients()[1]

    built = asyncio.run(consumer())
    assert (built._session_timeout_ms, built._heartbeat_interval_ms, built._group_id) == (3000, 1000, "g-x")


def test_static_membership_only_on_apache_kafka() -> None:
    for broker in ("embedded", "auto"):
        settings = Settings(group_instance_id="pod-a", kafka_broker=broker)
        instance_id, note = static_membership(settings)
        assert instance_id is None and "OMNIROUTE_GROUP_INSTANCE_ID=pod-a ignored" in note
        assert "group_instance_id" not in consumer_options(settings, "route")
    assert static_membership(Settings(group_instance_id="pod-a", kafka_broker="kafka")) == ("pod-a", None)
    assert static_membership(Settings(kafka_broker="kafka")) == (None, None)


def test_group_timeouts_are_checked_against_each_other() -> None:
    assert group_timeouts(Settings()) == {"session_timeout_ms": 10_000, "request_timeout_ms": 40_000}
    with pytest.raises(ConfigError, match="OMNIROUTE_KAFKA_REQUEST_TIMEOUT_MS=5000 must exceed"):
        group_timeouts(Settings(kafka_session_timeout_ms=6000, kafka_request_timeout_ms=5000))
    with pytest.raises(ConfigError, match="OMNIROUTE_KAFKA_SESSION_TIMEOUT_MS=500 is too short"):
        group_timeouts(Settings(kafka_session_timeout_ms=500))
    with pytest.raises(ConfigError, match="OMNIROUTE_KAFKA_SESSION_TIMEOUT_MS"):
        build_app(Settings(**(PRODUCTION | {"kafka_request_timeout_ms": 1000}))).route_worker()


def test_the_faust_app_gets_credentials_client_id_timeouts_and_instance_id() -> None:
    app = create_faust_app("kafka-0:9093", **faust_options(Settings(**PRODUCTION), "processors"))
    auth = credentials_to_aiokafka_auth(app.conf.broker_credentials, app.conf.ssl_context)  # what faust's driver passes
    assert (auth["security_protocol"], auth["sasl_mechanism"], auth["sasl_plain_password"]) == (
        "SASL_SSL", "SCRAM-SHA-256", "pw")
    assert app.conf.broker_client_id == "acme-processors"
    assert app.conf.consumer_group_instance_id == "route-7f9c-abcde"
    assert (app.conf.broker_session_timeout, app.conf.broker_request_timeout) == (7.0, 31.0)
    plain = create_faust_app("h:1", **faust_options(Settings(), "processors"))
    assert credentials_to_aiokafka_auth(plain.conf.broker_credentials, plain.conf.ssl_context) == {
        "security_protocol": "PLAINTEXT"}
    assert plain.conf.consumer_group_instance_id is None


def test_a_stopped_route_worker_leaves_its_group_and_showed_its_client_id(
        kafka_bootstrap: str, redis_url: str) -> None:
    """On the embedded broker: the member the broker lists carries the role's client id, and a clean stop (what
    SIGTERM does in `omniroute worker route`) removes it at once, not after the session timeout (12 s here; the
    broker holds the first JoinGroup for half of it)."""
    prefix = f"t-opts-{uuid.uuid4().hex[:8]}"
    settings = Settings(kafka_bootstrap_servers=kafka_bootstrap, redis_url=redis_url, redis_prefix=prefix,
                        kafka_client_id=prefix, kafka_session_timeout_ms=12_000, kafka_request_timeout_ms=40_000)

    async def scenario() -> tuple[list, list]:
        settings_resolved = await resolve_broker(settings, kafka_bootstrap)
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        await ensure_topics(kafka_bootstrap, [INBOUND])
        worker = build_app(settings_resolved).route_worker(group=f"route-{prefix}")
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            await asyncio.wait_for(worker.ready.wait(), 60)
            while_running = await members(admin, f"route-{prefix}")
            stop.set()
            await asyncio.wait_for(task, 60)
            after_stop = await members(admin, f"route-{prefix}")
        finally:
            stop.set()
            await admin.close()
        return while_running, after_stop

    while_running, after_stop = asyncio.run(scenario())
    [(member_id, _client_id)] = while_running  # Tansu leaves the client id empty but builds the member id from it
    assert member_id.startswith(f"{prefix}-route-")
    assert after_stop == []


async def members(admin: AIOKafkaAdminClient, group: str) -> list[tuple]:
    """(member id, client id) of the group's members as the broker describes them."""
    [response] = await admin.describe_consumer_groups([group])
    described = response.to_object()["groups"][0]
    return [(m["member_id"], m["client_id"]) for m in described["members"]]
