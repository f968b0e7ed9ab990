"""The loss a simulation descends: a compiled formula, optionally averaged over data.

Without data the formula is the loss. With data it is a per-sample loss and the
loss is the mean over the training rows; a mini-batch gradient is a weighted
mean over each run's batch. A test loss exists when the scenario has test rows
or a test shift (the training loss evaluated at ``theta - shift``: the
lecture's picture of a test surface slightly displaced from the training one).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import Dataset
from ..formula.compile import CompiledFormula


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
        return self.formula.value(points, self.data.train).mean(axis=1)

    def value_and_gradient(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Full-data loss (n,) and exact gradient (n, p), sharing the work."""
        if self.data is None:
            return self.formula.value_and_gradient(points)
        v, g = self.formula.value_and_gradient(points, self.data.train)
        return v.mean(axis=1), g.mean(axis=1)

    def gradient(self, points: np.ndarray) -> np.ndarray:
        """Exact full-data gradient: (n, p)."""
        if self.data is None:
            return self.formula.gradient(points)
        return self.formula.gradient(points, self.data.train).mean(axis=1)

    def hessian(self, points: np.ndarray) -> np.ndarray:
        """Exact full-data Hessian: (n, p, p)."""
        if self.data is None:
            return self.formula.hessian(points)
        return self.formula.hessian(points, self.data.train).mean(axis=1)

    def batch_gradient(self, points: np.ndarray, index: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """Mini-batch gradient of each point: rows ``index`` (n, b) weighted by ``weight`` (n, b)."""
        assert self.data is not None, "batch gradients need data"
        cols = {c: a[index] for c, a in self.data.train.items()}
        g = self.formula.gradient(points, cols)  # (n, b, p)
        return np.einsum("nbp,nb->np", g, weight)

    def test_loss(self, points: np.ndarray) -> np.ndarray | None:
        """Test loss at each point, or None when the scenario defines none."""
        if not self.has_test:
            return None
        shifted = points if self.test_shift is None else points - self.test_shift
        if self.data is not None and self.data.test is not None:
            return self.formula.value(shifted, self.data.test).mean(axis=1)
        return self.loss(shifted)
