"""Whether to compile large batches with numba: installed (the ``fast`` extra), not switched off
(OPTSIM_NO_JIT=1), the batch large and the process busy enough to be worth numba's start-up.

Asked by optim/fused.py (the optimizers' compiled updates). Importing this module imports no numba.
"""
from __future__ import annotations

import importlib
import os

JIT_MIN_ROWS = 16384
"""Smaller batches keep the NumPy path: there a compiled loop saves little per step."""

JIT_AFTER_WORK = 20_000_000
"""Rows of large-batch updates (an update of n runs counts n) a process makes on the NumPy path before
it loads numba: about 0.4 s of work, as much as importing numba and loading the compiled
loops costs (more when they must first be compiled), so a short job (a basin map of a few hundred
steps) never pays for them and a long one soon runs compiled. The same bits either way."""

_available: bool | None = None
_work = 0


def wanted(rows: int) -> bool:
    """Whether a batch of ``rows`` should take a compiled loop now: large, OPTSIM_NO_JIT unset, and
    this process past JIT_AFTER_WORK (counted here). Imports nothing; ``enabled`` then says whether
    numba is there."""
    global _work
    if rows < JIT_MIN_ROWS or _switched_off():
        return False
    if _work < JIT_AFTER_WORK:
        _work += rows
        return False
    return True


def _switched_off() -> bool:
    return os.environ.get("OPTSIM_NO_JIT", "") not in ("", "0")


def enabled() -> bool:
    """numba importable and OPTSIM_NO_JIT unset (read at every call, so that a test or a user can
    switch the JIT off at run time); imports numba on the first call that gets this far."""
    global _available
    if _switched_off():
        return False
    if _available is None:
        try:
            _available = bool(importlib.import_module("numba").__version__)
        except ImportError:  # not installed, or built for another NumPy: the NumPy path
            _available = False
    return _available
