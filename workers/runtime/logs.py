"""Structured logs: every stdlib logger rendered by structlog (JSON, or readable on a terminal), PII redacted, one line per decision."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from contracts.decision import Decision

DECISIONS = logging.getLogger("omniroute.decisions")
REDACTED = "[redacted]"
# Fields whose values are message content or personal identities: never logged unless OMNIROUTE_LOG_PII=true.
PII_FIELDS = frozenset({"text", "subject", "body", "sender", "customer", "address", "email", "phone", "from", "to",
                        "display_name", "html"})
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w:])\+?\d[\d ().-]{7,}\d(?!\w)")
_UUID = re.compile(r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})")
_QUIET = {"aiokafka": logging.WARNING, "faust": logging.WARNING, "mode": logging.WARNING, "aiohttp.access": logging.WARNING}


def redact_text(text: str) -> str:
    """Email addresses and phone numbers inside free text replaced by a marker; UUIDs (trace and item ids, whose
    digit groups can look like a phone number) are kept whole."""
    parts = _UUID.split(text)  # with its capture group: text, uuid, text, uuid, ..., text
    return "".join(part if i % 2 else _PHONE.sub(REDACTED, _EMAIL.sub(REDACTED, part)) for i, part in enumerate(parts))


def redact_pii(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: PII fields blanked, addresses and numbers scrubbed from every other string."""
    for key, value in event.items():
        if key in PII_FIELDS and value is not None:
            event[key] = REDACTED
        elif isinstance(value, str):
            event[key] = redact_text(value)
    return event


def configure_logging(*, level: str = "INFO", fmt: str = "auto", pii: bool = False,
                      stream: TextIO | None = None) -> None:
    """Route every stdlib logger through structlog's renderer; call once per process (again replaces the handler)."""
    stream = stream or sys.stderr
    as_json = fmt == "json" or (fmt == "auto" and not stream.isatty())
    pre_chain: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if not pii:
        pre_chain.append(redact_pii)
    renderer = (structlog.processors.JSONRenderer() if as_json
                else structlog.dev.ConsoleRenderer(colors=stream.isatty()))
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=pre_chain,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, renderer]))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.WARNING)  # libraries stay quiet; our own loggers speak at the chosen level
    logging.getLogger("omniroute").setLevel(level.upper())
    for name, quiet in _QUIET.items():
        logging.getLogger(name).setLevel(quiet)
    structlog.configure(processors=[*pre_chain[:1], structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
                        logger_factory=structlog.stdlib.LoggerFactory(), cache_logger_on_first_use=True)


def decision_fields(decision: Decision) -> dict[str, Any]:
    """What one decision line carries: no text, no addresses (the customer key is PII and left out)."""
    fields: dict[str, Any] = {
        "trace_id": decision.message_id, "tenant": decision.tenant, "channel": str(decision.channel),
        "action": str(decision.action), "queue": decision.queue, "category": decision.category,
        "priority": str(decision.priority), "flags": [str(f) for f in decision.flags],
    }
    for optional in ("work_item_id", "reason", "repeat_count"):
        value = getattr(decision, optional, None)
        if value is not None:
            fields[optional] = value
    return fields


def log_decision(decision: Decision) -> None:
    """One info line per routing decision (`omniroute.decisions`); free when info is off."""
    if DECISIONS.isEnabledFor(logging.INFO):
        DECISIONS.info("decision", extra=decision_fields(decision))
