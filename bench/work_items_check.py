"""After a benchmark run: the work items in Redis against a replay of the same stream, partition by partition.

The replay decides every published message in its partition's publish order on one fresh state per partition,
as a single route worker that never rebalanced would (work item ids are `wi-<first message id>`, so both sides
name items alike). Lost: a message the replay put in an item that no stored item holds. Duplicated: a message
held by two stored items (or twice by one), and items opened where the replay merged (a customer with a second
open item). A rebalance that replayed or skipped records, or restored stale state, shows up here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone

from redis.asyncio import Redis

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.decision import MergeDecision
from routing.decide import decide
from routing.policy import TenantPolicy
from routing.record import record
from routing.state import MemoryState
from routing.work_items import opens_item
from workers.runtime.codec import decode_inbound


@dataclass
class ItemsCheck:
    expected_items: int
    stored_items: int
    messages_in_items: int  # messages the replay put in an item
    lost: int  # of those, held by no stored item
    duplicated: int  # messages held by more than one stored item, or twice by one
    extra_items: int  # stored items the replay did not open (a repeat opened a second item)
    missing_items: int  # items the replay opened that are not stored
    customers_with_extra_items: int

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.extra_items or self.missing_items)

    def describe(self) -> str:
        return (f"{self.stored_items:,} work items stored ({self.expected_items:,} expected) holding "
                f"{self.messages_in_items:,} messages: lost {self.lost}, duplicated {self.duplicated}, items opened "
                f"twice {self.extra_items} ({self.customers_with_extra_items} customers), items missing "
                f"{self.missing_items}")


def replay(published: list[tuple[int, bytes]], policies: dict[str, TenantPolicy]) -> dict[str, tuple[str, list[str]]]:
    """(partition, encoded message) in publish order -> {item id: (customer, message ids)} a lone worker makes."""
    states: dict[int, MemoryState] = {}
    items: dict[str, tuple[str, list[str]]] = {}
    for partition, value in published:
        message = decode_inbound(value)
        policy = policies[message.tenant]
        state = states.setdefault(partition, MemoryState())
        decision = decide(message, state, datetime.now(timezone.utc), policy)
        record(state, message, decision, policy)
        if (opening := opens_item(decision)) is not None and opening.work_item_id is not None:
            items[opening.work_item_id] = (decision.customer, [message.id])  # routed work and abuse review items
        elif isinstance(decision, MergeDecision) and decision.work_item_id in items:
            items[decision.work_item_id][1].append(message.id)
    return items


async def check(redis_url: str, prefix: str, published: list[tuple[int, bytes]],
                policies: dict[str, TenantPolicy]) -> ItemsCheck:
    expected = replay(published, policies)
    client = Redis.from_url(redis_url)
    try:
        stored = await RedisWorkQueue(client, prefix=prefix).list_open()
    finally:
        await client.aclose()
    holders = Counter(mid for item in stored for mid in item.message_ids)
    wanted = {mid for _, mids in expected.values() for mid in mids}
    stored_ids = {item.id for item in stored}
    extra = [item for item in stored if item.id not in expected]
    return ItemsCheck(expected_items=len(expected), stored_items=len(stored), messages_in_items=len(wanted),
                      lost=sum(1 for mid in wanted if holders[mid] == 0),
                      duplicated=sum(1 for n in holders.values() if n > 1),
                      extra_items=len(extra), missing_items=len(set(expected) - stored_ids),
                      customers_with_extra_items=len({item.customer for item in extra}))
