"""The app's start-up runs without Python's cyclic garbage collector, until its first frame.

Start-up (importing NumPy and Textual, loading the scenario, mounting the screen) makes some
130,000 objects that live as long as the app: the collector, run every 700 allocations,
scanned that growing heap about 170 times and found little, a tenth of the time to the first
frame of `optsim NAME` (about 50 ms). So the command line pauses it before importing
anything heavy, and the first screen resumes it once it has been drawn, freezing what
start-up made (`gc.freeze`: never scanned again; left young, they would all be scanned at the
next collections, the cost only moved after the frame, and every full collection while
playing would walk them, about 45 ms each). Reference counting frees everything else as
before; only the cycles start-up left behind are kept by the freeze: about 6,000 small
objects (tuples, sets, lists, small caches of Textual's), under 1 MB of a
90 MB process.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Stop the collector for the start-up (nothing if it is already off)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume(freeze: bool = True) -> None:
    """Start the collector again if `pause` stopped it; `freeze` first moves every object alive
    into the permanent generation (after the first frame: they are the app's own). Calling it
    again, or without a pause, does nothing."""
    global _paused
    if not _paused:
        return
    _paused = False
    if freeze:
        gc.freeze()
    gc.enable()


def paused() -> bool:
    return _paused
