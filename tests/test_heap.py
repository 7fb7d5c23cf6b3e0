"""HeapFreezer: survivors are frozen after a checkpoint; a later thaw still reclaims cycles that died frozen."""

import gc
import weakref

from workers.runtime.heap import HeapFreezer


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> tuple[weakref.ref, _Node]:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a), a


def test_settle_freezes_what_is_alive_and_thaw_reclaims_frozen_cycles():
    now = [0.0]
    heap = HeapFreezer(thaw_every_s=600, clock=lambda: now[0])
    try:
        ref, holder = _cycle()
        heap.settle()
        assert gc.get_freeze_count() > 0
        del holder  # the cycle is garbage now, but frozen: ordinary collections skip it
        gc.collect()
        assert ref() is not None
        now[0] = 601.0
        heap.settle()  # time for a thaw: the full collection finds it
        assert ref() is None
    finally:
        gc.unfreeze()


def test_settle_collects_young_cycles_before_freezing_them():
    heap = HeapFreezer(thaw_every_s=600, clock=lambda: 0.0)
    try:
        ref, holder = _cycle()
        del holder
        heap.settle()
        assert ref() is None
    finally:
        gc.unfreeze()
