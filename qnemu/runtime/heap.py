"""The garbage collector during a real-time run: no full collection over the start-up heap.

CPython's full (generation 2) collection walks every object the collector tracks. A node
actor that has built its plan, twin and nodes holds a few hundred thousand of them, so each
full collection held its event loop for 40-90 ms on the busy 20-node benchmark chain (about
once a second), and every event due meanwhile was released that much late. Once start-up
is over the survivors are moved out of the collector's view: later collections walk only
what the run itself allocates, and reference cycles it creates are still collected.
"""

from __future__ import annotations

import gc


def settle() -> int:
    """Collect start-up garbage, then exempt every surviving object from later collections
    (``gc.freeze``); returns how many objects are exempt. Call it after start-up, before the
    first event is due: the collection itself takes tens of milliseconds."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
