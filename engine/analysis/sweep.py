"""Sweeps stepped as one vectorized batch: final loss against learning rate, and basin maps.

All runs of a sweep are stepped together by :func:`step_batch`, a lean loop
over the optimizer functions (one gradient call for every run per step, one
update call per optimizer), with the Simulation's divergence rule: a run whose
numbers stop being finite or exceed DIVERGENCE_BOUND stops at its last finite
point and records the step.

- :func:`lr_sweep`: every (optimizer, rate) pair of a log grid is one run, all
  from the same start for the same number of steps. A run whose loss ran away
  (see RUNAWAY) counts as diverged too.
- :func:`basin_map`: every start of a grid x grid over two parameters (the
  others fixed at a base point) is one run; each end point is
  labelled with the known minimum it reached (within ``tol`` times the window's
  diagonal), or -1 (none of them: still travelling or elsewhere) or -2
  (diverged). Without known minima the end points that settled (small gradient)
  are clustered greedily and the clusters become the minima.

"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np

from ..core.objective import Objective
from ..optim.registry import get_optimizer
from ..core.run_settings import RunSettings
from ..core.simulation import Simulation

NONE, DIVERGED = -1, -2
RUNAWAY = 1e3
"""An lr-sweep run whose final loss exceeds its start loss by more than RUNAWAY * max(|start loss|, 1e-12)
counts as diverged at the last step, even if its numbers are still finite (the rule of engine.diagnosis)."""


@dataclass(frozen=True)
class LrSweep:
    optimizer: str
    rates: np.ndarray  # (n,) ascending
    final_loss: np.ndarray  # (n,) NaN where diverged
    diverged_at: np.ndarray  # (n,) -1 = no

    @property
    def best(self) -> int:
        """Index of the rate with the lowest final loss (ties: the largest such rate)."""
        loss = np.where(np.isfinite(self.final_loss), self.final_loss, np.inf)
        low = loss.min()
        return int(np.flatnonzero(loss <= low)[-1])

    @property
    def largest_stable(self) -> float:
        """The largest rate that did not diverge (NaN if all did)."""
        ok = self.diverged_at < 0
        return float(self.rates[ok].max()) if ok.any() else float("nan")


@dataclass(frozen=True)
class BasinMap:
    labels: np.ndarray  # (grid_y, grid_x) int: minimum index, NONE or DIVERGED; row 0 = lowest y
    xs: np.ndarray  # (grid_x,)
    ys: np.ndarray  # (grid_y,)
    minima: np.ndarray  # (k, p) the minima the labels index
    axes: tuple[int, int]  # parameter indices of x and y
    final_loss: np.ndarray  # (grid_y, grid_x)

    def shares(self) -> dict[int, float]:
        """Share of starts per label."""
        values, counts = np.unique(self.labels, return_counts=True)
        return {int(v): float(c) / self.labels.size for v, c in zip(values, counts)}


def log_rates(lr_min: float, lr_max: float, n: int) -> np.ndarray:
    return np.geomspace(lr_min, lr_max, n)


class BatchResult(NamedTuple):
    params: np.ndarray  # (n, p) end points (last finite point of a diverged run)
    loss: np.ndarray  # (n,)
    grad_norm: np.ndarray  # (n,)
    diverged_at: np.ndarray  # (n,) -1 = no


def step_batch(objective: Objective, groups: Sequence[tuple[str, Sequence[Mapping[str, Any]], np.ndarray]],
               starts: np.ndarray, steps: int, schedule: Mapping[str, Any] | None = None) -> BatchResult:
    """Step every run together. ``groups``: (optimizer, per-run hyperparameter dicts, per-run lr) in run order.

    One Simulation without history: the same stepping and divergence rules as
    everywhere else, and runs sharing an optimizer step in one call.
    """
    starts = np.asarray(starts, dtype=np.float64)
    runs: list[RunSettings] = []
    for name, hypers, lrs in groups:
        for h, lr in zip(hypers, np.asarray(lrs, dtype=np.float64).ravel().tolist()):
            runs.append(RunSettings(f"r{len(runs)}", name, {**h, "lr": lr}, (), steps, schedule=schedule))
    if len(runs) != starts.shape[0]:
        raise ValueError(f"groups hold {len(runs)} runs but there are {starts.shape[0]} starts")
    sim = Simulation(objective, runs, record_history=False, starts=starts)
    sim.step(steps)
    return BatchResult(sim.params, sim.loss, sim.grad_norm, sim.diverged_at)


def lr_sweep(objective: Objective, optimizers: Sequence[str], rates: np.ndarray, start: Sequence[float],
             steps: int, hyper: Mapping[str, Mapping[str, Any]] | None = None,
             schedule: Mapping[str, Any] | None = None) -> list[LrSweep]:
    """Final loss at each rate for each optimizer, all runs stepped together."""
    rates = np.asarray(rates, dtype=np.float64)
    hyper = hyper or {}
    groups = [(opt, [dict(hyper.get(opt, {}))] * rates.size, rates) for opt in optimizers]
    starts = np.tile(np.asarray(start, dtype=np.float64), (rates.size * len(optimizers), 1))
    res = step_batch(objective, groups, starts, steps, schedule)
    with np.errstate(all="ignore"):
        start_loss = float(objective.loss(starts[:1])[0])
        ran_away = (res.diverged_at < 0) & (res.loss - start_loss > RUNAWAY * max(abs(start_loss), 1e-12))
    diverged_at = np.where(ran_away, steps, res.diverged_at)
    out = []
    for k, opt in enumerate(optimizers):
        sl = slice(k * rates.size, (k + 1) * rates.size)
        div = diverged_at[sl].copy()
        out.append(LrSweep(opt, rates.copy(), np.where(div >= 0, np.nan, res.loss[sl]), div))
    return out


def basin_map(objective: Objective, window: tuple[float, float, float, float], grid: int, optimizer: str,
              hyper: Mapping[str, Any], steps: int, minima: np.ndarray | None = None,
              base: Sequence[float] | None = None, axes: tuple[int, int] = (0, 1), tol: float = 0.05,
              schedule: Mapping[str, Any] | None = None) -> BasinMap:
    """Which minimum each start of a grid x grid reaches, all starts stepped together."""
    x0, x1, y0, y1 = (float(v) for v in window)
    xs, ys = np.linspace(x0, x1, grid), np.linspace(y0, y1, grid)
    gx, gy = np.meshgrid(xs, ys)  # rows: y
    p = objective.n_params
    basept = np.zeros(p) if base is None else np.asarray(base, dtype=np.float64)
    starts = np.tile(basept, (grid * grid, 1))
    starts[:, axes[0]], starts[:, axes[1]] = gx.ravel(), gy.ravel()
    lr = float(hyper.get("lr", get_optimizer(optimizer).defaults["lr"]))
    res = step_batch(objective, [(optimizer, [dict(hyper)] * len(starts), np.full(len(starts), lr))], starts,
                     steps, schedule)
    ends, diverged = res.params, res.diverged_at >= 0
    scale = float(np.hypot(x1 - x0, y1 - y0))
    if minima is None or len(minima) == 0:
        live = ~diverged & np.isfinite(res.grad_norm)
        gref = float(np.max(res.grad_norm[live])) if live.any() else 1.0
        settled = live & (res.grad_norm <= 1e-3 * max(1.0, gref))
        minima = cluster_points(ends[settled], tol * scale)
    minima = np.asarray(minima, dtype=np.float64).reshape(-1, p)
    labels = np.full(ends.shape[0], NONE, dtype=np.int64)
    if len(minima):
        d = np.linalg.norm(ends[:, None, :] - minima[None, :, :], axis=2)
        k = np.argmin(d, axis=1)
        labels = np.where(d[np.arange(len(k)), k] <= tol * scale, k, NONE)
    labels[diverged] = DIVERGED
    return BasinMap(labels.reshape(grid, grid), xs, ys, minima, axes, res.loss.reshape(grid, grid).copy())


def cluster_points(points: np.ndarray, radius: float) -> np.ndarray:
    """Greedy clusters of points (each within radius of its cluster's first point), biggest first."""
    pts = np.asarray(points, dtype=np.float64)
    centers: list[np.ndarray] = []
    counts: list[int] = []
    left = pts
    while len(left):
        c = left[0]
        near = np.linalg.norm(left - c, axis=1) <= radius
        centers.append(left[near].mean(axis=0))
        counts.append(int(near.sum()))
        left = left[~near]
    order = np.argsort(counts)[::-1]
    return np.array([centers[i] for i in order]).reshape(-1, pts.shape[1] if pts.ndim == 2 else 0)
