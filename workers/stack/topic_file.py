"""`deploy/topics.yaml`: the deployed topics (partitions, replication, retention) as data, checked against the contracts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contracts.errors import ConfigError
from contracts.topics import ALL_TOPICS, TopicSpec

DEFAULT_TOPICS_FILE = Path(__file__).resolve().parents[2] / "deploy" / "topics.yaml"


class TopicEntry(BaseModel):
    """One topic as deployed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    key: str
    partitions: int = Field(ge=1)
    replication_factor: int = Field(default=3, ge=1)
    min_insync_replicas: int | None = Field(default=None, ge=1)
    retention_hours: int | None = Field(default=168, ge=1)  # None: kept forever
    cleanup_policy: Literal["delete", "compact"] = "delete"

    @property
    def keyed(self) -> bool:
        """True when consumers keep state or order per key, so moving keys between partitions matters."""
        return self.key.startswith("tenant:")

    def configs(self) -> dict[str, str]:
        """The topic-level Kafka configs this entry sets."""
        configs = {"cleanup.policy": self.cleanup_policy,
                   "retention.ms": "-1" if self.retention_hours is None else str(self.retention_hours * 3_600_000)}
        if self.min_insync_replicas is not None:
            configs["min.insync.replicas"] = str(self.min_insync_replicas)
        return configs


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topics: list[TopicEntry]


def load_topics(path: Path = DEFAULT_TOPICS_FILE) -> list[TopicEntry]:
    """Read and validate a topics file; a ConfigError names the file, the entry and the key that is wrong."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the topics file {path}: {exc.strerror}; set OMNIROUTE_TOPICS_FILE") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    try:
        entries = _File.model_validate(raw).topics
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']} (see deploy/topics.yaml for the expected shape)") from None
    problems = contract_problems(entries)
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    return entries


def contract_problems(entries: Sequence[TopicEntry], specs: Iterable[TopicSpec] = ALL_TOPICS) -> list[str]:
    """What in `entries` contradicts the contracts' topic specs (names, keys, compaction, co-partitioning)."""
    wanted = {spec.name: spec for spec in specs}
    found = {entry.name: entry for entry in entries}
    problems = [f"topic {name} is missing (contracts/topics.py defines it)" for name in wanted if name not in found]
    problems += [f"topic {name} is not in contracts/topics.py: remove it or add its spec" for name in found
                 if name not in wanted]
    if len(found) != len(entries):
        problems.append("a topic is listed twice")
    for name, entry in found.items():
        spec = wanted.get(name)
        if spec is None:
            continue
        if entry.key != spec.key:
            problems.append(f"topic {name} key is {entry.key!r}, contracts/topics.py says {spec.key!r}")
        if (entry.cleanup_policy == "compact") != spec.compacted:
            problems.append(f"topic {name} cleanup_policy {entry.cleanup_policy!r} contradicts the spec "
                            f"(compacted={spec.compacted})")
        if entry.min_insync_replicas is not None and entry.min_insync_replicas > entry.replication_factor:
            problems.append(f"topic {name} min_insync_replicas {entry.min_insync_replicas} exceeds its "
                            f"replication_factor {entry.replication_factor}: no write could succeed")
    by_key: dict[str, set[int]] = {}
    for entry in entries:
        if entry.keyed:
            by_key.setdefault(entry.key, set()).add(entry.partitions)
    problems += [f"topics keyed by {key} must share one partition count (co-partitioned), found {sorted(counts)}"
                 for key, counts in by_key.items() if len(counts) > 1]
    return problems


def topic_specs(path: Path = DEFAULT_TOPICS_FILE) -> tuple[TopicSpec, ...]:
    """The contracts' topic specs with partition counts and retention from the topics file (what processes create)."""
    entries = {entry.name: entry for entry in load_topics(path)}
    return tuple(spec.model_copy(update={"partitions": entries[spec.name].partitions,
                                         "retention_hours": entries[spec.name].retention_hours})
                 for spec in ALL_TOPICS)
