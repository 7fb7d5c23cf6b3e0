"""One record per customer behind the routing state's customer tables (open items, recent messages, last contact)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any, TypeVar

V = TypeVar("V")
_NULL = object()  # a value of None held in a record (None there means: no entry in that table)


class CustomerRecord:
    """What three tables hold of one customer, each None while that table has no entry for the customer.

    One record and one dict entry instead of an entry in each of three dicts; a tuple of one is held as its
    one element, since most customers have one open item and one recent message.
    """

    __slots__ = ("items", "recent", "last_contact")

    def __init__(self) -> None:
        self.items: object = None
        self.recent: object = None
        self.last_contact: object = None


def record_of(records: dict[str, CustomerRecord], customer: str) -> CustomerRecord:
    """The customer's record in `records`, made (empty) when there is none yet."""
    record = records.get(customer)
    if record is None:
        record = records[customer] = CustomerRecord()
    return record


def pack_tuple(values: Any) -> object:
    values = tuple(values)
    return values[0] if len(values) == 1 else values


def unpack_tuple(held: Any) -> Any:
    return held if type(held) is tuple else (held,)


def pack_value(value: Any) -> object:
    return _NULL if value is None else value


def unpack_value(held: Any) -> Any:
    return None if held is _NULL else held


class CustomerTable(MutableMapping[str, V]):
    """One of the tables (customer -> value) as a mapping over the customers' records."""

    __slots__ = ("_records", "_slot", "_pack", "_unpack")

    def __init__(self, records: dict[str, CustomerRecord], slot: str, pack: Callable[[Any], object],
                 unpack: Callable[[Any], Any]) -> None:
        self._records, self._slot, self._pack, self._unpack = records, slot, pack, unpack

    def __getitem__(self, customer: str) -> V:
        record = self._records.get(customer)
        held = None if record is None else getattr(record, self._slot)
        if held is None:
            raise KeyError(customer)
        return self._unpack(held)  # type: ignore[no-any-return]

    def get(self, customer: str, default: Any = None) -> Any:
        record = self._records.get(customer)
        held = None if record is None else getattr(record, self._slot)
        return default if held is None else self._unpack(held)

    def __contains__(self, customer: object) -> bool:
        record = self._records.get(customer)  # type: ignore[call-overload]
        return record is not None and getattr(record, self._slot) is not None

    def __setitem__(self, customer: str, value: V) -> None:
        setattr(record_of(self._records, customer), self._slot, self._pack(value))

    def __delitem__(self, customer: str) -> None:
        record = self._records.get(customer)
        if record is None or getattr(record, self._slot) is None:
            raise KeyError(customer)
        setattr(record, self._slot, None)
        if record.items is None and record.recent is None and record.last_contact is None:
            del self._records[customer]

    def __iter__(self) -> Iterator[str]:
        slot = self._slot
        return (customer for customer, record in self._records.items() if getattr(record, slot) is not None)

    def __len__(self) -> int:
        slot = self._slot
        return sum(1 for record in self._records.values() if getattr(record, slot) is not None)

    def __repr__(self) -> str:
        return repr(dict(self.items()))
