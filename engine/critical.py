"""What kind of point is this? Gradient, Hessian and its eigen-decomposition at a point.

Near a point t', L(t) ~ L(t') + (t - t')^T g + 1/2 (t - t')^T H (t - t'). At a
critical point (g = 0) the signs of H's eigenvalues decide: all positive, a
local minimum; all negative, a local maximum; both signs, a saddle point;
some zero, the second-order test cannot tell (degenerate).

Tolerances scale with the surface so that units do not change the verdict:
the gradient counts as zero when ``|g| <= GRAD_RTOL * max(1, |L|, |H|_2)`` and
an eigenvalue as zero when ``|lambda| <= EIG_RTOL * max(1, |H|_2)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optsim.engine.objective import Objective

GRAD_RTOL = 1e-6
EIG_RTOL = 1e-8
KINDS = ("local minimum", "local maximum", "saddle point", "degenerate", "not critical")


@dataclass(frozen=True)
class PointReport:
    point: np.ndarray
    loss: float
    grad: np.ndarray
    hessian: np.ndarray
    eigenvalues: np.ndarray  # ascending
    eigenvectors: np.ndarray  # columns, matching eigenvalues
    kind: str
    escape_direction: np.ndarray | None  # unit eigenvector of the most negative eigenvalue
    grad_tol: float
    eig_tol: float

    def to_json(self) -> dict:
        return {
            "point": self.point.tolist(), "loss": self.loss, "grad": self.grad.tolist(),
            "hessian": self.hessian.tolist(), "eigenvalues": self.eigenvalues.tolist(),
            "eigenvectors": self.eigenvectors.T.tolist(), "kind": self.kind,
            "escape_direction": None if self.escape_direction is None else self.escape_direction.tolist(),
            "grad_tol": self.grad_tol, "eig_tol": self.eig_tol,
        }


def classify(grad_norm: float, eigenvalues: np.ndarray, grad_tol: float, eig_tol: float) -> str:
    """The kind of a point from its gradient norm and Hessian eigenvalues (ascending)."""
    if grad_norm > grad_tol:
        return "not critical"
    lo, hi = eigenvalues[0], eigenvalues[-1]
    if lo > eig_tol:
        return "local minimum"
    if hi < -eig_tol:
        return "local maximum"
    if lo < -eig_tol and hi > eig_tol:
        return "saddle point"
    return "degenerate"


def analyze_point(objective: Objective, point: np.ndarray) -> PointReport:
    """The full second-order report at one point."""
    x = np.asarray(point, dtype=np.float64).reshape(1, -1)
    loss, grad = objective.value_and_gradient(x)
    hess = objective.hessian(x)[0]
    hess = 0.5 * (hess + hess.T)
    evals, evecs = np.linalg.eigh(hess)
    scale_h = float(np.max(np.abs(evals))) if evals.size else 0.0
    grad_tol = GRAD_RTOL * max(1.0, abs(float(loss[0])), scale_h)
    eig_tol = EIG_RTOL * max(1.0, scale_h)
    kind = classify(float(np.linalg.norm(grad[0])), evals, grad_tol, eig_tol)
    escape = None
    if evals[0] < -eig_tol:
        v = evecs[:, 0]
        first = np.flatnonzero(np.abs(v) > 1e-12)
        escape = v * np.sign(v[first[0]]) if first.size else v  # sign fixed: first nonzero entry positive
    return PointReport(x[0], float(loss[0]), grad[0], hess, evals, evecs, kind, escape, grad_tol, eig_tol)
