"""Durations written in policy files: `90s`, `5m`, `24h`, `3d` (calendar) and `2bd` (business days)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|bd)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_LENGTHS: dict[tuple[float, str], timedelta] = {}  # timedeltas are immutable: one per distinct duration


class Duration:
    """An amount of time; `bd` (business days) only has meaning on a business calendar."""

    __slots__ = ("amount", "unit")

    def __init__(self, amount: float, unit: str) -> None:
        if unit not in (*_UNIT_SECONDS, "bd"):
            raise ValueError(f"unknown duration unit {unit!r}")
        if amount <= 0:
            raise ValueError("a duration must be positive")
        self.amount = amount
        self.unit = unit

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _PATTERN.match(str(text))
        if not match:
            raise ValueError(
                f"{text!r} is not a duration; write a number and a unit: 90s, 5m, 24h, 3d or 2bd (business days)"
            )
        return cls(float(match.group(1)), match.group(2))

    @property
    def business_days(self) -> float | None:
        return self.amount if self.unit == "bd" else None

    def as_timedelta(self) -> timedelta:
        """The length on a calendar clock; business days must be resolved by a calendar instead."""
        key = (self.amount, self.unit)
        length = _LENGTHS.get(key)
        if length is None:
            if self.unit == "bd":
                raise ValueError("business days have no fixed length; resolve them on the tenant calendar")
            if len(_LENGTHS) >= 4096:
                _LENGTHS.clear()
            length = _LENGTHS[key] = timedelta(seconds=self.amount * _UNIT_SECONDS[self.unit])
        return length

    def scaled(self, share: float) -> Duration:
        return Duration(self.amount * share, self.unit)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Duration) and (self.amount, self.unit) == (other.amount, other.unit)

    def __hash__(self) -> int:
        return hash((self.amount, self.unit))

    def __str__(self) -> str:
        amount = int(self.amount) if self.amount == int(self.amount) else self.amount
        return f"{amount}{self.unit}"

    __repr__ = __str__

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        def coerce(value: Any) -> Duration:
            return value if isinstance(value, Duration) else cls.parse(value)

        return core_schema.no_info_plain_validator_function(
            coerce, serialization=core_schema.to_string_ser_schema()
        )
