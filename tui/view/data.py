"""The data view (issue 11, item 5): the training and test points of a data-driven scenario and
each visible run's current prediction against the input (engine.analysis.prediction reads the
prediction off the loss formula). Drawing data only: points become NaN-separated series, each
one braille dot, so the curve widget draws a scatter with no new code."""

from __future__ import annotations

from typing import Callable

import numpy as np

from ...engine.analysis.prediction import DataPicture, predictions
from ...engine.watch.session import Session
from ..render.curve_grid import CurveSeries


def scatter(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points as a polyline broken after every point (NaN breaks a line): one dot each."""
    gap = np.full(len(xs), np.nan)
    px = np.column_stack([np.asarray(xs, dtype=float), gap]).ravel()[:-1]
    py = np.column_stack([np.asarray(ys, dtype=float), gap]).ravel()[:-1]
    return px, py


def data_curves(session: Session, found: DataPicture, visible: Callable[[int], bool]) -> list[CurveSeries]:
    """The training points (series run n_runs), the test points (n_runs + 1) and each visible
    run's prediction over the inputs' range (its own run index)."""
    sim = session.sim
    n = sim.n_runs
    out = [CurveSeries("train", n, *scatter(*found.train))]
    if found.test is not None:
        out.append(CurveSeries("test", n + 1, *scatter(*found.test)))
    shown = [r for r in range(n) if visible(r)]
    if shown:
        predicted = predictions(session.objective, found, sim.params[shown])
        out += [CurveSeries(sim.names[r], r, found.grid, predicted[k]) for k, r in enumerate(shown)]
    return out
