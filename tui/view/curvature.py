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


def hessians_now(session: Session) -> np.ndarray:
    """The Hessian at every run's current point (n, p, p): what the legend and the eigenvector
    arrows both read (the view model computes it once per state)."""
    return session.objective.hessian(session.sim.params)


def curvature_now(session: Session, run: int, model: cv.Quadratic | None,
                  hessians: np.ndarray | None = None, found: cv.Spectrum | None = None) -> CurvatureNow:
    """The readings at every run's current point (one Hessian per run); `found`: the spectrum
    of the run's Hessian, if already known (the eigenvector arrows read it too)."""
    sim = session.sim
    hessians = hessians_now(session) if hessians is None else hessians
    products = cv.rate_times_curvature(hessians, _rates_now(session))
    found = cv.spectrum(hessians[run:run + 1]) if found is None else found
    runs = [RunCurvature(cfg.name, float(products[i]), cv.stability_limit(cfg.optimizer, cfg.hyper))
            for i, cfg in enumerate(sim.configs)]
    return CurvatureNow(found.eigenvalues[0], float(found.condition[0]), runs, model is not None)


def eigen_vectors(session: Session, run: int, hessians: np.ndarray | None = None,
                  found: cv.Spectrum | None = None) -> list[tuple[np.ndarray, str]]:
    """The Hessian's eigenvectors at the run's point with their labels ("λ 50"), steepest first
    (`found`: the spectrum of that Hessian, if already known)."""
    if found is None:
        hessian = session.objective.hessian(session.sim.params[run:run + 1]) if hessians is None else hessians[run:run + 1]
        found = cv.spectrum(hessian)
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
    once computed (per run: its name, start and last edit, with the ticks and values kept in
    tick order; the decimated history keeps a subset of the ticks it had, so kept values stay
    valid and a frame computes only the new ticks); a reset or an edit drops them."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._kept: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}  # run key -> (ticks, values)

    def forget(self) -> None:
        self._kept.clear()

    def curves(self, visible: Callable[[int], bool]) -> list[CurveSeries]:
        sim = self.session.sim
        h = sim.history
        ticks = h.tick[: h.size]
        keys = [self._run_key(r) for r in range(sim.n_runs)]
        self._kept = {k: v for k, v in self._kept.items() if k in set(keys)}  # edited runs' old values go
        shown = [r for r in range(sim.n_runs) if visible(r)]
        looked_up = [self._look_up(keys[r], ticks) for r in shown]
        runs = np.concatenate([np.full(len(missing), r) for r, (_, missing) in zip(shown, looked_up)] or [[]])
        rows = np.concatenate([missing for _, missing in looked_up] or [[]]).astype(np.int64)
        computed = self._compute(runs.astype(np.int64), rows)  # one Hessian call for every run's new ticks
        out, at = [], 0
        for r, (values, missing) in zip(shown, looked_up):
            values[missing] = computed[at:at + len(missing)]
            at += len(missing)
            self._keep(keys[r], ticks[missing], values[missing])
            out.append(CurveSeries(sim.names[r], r, ticks, values))
        if ticks.size:
            ends = np.array([0.0, float(self.session.last_planned_step())])
            out.append(CurveSeries(LIMIT_NAME, sim.n_runs, ends, np.full(2, cv.STABLE_LIMIT), dashed=True))
        return out

    def _look_up(self, key: tuple, ticks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The kept values at these ticks (increasing; NaN where not kept) and the positions of
        the ticks not kept."""
        kept_ticks, kept_values = self._kept.get(key, (ticks[:0], np.zeros(0)))
        values = np.full(ticks.size, np.nan)
        k = kept_ticks.size
        if k and k <= ticks.size and np.array_equal(ticks[:k], kept_ticks):
            # The usual frame: the history is the kept ticks and new ones after them (the
            # search below finds exactly that; the ticks increase).
            values[:k] = kept_values
            return values, np.arange(k, ticks.size)
        found = np.zeros(ticks.size, dtype=bool)
        if kept_ticks.size:
            at = np.minimum(np.searchsorted(kept_ticks, ticks), kept_ticks.size - 1)
            found = kept_ticks[at] == ticks
            values[found] = kept_values[at[found]]
        return values, np.flatnonzero(~found)

    def _keep(self, key: tuple, ticks: np.ndarray, values: np.ndarray) -> None:
        """Add these values to the run's kept ones, in tick order (all dropped past KEPT_MAX)."""
        kept_ticks, kept_values = self._kept.get(key, (ticks[:0], values[:0]))
        if ticks.size and kept_ticks.size and ticks[0] > kept_ticks[-1]:
            # After the kept ones (the usual frame): already in order, as the sort would leave it.
            kept_ticks, kept_values = np.concatenate([kept_ticks, ticks]), np.concatenate([kept_values, values])
        elif ticks.size:
            merged = np.concatenate([kept_ticks, ticks])
            order = np.argsort(merged, kind="stable")
            kept_ticks, kept_values = merged[order], np.concatenate([kept_values, values])[order]
        if kept_ticks.size > KEPT_MAX:
            kept_ticks, kept_values = kept_ticks[:0], kept_values[:0]
        self._kept[key] = (kept_ticks, kept_values)

    def _run_key(self, r: int) -> tuple:
        s = self.session
        return (s.sim.names[r], int(s.started_at[r]), int(s.changed_at[r]))

    def _compute(self, runs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """lr x lambda_max of each (run, history row) pair: one Hessian per point, in one call."""
        s = self.session
        h = s.sim.history
        points = h.params[rows, runs]
        rates = cv.effective_rates(h.values["lr"][rows, runs], h.sigma[rows, runs])
        ok = np.isfinite(points).all(axis=1)
        values = np.full(len(rows), np.nan)
        if ok.any():
            values[ok] = cv.rate_times_curvature(s.objective.hessian(points[ok]), rates[ok])
        return values
