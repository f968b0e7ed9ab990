"""Curvature against the step: what decides whether a rate is stable (issue 11, item 4).

On a quadratic with Hessian H, gradient descent multiplies the error along each eigenvector
q_i of H by (1 - lr lambda_i) per step: it converges only while lr lambda_max < 2, and the
direction of smallest curvature sets the pace (Distill, "Why Momentum Really Works"). Heavy
ball momentum beta stretches that limit to 2 (1 + beta). An adaptive method divides each
coordinate's step by its sigma, so its effective rate is the matrix D = diag(lr / sigma) and
what must stay below 2 is the largest eigenvalue of D^1/2 H D^1/2.

Pure functions of arrays: the Hessian and its eigenpairs at points, each run's lr x lambda_max
and the limit it is measured against, whether an objective is a quadratic (one Hessian
everywhere) and, for a quadratic, the error along each eigendirection over a trajectory.
"""
from __future__ import annotations

from typing import Any, Mapping, NamedTuple

import numpy as np

from ..core.objective import Objective

STABLE_LIMIT = 2.0
"""lr x lambda_max above this and gradient descent grows the error along the steepest direction."""

MOMENTUM_OPTIMIZERS = ("momentum_lecture", "sgd")
"""The optimizers whose momentum is the heavy ball (limit 2 (1 + beta)); torch's SGD only
without Nesterov and dampening."""


class Spectrum(NamedTuple):
    """The Hessian's eigenpairs at n points: eigenvalues (n, p) ascending, eigenvectors
    (n, p, p) as columns, and the condition number |lambda|max / |lambda|min (n,) (inf when
    the Hessian is singular)."""

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    condition: np.ndarray


class Quadratic(NamedTuple):
    """A quadratic objective: its one Hessian's eigenpairs and its minimiser."""

    eigenvalues: np.ndarray  # (p,) ascending
    eigenvectors: np.ndarray  # (p, p) columns, each with its largest entry positive
    minimum: np.ndarray  # (p,)


def spectrum(hessians: np.ndarray) -> Spectrum:
    """Eigenpairs of symmetric Hessians (n, p, p); each eigenvector's sign fixed (largest entry
    positive) so that it does not flip between frames."""
    with np.errstate(all="ignore"):
        sym = 0.5 * (hessians + np.swapaxes(hessians, -1, -2))
        values, vectors = np.linalg.eigh(np.nan_to_num(sym))
        big = np.take_along_axis(vectors, np.abs(vectors).argmax(axis=1)[:, None, :], axis=1)
        vectors = vectors * np.where(big < 0, -1.0, 1.0)
        size = np.abs(values)
        condition = np.where(size.min(axis=1) > 0, size.max(axis=1) / size.min(axis=1), np.inf)
    bad = ~np.isfinite(hessians).all(axis=(1, 2))
    values[bad], condition[bad] = np.nan, np.nan
    return Spectrum(values, vectors, condition)


def effective_rates(lr: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """Each run's rate per coordinate (n, p): lr / sigma where the optimizer divides by a sigma
    (a finite row), lr itself where it divides by nothing (an all-NaN row)."""
    lr = np.asarray(lr, dtype=float)[:, None]
    divides = np.isfinite(sigmas).any(axis=1, keepdims=True)
    with np.errstate(all="ignore"):
        adaptive = np.where(sigmas > 0, lr / sigmas, np.nan)
    return np.where(divides, adaptive, np.broadcast_to(lr, sigmas.shape))


def rate_times_curvature(hessians: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """lr x lambda_max per point (n,): the largest eigenvalue of D^1/2 H D^1/2 with D the
    diagonal of ``rates`` (n, p) (for one rate lr everywhere: lr x lambda_max(H)). NaN where
    a rate or the Hessian is undefined."""
    root = np.sqrt(np.where(rates > 0, rates, np.nan))
    scaled = hessians * root[:, :, None] * root[:, None, :]
    ok = np.isfinite(scaled).all(axis=(1, 2))
    out = np.full(len(hessians), np.nan)
    if ok.any():
        out[ok] = spectrum(scaled[ok]).eigenvalues[:, -1]
    return out


def stability_limit(optimizer: str, hyper: Mapping[str, Any]) -> float:
    """The largest stable lr x lambda on a quadratic: 2 (1 + beta) for heavy-ball momentum
    beta (the lecture's momentum; torch's SGD without Nesterov or dampening), 2 otherwise
    (gradient descent; for adaptive methods, their effective rate without their momentum)."""
    beta = float(hyper.get("momentum", 0.0) or 0.0)
    plain = not hyper.get("nesterov", False) and not float(hyper.get("dampening", 0.0) or 0.0)
    if optimizer in MOMENTUM_OPTIMIZERS and plain and 0.0 < beta < 1.0:
        return STABLE_LIMIT * (1.0 + beta)
    return STABLE_LIMIT


def quadratic(objective: Objective, probes: np.ndarray, rtol: float = 1e-9) -> Quadratic | None:
    """The objective as a quadratic if it is one: the same nonsingular Hessian at every probe
    point (n >= 2, spread out: the runs' starts and a point away from them) and no data
    (a data loss's Hessian depends on the rows only through the points, but stays off here:
    the error view is the deterministic picture). None otherwise."""
    if objective.data is not None or len(probes) < 2:
        return None
    points = np.vstack([probes, probes.mean(axis=0) + 1.0])
    hessians = objective.hessian(points)
    if not np.isfinite(hessians).all():
        return None
    scale = np.abs(hessians[0]).max()
    if scale == 0 or np.abs(hessians - hessians[0]).max() > rtol * scale:
        return None
    h = hessians[0]
    if abs(np.linalg.det(h)) <= 1e-12 * scale ** len(h):
        return None
    minimum = points[0] - np.linalg.solve(h, objective.gradient(points[:1])[0])
    found = spectrum(h[None])
    return Quadratic(found.eigenvalues[0], found.eigenvectors[0], minimum)


def eigen_errors(model: Quadratic, path: np.ndarray) -> np.ndarray:
    """The error w - w* along each eigenvector over a trajectory: (k, p), column i is
    q_i . (w_t - w*) (NaN rows stay NaN). Gradient descent multiplies column i by
    (1 - lr lambda_i) every step."""
    return (path - model.minimum) @ model.eigenvectors
