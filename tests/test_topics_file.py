"""deploy/topics.yaml against the contracts, the plan's rules, and plan/apply on a real (embedded) broker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from contracts.errors import ConfigError
from contracts.topics import ALL_TOPICS
from workers.settings import Settings
from workers.stack.broker import EmbeddedBroker
from workers.stack.topic_file import DEFAULT_TOPICS_FILE, TopicEntry, contract_problems, load_topics, topic_specs
from workers.stack.topic_plan import TANSU_CLUSTER_ID, Cluster, Observed, plan
from workers.topics_command import run_topics

INBOUND = TopicEntry(name="support.inbound.v1", key="tenant:customer", partitions=16, replication_factor=3,
                     min_insync_replicas=2)
DLQ = TopicEntry(name="support.deadletter.v1", key="original key", partitions=2, replication_factor=3)


def test_the_shipped_file_matches_the_contracts() -> None:
    entries = load_topics(DEFAULT_TOPICS_FILE)
    assert contract_problems(entries) == []
    assert {e.name for e in entries} == {s.name for s in ALL_TOPICS}
    specs = {s.name: s for s in topic_specs(DEFAULT_TOPICS_FILE)}
    assert all(specs[e.name].partitions == e.partitions for e in entries)


def test_contract_problems_name_the_topic_and_the_fix() -> None:
    entries = load_topics(DEFAULT_TOPICS_FILE)
    wrong_key = [e.model_copy(update={"key": "tenant:sender"}) if e.name == "support.routed.v1" else e
                 for e in entries]
    assert any("support.routed.v1 key is 'tenant:sender'" in p for p in contract_problems(wrong_key))
    uneven = [e.model_copy(update={"partitions": 16}) if e.name == "support.inbound.v1" else e for e in entries]
    assert any("tenant:customer must share one partition count" in p for p in contract_problems(uneven))
    without = [e for e in entries if e.name != "support.deadletter.v1"]
    assert any("support.deadletter.v1 is missing" in p for p in contract_problems(without))


def test_a_bad_file_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "topics.yaml"
    path.write_text("topics:\n  - name: support.inbound.v1\n    key: tenant:customer\n    partitions: 0\n")
    with pytest.raises(ConfigError, match=r"topics\.0\.partitions"):
        load_topics(path)


def _cluster(topics: dict[str, Observed], *, brokers: int = 3, cluster_id: str = "prod") -> Cluster:
    return Cluster(brokers=brokers, cluster_id=cluster_id, topics=topics)


def _configs(entry: TopicEntry) -> dict[str, str]:
    return entry.configs()


def test_plan_creates_missing_topics_with_their_configs() -> None:
    [change] = plan([INBOUND], _cluster({}))
    assert change.kind == "create" and "16 partitions, replication 3" in change.detail
    assert change.configs == {"cleanup.policy": "delete", "retention.ms": "604800000", "min.insync.replicas": "2"}


def test_plan_is_quiet_when_the_cluster_matches() -> None:
    [change] = plan([INBOUND], _cluster({INBOUND.name: Observed(16, 3, _configs(INBOUND))}))
    assert change.kind == "ok"


def test_plan_refuses_to_shrink() -> None:
    [change] = plan([INBOUND], _cluster({INBOUND.name: Observed(32, 3, _configs(INBOUND))}))
    assert change.kind == "refuse" and "cannot remove partitions" in change.detail


def test_growing_a_keyed_topic_is_refused_with_what_a_repartition_takes() -> None:
    observed = _cluster({INBOUND.name: Observed(8, 3, _configs(INBOUND))})
    [change] = plan([INBOUND], observed)
    assert change.kind == "refuse"
    assert "lag 0" in change.detail and "--allow-repartition" in change.detail
    [allowed] = plan([INBOUND], observed, allow_repartition=True)
    assert allowed.kind == "grow" and "from 8 to 16" in allowed.detail


def test_an_unkeyed_topic_grows_without_ceremony() -> None:
    [change] = plan([DLQ], _cluster({DLQ.name: Observed(1, 3, _configs(DLQ))}))
    assert change.kind == "grow"


def test_the_embedded_broker_cannot_grow_and_says_so() -> None:
    cluster = _cluster({DLQ.name: Observed(1, 1, _configs(DLQ))}, brokers=1, cluster_id=TANSU_CLUSTER_ID)
    [change] = plan([DLQ], cluster)
    assert change.kind == "refuse" and "embedded broker (Tansu) cannot add partitions" in change.detail


def test_replication_and_config_drift() -> None:
    [change] = plan([INBOUND], _cluster({INBOUND.name: Observed(16, 2, _configs(INBOUND))}))
    assert change.kind == "refuse" and "reassignment" in change.detail
    drifted = _configs(INBOUND) | {"retention.ms": "1000"}
    [change] = plan([INBOUND], _cluster({INBOUND.name: Observed(16, 3, drifted)}))
    assert change.kind == "configs" and change.configs == {"retention.ms": "604800000"}


def test_apply_is_idempotent_on_the_embedded_broker(tmp_path: Path) -> None:
    """A fresh broker (the session one holds other tests' topics): create all, then nothing; growth refused."""
    async def scenario() -> tuple[list[str], list[str], list[str], int]:
        broker = EmbeddedBroker(tmp_path / "broker")
        bootstrap = await broker.start()
        try:
            settings = Settings(kafka_bootstrap_servers=bootstrap)
            first: list[str] = []
            second: list[str] = []
            grown: list[str] = []
            assert await run_topics(settings, execute=True, allow_repartition=False, echo=first.append) == 0
            assert await run_topics(settings, execute=True, allow_repartition=False, echo=second.append) == 0
            bigger = tmp_path / "topics.yaml"
            bigger.write_text(DEFAULT_TOPICS_FILE.read_text().replace("partitions: 1\n", "partitions: 2\n"))
            refused = await run_topics(settings.model_copy(update={"topics_file": bigger}), execute=True,
                                       allow_repartition=False, echo=grown.append)
            return first, second, grown, refused
        finally:
            await broker.stop()

    first, second, grown, refused = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert sum(line.startswith("done: created") for line in first) == len(ALL_TOPICS)
    assert second[-1] == "nothing to change" and not any(line.startswith("done:") for line in second)
    assert refused == 1 and any("support.deadletter.v1" in line and "cannot add partitions" in line for line in grown)
