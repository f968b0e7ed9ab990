"""The clock view (issue 11, item 6): each visible run's loss against epochs and against
simulated time, as the batch lab's cost model counts them (engine.analysis.clock), while the
scenario plays. Drawing data only: the loss history with its x axis converted by the engine."""

from __future__ import annotations

from typing import Callable

import numpy as np

from ...engine.analysis.clock import Clocks
from ...engine.watch.session import Session
from ..render.curve_grid import CurveSeries, x_scale_for
from .curves import _with_now

CLOCK_AXES = ("epochs", "time")


def clock_curves(session: Session, clocks: Clocks, axis: str, visible: Callable[[int], bool]) -> list[CurveSeries]:
    """The training loss of every visible run with its updates turned into epochs or time.
    The history's x is the tick; a run's updates are its ticks since its (re)start."""
    sim = session.sim
    ticks, loss = sim.history.series("loss")
    active = sim.active
    out = []
    for r in range(sim.n_runs):
        if not visible(r):
            continue
        xs, ys = _with_now(ticks, loss[:, r], sim.tick if active[r] else None, sim.loss[r])
        updates = np.maximum(np.asarray(xs, dtype=float) - session.started_at[r], 0.0)
        clock = clocks.runs[r]
        out.append(CurveSeries(sim.names[r], r, clock.epochs(updates) if axis == "epochs" else clock.time(updates), ys))
    return out


def clock_range(session: Session, clocks: Clocks, axis: str) -> tuple[tuple[float, float], bool]:
    """The x range of a clock plot from every run's planned end (so the axis holds still while
    the runs play), log when those ends differ more than tenfold (batch 1 against 1000)."""
    ends = []
    for cfg, clock in zip(session.sim.configs, clocks.runs):
        updates = np.array([1.0, float(cfg.steps)])  # from the first update: a log axis starts there
        ends.append(clock.epochs(updates) if axis == "epochs" else clock.time(updates))
    return x_scale_for(ends)
