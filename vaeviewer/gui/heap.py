"""Keep Python's garbage collector from stalling the window.

A full collection scans every container object the process holds. Once Qt,
VTK, pyvista and torch are loaded that is some 350,000 objects, and a full
collection takes 80-160 ms on a 2-core machine: a visible stall in the middle
of an animation or an export, which happens whenever the objects allocated
since the last one reach a quarter of the survivors. Nearly all of those
objects (modules, classes, functions, the libraries' tables) live as long as
the process, so scanning them again finds nothing.

:func:`freeze_long_lived` moves every object alive now into the collector's
permanent generation (:func:`gc.freeze`), which later collections skip: a full
collection then scans only what was made since, a few milliseconds. The window
calls it once it stands (start-up's imports done), again once a model has
loaded (torch's), and before an export drives frames on the GUI thread.

:func:`collector_paused` turns collection off while the window's start-up
imports run (each import adds objects and triggers full collections of
everything so far: 0.17 s of a 0.9 s import on that machine), freezing what
they made when it ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused", "freeze_long_lived"]


def freeze_long_lived() -> None:
    """Exempt every object alive now from later collections (cheap: it moves list heads, scans nothing)."""
    gc.freeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the garbage collector off; freeze what is alive after it, and turn it back on.

    Objects are still freed as their references drop; only reference cycles
    made inside the block wait (they are the collector's to find, and it is
    back on at the end). A collector that was off stays off.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        freeze_long_lived()
        if was_enabled:
            gc.enable()
