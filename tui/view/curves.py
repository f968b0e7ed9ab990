"""The curves beside the plot: training (and test) loss and the learning rate of every
visible run, as drawing data (render.curve_grid.CurveSeries) read off the session."""

from __future__ import annotations

import json
from typing import Callable

import numpy as np

from ...engine.optim.schedules import make_schedule
from ...engine.watch.session import Session
from ..render.curve_grid import CurveSeries

LR_CURVE_POINTS = 256
"""Samples of a run's planned learning-rate schedule (the curve needs no more)."""


def loss_curves(session: Session, visible: Callable[[int], bool]) -> list[CurveSeries]:
    """Training loss of every visible run (and the test loss, dashed, where there is one)."""
    sim = session.sim
    h = sim.history
    ticks, loss = h.series("loss")
    test = h.series("test_loss")[1] if session.objective.has_test else None
    current_test = sim.test_loss() if test is not None else None
    active = sim.active
    out = []
    for r in range(sim.n_runs):
        if not visible(r):
            continue
        now = sim.tick if active[r] else None
        xs, ys = _with_now(ticks, loss[:, r], now, sim.loss[r])
        out.append(CurveSeries(sim.names[r], r, xs, ys))
        if test is not None:
            xs, ys = _with_now(ticks, test[:, r], now, current_test[r])
            out.append(CurveSeries(sim.names[r] + " (test)", r, xs, ys, dashed=True))
    return out


class LrCurves:
    """Learning rate of every visible run: its schedule as it stands now, from the run's last
    edit (or its start) to its end (dashed, from the schedule function itself), and the rates
    used so far (solid, drawn over it). The planned curve changes only when the run is
    edited, so it is kept until then and a playing frame redraws only where the solid grows."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._planned: dict[int, tuple] = {}

    def forget(self) -> None:
        """Drop the kept plans (run indices moved: a run was removed)."""
        self._planned.clear()

    def curves(self, visible: Callable[[int], bool]) -> list[CurveSeries]:
        sim = self.session.sim
        ticks, lr = sim.history.series("lr")
        active = sim.active
        out = []
        for r in range(sim.n_runs):
            if not visible(r):
                continue
            name = sim.configs[r].name
            out.append(CurveSeries(name + " (planned)", r, *self._plan(r), dashed=True))
            out.append(CurveSeries(name, r, *_with_now(ticks, lr[:, r], sim.tick if active[r] else None,
                                                       sim.last_lr[r])))
        return out

    def _plan(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        s = self.session
        cfg = s.sim.configs[r]
        first = int(min(s.changed_at[r], max(cfg.steps - 1, 0)))
        key = (json.dumps(cfg.schedule or {}, sort_keys=True, default=str), cfg.lr, cfg.steps,
               int(s.started_at[r]), first)
        kept = self._planned.get(r)
        if kept is not None and kept[0] == key:
            return kept[1]
        steps = np.unique(np.linspace(first, cfg.steps - 1, LR_CURVE_POINTS).astype(np.int64))
        rates = make_schedule(cfg.schedule or {})(steps[:, None], np.full((steps.size, 1), cfg.lr))[:, 0]
        value = ((s.started_at[r] + steps).astype(float), rates)
        self._planned[r] = (key, value)
        return value


def _with_now(ticks: np.ndarray, values: np.ndarray, tick: int | None,
              now: float) -> tuple[np.ndarray, np.ndarray]:
    """A history series with the current value appended if the history has not stored it
    (it keeps one tick in `stride`); `tick` None (a stopped run) appends nothing. A run
    added after this tick was stored has NaN there (it did not exist yet): its current value
    takes that place, or the chart would read the NaN as a run that diverged."""
    if tick is None:
        return ticks, values
    if ticks.size and ticks[-1] == tick:
        if np.isfinite(values[-1]) or not np.isfinite(now):
            return ticks, values
        values = values.copy()
        values[-1] = now
        return ticks, values
    return np.append(ticks, tick).astype(float), np.append(values, now)
