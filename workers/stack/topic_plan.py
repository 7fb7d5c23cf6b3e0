"""`omniroute topics plan|apply`: compare the topics file with a cluster and make the safe changes, idempotently."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import IncompatibleBrokerVersion
from aiokafka.protocol.metadata import MetadataRequest

from workers.stack.kafka_options import TANSU_CLUSTER_ID
from workers.stack.topic_file import TopicEntry
from workers.stack.topics import TopicError

ChangeKind = Literal["ok", "create", "grow", "configs", "refuse"]


@dataclass(frozen=True)
class Observed:
    """A topic as the cluster describes it."""

    partitions: int
    replication_factor: int
    configs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Cluster:
    """What `plan` needs to know about the target cluster."""

    brokers: int
    cluster_id: str | None
    topics: dict[str, Observed]

    @property
    def embedded(self) -> bool:
        return self.cluster_id == TANSU_CLUSTER_ID


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    topic: str
    detail: str
    entry: TopicEntry | None = None
    configs: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        mark = {"ok": "=", "create": "+", "grow": "^", "configs": "~", "refuse": "!"}[self.kind]
        return f"{mark} {self.topic}: {self.detail}"


def repartition_advice(entry: TopicEntry, current: int) -> str:
    """What moving a keyed topic from `current` to `entry.partitions` partitions takes, in one paragraph."""
    return (f"{entry.name} is keyed by {entry.key}: going from {current} to {entry.partitions} partitions moves most "
            "keys to another partition, and the route worker keeps dedupe, repeat and flood state per partition, so "
            "a customer's next message would be decided without its history (and its order against records still "
            "unread on the old partition is lost). A repartition takes: stop the ingress (or let it answer 503), let "
            "every consumer group reach lag 0 and checkpoint, grow every topic with the same key to the same count "
            "together, restart the workers (state is restored per old partition; messages within the dedupe window "
            "may then open a second work item), or create *.v2 topics with the new count and replay into them. "
            "Run `omniroute topics apply --allow-repartition` once that is arranged.")


def plan(entries: Sequence[TopicEntry], cluster: Cluster, *, allow_repartition: bool = False) -> list[Change]:
    """One change per topic of the file: create, grow, alter configs, nothing, or a refusal saying why."""
    changes = []
    for entry in entries:
        found = cluster.topics.get(entry.name)
        replication = min(entry.replication_factor, cluster.brokers)
        if found is None:
            capped = (f" (capped from {entry.replication_factor}: the cluster has {cluster.brokers} broker"
                      f"{'s' if cluster.brokers != 1 else ''})" if replication < entry.replication_factor else "")
            changes.append(Change("create", entry.name, f"create with {entry.partitions} partitions, replication "
                                  f"{replication}{capped}", entry, entry.configs()))
            continue
        if found.partitions > entry.partitions:
            changes.append(Change("refuse", entry.name, f"has {found.partitions} partitions, the file says "
                                  f"{entry.partitions}: Kafka cannot remove partitions; create a new topic version "
                                  "with the smaller count and move producers and consumers to it", entry))
            continue
        if found.replication_factor != replication:
            changes.append(Change("refuse", entry.name, f"replication factor is {found.replication_factor}, the file "
                                  f"says {entry.replication_factor}: changing it is a partition reassignment "
                                  "(kafka-reassign-partitions), not done by this command", entry))
            continue
        if found.partitions < entry.partitions:
            if cluster.embedded:
                changes.append(Change("refuse", entry.name, f"has {found.partitions} partitions, the file says "
                                      f"{entry.partitions}, and the embedded broker (Tansu) cannot add partitions "
                                      "(it has no CreatePartitions API): restart `omniroute dev`, whose in-memory "
                                      "broker starts empty and creates the topics with the file's counts", entry))
                continue
            if entry.keyed and not allow_repartition:
                changes.append(Change("refuse", entry.name, f"has {found.partitions} partitions, the file says "
                                      f"{entry.partitions}. " + repartition_advice(entry, found.partitions), entry))
                continue
            changes.append(Change("grow", entry.name, f"grow from {found.partitions} to {entry.partitions} "
                                  "partitions", entry))
        differ = {k: v for k, v in entry.configs().items() if found.configs.get(k) != v}
        if differ:
            now = ", ".join(f"{k} {found.configs.get(k, 'unset')} -> {v}" for k, v in sorted(differ.items()))
            changes.append(Change("configs", entry.name, f"set {now}", entry, differ))
        elif not any(c.topic == entry.name for c in changes):
            changes.append(Change("ok", entry.name, f"{found.partitions} partitions, replication "
                                  f"{found.replication_factor}, configs as the file says"))
    return changes


async def describe(admin: AIOKafkaAdminClient, names: Sequence[str]) -> Cluster:
    """Brokers, cluster id, and each existing topic's partitions, replication and configs (nothing auto-created)."""
    response = (await admin._send_request(MetadataRequest(list(names), allow_auto_topic_creation=False))).to_object()
    topics: dict[str, Observed] = {}
    for topic in response["topics"]:
        if topic["error_code"] == 3:  # UNKNOWN_TOPIC_OR_PARTITION: not there yet
            continue
        if topic["error_code"]:
            raise TopicError(f"metadata for topic {topic['topic']!r} failed with error_code {topic['error_code']}")
        replicas = max((len(p["replicas"]) for p in topic["partitions"]), default=0)
        topics[topic["topic"]] = Observed(len(topic["partitions"]), replicas)
    if topics:
        described = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in topics])
        for answer in described:
            for resource in answer.to_object()["resources"]:
                entries = {e["config_names"]: e["config_value"] for e in resource["config_entries"]}
                old = topics[resource["resource_name"]]
                topics[resource["resource_name"]] = Observed(old.partitions, old.replication_factor, entries)
    return Cluster(brokers=len(response["brokers"]), cluster_id=response.get("cluster_id"), topics=topics)


async def apply(admin: AIOKafkaAdminClient, changes: Sequence[Change], *, brokers: int) -> list[str]:
    """Carry out creates, grows and config changes; refusals are left to the caller. Returns one line per action."""
    done = []
    creates = [c.entry for c in changes if c.kind == "create" and c.entry is not None]
    if creates:
        response = await admin.create_topics([
            NewTopic(e.name, num_partitions=e.partitions, replication_factor=min(e.replication_factor, brokers),
                     topic_configs=e.configs()) for e in creates])
        for topic in response.to_object()["topic_errors"]:
            if topic["error_code"] not in (0, 36):  # 36: created meanwhile by someone else
                raise TopicError(f"creating {topic['topic']} failed with error_code {topic['error_code']}: "
                                 f"{topic.get('error_message')}")
            done.append(f"created {topic['topic']}")
    grows = {c.topic: NewPartitions(c.entry.partitions) for c in changes if c.kind == "grow" and c.entry}
    if grows:
        try:
            response = await admin.create_partitions(grows)
        except IncompatibleBrokerVersion:
            raise TopicError("this broker cannot add partitions (no CreatePartitions API; the embedded broker is "
                             "one such): recreate the topics instead") from None
        for topic in response.to_object()["topic_errors"]:
            if topic["error_code"]:
                raise TopicError(f"growing {topic['topic']} failed with error_code {topic['error_code']}: "
                                 f"{topic.get('error_message')}")
            done.append(f"grew {topic['topic']} to {grows[topic['topic']].total_count} partitions")
    alters = [c for c in changes if c.kind == "configs"]
    if alters:
        # AlterConfigs replaces a topic's whole set of overrides, so send every config the file sets.
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, c.topic, configs=c.entry.configs())
                                   for c in alters if c.entry is not None])
        done += [f"set configs of {c.topic}" for c in alters]
    return done


def summary(changes: Sequence[Change]) -> Mapping[str, int]:
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.kind] = counts.get(change.kind, 0) + 1
    return counts
