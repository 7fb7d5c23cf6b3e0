"""Required-information rules: which details a request lacks, and whether a stated date is too old."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date, datetime, timedelta

from contracts.inbound import InboundMessage
from routing.policy import RequiredInfoRule

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_AMOUNT = re.compile(
    r"(?:\b(?:R|ZAR|NGN|N|USD|US\$|EUR|GBP)\s?\d[\d,]*(?:\.\d{1,2})?\b|[₦$€£]\s?\d[\d,]*(?:\.\d{1,2})?"
    r"|\b\d[\d,]*(?:\.\d{1,2})?\s?(?:rand|naira|dollars?|ZAR|NGN|USD)\b)",
    re.IGNORECASE,
)
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec"
_MONTH_NUM = {m: i for i, m in enumerate(_MONTHS.replace("|sept", "").split("|"), start=1)}
_ISO_DATE = re.compile(r"\b(20\d{2})-(\d{1,2})-(\d{1,2})\b")
_DMY_DATE = re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.](20\d{2})\b")
_D_MON = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTHS})[a-z]*,?\s*(20\d{{2}})?\b", re.IGNORECASE)
_MON_D = re.compile(rf"\b({_MONTHS})[a-z]*\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s*(20\d{{2}})?\b", re.IGNORECASE)
_RELATIVE_DATE = re.compile(r"\b(yesterday|today|last (?:week|month|monday|tuesday|wednesday|thursday|friday)|"
                            r"(?:on|this|last) (?:mon|tues|wednes|thurs|fri|satur|sun)day)\b", re.IGNORECASE)
_BUSINESS = re.compile(
    r"\b(?:business|company|organi[sz]ation|trading as|t/a)\b\s*(?:name)?\s*(?:is|:|-)|"
    r"\b(?:\(pty\)|pty|ltd|limited|llc|inc|cc|enterprises?|holdings|solutions|trading)\b\.?",
    re.IGNORECASE,
)
_EXPLANATION_WORDS = 12


def applies(rule: RequiredInfoRule, category: str | None, text: str, patterns: tuple[re.Pattern[str], ...],
            flags: Collection[str] = ()) -> bool:
    """A rule applies when the category matches (if given), every flag it lists is present (if given) and one
    trigger pattern matches (if given)."""
    if rule.categories is not None and category not in rule.categories:
        return False
    if rule.when_flags is not None and not all(flag in flags for flag in rule.when_flags):
        return False
    return not patterns or any(p.search(text) for p in patterns)


def missing_fields(rule: RequiredInfoRule, message: InboundMessage, text: str, references: set[str]) -> list[str]:
    """The rule's fields the message does not provide."""
    return [f for f in rule.fields if not _present(f, message, text, references)]


def _present(field: str, message: InboundMessage, text: str, references: set[str]) -> bool:
    if field == "order_number":
        return bool(references)
    if field == "account_email":
        return bool(_EMAIL.search(text)) or message.sender.email is not None
    if field == "business_name":
        return bool(_BUSINESS.search(text))
    if field == "transaction_date":
        return bool(stated_dates(text, message.received_at.date())) or bool(_RELATIVE_DATE.search(text))
    if field == "amount":
        return bool(_AMOUNT.search(text))
    if field == "explanation":
        return len(text.split()) >= _EXPLANATION_WORDS
    if field == "photo":
        return any((a.content_type or "").startswith("image/") or a.kind == "image" for a in message.attachments)
    raise KeyError(field)


def outside_window(text: str, received: datetime, window: timedelta) -> date | None:
    """The oldest stated date if it lies further back than the window allows, else None."""
    dates = [d for d in stated_dates(text, received.date()) if d <= received.date()]
    if not dates:
        return None
    oldest = min(dates)
    return oldest if received.date() - oldest > window else None


def stated_dates(text: str, today: date | None = None) -> list[date]:
    """Calendar dates written in the text (ISO, D/M/Y, `3 November 2026`, `Nov 3`).

    A day and month without a year (`20 November`) is read as the most recent such date not after `today`
    (the message's date); without `today` it is not read.
    """
    found: list[date] = []
    for y, m, d in _ISO_DATE.findall(text):
        _add(found, int(y), int(m), int(d))
    for d, m, y in _DMY_DATE.findall(text):
        _add(found, int(y), int(m), int(d))
    for d, mon, y in _D_MON.findall(text):
        _add(found, int(y) if y else None, _MONTH_NUM[mon.lower()[:3]], int(d), today)
    for mon, d, y in _MON_D.findall(text):
        _add(found, int(y) if y else None, _MONTH_NUM[mon.lower()[:3]], int(d), today)
    return found


def _add(found: list[date], year: int | None, month: int, day: int, today: date | None = None) -> None:
    if year is None:
        if today is None:
            return
        for year in range(today.year, today.year - 8, -1):  # 29 February: back to the last leap year
            try:
                candidate = date(year, month, day)
            except ValueError:
                continue
            if candidate <= today:
                found.append(candidate)
                return
        return
    try:
        found.append(date(year, month, day))
    except ValueError:
        pass
