"""Every visible run is on every chart, on the engine's own numbers: a diverged run leaves
the top with a marker instead of crushing the scale, converged losses of 1e-25 are not
pinned to a floor, and the largest learning rate is inside the axis and labelled."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optsim.engine.scenario.catalog import catalog
from optsim.engine.scenario.load import load_scenario
from optsim.engine.watch.session import Session
from optsim.tui.render.curve_clip import fit_curves, off_scale_cells, runaway_ceiling
from optsim.tui.render.curve_grid import CurveRange, CurveSeries, plan_curve_axes
from optsim.tui.view.model import ViewModel


def _played(name: str, edits: dict | None = None) -> ViewModel:
    entry = next(e for e in catalog() if e.name == name)
    session = Session(load_scenario(entry.path))
    for run, changes in (edits or {}).items():
        session.edit_run(run, changes)
    session.advance_to(session.last_planned_step())
    return ViewModel(session)


def _scale_of(series):
    r = CurveRange()
    r.include_series(series)
    return r.scale()


def _last_finite(ys) -> float:
    ys = np.asarray(ys, dtype=float)
    return float(ys[np.isfinite(ys)][-1])


@pytest.fixture(scope="module")
def model_bias_gd_lr5() -> ViewModel:
    return _played("model-bias", {0: {"lr": 5.0}})


def test_a_diverged_run_does_not_crush_the_others(model_bias_gd_lr5):
    view = model_bias_gd_lr5
    series = view.loss_curves()
    gd = next(s for s in series if s.name == "gd")
    adam = next(s for s in series if s.name == "adam")
    assert _last_finite(gd.ys) > 1e90  # the engine's numbers: gd ran away
    scale = _scale_of(series)
    # adam's whole curve (3.25 down to 0.1876) is inside the range, well above its floor
    assert scale.bottom <= np.nanmin(adam.ys) and np.nanmax(adam.ys) <= scale.top
    assert math.log10(scale.top) - math.log10(scale.bottom) < 10
    fit = fit_curves(series, scale)
    off = {o.name: o for o in fit.off_scale}
    assert set(off) == {"gd"} and off["gd"].above and off["gd"].value == _last_finite(gd.ys)
    drawn_gd = next(s for s in fit.series if s.name == "gd")
    assert np.nanmax(drawn_gd.ys) <= scale.top  # cut at the top edge, not drawn above it
    assert "▲gd 3.9e+99" in fit.note(40)
    axes = plan_curve_axes(40, 10, view.x_range(), scale)
    [(row, col, run)] = off_scale_cells(axes, fit.off_scale)
    assert row == 0 and run == 0  # on the top edge, in gd's colour


def test_a_run_that_ends_in_nan_is_marked_even_from_inside_the_range():
    ys = np.array([1.0, 0.5, np.nan])
    series = [CurveSeries("a", 0, np.arange(3.0), ys), CurveSeries("b", 1, np.arange(3.0), np.array([1.0, 0.3, 0.2]))]
    fit = fit_curves(series, _scale_of(series))
    assert [(o.name, o.above, o.value) for o in fit.off_scale] == [("a", False, 0.5)]
    assert "▲a diverged" in fit.note(40)


def test_runaway_needs_another_run_to_compare_with():
    one = [CurveSeries("a", 0, np.arange(3.0), np.array([1.0, 1e50, 1e99]))]
    assert runaway_ceiling(one) == math.inf
    assert _scale_of(one).top >= 1e99


def test_tiny_converged_losses_are_drawn_at_their_height():
    view = _played("himmelblau")
    series = view.loss_curves()
    scale = _scale_of(series)
    lows = {s.name: _last_finite(s.ys) for s in series}
    assert lows["adagrad"] < 1e-24 and lows["sgd-momentum"] < 1e-20  # the engine's numbers
    for name, low in lows.items():
        assert scale.bottom <= low <= scale.top, name
    fit = fit_curves(series, scale)
    assert not fit.under_floor and not fit.off_scale
    axes = plan_curve_axes(60, 12, view.x_range(), scale)
    assert axes.y_ticks.values.min() <= -24  # the axis is labelled down there


def test_the_largest_learning_rate_is_inside_the_axis_and_labelled():
    view = _played("himmelblau")
    series = view.lr_curves()
    scale = _scale_of(series)
    top = max(np.nanmax(s.ys) for s in series)
    assert top == pytest.approx(0.3)  # adagrad's rate
    assert scale.top >= top
    axes = plan_curve_axes(60, 10, view.x_range(), scale)
    assert "0.3" in axes.y_ticks.labels and "0.1" in axes.y_ticks.labels
    top_row = min(c for c, lab in zip(axes.y_ticks.cells, axes.y_ticks.labels) if lab == "0.3")
    assert top_row < min(c for c, lab in zip(axes.y_ticks.cells, axes.y_ticks.labels) if lab == "0.1")


@pytest.mark.parametrize("log", [True, False])
def test_the_quick_check_gives_what_the_full_cut_gives(log, monkeypatch):
    """fit_curves' quick path (nothing to cut: every value but NaN gaps on the chart, the last
    one finite) returns what its full pass returns, on curves with NaN, inf, values on and
    past the edges, at the start, inside and at the end."""
    import optsim.tui.render.curve_clip as clip

    r = CurveRange()
    r.include(np.array([1e-3, 1e2]) if log else np.array([-3.0, 5.0]))
    scale = r.scale()
    rng = np.random.default_rng(21 if log else 22)
    specials = [np.nan, np.inf, -np.inf, scale.top, scale.bottom, scale.top * 1.5, 0.0, -1.0, 1e-300]
    for trial in range(400):
        n = int(rng.integers(1, 12))
        ys = np.exp(rng.uniform(-6, 4, n)) if log else rng.uniform(-2.9, 4.9, n)
        for k in rng.choice(n, int(rng.integers(0, 3))):
            ys[k] = rng.choice(specials)
        series = [CurveSeries("a", 0, np.arange(n, dtype=float), ys, dashed=bool(trial % 3 == 0))]
        quick = fit_curves(series, scale)
        monkeypatch.setattr(clip, "_inside", lambda *a: False)
        full = fit_curves(series, scale)
        monkeypatch.undo()
        assert quick.off_scale == full.off_scale and quick.under_floor == full.under_floor, ys
        assert [s.name for s in quick.series] == [s.name for s in full.series]
        for a, b in zip(quick.series, full.series):
            assert np.array_equal(np.asarray(a.ys, dtype=float), np.asarray(b.ys, dtype=float), equal_nan=True), ys
