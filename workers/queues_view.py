"""What `omniroute queues` shows: work items as a plain-text table or JSON rows, SLA due first; each queue's CSAT."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from channels.sinks.redis_queue import sla_due
from contracts.workitem import WorkItem
from workers.runtime.csat_store import CSAT_DAYS, QueueCsat

_COLUMNS = ("ITEM", "TENANT", "QUEUE", "CATEGORY", "CHANNEL", "CUSTOMER", "SLA DUE", "STATE")
_CSAT_COLUMNS = ("TENANT", "QUEUE", "CSAT 7D", "RATINGS")


def local_due(item: WorkItem) -> datetime | None:
    """The item's SLA due time on the tenant's clock (the SLA timezone), when it has one."""
    due = sla_due(item)
    if due is None or item.sla is None:
        return due
    try:
        return due.astimezone(ZoneInfo(item.sla.timezone))
    except (ZoneInfoNotFoundError, ValueError):
        return due


def countdown(due: datetime, now: datetime) -> str:
    """'in 3h12m', 'overdue 5m', 'in 2d4h'; whole minutes, rounded toward zero."""
    seconds = int((due - now).total_seconds())
    minutes = abs(seconds) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        span = f"{days}d{hours}h"
    elif hours:
        span = f"{hours}h{mins:02d}m"
    else:
        span = f"{mins}m"
    return f"overdue {span}" if seconds < 0 else f"in {span}"


def queue_rows_json(items: Sequence[WorkItem]) -> list[dict]:
    """One JSON-ready dict per item, in the order given."""
    rows = []
    for item in items:
        due = local_due(item)
        rows.append({
            "item_id": item.id,
            "tenant": item.tenant,
            "queue": item.queue,
            "category": item.category,
            "channel": item.channel.value,
            "customer": item.customer,
            "sla_due": due.isoformat() if due else None,
            "state": item.state.value,
            "priority": item.priority.value,
            "repeat_count": item.repeat_count,
        })
    return rows


def format_queue_table(items: Sequence[WorkItem], now: datetime) -> str:
    """A fixed-width table, one line per item, with the SLA due and how long until (or since) it."""
    lines = [list(_COLUMNS)]
    for item in items:
        due = local_due(item)
        due_text = f"{due.isoformat(timespec='minutes')} ({countdown(due, now)})" if due else "-"
        lines.append([item.id, item.tenant, item.queue, item.category or "-", item.channel.value,
                      item.customer, due_text, item.state.value])
    widths = [max(len(row[i]) for row in lines) for i in range(len(_COLUMNS))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in lines)


def more_line(shown: int, total: int) -> str | None:
    """What a limited listing leaves out, e.g. '… and 1,234 more; --all or --limit to see them'."""
    if total <= shown:
        return None
    return f"… and {total - shown:,} more; --all or --limit to see them"


def format_csat_table(rows: Sequence[QueueCsat]) -> str:
    """Each queue's average customer rating (1–5) over the last CSAT_DAYS days, and how many ratings it is of."""
    if not rows:
        return f"no CSAT ratings in the last {CSAT_DAYS} days"
    lines = [list(_CSAT_COLUMNS)] + [[r.tenant, r.queue, f"{r.average:.2f}", str(r.count)] for r in rows]
    widths = [max(len(row[i]) for row in lines) for i in range(len(_CSAT_COLUMNS))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in lines)
