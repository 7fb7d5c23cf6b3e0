"""Create the topics the specs name, never auto-creating anything, and report what was found."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.protocol.metadata import MetadataRequest

from contracts.errors import OmnirouteError
from contracts.topics import TopicSpec

_NONE = 0
_UNKNOWN_TOPIC = 3
_TOPIC_ALREADY_EXISTS = 36

TopicStatus = Literal["created", "exists", "mismatch"]


class TopicError(OmnirouteError, RuntimeError):
    """The broker refused to describe or create a topic."""


@dataclass(frozen=True)
class TopicReport:
    name: str
    status: TopicStatus
    expected_partitions: int
    actual_partitions: int


def mismatch_error(reports: Iterable[TopicReport]) -> str | None:
    """One sentence naming every topic whose partition count differs from its spec, and what to do; None if none."""
    mismatched = [r for r in reports if r.status == "mismatch"]
    if not mismatched:
        return None
    return ("topic partition counts differ from the specs: " + "; ".join(
        f"{r.name} has {r.actual_partitions}, the topics file says {r.expected_partitions}" for r in mismatched)
        + " — see `omniroute topics plan`, recreate the topics or change deploy/topics.yaml")


async def ensure_topics(bootstrap: str, specs: Iterable[TopicSpec], *, timeout_ms: int = 10_000,
                        client_options: Mapping | None = None) -> list[TopicReport]:
    """Create each missing topic with its spec's partition count; report existing ones and count mismatches.

    A mismatch is reported, not fixed or raised: the caller decides whether it is fatal.
    """
    wanted = {spec.name: spec for spec in specs}
    if not wanted:
        return []
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms, **(client_options or {}))
    await admin.start()
    try:
        found = await partition_counts(admin, list(wanted))
        missing = [name for name in wanted if name not in found]
        created: set[str] = set()
        if missing:
            created = await _create(admin, [wanted[name] for name in missing], timeout_ms)
            found |= await partition_counts(admin, missing)
    finally:
        await admin.close()
    reports = []
    for name, spec in wanted.items():
        actual = found.get(name)
        if actual is None:
            raise TopicError(f"topic {name!r} is still missing after it was created")
        status: TopicStatus = ("mismatch" if actual != spec.partitions
                               else "created" if name in created else "exists")
        reports.append(TopicReport(name, status, spec.partitions, actual))
    return reports


async def partition_counts(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    """Partition count of each existing topic among `names`, asking the broker not to auto-create any."""
    response = await admin._send_request(MetadataRequest(names, allow_auto_topic_creation=False))
    counts: dict[str, int] = {}
    for topic in response.to_object()["topics"]:
        code = topic["error_code"]
        if code == _UNKNOWN_TOPIC:
            continue
        if code != _NONE:
            raise TopicError(f"metadata for topic {topic['topic']!r} failed with error_code {code}")
        counts[topic["topic"]] = len(topic["partitions"])
    return counts


async def _create(admin: AIOKafkaAdminClient, specs: list[TopicSpec], timeout_ms: int) -> set[str]:
    """Create the topics; return those this call created (a concurrent creator's wins count as existing)."""
    response = await admin.create_topics([_new_topic(spec) for spec in specs], timeout_ms=timeout_ms)
    created = set()
    for topic in response.to_object()["topic_errors"]:
        code = topic["error_code"]
        if code == _NONE:
            created.add(topic["topic"])
        elif code != _TOPIC_ALREADY_EXISTS:
            raise TopicError(f"creating topic {topic['topic']!r} failed with error_code {code}: "
                             f"{topic.get('error_message')}")
    return created


def _new_topic(spec: TopicSpec) -> NewTopic:
    configs = {"cleanup.policy": "compact"} if spec.compacted else {}
    return NewTopic(spec.name, num_partitions=spec.partitions, replication_factor=1, topic_configs=configs)
