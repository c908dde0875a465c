"""The start-up heap is exempt from collections during a run; the run's own cycles are not."""

from __future__ import annotations

import gc
import weakref

from qnemu.runtime import heap


class _Node:
    """A stand-in object that can sit in a reference cycle and be watched with a weakref."""

    partner: _Node | None = None


def test_settle_freezes_start_up_objects_and_still_collects_cycles_made_after():
    before = _Node()
    before.partner = before  # a live cycle from start-up: survives, and is frozen
    try:
        frozen = heap.settle()
        assert frozen == gc.get_freeze_count() > 0
        assert not any(o is before for o in gc.get_objects())  # out of the collector's view
        during = _Node()
        during.partner = during  # garbage made during the run
        gone = weakref.ref(during)
        del during
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()  # the rest of the test session keeps the usual collector
