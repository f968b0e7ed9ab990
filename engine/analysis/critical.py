"""What kind of point is this? Gradient, Hessian and its eigen-decomposition at a point.

Near a point t', L(t) ~ L(t') + (t - t')^T g + 1/2 (t - t')^T H (t - t'). At a
critical point (g = 0) the signs of H's eigenvalues decide: all positive, a
local minimum; all negative, a local maximum; both signs, a saddle point;
some zero, the second-order test cannot tell (degenerate).

Tolerances scale with the surface so that units do not change the verdict:
the gradient counts as zero when ``|g| <= GRAD_RTOL * max(1, |L|, |H|_2)`` and
an eigenvalue as zero when ``|lambda| <= EIG_RTOL * max(1, |H|_2)``, or, at a
point whose small gradient is not exactly zero, when it is below twice the
change of the Hessian between here and the nearby critical point (H d = g):
an eigenvalue that small has no reliable sign.

Beyond the kind, the report gives
- the escape direction u (unit eigenvector of the most negative eigenvalue)
  and, for a few step sizes s, the loss change the second-order Taylor model
  predicts along it, s g.u + 1/2 s^2 lambda, next to the true change
  L(t' + s u) - L(t');
- the minimum ratio: the share of positive eigenvalues (1 at a minimum);
- an honest explanation. A degenerate point is still a *global* minimum when
  its loss equals a known lower bound of the loss (rule: the loss is within
  ``BOUND_RTOL * max(1, |L|)`` of the bound). Lower bounds come from
  engine.lower_bound (a formula built only of non-negative pieces is >= 0; a
  built-in surface's listed global minima; a ``[guide] lower_bound``). Along
  each flat (zero-eigenvalue) direction the loss is also probed both ways, so
  the report says whether it rises (a flat minimum), stays level, or falls (a
  higher-order saddle).
"""
from __future__ import annotations

import math

from dataclasses import dataclass, field
from typing import NamedTuple, Sequence

import numpy as np

from ..formula.lower_bound import LowerBound, formula_lower_bound, known_lower_bound
from ..core.objective import Objective
from ..text_format import listing, vector

__all__ = ["PointReport", "TaylorStep", "Probe", "LowerBound", "analyze_point", "classify", "tolerances",
           "gradient_is_zero", "gradient_tolerance", "model_critical_distance", "is_near", "NEAR_RTOL",
           "minimum_ratio", "taylor_along", "formula_lower_bound", "known_lower_bound", "KINDS"]

GRAD_RTOL = 1e-6
EIG_RTOL = 1e-8
NEAR_RTOL = 1e-2
"""The critical point of the local quadratic model is near when it lies within NEAR_RTOL *
max(1, |theta|). One rule for the point report ("not critical, near a saddle point") and the
run diagnosis' small-gradient statuses ("stuck at saddle", "converged"), so the side panel and
the run table never contradict each other about a run that has all but stopped."""
BOUND_RTOL = 1e-9
DEFAULT_ESCAPE_STEPS = (0.1, 0.5, 1.0)
KINDS = ("local minimum", "local maximum", "saddle point", "degenerate", "not critical", "not differentiable")


class TaylorStep(NamedTuple):
    """Loss change along the escape direction at step ``step``: the quadratic model's and the true one."""

    step: float
    predicted: float
    true: float


class Probe(NamedTuple):
    """The loss change at +-step along a flat (zero-eigenvalue) direction."""

    direction: np.ndarray
    step: float
    plus: float
    minus: float

    @property
    def shape(self) -> str:
        """'rises', 'falls' or 'level' (falls if either side drops)."""
        tol = 1e-12
        if min(self.plus, self.minus) < -tol:
            return "falls"
        if max(self.plus, self.minus) > tol:
            return "rises"
        return "level"


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
    minimum_ratio: float = float("nan")  # share of positive eigenvalues
    escape: tuple[TaylorStep, ...] = ()
    lower_bound: LowerBound | None = None
    at_lower_bound: bool = False
    probes: tuple[Probe, ...] = ()
    verdict: str = ""  # one line: the kind, qualified ("global minimum (degenerate)")
    explanation: str = ""
    params: tuple[str, ...] = field(default=())
    near_distance: float = float("nan")  # not critical: distance to the local quadratic model's critical point
    near_kind: str = ""  # not critical: the kind of that critical point when it is near (NEAR_RTOL)

    @property
    def grad_norm(self) -> float:
        return float(np.linalg.norm(self.grad))

    @property
    def gradient_zero(self) -> bool:
        """True where the gradient counts as zero by this report's own tolerance (the rule
        that makes a point critical): a -grad arrow there would point along rounding noise."""
        return gradient_is_zero(self.grad_norm, self.grad_tol)

    def to_json(self) -> dict:
        return {
            "point": self.point.tolist(), "loss": self.loss, "grad": self.grad.tolist(),
            "hessian": self.hessian.tolist(), "eigenvalues": self.eigenvalues.tolist(),
            "eigenvectors": self.eigenvectors.T.tolist(), "kind": self.kind,
            "escape_direction": None if self.escape_direction is None else self.escape_direction.tolist(),
            "grad_tol": self.grad_tol, "eig_tol": self.eig_tol,
            "minimum_ratio": self.minimum_ratio,
            "escape_taylor": [{"step": s.step, "predicted_change": s.predicted, "true_change": s.true}
                              for s in self.escape],
            "lower_bound": None if self.lower_bound is None else self.lower_bound.value,
            "lower_bound_reason": None if self.lower_bound is None else self.lower_bound.reason,
            "at_lower_bound": self.at_lower_bound,
            "flat_probes": [{"direction": p.direction.tolist(), "step": p.step, "plus_change": p.plus,
                             "minus_change": p.minus, "shape": p.shape} for p in self.probes],
            "verdict": self.verdict, "explanation": self.explanation,
            "near_critical_distance": self.near_distance if np.isfinite(self.near_distance) else None,
            "near_kind": self.near_kind or None,
        }


def gradient_is_zero(grad_norm: float, grad_tol: float) -> bool:
    """The gradient-zero rule: |g| <= grad_tol (see tolerances()); a NaN gradient is not zero."""
    return bool(grad_norm <= grad_tol)


def gradient_tolerance(loss: float) -> float:
    """The gradient-zero tolerance at a point before its Hessian is known (tolerances() without the
    Hessian's scale, so never looser): what the mechanism arrows use, at every frame, to decide
    whether -g has a direction at all or only rounding noise."""
    return GRAD_RTOL * max(1.0, abs(loss)) if math.isfinite(loss) else GRAD_RTOL


def classify(grad_norm: float, eigenvalues: np.ndarray, grad_tol: float, eig_tol: float) -> str:
    """The kind of a point from its gradient norm and Hessian eigenvalues (ascending)."""
    if not (np.isfinite(grad_norm) and np.isfinite(eigenvalues).all()):
        return "not differentiable"  # the derivatives are NaN or infinite here (a cone's tip, a kink)
    if not gradient_is_zero(grad_norm, grad_tol):
        return "not critical"
    lo, hi = eigenvalues[0], eigenvalues[-1]
    if lo > eig_tol:
        return "local minimum"
    if hi < -eig_tol:
        return "local maximum"
    if lo < -eig_tol and hi > eig_tol:
        return "saddle point"
    return "degenerate"


def model_critical_distance(grad: np.ndarray, evals: np.ndarray, evecs: np.ndarray, eig_tol: np.ndarray,
                            flat_grad_tol: np.ndarray) -> np.ndarray:
    """Distance to the critical point of the local quadratic model, |H^+ g| with |lambda| (so a
    saddle's or maximum's critical point counts too), for rows of points: grad (..., p), evals
    (..., p), evecs (..., p, p) columns, tolerances (...). Along a flat direction (|lambda| <=
    eig_tol) the model has a critical point only if g's component there is within flat_grad_tol
    (it adds 0 then), else none (inf)."""
    with np.errstate(all="ignore"):
        comps = np.einsum("...pk,...p->...k", evecs, grad)
        flat = np.abs(evals) <= np.asarray(eig_tol)[..., None]
        small = np.abs(comps) <= np.asarray(flat_grad_tol)[..., None]
        dk = np.where(flat, np.where(small, 0.0, np.inf), comps / np.abs(evals))
        return np.sqrt(np.sum(dk * dk, axis=-1))


def is_near(distance: np.ndarray, point_norm: np.ndarray) -> np.ndarray:
    """The nearness rule (NEAR_RTOL) for a distance from model_critical_distance."""
    return np.asarray(distance) <= NEAR_RTOL * np.maximum(1.0, np.asarray(point_norm))


def _nearby(kind: str, point: np.ndarray, grad: np.ndarray, evals: np.ndarray, evecs: np.ndarray,
            grad_tol: float, eig_tol: float) -> tuple[float, str]:
    """(distance, kind) of the local quadratic model's critical point, for a point that is not
    critical; the kind only when it is near (the Hessian's signs decide it, as at a critical point)."""
    if kind != "not critical":
        return float("nan"), ""
    d = float(model_critical_distance(grad, evals, evecs, eig_tol, grad_tol))
    if not is_near(d, float(np.linalg.norm(point))):
        return d, ""
    return d, classify(0.0, evals, grad_tol, eig_tol)


def tolerances(loss: float, eigenvalues: np.ndarray) -> tuple[float, float]:
    """(grad_tol, eig_tol) at a point, scaled by its loss and Hessian size."""
    scale_h = float(np.max(np.abs(eigenvalues))) if eigenvalues.size else 0.0
    return GRAD_RTOL * max(1.0, abs(loss), scale_h), EIG_RTOL * max(1.0, scale_h)


def _nearby_hessian_change(objective: Objective, point: np.ndarray, grad: np.ndarray, hess: np.ndarray) -> float:
    """Twice how much the Hessian changes between here and the nearby critical point.

    A gradient small enough to count as zero still says the true critical point
    is a distance delta away (H delta = g). An eigenvalue smaller than the
    Hessian's change over that distance has no reliable sign: 1e-7 off the
    lecture's valley of minima, an eigenvalue of -4e-7 is such noise, not a saddle.
    """
    delta = np.linalg.lstsq(hess, grad, rcond=None)[0]
    if not np.all(np.isfinite(delta)):
        return 0.0
    other = objective.hessian((point - delta)[None])[0]
    change = float(np.linalg.norm(0.5 * (other + other.T) - hess, 2))
    return 2.0 * change if np.isfinite(change) else 0.0


def _fixed_sign(v: np.ndarray) -> np.ndarray:
    """The vector with its first nonzero entry positive (eigenvectors have no sign of their own)."""
    first = np.flatnonzero(np.abs(v) > 1e-12)
    return v * np.sign(v[first[0]]) if first.size else v


def minimum_ratio(eigenvalues: np.ndarray, eig_tol: float) -> float:
    """Share of the Hessian's eigenvalues that are positive (beyond eig_tol): 1 at a strict minimum."""
    return float(np.mean(eigenvalues > eig_tol)) if eigenvalues.size else float("nan")


def analyze_point(objective: Objective, point: np.ndarray, lower_bound: LowerBound | None = None,
                  escape_steps: Sequence[float] = DEFAULT_ESCAPE_STEPS,
                  probe_step: float | None = None) -> PointReport:
    """The full second-order report at one point.

    ``lower_bound`` (see :func:`known_lower_bound`) lets a degenerate point be
    recognised as a global minimum; ``escape_steps`` are the step sizes of the
    Taylor-versus-true table; ``probe_step`` (default: the largest escape step)
    is how far flat directions are probed.
    """
    x = np.asarray(point, dtype=np.float64).reshape(1, -1)
    loss_a, grad_a = objective.value_and_gradient(x)
    loss, grad = float(loss_a[0]), grad_a[0]
    hess = objective.hessian(x)[0]
    hess = 0.5 * (hess + hess.T)
    if np.isfinite(hess).all():
        evals, evecs = np.linalg.eigh(hess)
    else:
        evals, evecs = np.full(hess.shape[0], np.nan), np.full(hess.shape, np.nan)
    grad_tol, eig_tol = tolerances(loss, evals)
    gnorm = float(np.linalg.norm(grad))
    if 0.0 < gnorm <= grad_tol:
        eig_tol = max(eig_tol, _nearby_hessian_change(objective, x[0], grad, hess))
    kind = classify(gnorm, evals, grad_tol, eig_tol)
    escape = None
    table: tuple[TaylorStep, ...] = ()
    if evals[0] < -eig_tol:
        escape = _fixed_sign(evecs[:, 0])
        table = taylor_along(objective, x[0], loss, grad, float(evals[0]), escape, escape_steps)
    probes: tuple[Probe, ...] = ()
    if kind == "degenerate":
        step = float(probe_step if probe_step is not None else max(escape_steps))
        flat = [k for k in range(evals.size) if abs(evals[k]) <= eig_tol]
        probes = tuple(_probe(objective, x[0], loss, _fixed_sign(evecs[:, k]), step) for k in flat)
    at_bound = False
    if lower_bound is not None and np.isfinite(loss):
        at_bound = abs(loss - lower_bound.value) <= BOUND_RTOL * max(1.0, abs(loss), abs(lower_bound.value))
    ratio = minimum_ratio(evals, eig_tol)
    verdict, text = _explain(kind, loss, grad, evals, eig_tol, escape, table, lower_bound, at_bound, probes,
                             ratio, objective.params)
    near_distance, near_kind = _nearby(kind, x[0], grad, evals, evecs, grad_tol, eig_tol)
    if near_kind:
        verdict = f"not critical, near a {near_kind}"
        text += (f" The local quadratic model's critical point is {near_distance:.2g} away, within "
                 f"{NEAR_RTOL:g} max(1, |theta|): a {near_kind}. A run here has all but stopped next to it.")
    return PointReport(x[0], loss, grad, hess, evals, evecs, kind, escape, grad_tol, eig_tol, ratio, table,
                       lower_bound, at_bound, probes, verdict, text, tuple(objective.params), near_distance,
                       near_kind)


def taylor_along(objective: Objective, origin: np.ndarray, loss: float, grad: np.ndarray, curvature: float,
                 direction: np.ndarray, steps: Sequence[float]) -> tuple[TaylorStep, ...]:
    """Predicted (s g.u + 1/2 s^2 lambda) and true loss change at each step s along the unit vector u."""
    s = np.asarray([float(v) for v in steps], dtype=np.float64)
    if s.size == 0:
        return ()
    pts = origin[None, :] + s[:, None] * direction[None, :]
    with np.errstate(all="ignore"):
        true = objective.loss(pts) - loss
    pred = s * float(grad @ direction) + 0.5 * s * s * curvature
    return tuple(TaylorStep(float(a), float(b), float(c)) for a, b, c in zip(s, pred, true))


def _probe(objective: Objective, origin: np.ndarray, loss: float, v: np.ndarray, step: float) -> Probe:
    pts = np.stack([origin + step * v, origin - step * v])
    with np.errstate(all="ignore"):
        vals = objective.loss(pts) - loss
    return Probe(v, step, float(vals[0]), float(vals[1]))


def _eigs(evals: np.ndarray, limit: int = 6) -> str:
    return listing(evals, limit=limit, more=f", ... ({evals.size} in all)")


def _explain(kind: str, loss: float, grad: np.ndarray, evals: np.ndarray, eig_tol: float,
             escape: np.ndarray | None, table: tuple[TaylorStep, ...], bound: LowerBound | None, at_bound: bool,
             probes: tuple[Probe, ...], ratio: float, names: Sequence[str]) -> tuple[str, str]:
    """(verdict, explanation): the lecture's reading of the numbers."""
    ev = _eigs(evals)
    n_neg = int(np.sum(evals < -eig_tol))
    parts: list[str] = []
    if kind == "not differentiable":
        verdict = "not differentiable"
        parts.append(f"The loss is not differentiable here: its gradient is {vector(grad)} (not finite), as at "
                     "the tip of a cone like sqrt(x^2 + y^2). Neither g nor H describes the point, so no "
                     "critical-point test applies; probe the loss nearby instead.")
    elif kind == "not critical":
        verdict = "not critical"
        parts.append(f"The gradient is not zero (|g| = {np.linalg.norm(grad):.3g}), so this is no critical "
                     f"point: gradient descent moves on along -g = {vector(-grad)}.")
    elif kind == "local minimum":
        verdict = "global minimum" if at_bound else "local minimum"
        parts.append(f"g = 0 and every eigenvalue of H is positive ({ev}): the loss rises in every "
                     "direction, a local minimum.")
    elif kind == "local maximum":
        verdict = "local maximum"
        parts.append(f"g = 0 and every eigenvalue of H is negative ({ev}): the loss falls in every direction.")
    elif kind == "saddle point":
        verdict = "saddle point"
        parts.append(f"g = 0 but H has eigenvalues of both signs ({ev}): a saddle point. Training stalls "
                     "here, yet moving along an eigenvector of a negative eigenvalue lowers the loss, "
                     "L(t' + u) ~ L(t') + 1/2 lambda |u|^2.")
    else:
        flat = int(np.sum(np.abs(evals) <= eig_tol))
        shapes = {p.shape for p in probes}
        if at_bound:
            verdict = "global minimum (degenerate)"
        elif n_neg:
            verdict = "saddle point (degenerate)"
        elif "falls" in shapes:
            verdict = "higher-order saddle (degenerate)"
        else:
            verdict = "degenerate"
        parts.append(f"g = 0 and H has {flat} zero eigenvalue{'s' if flat != 1 else ''} ({ev}): along "
                     "a flat direction the second-order Taylor model is level, so the Hessian alone cannot "
                     "tell a minimum from a saddle here (degenerate).")
    if kind != "not critical" and bound is not None and at_bound:
        parts.append(f"Still a global minimum: the loss {loss:.6g} equals its lower bound {bound.value:.6g} "
                     f"({bound.reason}), so no point anywhere is lower.")
    elif kind in ("local minimum", "degenerate") and bound is not None:
        parts.append(f"The loss {loss:.6g} is above the known lower bound {bound.value:.6g} ({bound.reason}), "
                     "so a lower point may exist elsewhere.")
    for p in probes:
        parts.append(f"Probing the flat direction {vector(p.direction)} by +-{p.step:g}: the loss changes by "
                     f"{p.plus:.3g} and {p.minus:.3g} ({p.shape}"
                     + (", from terms beyond second order)." if p.shape != "level" else ")."))
    if escape is not None and table:
        rows = "; ".join(f"s = {t.step:g}: model {t.predicted:.4g}, true {t.true:.4g}" for t in table)
        parts.append(f"Escape along {vector(escape)} (eigenvalue {evals[0]:.3g}). Loss change predicted by "
                     f"the second-order model next to the true change: {rows}.")
    if evals.size > 2:
        parts.append(f"Minimum ratio {ratio:.2f} ({int(round(ratio * evals.size))} of {evals.size} "
                     "eigenvalues positive).")
    return verdict, " ".join(parts)
