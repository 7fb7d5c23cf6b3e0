"""The Slack message of a work item (Block Kit): what it is, who wrote, on which channel, the SLA countdown, the
decision trace, and Claim/Resolve buttons while they apply. Pure: the same item and time give the same message."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from channels.sinks.redis_queue import sla_due
from contracts.sinks import SinkEvent, SinkEventType
from contracts.workitem import WorkItem, WorkItemState

CLAIM, RESOLVE = "omniroute_claim", "omniroute_resolve"  # action_id of the buttons (the interactivity endpoint's)
BLOCK_PREFIX = "omniroute:"  # block_id of the actions block: omniroute:<item id>
MAX_TEXT = 2800  # Slack: a section's text is at most 3000 characters
MAX_CONTEXT = 1900  # a context element's text at most 2000
_CLAIMABLE = {WorkItemState.open, WorkItemState.escalated}


def escape(text: str) -> str:
    """Slack mrkdwn's three control characters (customers' text must not become mentions or links)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def countdown(due: datetime, now: datetime) -> str:
    """`in 2h 05m`, `overdue by 3d 4h`: the time left (or past) at rendering, to the minute."""
    left = int((due - now).total_seconds()) // 60
    minutes = abs(left)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    span = f"{days}d {hours}h" if days else f"{hours}h {mins:02d}m" if hours else f"{mins}m"
    return f"in {span}" if left >= 0 else f"overdue by {span}"


def sla_line(item: WorkItem, now: datetime, breach: str | None) -> str:
    due = sla_due(item)
    if due is None:
        return "no SLA"
    when = f"<!date^{int(due.timestamp())}^{{date_short_pretty}} {{time}}|{due.isoformat(timespec='minutes')}>"
    if item.state == WorkItemState.resolved:
        return f"was due {when}"
    if breach:
        return f":rotating_light: *breached* ({breach.replace('_', ' ')}), due {when} ({countdown(due, now)})"
    return f"due {when} ({countdown(due, now)})"


def state_line(item: WorkItem) -> str:
    by = f" by {escape(item.assignee)}" if item.assignee else ""
    return {WorkItemState.open: "Open", WorkItemState.claimed: f"Claimed{by}",
            WorkItemState.waiting_customer: "Waiting for the customer", WorkItemState.escalated: "Escalated",
            WorkItemState.resolved: f":white_check_mark: Resolved{by}"}[item.state]


def trace_line(item: WorkItem) -> str:
    steps = [f"{escape(s.rule)}: {escape(s.outcome)}" for s in item.trace]
    return _cut("Decision trace: " + " → ".join(steps), MAX_CONTEXT) if steps else "Decision trace: none recorded"


def fallback_text(item: WorkItem, now: datetime) -> str:
    """The notification text (and what screen readers and old clients show)."""
    due = sla_due(item)
    tail = f", due {countdown(due, now)}" if due and item.state != WorkItemState.resolved else ""
    return f"{item.category or 'uncategorised'} from {item.customer} on {item.channel.value}{tail} [{item.state.value}]"


def buttons(item: WorkItem) -> list[dict[str, Any]]:
    found = []
    if item.state in _CLAIMABLE:
        found.append({"type": "button", "action_id": CLAIM, "style": "primary", "value": item.id,
                      "text": {"type": "plain_text", "text": "Claim"}})
    if item.state != WorkItemState.resolved:
        found.append({"type": "button", "action_id": RESOLVE, "value": item.id,
                      "text": {"type": "plain_text", "text": "Resolve"}})
    return found


def message(item: WorkItem, now: datetime, *, breach: str | None = None, moved_to: str | None = None) -> dict[str, Any]:
    """`text` and `blocks` for chat.postMessage / chat.update. `breach`: the clock that breached, if one did;
    `moved_to`: the item left this message's channel for that queue (no buttons here any more)."""
    head = f"*{escape(item.category or 'uncategorised')}* in `{escape(item.queue)}` · {item.priority.value} priority"
    body = escape(item.subject + "\n" + item.text if item.subject else item.text) or "(no text)"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{head} · {state_line(item)}"}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*Customer*\n{escape(item.customer)}"},
            {"type": "mrkdwn", "text": f"*Channel*\n{item.channel.value}"},
            {"type": "mrkdwn", "text": f"*SLA*\n{sla_line(item, now, breach)}"},
            {"type": "mrkdwn", "text": f"*Item*\n`{escape(item.id)}`"}]},
        {"type": "section", "text": {"type": "mrkdwn", "text": _cut("> " + body.replace("\n", "\n> "), MAX_TEXT)}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": trace_line(item)}]},
    ]
    if moved_to is not None:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f":arrow_right: moved to `{escape(moved_to)}`; it is worked there now"}]})
    elif found := buttons(item):
        blocks.append({"type": "actions", "block_id": BLOCK_PREFIX + item.id, "elements": found})
    return {"text": fallback_text(item, now), "blocks": blocks}


def breach_of(event: SinkEvent) -> str | None:
    """The SLA clock an `sla.breach` event says breached, else None."""
    return (event.sla_clock or "sla") if event.type == SinkEventType.sla_breach else None
