"""The mechanism views (issue 11): the gradient norm of every run, the selected run's sigma and
lr/sigma per coordinate, and the arrows at its point (the raw step -lr g beside the step the
optimizer takes; the momentum beside -g). Drawing data only: every number comes from the
engine (its history, engine.optim.inspect, Simulation.next_update); nothing is computed here
but where to put it."""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ...engine.analysis.critical import gradient_is_zero, gradient_tolerance
from ...engine.optim import inspect
from ...engine.watch.session import Session
from ..render.curve_grid import CurveSeries
from .curves import _with_now
from .plane import PlotPlane

MECHANISM_VIEWS = ("gradient_norm", "sigma", "momentum", "curvature", "data", "clock")
VIEW_OF_SHOW = {"batch_lab": "clock"}
"""A scripted `show = "batch_lab"` turns on the clock view: the batch lab's clocks while playing."""
"""The views a key (or a scripted `show`) turns on: curve plots and arrows on the contour plot."""

MAX_SIGMA_COORDINATES = 4
"""The sigma plot draws at most this many coordinates (the plotted ones first)."""


class StepArrow(NamedTuple):
    """A vector of parameter space drawn from a run's point: kind picks the colour."""

    vector: np.ndarray
    kind: str  # "gradient", "momentum", "raw" or "step"
    label: str
    scale: float = 1.0  # drawn length relative to the longest of its kind (raw and step share units)


def gradient_norm_curves(session: Session, visible: Callable[[int], bool]) -> list[CurveSeries]:
    """|g| of every visible run over its steps: the simulation's own gradient-norm history."""
    sim = session.sim
    ticks, norms = sim.history.series("grad_norm")
    active = sim.active
    out = []
    for r in range(sim.n_runs):
        if visible(r):
            xs, ys = _with_now(ticks, norms[:, r], sim.tick if active[r] else None, sim.grad_norm[r])
            out.append(CurveSeries(sim.names[r], r, xs, ys))
    return out


def sigma_curves(session: Session, run: int, coordinates: tuple[int, ...]) -> list[CurveSeries]:
    """The run's sigma per coordinate (solid) and lr/sigma (dashed), from the history; the
    series' `run` is the coordinate's position (palette.COORDINATE_COLORS)."""
    sim = session.sim
    ticks, sigmas = sim.history.sigma_series(run)
    rates = inspect.effective_rate(sim.history.series("lr")[1][:, run], sigmas)
    names = session.objective.params
    out = []
    for k, j in enumerate(coordinates[:MAX_SIGMA_COORDINATES]):
        out.append(CurveSeries(f"sigma {names[j]}", k, ticks, sigmas[:, j]))
        out.append(CurveSeries(f"lr/sigma {names[j]}", k, ticks, rates[:, j], dashed=True))
    return out


def sigma_now(session: Session, run: int, coordinates: tuple[int, ...]) -> list[tuple[str, float, float]]:
    """(coordinate name, sigma, lr/sigma) of the run now, as the sigma plot's legend reads them;
    empty when its optimizer divides by nothing."""
    sim = session.sim
    sigmas = sim.optimizer_quantity(inspect.sigma)[run]
    if not np.isfinite(sigmas).any():
        return []
    rates = inspect.effective_rate(sim.last_lr[run:run + 1], sigmas[None])[0]
    names = session.objective.params
    return [(names[j], float(sigmas[j]), float(rates[j])) for j in coordinates[:MAX_SIGMA_COORDINATES]]


def sigma_coordinates(plane: PlotPlane, n_params: int) -> tuple[int, ...]:
    """Which coordinates the sigma plot shows: the plotted ones first, then the rest."""
    first = tuple(plane.axes) if not plane.projected else ()
    return first + tuple(j for j in range(n_params) if j not in first)


def step_arrows(session: Session, run: int, views: frozenset[str]) -> list[StepArrow]:
    """The vectors drawn at the run's point: with "sigma", the raw step -lr g beside the step
    the optimizer will take (drawn in proportion); with "momentum", -g beside the momentum
    (one length on screen: they differ in units). Labels carry the lengths. Where the gradient
    counts as zero (the engine's rule), -g has no direction: only the labels are drawn, "≈ 0"
    first and the length after (a label cut to fit the plot keeps what it says);
    so are a step and a momentum no longer than lr times that tolerance."""
    sim = session.sim
    grad = sim.grad[run]
    tol = gradient_tolerance(float(sim.loss[run]))
    lr = float(session.next_lr()[run])
    flat = gradient_is_zero(float(np.linalg.norm(grad)), tol)
    out: list[StepArrow] = []
    if "sigma" in views:
        raw, step = -lr * grad, sim.next_update(run)
        raw_scale, step_scale = _in_proportion(float(np.linalg.norm(raw)), float(np.linalg.norm(step)))
        still = gradient_is_zero(float(np.linalg.norm(step)), abs(lr) * tol)
        if flat and still:
            out.append(_zero(raw, "raw", f"-lr·g, step ≈ 0 ({_length(raw)}, {_length(step)})"))
        else:
            out.append(_zero(raw, "raw", f"-lr·g ≈ 0 ({_length(raw)})") if flat
                       else StepArrow(raw, "raw", f"-lr·g {_length(raw)}", raw_scale))
            out.append(_zero(step, "step", f"step ≈ 0 ({_length(step)})") if still
                       else StepArrow(step, "step", f"step {_length(step)}", step_scale))
    if "momentum" in views:
        if "sigma" not in views:  # else -lr·g already points along -g
            out.append(_zero(grad, "gradient", f"-g ≈ 0 ({_length(grad)})") if flat
                       else StepArrow(-grad, "gradient", f"-g {_length(grad)}"))
        m = sim.optimizer_quantity(inspect.momentum)[run]  # the movement: parameter units, like a step
        if np.isfinite(m).all() and np.any(m):
            out.append(_zero(m, "momentum", f"momentum ≈ 0 ({_length(m)})")
                       if gradient_is_zero(float(np.linalg.norm(m)), abs(lr) * tol)
                       else StepArrow(m, "momentum", f"momentum {_length(m)}"))
    return out


def _zero(vector: np.ndarray, kind: str, label: str) -> StepArrow:
    """A vector too short to have a direction (the engine's gradient-zero rule): only its label
    is drawn, at the run's point; an arrow would point along rounding noise."""
    return StepArrow(np.zeros_like(vector), kind, label, 0.0)


def _in_proportion(a: float, b: float) -> tuple[float, float]:
    """Drawn lengths of two vectors of one unit: the longer at full length, the shorter in
    proportion (at least a tenth, so that it stays visible)."""
    top = max(a, b)
    if not np.isfinite(top) or top <= 0:
        return 1.0, 1.0
    return max(0.1, a / top), max(0.1, b / top)


def _length(v: np.ndarray) -> str:
    return f"{float(np.linalg.norm(v)):.2g}"
