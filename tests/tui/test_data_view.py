"""The data view (issue 11, item 5): the training and test points of a data-driven scenario
and each run's current prediction, read off the loss formula by the engine
(engine.analysis.prediction) and checked here against the model written by hand."""

from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.analysis import prediction as pr
from optsim.engine.scenario.catalog import resolve
from optsim.engine.scenario.load import load_scenario
from optsim.engine.watch.session import Session
from optsim.tui.render import palette
from optsim.tui.screens.keys import SIMULATOR_COMMANDS
from optsim.tui.view.model import ViewModel
from optsim.tui.widgets.contour_plot import ContourPlot
from optsim.tui.widgets.curve_plot import CurvePlot
from tui_helpers import MECHANISM, make_app, run_async, screen_lines, stepped_screen


def _view(name: str, ticks: int) -> ViewModel:
    s = Session(load_scenario(resolve(name)))
    s.advance_to(ticks)
    return ViewModel(s)


def _finite(series) -> tuple[np.ndarray, np.ndarray]:
    keep = np.isfinite(series.xs)
    return np.asarray(series.xs)[keep], np.asarray(series.ys)[keep]


def test_model_bias_draws_the_points_and_each_runs_line():
    v = _view("model-bias", 150)
    data = v.session.objective.data
    curves = {c.name: c for c in v.data_curves()}
    assert set(curves) == {"train", "test", *v.session.sim.names}
    np.testing.assert_array_equal(_finite(curves["train"])[0], data.train["x"])
    np.testing.assert_array_equal(_finite(curves["train"])[1], data.train["y"])
    np.testing.assert_array_equal(_finite(curves["test"])[1], data.test["y"])
    assert np.isnan(curves["train"].xs[1::2]).all()  # a scatter: every point its own piece
    for r, name in enumerate(v.session.sim.names):
        a, b = v.session.sim.params[r]
        line = curves[name]
        np.testing.assert_allclose(line.ys, a * line.xs + b, rtol=1e-9, atol=1e-12)  # (y - (a x + b))^2


def test_overfitting_draws_the_degree_7_polynomial_through_the_points():
    v = _view("overfitting", 8000)
    (curve,) = [c for c in v.data_curves() if c.name == "adam"]
    w = v.session.sim.params[0]
    np.testing.assert_allclose(curve.ys, np.polyval(w[::-1], curve.xs), rtol=1e-8, atol=1e-10)
    train_x, train_y = v.session.objective.data.train["x"], v.session.objective.data.train["y"]
    at_points = pr.predictions(v.session.objective, v.data_picture(), w[None], train_x)[0]
    assert np.abs(at_points - train_y).max() < 0.05  # it threads the noisy points


def test_mismatch_draws_the_extrapolation_over_the_test_range():
    v = _view("mismatch", 3000)
    found = v.data_picture()
    assert found.grid[0] == -1.0 and found.grid[-1] > 2.4  # the curve runs on to the test inputs
    (curve,) = [c for c in v.data_curves() if c.name == "adam"]
    w = v.session.sim.params[0]
    np.testing.assert_allclose(curve.ys, np.polyval(w[::-1], curve.xs), rtol=1e-8, atol=1e-10)
    far = curve.xs > 1.5
    assert np.abs(curve.ys[far] - np.sin(2 * curve.xs[far])).max() > 1.0  # far off the truth out there


def test_no_picture_without_a_target_to_draw():
    assert ViewModel(Session(load_scenario(MECHANISM))).data_picture() is None  # no data
    assert _view("small-vs-large-batch", 0).data_picture() is None  # columns a, b are no target


def test_a_scripted_show_turns_it_on_and_the_key_is_listed():
    assert "data" in _view("overfitting", 0).views
    assert {c.action: c for c in SIMULATOR_COMMANDS}["toggle_view('data')"].keys == "D"


@run_async
async def test_the_key_toggles_the_view_and_the_plot_holds_the_engines_numbers():
    app = make_app(resolve("model-bias"))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await stepped_screen(pilot, 100)
        plot = screen.query_one("#data", CurvePlot)
        assert plot.display  # the script shows it from step 0
        await pilot.press("D")
        await pilot.pause()
        assert not plot.display
        await pilot.press("D")
        await pilot.pause()
        assert plot.display
        drawn = {c.name: c for c in plot.series}
        for c in screen.view.data_curves():
            np.testing.assert_array_equal(drawn[c.name].ys, c.ys)
        assert plot.series[-1].name == "train"  # the points over the curves
        text = "\n".join(screen_lines(app))
        assert "y against x" in text and "train 40" in text and "test 100" in text


@run_async
async def test_the_y_range_is_the_present_picture_not_where_the_runs_started():
    """model-bias's runs start as steep lines reaching y = -4 and 3.5; once they have fitted
    sin(3x) the axis spans the points and the current lines, so the curve is seen."""
    app = make_app(resolve("model-bias"))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await stepped_screen(pilot, 0)
        plot = screen.query_one("#data", CurvePlot)
        assert plot.y_range.lo <= -4 and plot.y_range.hi >= 3.5
        screen.advance(200)
        screen.refresh_views(force=True)
        await pilot.pause()
        values = np.concatenate([np.asarray(c.ys)[np.isfinite(c.ys)] for c in screen.view.data_curves()])
        assert (plot.y_range.lo, plot.y_range.hi) == (values.min(), values.max())
        assert -1.2 < plot.y_range.lo and plot.y_range.hi < 1.2
        assert plot.fit is not None and not plot.fit.off_scale and not plot.fit.under_floor  # nothing cut


@run_async
async def test_without_data_the_key_says_so():
    app = make_app(MECHANISM)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await stepped_screen(pilot, 5)
        await pilot.press("D")
        await pilot.pause()
        assert "data" not in screen.view.views


@run_async
async def test_at_80x24_the_essentials_stay_with_the_view_on():
    app = make_app(resolve("overfitting"))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await stepped_screen(pilot, 300)
        assert screen.query_one(ContourPlot).region.width > 30
        assert screen.query_one("#loss", CurvePlot).region.height >= 4
        assert screen.query_one("#data", CurvePlot).region.height >= 4
        assert screen.query_one("#info").region.height >= 2
        assert palette.TRAIN_POINT_COLOR in screen.query_one("#data", CurvePlot)._colors
