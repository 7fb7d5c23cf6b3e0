"""An SLA held packed: one tuple shared by the SLAs alike (rule, calendar, zones, folds) and one int of instants."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, TypeAdapter
from pydantic_core import TzInfo

from contracts.decision import SlaTargets

# An item's SlaTargets is held as one shared tuple of everything but its instants (rule, calendar, clocks, the
# instants' time zones and folds, which fields were set) and one int with the instants' wall-clock microseconds
# side by side, so an item costs two pointers and one small int instead of a pydantic model and its datetimes.
# Wall-clock fields, zone object and fold are kept as they were, so every instant is rebuilt exactly, without
# asking the zone anything (no zoneinfo lookups either way).
_SLA_INSTANTS = ("started_at", "first_response_due", "first_response_warn_at", "resolution_due", "resolution_warn_at")
_SLA_SHARED_FIELDS = tuple(f for f in SlaTargets.model_fields if f not in _SLA_INSTANTS)
assert set(_SLA_INSTANTS) <= set(SlaTargets.model_fields), "SlaTargets changed: update routing/packed_sla.py"
_SLA_ORDER = tuple(SlaTargets.model_fields)
_SLA_SHARED: dict[tuple, tuple] = {}  # (shared part, its zones' kinds) -> the one shared part
_set_attribute = object.__setattr__
assert not SlaTargets.__private_attributes__ and SlaTargets.model_config.get("extra") != "allow", \
    "SlaTargets changed: update unpack_sla in routing/packed_sla.py"
_WALL_EPOCH = datetime(1970, 1, 1)
_MICRO = timedelta(microseconds=1)
_LANE = 53  # bits per instant: wall-clock microseconds since 1970 up to the year 2255
_LANE_MASK = (1 << _LANE) - 1
_ZONE_KINDS: dict[int, tuple[tzinfo, tuple[type, str]]] = {}  # id(zone) -> (zone, its kind), checked by identity


def _zone_kind(tz: tzinfo) -> tuple[type, str]:
    """Zones that compare equal may still differ (a fixed offset's name, TzInfo vs timezone): only the same kind
    of zone with the same repr is taken for another (pydantic makes one TzInfo per datetime it parses)."""
    known = _ZONE_KINDS.get(id(tz))
    if known is not None and known[0] is tz:
        return known[1]
    if len(_ZONE_KINDS) >= 4096:
        _ZONE_KINDS.clear()
    kind = (type(tz), repr(tz))
    _ZONE_KINDS[id(tz)] = (tz, kind)
    return kind


def pack_sla(sla: SlaTargets | None) -> tuple[tuple | SlaTargets | None, int | None]:
    """(shared part, instants) of an SLA; (the model itself, None) when it cannot be rebuilt exactly from them."""
    if sla is None:
        return None, None
    if type(sla) is not SlaTargets or sla.__pydantic_extra__ or sla.__pydantic_private__:
        return sla, None
    values = sla.__dict__
    zones: list[tzinfo | None] = []
    folds: list[int] = []
    packed = 0
    for shift, name in enumerate(_SLA_INSTANTS):
        at = values[name]
        if at is None:
            zones.append(None)
            folds.append(0)
            continue
        tz = at.tzinfo if type(at) is datetime else None
        if tz is None:
            return sla, None
        wall = (at.replace(tzinfo=None) - _WALL_EPOCH) // _MICRO
        if not 0 <= wall <= _LANE_MASK:
            return sla, None
        zones.append(tz)
        folds.append(at.fold)
        packed |= wall << (shift * _LANE)
    shared = (*(values[f] for f in _SLA_SHARED_FIELDS), tuple(zones), tuple(folds), frozenset(sla.model_fields_set))
    zone_kinds = tuple(None if z is None else _zone_kind(z) for z in zones)
    return _SLA_SHARED.setdefault((shared, zone_kinds), shared), packed


def _wall_clock(packed: int, shift: int) -> datetime:
    """The naive wall clock of the instant packed in lane `shift`."""
    return _WALL_EPOCH + timedelta(microseconds=(packed >> (shift * _LANE)) & _LANE_MASK)


def unpack_sla(shared: tuple | SlaTargets | None, packed: int | None) -> SlaTargets | None:
    """The SLA `pack_sla` gave these for: an equal model with the same fields set, zone objects and folds."""
    if shared is None or packed is None:
        return shared  # type: ignore[return-value]
    *fields, zones, folds, fields_set = shared
    values = dict(zip(_SLA_SHARED_FIELDS, fields))
    for shift, (name, tz, fold) in enumerate(zip(_SLA_INSTANTS, zones, folds)):
        values[name] = None if tz is None else _wall_clock(packed, shift).replace(tzinfo=tz, fold=fold)
    # what SlaTargets.model_construct does for a model with every field given, no extras and no private
    # attributes, without its Python loop over the fields (a third of the cost of reading `item.sla`)
    model = SlaTargets.__new__(SlaTargets)
    _set_attribute(model, "__dict__", {name: values[name] for name in _SLA_ORDER})
    _set_attribute(model, "__pydantic_fields_set__", set(fields_set))
    _set_attribute(model, "__pydantic_extra__", None)
    _set_attribute(model, "__pydantic_private__", None)
    return model


# The snapshot form of a packed SLA (what `model_dump(mode="json")` gives), without rebuilding the model: the
# fields other than instants are the same for every item sharing the tuple, so one dump of the first is kept as a
# template (keyed by identity: shared tuples live as long as the process), and each instant is written as pydantic
# writes it, the wall clock's ISO form and the offset as pydantic formats it ("Z" for zero, no seconds).
_SLA_TEMPLATES: dict[int, tuple[tuple, dict]] = {}
_OFFSET_TEXT: dict[timedelta | None, str] = {}
_ZONES_ASKED_BY_WALL_CLOCK = (ZoneInfo, TzInfo, timezone)  # their utcoffset(naive wall clock, fold) is exact
_AWARE_JSON: TypeAdapter[datetime] = TypeAdapter(AwareDatetime)


def _offset_text(offset: timedelta | None) -> str:
    text = _OFFSET_TEXT.get(offset)
    if text is None:
        probe = datetime(2000, 1, 1, tzinfo=timezone(offset or timedelta(0)))
        text = _OFFSET_TEXT[offset] = _AWARE_JSON.dump_python(probe, mode="json")[19:]
    return text


def sla_json(shared: tuple | SlaTargets | None, packed: int | None) -> dict | None:
    """`unpack_sla(shared, packed).model_dump(mode="json")`, written without rebuilding the model."""
    if shared is None or packed is None or isinstance(shared, SlaTargets):  # none, or a model held as it is
        return None if shared is None else unpack_sla(shared, packed).model_dump(mode="json")  # type: ignore[union-attr]
    zones, folds = shared[-3], shared[-2]
    known = _SLA_TEMPLATES.get(id(shared))
    if known is None or known[0] is not shared:
        dumped: dict = unpack_sla(shared, packed).model_dump(mode="json")  # type: ignore[union-attr]
        if any(z is not None and type(z) not in _ZONES_ASKED_BY_WALL_CLOCK for z in zones):
            return dumped  # a zone of another kind: asked through the rebuilt model each time
        known = _SLA_TEMPLATES[id(shared)] = (shared, dumped)
    out = dict(known[1])
    for shift, (name, tz, fold) in enumerate(zip(_SLA_INSTANTS, zones, folds)):
        if tz is None:
            continue
        wall = _wall_clock(packed, shift)
        if fold:
            wall = wall.replace(fold=1)
        out[name] = wall.isoformat() + _offset_text(tz.utcoffset(wall))
    return out
