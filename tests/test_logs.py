"""Structured logs: one JSON line per decision with its trace id, PII redacted unless asked for, readable on a terminal."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from contracts.decision import RejectDecision, RouteDecision
from workers.runtime.logs import REDACTED, configure_logging, log_decision, redact_text

DECIDED = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    ours = logging.getLogger("omniroute").level
    yield
    root.handlers, root.level = handlers, level
    logging.getLogger("omniroute").setLevel(ours)


def _reject() -> RejectDecision:
    return RejectDecision(message_id="m-1", tenant="alkonect", channel="email", customer="email:ann@example.com",
                          decided_at=DECIDED, reason="unofficial address sales@alkonect.example, call +27 82 555 0101",
                          flags=["unofficial_channel"])


def test_one_json_line_per_decision_without_pii(restore_logging: None) -> None:
    out = io.StringIO()
    configure_logging(fmt="json", stream=out)
    log_decision(_reject())
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["event"] == "decision" and line["level"] == "info" and line["logger"] == "omniroute.decisions"
    assert (line["trace_id"], line["tenant"], line["channel"], line["action"]) == ("m-1", "alkonect", "email", "reject")
    assert line["flags"] == ["unofficial_channel"] and "queue" in line and "category" in line
    assert "ann@example.com" not in out.getvalue() and "sales@alkonect" not in out.getvalue()
    assert "555" not in line["reason"] and REDACTED in line["reason"]


def test_pii_shows_only_when_asked(restore_logging: None) -> None:
    out = io.StringIO()
    configure_logging(fmt="json", stream=out, pii=True)
    logging.getLogger("omniroute.test").info("hello", extra={"text": "my order 123", "sender": "ann@example.com"})
    line = json.loads(out.getvalue().strip())
    assert line["text"] == "my order 123" and line["sender"] == "ann@example.com"
    out2 = io.StringIO()
    configure_logging(fmt="json", stream=out2)
    logging.getLogger("omniroute.test").info("hello", extra={"text": "my order 123", "sender": "ann@example.com"})
    line = json.loads(out2.getvalue().strip())
    assert line["text"] == REDACTED and line["sender"] == REDACTED


def test_readable_output_and_level(restore_logging: None) -> None:
    out = io.StringIO()
    configure_logging(fmt="console", level="WARNING", stream=out)
    log_decision(_reject())
    assert out.getvalue() == ""
    logging.getLogger("omniroute.route").warning("worker assigned %s", [1, 2])
    assert "worker assigned [1, 2]" in out.getvalue() and not out.getvalue().lstrip().startswith("{")


def test_route_decisions_carry_their_work_item(restore_logging: None) -> None:
    out = io.StringIO()
    configure_logging(fmt="json", stream=out)
    log_decision(RouteDecision(message_id="m-2", tenant="conek", channel="whatsapp", customer="c", decided_at=DECIDED,
                               work_item_id="wi-9", queue="refunds", category="refund"))
    line = json.loads(out.getvalue().strip())
    assert (line["work_item_id"], line["queue"], line["category"]) == ("wi-9", "refunds", "refund")


def test_redact_text_keeps_order_numbers() -> None:
    assert redact_text("order 4471, mail me at a.b+c@x.co.za or +44 20 7946 0958") == (
        f"order 4471, mail me at {REDACTED} or {REDACTED}")


def test_redact_text_keeps_uuids_whole_and_still_scrubs_numbers_beside_them() -> None:
    trace = "4ddbbdec-1234-5338-a70b-4576ca6c18eb"  # digit groups joined by hyphens look like a phone number
    assert redact_text(f"trace {trace}, item wi-{trace}") == f"trace {trace}, item wi-{trace}"
    assert redact_text(f"{trace} called from +234 803 123 4567") == f"{trace} called from {REDACTED}"
