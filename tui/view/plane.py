"""The plotted plane: which two coordinates the contour shows and how points map onto it.

With two parameters the plane is the whole space (one parameter per axis, in the order the
scenario's `plot` names them). With more, it is a slice through the selected run's point
(engine.analysis.slicing): the two plotted parameters with the others held ("params"), two
random filter-normalized directions ("random") or the run's two principal directions
("pca"). A PlotPlane is a value: cutting it again gives a new one, so the view model that
holds it notices every change.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from ...engine.core.budget import SampledLoss
from ...engine.core.objective import Objective
from ...engine.scenario.load import SurfaceSpec

if TYPE_CHECKING:
    from ...engine.analysis import slicing

SLICE_KINDS = ("params", "random", "pca")


class SurfaceFunction:
    """The loss over the plane, (n, 2) -> (n,), and ``note``: which data rows its last call
    used ("" for all; "contour from 1,389 of 200,000 rows" above the work budget)."""

    def __init__(self, func: Callable[[np.ndarray], np.ndarray], sampled: SampledLoss) -> None:
        self._func = func
        self._sampled = sampled

    def __call__(self, points: np.ndarray) -> np.ndarray:
        return self._func(points)

    @property
    def note(self) -> str:
        return self._sampled.note


@dataclass(frozen=True, eq=False)
class PlotPlane:
    """The plane the contour plot shows and the projection of parameter space onto it."""

    objective: Objective
    surface: SurfaceSpec
    axes: tuple[int, int]  # the plotted parameters' indices
    slice_kind: str = "params"  # asked for (with more than two parameters): params, random or pca
    slice: slicing.Slice | None = None  # the slice drawn; None: the loss itself (two parameters)
    sampled: SampledLoss | None = field(default=None, repr=False)  # the contour's loss, within its work budget

    def __post_init__(self) -> None:
        if self.sampled is None:
            object.__setattr__(self, "sampled", SampledLoss(self.objective))

    @classmethod
    def of(cls, objective: Objective, surface: SurfaceSpec) -> PlotPlane:
        """The plane of a scenario's surface: its `plot` parameters, or the first two."""
        params = list(surface.params)
        plot = surface.plot or (params[0], params[1])
        return cls(objective, surface, (params.index(plot[0]), params.index(plot[1])))

    @property
    def axis_names(self) -> tuple[str, str]:
        names = self.surface.params
        return names[self.axes[0]], names[self.axes[1]]

    @property
    def projected(self) -> bool:
        """True for a random or PCA slice: points are projected, not read off two coordinates."""
        return self.slice is not None and self.slice.kind != "params"

    @property
    def labels(self) -> tuple[str, str]:
        return self.slice.labels if self.slice is not None else self.axis_names

    def with_kind(self, kind: str) -> PlotPlane:
        if kind not in SLICE_KINDS:
            raise ValueError(f"unknown slice kind {kind!r}")
        return replace(self, slice_kind=kind)

    def cut(self, origin: np.ndarray, path: np.ndarray | None, seed: int) -> PlotPlane:
        """The plane cut again through `origin` (a run's point; `path` its recorded points for a
        PCA slice, which needs three of them: until then it is the params slice)."""
        if self.objective.n_params == 2:
            return replace(self, slice=None)
        from ...engine.analysis import slicing  # here: two parameters, the usual case, need none

        loss = self.sampled  # a slice's loss is only drawn: within the contour's budget
        plane = None
        if self.slice_kind == "random":
            plane = slicing.random_slice(loss, origin, seed=seed)
        elif self.slice_kind == "pca":
            try:
                plane = slicing.pca_slice(loss, path)
            except ValueError:
                plane = None
        if plane is None:
            plane = slicing.param_slice(loss, self.objective.params, origin, *self.axis_names)
        return replace(self, slice=plane)

    def plotted(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates in the plane of points (..., p): the two parameters' values, or (for a
        random or PCA slice) the least-squares coordinates in that plane."""
        if self.projected:
            flat = np.asarray(points, dtype=float).reshape(-1, self.objective.n_params)
            ab = self.slice.project(flat)
            return ab[:, 0], ab[:, 1]
        i, j = self.axes
        return points[..., i], points[..., j]

    def direction(self, v: np.ndarray) -> tuple[float, float]:
        """A direction of parameter space as seen in the plane."""
        if self.projected:
            basis = np.stack([self.slice.d1, self.slice.d2], axis=1)
            coef, *_ = np.linalg.lstsq(basis, np.asarray(v, dtype=float), rcond=None)
            return float(coef[0]), float(coef[1])
        i, j = self.axes
        return float(v[i]), float(v[j])

    def full_point(self, xy: Sequence[float], start: Sequence[float]) -> np.ndarray:
        """The point of parameter space at (x, y) of the plane; the parameters not plotted
        keep their values in `start`."""
        xy = np.asarray(xy, dtype=float).ravel()
        if self.projected:
            return self.slice.points(xy)[0]
        full = np.array(start, dtype=float)
        full[list(self.axes)] = xy
        return full

    def surface_function(self) -> SurfaceFunction:
        """Loss over the plane, (n, 2) -> (n,), within the contour's work budget (core.budget)."""
        if self.slice is not None:
            return SurfaceFunction(self.slice.func, self.sampled)
        loss = self.sampled
        if self.axes == (0, 1):
            return SurfaceFunction(loss, loss)

        def swapped(points: np.ndarray) -> np.ndarray:
            return loss(points[:, ::-1])

        return SurfaceFunction(swapped, loss)

    def moved_off(self, point: np.ndarray, cell: float) -> bool:
        """True when `point` has left the slice drawn by more than `cell` (a plot cell, in the
        plane's units): a params slice changes only with the held parameters (the largest
        change of one is measured), a random or PCA plane with the point itself (its distance
        from the origin). Less than a cell of movement is not worth the contour's cost at
        every paused step; NaN or no slice: True."""
        if self.slice is None:
            return True
        d = np.asarray(point, dtype=float) - self.slice.origin
        if self.slice.kind == "params":
            d = np.delete(d, list(self.axes))
            moved = float(np.max(np.abs(d))) if d.size else 0.0
        else:
            moved = float(np.linalg.norm(d))
        return not moved <= cell

    def held_values(self, point: np.ndarray) -> dict[str, float]:
        """For a params slice: the parameters not plotted and their values at `point`."""
        if self.slice is None or self.slice.kind != "params":
            return {}
        return {name: float(point[k]) for k, name in enumerate(self.objective.params) if k not in self.axes}

    def title(self, run: str) -> str:
        """The plot's title line for a slice through `run`'s point: which plane, and what the axes
        measure (empty with two parameters, where the plot is the whole space). Short enough for
        the plot at 80x24 (about 47 columns); the side panel's note says more."""
        if self.slice is None:
            return ""
        x, y = self.labels
        if self.slice.kind == "params":
            held = self.objective.n_params - 2
            return f"slice at {run}: {x}, {y}; {held} other{'s' * (held != 1)} held"
        if self.slice.kind == "random":
            return f"random slice at {run}: distance along r1, r2"
        return f"PCA slice at {run}: distance along PC1, PC2{self.slice.note}"

    def note(self) -> str:
        """One line on what the plot shows (empty with two parameters)."""
        return "" if self.slice is None else self.slice.describe()

    def home_window(self, starts: np.ndarray, paths: Sequence[np.ndarray]) -> tuple[float, float, float, float]:
        """The window to show: the scenario's view where it gives one, else around the runs'
        `starts` and the minima with a margin; for a random or PCA slice, around the `paths`."""
        if self.projected:
            return self.slice.window(paths, default=1.0)
        view = self.surface.view
        minima = np.array(self.surface.minima, dtype=float).reshape(-1, self.objective.n_params)
        spans = []
        for k, name in zip(self.axes, self.axis_names):
            if name in view:
                spans.append(view[name])
                continue
            values = np.concatenate([starts[:, k], minima[:, k]])
            lo, hi = float(values.min()), float(values.max())
            pad = max(0.5 * (hi - lo), 1.0)
            spans.append((lo - pad, hi + pad))
        return (spans[0][0], spans[0][1], spans[1][0], spans[1][1])

    def minima_xy(self) -> list[tuple[float, float]]:
        """Known minima in the plane (only when the plane is the whole space)."""
        if self.objective.n_params != 2:
            return []
        i, j = self.axes
        return [(m[i], m[j]) for m in self.surface.minima]
