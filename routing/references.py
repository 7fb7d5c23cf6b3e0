"""Find order and transaction references in a message, normalized so channels compare equal."""

from __future__ import annotations

import re
from collections.abc import Iterable

# "order 123456", "order no. 98765", "order #ABC123", "transaction id: T12345" — at least one digit required.
_GENERIC = re.compile(
    r"\b(?:order|transaction|txn|invoice|ref(?:erence)?|tracking)\s*(?:no\.?|number|num|id|#|code)?\s*[:#]?\s*"
    r"(?=[A-Z0-9-]*\d)([A-Z0-9][A-Z0-9-]{3,24})\b",
    re.IGNORECASE,
)
_HASHED = re.compile(r"(?<![\w&])#(\d{4,})\b")
_STOP = {"NUMBER", "STATUS", "PLACED", "DETAILS"}
_GENERIC_WORDS = ("order", "transaction", "txn", "invoice", "ref", "tracking")  # one starts every _GENERIC match
_ASCII_DIGIT = re.compile(r"[0-9]")


def compile_reference_patterns(patterns: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


def extract_references(text: str, tenant_patterns: tuple[re.Pattern[str], ...]) -> set[str]:
    """Upper-cased, dash-free references: `alk-120044` and `ALK120044` both give `ALK120044`."""
    plain = text.isascii()  # then IGNORECASE is plain lower-casing and the only digits are 0-9
    if plain and not _ASCII_DIGIT.search(text):
        return set()  # every reference kept holds a digit
    found: set[str] = set()
    for pattern in tenant_patterns:
        found.update(_norm(m.group(0)) for m in pattern.finditer(text))
    if not plain or any(map(text.lower().__contains__, _GENERIC_WORDS)):
        for match in _GENERIC.finditer(text):
            found.add(_norm(match.group(1)))
    if "#" in text:
        found.update(_norm(m.group(1)) for m in _HASHED.finditer(text))
    return {ref for ref in found if ref not in _STOP and any(ch.isdigit() for ch in ref)}


def _norm(reference: str) -> str:
    return reference.upper().replace("-", "").replace(" ", "")
