"""Pieces of the general guide: the coarse global search, training the model variants, test-shift evidence.

See engine.guide for the decision tree and the rules these numbers feed.
"""
from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

import numpy as np

from ..scenario.analysis_tables import SearchSpec, VariantSpec
from ..core.budget import SEARCH_ROW_WORK, rows_note, rows_within, subsample
from ..core.objective import Objective
from ..core.run_settings import RunSettings
from ..core.simulation import Simulation
from ..text_format import vector


class ModelResult(NamedTuple):
    name: str
    n_params: int
    train_loss: float
    test_loss: float | None
    kind: str  # "run" or "variant"


class SearchResult(NamedTuple):
    best_loss: float  # on all training rows
    best_point: np.ndarray
    typical_loss: float  # median over the sample points, on the rows searched
    n_points: int
    rows_searched: int = 0  # training rows the search evaluated (0: no data)
    rows_total: int = 0

    @property
    def subsampled(self) -> bool:
        return self.rows_searched < self.rows_total

    def describe(self) -> str:
        """'(1681 points; typical loss 3.02)', plus the rows when the search used a subsample."""
        rows = f"; searched on {rows_note(self.rows_searched, self.rows_total)}" if self.subsampled else ""
        return f"({self.n_points} points; typical loss {self.typical_loss:.4g}{rows})"


def search_box(scenario, spec: SearchSpec) -> np.ndarray:
    """(p, 2) bounds of the coarse search."""
    s = scenario.surface
    starts = np.array([r.start for r in scenario.runs], dtype=np.float64)
    box = []
    for k, name in enumerate(s.params):
        if name in spec.box:
            box.append(spec.box[name])
        elif name in s.view:
            box.append(s.view[name])
        else:
            widen = 2.0 * max(1.0, float(np.max(np.abs(starts[:, k]))))
            box.append((float(starts[:, k].min()) - widen, float(starts[:, k].max()) + widen))
    return np.asarray(box, dtype=np.float64)


def _sample_points(box: np.ndarray, spec: SearchSpec, seed: int) -> np.ndarray:
    """A grid of spec.points per axis (<= 2 parameters), else points^2 // 4 seeded random points."""
    p = box.shape[0]
    if p <= 2:
        axes = [np.linspace(lo, hi, spec.points) for lo, hi in box]
        return np.stack([a.ravel() for a in np.meshgrid(*axes, indexing="ij")], axis=1)
    rng = np.random.default_rng([seed, 31])
    n = max(spec.points ** 2 // 4, 16)
    return box[:, 0] + (box[:, 1] - box[:, 0]) * rng.random((n, p))


def _searched_objective(objective: Objective, per_row: int) -> tuple[Objective, int, int]:
    """The objective the search evaluates: all training rows while rows x per_row work fits
    core.budget.SEARCH_ROW_WORK, else a seeded subsample (the same rows on every call)."""
    if objective.data is None:
        return objective, 0, 0
    total = objective.data.n_train
    used = rows_within(total, per_row, SEARCH_ROW_WORK)
    if used == total:
        return objective, total, total
    return replace(objective, data=subsample(objective.data, used)), used, total


def coarse_search(objective: Objective, box: np.ndarray, spec: SearchSpec, seed: int = 0,
                  extra_points: np.ndarray | None = None) -> SearchResult:
    """Grid (or seeded random) sample of the box, then Adam from its best points, all in one batch.

    With more data rows than the work budget allows (core.budget.SEARCH_ROW_WORK: rows x
    (points + refine x steps)), sampling and refinement run on a seeded subsample of the rows;
    the best point found is then evaluated on all rows, so the reported best loss is exact.
    """
    pts = _sample_points(box, spec, seed)
    refine = min(spec.refine, len(pts))
    searched, rows_used, rows_total = _searched_objective(objective, len(pts) + refine * spec.steps)
    with np.errstate(all="ignore"):
        values = searched.loss(pts)
    finite = np.isfinite(values)
    typical = float(np.median(values[finite])) if finite.any() else float("nan")
    order = np.argsort(np.where(finite, values, np.inf))[:refine]
    best_loss, best_point = (float(values[order[0]]), pts[order[0]]) if finite.any() else (np.inf, pts[0])
    if spec.steps > 0 and len(order):
        lr = spec.lr if spec.lr is not None else 0.01 * float(np.median(box[:, 1] - box[:, 0]))
        sim = Simulation(searched, [RunSettings(f"s{i}", "adam", {"lr": lr}, tuple(x), spec.steps)
                                    for i, x in enumerate(pts[order])], seed=seed, history_capacity=4)
        sim.step(spec.steps)
        k = int(np.nanargmin(np.where(np.isfinite(sim.loss), sim.loss, np.inf)))
        if sim.loss[k] < best_loss:
            best_loss, best_point = float(sim.loss[k]), sim.params[k].copy()
    if searched is not objective and np.isfinite(best_loss):
        with np.errstate(all="ignore"):
            best_loss = float(objective.loss(np.asarray(best_point, dtype=np.float64)[None, :])[0])
    if extra_points is not None and len(extra_points):
        with np.errstate(all="ignore"):
            ev = objective.loss(np.asarray(extra_points, dtype=np.float64))
        if np.isfinite(ev).any() and np.nanmin(ev) < best_loss:
            k = int(np.nanargmin(ev))
            best_loss, best_point = float(ev[k]), np.asarray(extra_points[k], dtype=np.float64)
    return SearchResult(best_loss, np.asarray(best_point), typical, int(len(pts)), rows_used, rows_total)


def train_variant(variant: VariantSpec, data, test_shift, seed: int = 0) -> ModelResult:
    """Train one [[guide.variants]] model on the scenario's data; its final train and test loss."""
    from ..formula.compile import compile_formula

    columns = data.columns if data is not None else ()
    formula = compile_formula(variant.expr, variant.params, variant.constants, columns)
    shift = None
    if test_shift is not None and len(test_shift) == len(variant.params):
        shift = np.asarray(test_shift, dtype=np.float64)
    obj = Objective(formula, data, shift)
    sim = Simulation(obj, [RunSettings(variant.name, variant.optimizer, dict(variant.hyper), variant.start,
                                     variant.steps)], seed=seed, history_capacity=4)
    sim.step(variant.steps)
    test = obj.test_loss(sim.params)
    return ModelResult(variant.name, len(variant.params), float(sim.loss[0]),
                       None if test is None else float(test[0]), "variant")


def shift_evidence(scenario) -> tuple[str, ...]:
    """Reasons to think the test data come from another distribution (empty: none found)."""
    out = []
    shift = scenario.surface.test_shift
    if shift is not None and any(v != 0 for v in shift):
        out.append(f"the test surface is the training surface shifted by {vector(shift, limit=6)}")
    data = scenario.data
    if data is not None and data.test is not None:
        for c in data.columns:
            tr, te = data.train[c], data.test[c]
            lo, hi = float(tr.min()), float(tr.max())
            pad = 1e-9 * max(1.0, abs(lo), abs(hi))
            outside = float(np.mean((te < lo - pad) | (te > hi + pad)))
            sd = float(tr.std())
            gap = abs(float(te.mean()) - float(tr.mean()))
            if outside > 0.5:
                out.append(f"{outside:.0%} of the test values of '{c}' lie outside the training range "
                           f"[{lo:.3g}, {hi:.3g}]")
            elif gap > max(sd, 1e-12):
                out.append(f"the test mean of '{c}' ({te.mean():.3g}) is {gap / max(sd, 1e-12):.1f} training "
                           f"standard deviations from the training mean ({tr.mean():.3g})")
    return tuple(out)
