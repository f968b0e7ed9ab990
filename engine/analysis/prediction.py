"""What a data-driven run's model predicts (issue 11, item 5): the data view plots the training
and test points and each run's current prediction against the input.

A scenario gives only the per-sample loss, e.g. ``(y - (a*x + b))^2``, not the model. For a
squared error the loss is a quadratic in the target, ell(t) = A t^2 + B t + C with A > 0, and
the model's prediction is the target that makes it smallest, t* = -B / (2A). Three values of
the loss at targets -1, 0 and 1 give A and B exactly; a fourth (t = 2) checks the quadratic.
So the prediction is read off the loss formula itself, for any model inside a squared error.
Only one input column and one target (the last column) can be drawn as a curve.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core.objective import Objective

CURVE_POINTS = 160
"""Inputs at which the prediction curve is evaluated (a plot is at most ~150 braille dots wide)."""


class DataPicture(NamedTuple):
    """The columns drawn: input x and target y, the training and test rows, and the input
    range the prediction is drawn over (both sets' range)."""

    x: str
    y: str
    train: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray] | None
    grid: np.ndarray  # (CURVE_POINTS,) inputs of the prediction curve


def picture(objective: Objective) -> DataPicture | None:
    """The data as a picture: None without data, with other than two columns, or when the loss
    is not a quadratic in the target (no prediction to read)."""
    data = objective.data
    if data is None or len(data.columns) != 2:
        return None
    x, y = data.columns
    train = (data.train[x], data.train[y])
    test = None if data.test is None else (data.test[x], data.test[y])
    inputs = train[0] if test is None else np.concatenate([train[0], test[0]])
    lo, hi = float(np.min(inputs)), float(np.max(inputs))
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    grid = np.linspace(lo, hi, CURVE_POINTS) if hi > lo else np.array([lo])
    found = DataPicture(x, y, train, test, grid)
    probes = np.vstack([np.zeros(objective.n_params), np.linspace(0.5, 1.5, objective.n_params)])
    return found if _is_squared_error(objective, found, probes) else None


def predictions(objective: Objective, found: DataPicture, params: np.ndarray, xs: np.ndarray | None = None
                ) -> np.ndarray:
    """Each point's prediction at the inputs ``xs`` (default: the picture's grid): (n, m), the
    target minimising the per-sample loss. NaN where the loss is not convex in the target."""
    xs = found.grid if xs is None else np.asarray(xs, dtype=float)
    at = {t: _loss_at(objective, found, params, xs, t) for t in (-1.0, 0.0, 1.0)}
    a = 0.5 * (at[1.0] + at[-1.0]) - at[0.0]
    b = 0.5 * (at[1.0] - at[-1.0])
    with np.errstate(all="ignore"):
        return np.where(a > 0, -b / (2 * a), np.nan)


def _loss_at(objective: Objective, found: DataPicture, params: np.ndarray, xs: np.ndarray,
             target: float) -> np.ndarray:
    columns = {found.x: xs, found.y: np.full_like(xs, target)}
    with np.errstate(all="ignore"):
        return objective.formula.value(params, columns)


def _is_squared_error(objective: Objective, found: DataPicture, params: np.ndarray) -> bool:
    """The loss is (target - model)^2 times a constant at every probe point: a quadratic in the
    target (the value at 2 is what the quadratic through -1, 0, 1 says) whose leading
    coefficient is one positive number, whatever the parameters and the input. (A loss whose
    last column is not a target, such as (1 - (w1 - a)(w2 - b))^2, fails here.)"""
    xs = found.grid
    at = {t: _loss_at(objective, found, params, xs, t) for t in (-1.0, 0.0, 1.0, 2.0)}
    a = 0.5 * (at[1.0] + at[-1.0]) - at[0.0]
    b = 0.5 * (at[1.0] - at[-1.0])
    want = 4 * a + 2 * b + at[0.0]
    scale = np.maximum(1.0, np.abs(at[2.0]))
    if not (np.isfinite(a).all() and np.all(np.abs(at[2.0] - want) <= 1e-9 * scale)):
        return False
    return bool(a.flat[0] > 0 and np.allclose(a, a.flat[0], rtol=1e-9))
