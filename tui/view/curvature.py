"""The curvature view (issue 11, item 4): each run's lr x lambda_max against its stability
limit, the condition number and the Hessian's eigenvectors at the selected run's point; on a
quadratic, the selected run's error along each eigenvector over time (Distill's "Why Momentum
Really Works"). Drawing data only: the numbers come from engine.analysis.curvature on the
session's points, Hessians and optimizer states; nothing is computed here but which to show."""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ...engine.analysis import curvature as cv
from ...engine.optim import inspect
from ...engine.watch.session import Session
from ..render.curve_grid import CurveSeries

LIMIT_NAME = "limit 2"
KEPT_MAX = 50_000
"""Kept lr x lambda_max values before the cache starts again (ticks the history dropped)."""


class RunCurvature(NamedTuple):
    """One run's reading now: lr x lambda_max (effective rate for adaptive methods) and the
    limit it must stay under."""

    name: str
    rate_curvature: float
    limit: float


class CurvatureNow(NamedTuple):
    """What the curvature legend reads: the Hessian's eigenvalues and condition number at the
    selected run's point, and every run's lr x lambda_max against its limit."""

    eigenvalues: np.ndarray  # (p,) ascending
    condition: float
    runs: list[RunCurvature]
    quadratic: bool


def _rates_now(session: Session) -> np.ndarray:
    """Each run's effective rate per coordinate for its next step: lr, or lr / sigma."""
    sim = session.sim
    return cv.effective_rates(session.next_lr(), sim.optimizer_quantity(inspect.sigma))


def curvature_now(session: Session, run: int, model: cv.Quadratic | None) -> CurvatureNow:
    """The readings at every run's current point (one Hessian per run)."""
    sim = session.sim
    hessians = session.objective.hessian(sim.params)
    products = cv.rate_times_curvature(hessians, _rates_now(session))
    found = cv.spectrum(hessians[run:run + 1])
    runs = [RunCurvature(cfg.name, float(products[i]), cv.stability_limit(cfg.optimizer, cfg.hyper))
            for i, cfg in enumerate(sim.configs)]
    return CurvatureNow(found.eigenvalues[0], float(found.condition[0]), runs, model is not None)


def eigen_vectors(session: Session, run: int) -> list[tuple[np.ndarray, str]]:
    """The Hessian's eigenvectors at the run's point with their labels ("λ 50"), steepest first."""
    found = cv.spectrum(session.objective.hessian(session.sim.params[run:run + 1]))
    values, vectors = found.eigenvalues[0], found.eigenvectors[0]
    if not np.isfinite(values).all():
        return []
    return [(vectors[:, i], f"λ {values[i]:.3g}") for i in range(len(values) - 1, -1, -1)]


def error_curves(session: Session, run: int, model: cv.Quadratic) -> list[CurveSeries]:
    """|q_i . (w_t - w*)| of the run over its stored steps, one curve per eigenvector (its
    position in palette.COORDINATE_COLORS), steepest first: the Distill picture."""
    sim = session.sim
    ticks = sim.history.tick[: sim.history.size]
    errors = np.abs(cv.eigen_errors(model, sim.history.trajectory(run)))
    p = len(model.eigenvalues)
    return [CurveSeries(f"λ {model.eigenvalues[i]:.3g}", k, ticks, errors[:, i])
            for k, i in enumerate(range(p - 1, -1, -1))]


class RateCurvatureCurves:
    """lr x lambda_max of every visible run over its stored steps, and the limit 2 (a dashed
    line, series run = n_runs). A Hessian per stored point is the cost, so each value is kept
    once computed (keyed by run name, start and tick: the decimated history keeps a subset of
    the ticks it had, so kept values stay valid); a reset or an edit drops them."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._kept: dict[tuple, float] = {}

    def forget(self) -> None:
        self._kept.clear()

    def curves(self, visible: Callable[[int], bool]) -> list[CurveSeries]:
        sim = self.session.sim
        h = sim.history
        ticks = h.tick[: h.size]
        out = []
        for r in range(sim.n_runs):
            if visible(r):
                out.append(CurveSeries(sim.names[r], r, ticks, self._values(r, ticks)))
        if ticks.size:
            ends = np.array([0.0, float(self.session.last_planned_step())])
            out.append(CurveSeries(LIMIT_NAME, sim.n_runs, ends, np.full(2, cv.STABLE_LIMIT), dashed=True))
        return out

    def _values(self, r: int, ticks: np.ndarray) -> np.ndarray:
        s = self.session
        h = s.sim.history
        run_key = (s.sim.names[r], int(s.started_at[r]), int(s.changed_at[r]))
        if len(self._kept) > KEPT_MAX:
            self._kept.clear()
        missing = [k for k, t in enumerate(ticks.tolist()) if (run_key, t) not in self._kept]
        if missing:
            rows = np.array(missing)
            points = h.params[rows, r]
            rates = cv.effective_rates(h.values["lr"][rows, r], h.sigma[rows, r])
            ok = np.isfinite(points).all(axis=1)
            values = np.full(len(rows), np.nan)
            if ok.any():
                values[ok] = cv.rate_times_curvature(s.objective.hessian(points[ok]), rates[ok])
            for k, v in zip(missing, values.tolist()):
                self._kept[(run_key, int(ticks[k]))] = v
        return np.array([self._kept[(run_key, t)] for t in ticks.tolist()])
