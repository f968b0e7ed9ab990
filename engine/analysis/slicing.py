"""2-D slices of a loss with more than two parameters, for the contour plot.

A slice is a plane through an origin (usually the current point) spanned by
two directions d1, d2 in parameter space: f(a, b) = L(origin + a d1 + b d2).
Three kinds, and the slice says which it is (``Slice.describe()``):

- ``params``: two chosen parameters; the others stay fixed at the origin.
  Coordinates are then the parameters' own values (d1, d2 are unit axes and
  the origin has those two entries zeroed), so the plot's axes read as
  parameter values.
- ``random``: two random directions, filter-normalized as in Li et al. 2018
  ("Visualizing the Loss Landscape of Neural Nets"): each group of
  parameters ("filter") of a direction is rescaled to the norm of the same
  group of the origin, so that each weight moves in proportion to its size.
  Groups default to one parameter each; a group whose weights are all zero
  keeps its random direction scaled to the mean group norm (so the slice is
  never degenerate). Each direction is then scaled to unit length, so a
  coordinate is a distance in parameter space from the origin: with the
  origin's own norm as the unit, a run started near zero (|theta| 0.002) put
  the other runs' paths at +-500 "units" that meant nothing to a reader.
- ``pca``: the top two principal directions of a trajectory, centred on its
  last point (Li et al.'s way to see the path the optimizer took); the slice
  reports the share of the trajectory's variance they explain. They are unit
  vectors: coordinates are distances from that point too.

``Slice.func(points2d (n, 2)) -> (n,)`` is what the contour plot samples;
``Slice.project(trajectory (k, p)) -> (k, 2)`` gives a trajectory's
coordinates in the plane (least squares; ``residual`` says how far off the
plane the points are).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

SLICE_KINDS = ("params", "random", "pca")


@dataclass(frozen=True)
class Slice:
    kind: str
    origin: np.ndarray  # (p,)
    d1: np.ndarray  # (p,)
    d2: np.ndarray  # (p,)
    labels: tuple[str, str]  # axis names
    loss: Callable[[np.ndarray], np.ndarray]  # full loss on (n, p)
    note: str = ""  # e.g. explained variance

    def points(self, ab: np.ndarray) -> np.ndarray:
        """Parameter-space points (n, p) of plane coordinates (n, 2)."""
        ab = np.asarray(ab, dtype=np.float64).reshape(-1, 2)
        return self.origin[None, :] + ab[:, :1] * self.d1[None, :] + ab[:, 1:] * self.d2[None, :]

    def func(self, ab: np.ndarray) -> np.ndarray:
        """The loss on the plane: (n, 2) -> (n,), for the contour plot."""
        with np.errstate(all="ignore"):
            return self.loss(self.points(ab))

    def project(self, trajectory: np.ndarray) -> np.ndarray:
        """Plane coordinates (k, 2) of points (k, p): least squares onto d1, d2 (NaN rows stay NaN)."""
        t = np.asarray(trajectory, dtype=np.float64).reshape(-1, self.origin.size)
        basis = np.stack([self.d1, self.d2], axis=1)  # (p, 2)
        coef, *_ = np.linalg.lstsq(basis, (t - self.origin).T, rcond=None)
        out = coef.T
        out[~np.isfinite(t).all(axis=1)] = np.nan
        return out

    def residual(self, trajectory: np.ndarray) -> np.ndarray:
        """Distance of each point from the plane: (k,)."""
        t = np.asarray(trajectory, dtype=np.float64).reshape(-1, self.origin.size)
        back = self.points(self.project(t))
        return np.linalg.norm(t - back, axis=1)

    def describe(self) -> str:
        """Which slice this is, in one line."""
        if self.kind == "params":
            return (f"slice along {self.labels[0]} and {self.labels[1]}; the other parameters fixed at the "
                    "current point")
        if self.kind == "random":
            return ("slice along two random filter-normalized directions r1, r2 (Li et al. 2018) through the "
                    "current point; axes: distance from it in parameter space")
        return (f"slice along the top two principal directions of the trajectory{self.note}; axes: distance "
                "from its last point in parameter space")

    def window(self, trajectories: Sequence[np.ndarray] = (), margin: float = 0.25,
               default: float = 1.0) -> tuple[float, float, float, float]:
        """A view (x0, x1, y0, y1) holding the projected trajectories (or +-default around 0)."""
        pts = [self.project(t) for t in trajectories if len(t)]
        pts = [p[np.isfinite(p).all(axis=1)] for p in pts]
        pts = [p for p in pts if len(p)]
        here = self.project(self.origin[None, :])[0]
        if not pts:
            return (here[0] - default, here[0] + default, here[1] - default, here[1] + default)
        allp = np.vstack(pts + [here[None, :]])
        lo, hi = allp.min(axis=0), allp.max(axis=0)
        span = np.maximum(hi - lo, 1e-9)
        lo, hi = lo - margin * span, hi + margin * span
        return (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))


def param_slice(loss: Callable[[np.ndarray], np.ndarray], names: Sequence[str], origin: np.ndarray,
                x: str, y: str) -> Slice:
    """The plane of parameters x and y through origin; coordinates are those parameters' values."""
    names = list(names)
    if x not in names or y not in names or x == y:
        raise ValueError(f"need two different parameters out of {names}, not {x!r} and {y!r}")
    o = np.asarray(origin, dtype=np.float64).copy()
    i, j = names.index(x), names.index(y)
    d1, d2 = np.zeros_like(o), np.zeros_like(o)
    d1[i], d2[j] = 1.0, 1.0
    o[i] = o[j] = 0.0
    return Slice("params", o, d1, d2, (x, y), loss)


def filter_normalize(direction: np.ndarray, origin: np.ndarray, groups: Sequence[Sequence[int]]) -> np.ndarray:
    """Rescale each group of ``direction`` to the norm of the same group of ``origin`` (Li et al. 2018)."""
    d = np.asarray(direction, dtype=np.float64).copy()
    norms = [float(np.linalg.norm(origin[list(g)])) for g in groups]
    nonzero = [n for n in norms if n > 0]
    fallback = float(np.mean(nonzero)) if nonzero else 1.0
    for g, target in zip(groups, norms):
        g = list(g)
        size = float(np.linalg.norm(d[g]))
        if size > 0:
            d[g] *= (target if target > 0 else fallback) / size
    return d


def random_slice(loss: Callable[[np.ndarray], np.ndarray], origin: np.ndarray, seed: int = 0,
                 groups: Sequence[Sequence[int]] | None = None) -> Slice:
    """Two filter-normalized Gaussian directions through origin (seeded)."""
    o = np.asarray(origin, dtype=np.float64).copy()
    groups = [[k] for k in range(o.size)] if groups is None else [list(g) for g in groups]
    rng = np.random.default_rng([seed, 2018])
    d1 = filter_normalize(rng.standard_normal(o.size), o, groups)
    d2 = filter_normalize(rng.standard_normal(o.size), o, groups)
    d1, d2 = d1 / np.linalg.norm(d1), d2 / np.linalg.norm(d2)
    return Slice("random", o, d1, d2, ("along r1", "along r2"), loss)


def pca_slice(loss: Callable[[np.ndarray], np.ndarray], trajectory: np.ndarray) -> Slice:
    """The top two principal directions of the trajectory's points minus its last point, through that point."""
    t = np.asarray(trajectory, dtype=np.float64)
    t = t[np.isfinite(t).all(axis=1)]
    if len(t) < 3:
        raise ValueError("a PCA slice needs a trajectory of at least 3 points")
    origin = t[-1].copy()
    m = t - origin
    _, sv, vt = np.linalg.svd(m - m.mean(axis=0), full_matrices=False)
    var = sv ** 2
    share = var[:2].sum() / var.sum() if var.sum() > 0 else 0.0
    d1 = vt[0]
    d2 = vt[1] if vt.shape[0] > 1 else np.roll(d1, 1)
    note = f" ({share:.0%} of its variance)"
    return Slice("pca", origin, d1, d2, ("along PC1", "along PC2"), loss, note)


def make_slice(kind: str, loss: Callable[[np.ndarray], np.ndarray], names: Sequence[str], origin: np.ndarray,
               plot: tuple[str, str] | None = None, trajectory: np.ndarray | None = None, seed: int = 0,
               groups: Sequence[Sequence[int]] | None = None) -> Slice:
    """One entry point for the app: kind in SLICE_KINDS; 'params' uses ``plot`` (default: the first two)."""
    if kind == "params":
        x, y = plot if plot is not None else (names[0], names[1])
        return param_slice(loss, names, origin, x, y)
    if kind == "random":
        return random_slice(loss, origin, seed, groups)
    if kind == "pca":
        if trajectory is None:
            raise ValueError("a PCA slice needs a trajectory")
        return pca_slice(loss, trajectory)
    raise ValueError(f"unknown slice kind {kind!r}; use one of {', '.join(SLICE_KINDS)}")
