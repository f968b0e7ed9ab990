"""The loss a simulation descends: a compiled formula, optionally averaged over data.

Without data the formula is the loss. With data it is a per-sample loss and the
loss is the mean over the training rows; a mini-batch gradient is a weighted
mean over each run's batch. A test loss exists when the scenario has test rows
or a test shift (the training loss evaluated at ``theta - shift``: the
lecture's picture of a test surface slightly displaced from the training one).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .data import Dataset
from ..formula.compile import CompiledFormula


CHUNK_VALUES = 1 << 20
"""Points x rows per evaluation of a data loss: bounds the formula's temporaries (8 MB each)
whatever the number of points (a contour grid, a thousand runs) and of rows (200 000)."""


def _in_chunks(points: np.ndarray, per_point: int, compute: Callable[[np.ndarray], tuple]) -> tuple:
    """``compute`` over slices of ``points`` small enough that slice x per_point <= CHUNK_VALUES,
    its results concatenated along the first axis (one call when everything fits)."""
    step = max(1, CHUNK_VALUES // max(1, per_point))
    if len(points) <= step:
        return compute(points)
    parts = [compute(points[i : i + step]) for i in range(0, len(points), step)]
    return tuple(np.concatenate(arrays) for arrays in zip(*parts))


@dataclass(frozen=True)
class Objective:
    """Exact loss, gradient and Hessian for arrays of points of shape (n, n_params)."""

    formula: CompiledFormula
    data: Dataset | None = None
    test_shift: np.ndarray | None = None  # (n_params,) offset of the test surface

    @property
    def params(self) -> tuple[str, ...]:
        return self.formula.params

    @property
    def n_params(self) -> int:
        return len(self.formula.params)

    @property
    def has_test(self) -> bool:
        return self.test_shift is not None or (self.data is not None and self.data.test is not None)

    def loss(self, points: np.ndarray) -> np.ndarray:
        """Full-data loss at each point: (n,)."""
        if self.data is None:
            return self.formula.value(points)
        return self._mean(points, self.data.train, 1, lambda q, d: (self.formula.value(q, d).mean(axis=1),))[0]

    def value_and_gradient(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Full-data loss (n,) and exact gradient (n, p), sharing the work."""
        if self.data is None:
            return self.formula.value_and_gradient(points)
        def both(q: np.ndarray, d: dict) -> tuple:
            v, g = self.formula.value_and_gradient(q, d)
            return v.mean(axis=1), g.mean(axis=1)

        return self._mean(points, self.data.train, 1 + self.n_params, both)

    def gradient(self, points: np.ndarray) -> np.ndarray:
        """Exact full-data gradient: (n, p)."""
        if self.data is None:
            return self.formula.gradient(points)
        return self._mean(points, self.data.train, self.n_params,
                          lambda q, d: (self.formula.gradient(q, d).mean(axis=1),))[0]

    def hessian(self, points: np.ndarray) -> np.ndarray:
        """Exact full-data Hessian: (n, p, p)."""
        if self.data is None:
            return self.formula.hessian(points)
        return self._mean(points, self.data.train, self.n_params ** 2,
                          lambda q, d: (self.formula.hessian(q, d).mean(axis=1),))[0]

    def _mean(self, points: np.ndarray, rows: dict[str, np.ndarray], width: int,
              compute: Callable[[np.ndarray, dict], tuple]) -> tuple:
        """Means over ``rows`` of ``width`` values per (point, row), computed in bounded chunks
        (of points, and of rows too when one point's rows alone exceed the budget)."""
        n_rows = len(next(iter(rows.values()))) if rows else 1
        row_step = max(1, CHUNK_VALUES // max(1, width))
        if n_rows <= row_step:
            return _in_chunks(points, n_rows * width, lambda q: compute(q, rows))

        def over_rows(q: np.ndarray) -> tuple:
            total: list[np.ndarray] = []
            for i in range(0, n_rows, row_step):
                part = compute(q, {c: a[i : i + row_step] for c, a in rows.items()})
                share = min(row_step, n_rows - i) / n_rows
                total = [p * share for p in part] if not total else [t + p * share for t, p in zip(total, part)]
            return tuple(total)

        return _in_chunks(points, row_step * width, over_rows)

    def batch_gradient(self, points: np.ndarray, index: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """Mini-batch gradient of each point: rows ``index`` (n, b) weighted by ``weight`` (n, b)."""
        assert self.data is not None, "batch gradients need data"
        train = self.data.train

        def part(rows: np.ndarray) -> tuple:
            cols = {c: a[index[rows]] for c, a in train.items()}
            g = self.formula.gradient(points[rows], cols)  # (n, b, p)
            return (np.einsum("nbp,nb->np", g, weight[rows]),)

        return _in_chunks(np.arange(len(points)), index.shape[1] * self.n_params, part)[0]

    def test_loss(self, points: np.ndarray) -> np.ndarray | None:
        """Test loss at each point, or None when the scenario defines none."""
        if not self.has_test:
            return None
        shifted = points if self.test_shift is None else points - self.test_shift
        if self.data is not None and self.data.test is not None:
            return self._mean(shifted, self.data.test, 1, lambda q, d: (self.formula.value(q, d).mean(axis=1),))[0]
        return self.loss(shifted)
