"""Cells that several runs draw into: who shows in each, so that none is buried.

The contour plot's paths and the charts' curves both put several runs into one grid of
character cells; a cell can show one colour. Where k runs meet, the cell goes to the
((row + col) mod k)-th of them in run order, so coinciding lines read as a dashed line of
their colours instead of the last drawn hiding the rest.
"""

from __future__ import annotations

import numpy as np


def shared_cells(covered: np.ndarray) -> np.ndarray:
    """Which run owns each cell, as masks (runs, rows, cols), from the cells each run's path
    covers (same shape): a cell covered by k runs goes to the ((row + col) mod k)-th of them
    in run order, so coinciding paths alternate colours instead of the last hiding the rest."""
    count = covered.sum(axis=0, dtype=np.int16)
    rows, cols = np.nonzero(count > 1)  # only shared cells need a turn (a frame's few)
    if not rows.size:
        return covered
    shared = covered[:, rows, cols]
    rank = np.cumsum(shared, axis=0, dtype=np.int16) - 1
    owners = covered.copy()
    owners[:, rows, cols] = shared & (rank == ((rows + cols) % count[rows, cols])[None])
    return owners
