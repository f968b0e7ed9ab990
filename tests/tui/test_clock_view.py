"""The clock view (issue 11, item 6): in a batch-size scenario, every run's loss against
epochs and against simulated time while it plays, from the batch lab's cost model. Checked
against the lab's own numbers (engine.analysis.batch_lab) and the loss history."""

from __future__ import annotations

import numpy as np

from optsim.engine.analysis.batch_lab import CostModel
from optsim.engine.scenario.catalog import resolve
from optsim.engine.scenario.load import load_scenario
from optsim.engine.watch.session import Session
from optsim.tui.screens.keys import SIMULATOR_COMMANDS
from optsim.tui.view.model import ViewModel
from optsim.tui.widgets.contour_plot import ContourPlot
from optsim.tui.widgets.curve_plot import CurvePlot
from tui_helpers import MECHANISM, make_app, run_async, screen_lines, stepped_screen


def _view(name: str, ticks: int) -> ViewModel:
    s = Session(load_scenario(resolve(name)))
    s.advance_to(ticks)
    return ViewModel(s)


def test_batch_size_cost_runs_on_the_labs_clocks():
    """batch-size-cost: batch b from the noise 3 / sqrt(b); 60000 samples; 1 ms an update up
    to 1000 samples. After 2500 updates: 0.0417 epochs at batch 1, 41.7 at 1000, 2500 ms each."""
    v = _view("batch-size-cost", 2500)
    clocks = v.clocks()
    assert [c.batch for c in clocks.runs] == [1, 100, 1000] and clocks.unit == "ms"
    cost = CostModel(1000, 1.0)
    for c in clocks.runs:
        assert c.n_samples == 60000 and c.time_per_update == cost.time_per_epoch(c.batch, 60000) / cost.updates_per_epoch(c.batch, 60000)
    epochs, (lo, hi), log = v.clock_curves("epochs")
    assert log and np.isclose(hi, 2500 * 1000 / 60000) and np.isclose(lo, 1 / 60000)
    assert [round(float(c.xs[-1]), 4) for c in epochs] == [0.0417, 4.1667, 41.6667]
    times, (t0, t1), tlog = v.clock_curves("time")
    assert not tlog and t1 == 2500.0 and all(c.xs[-1] == 2500.0 for c in times)
    ticks, loss = v.session.sim.history.series("loss")
    for r, c in enumerate(epochs):
        np.testing.assert_array_equal(c.ys[: ticks.size], loss[:, r])
        np.testing.assert_allclose(c.xs[: ticks.size], ticks * clocks.runs[r].batch / 60000)


def test_a_data_scenario_counts_its_rows_and_batch_sizes():
    v = _view("small-vs-large-batch", 100)
    clocks = v.clocks()
    assert [(c.batch, c.n_samples) for c in clocks.runs] == [(4, 4), (2, 4), (1, 4)]
    curves, _, _ = v.clock_curves("epochs")
    assert [float(c.xs[-1]) for c in curves] == [100.0, 50.0, 25.0]


def test_no_clock_off_a_batch_size_scenario():
    assert ViewModel(Session(load_scenario(MECHANISM))).clocks() is None


def test_the_scripts_show_it_and_the_key_is_listed():
    assert "clock" in _view("batch-size-cost", 0).views and "clock" in _view("small-vs-large-batch", 0).views
    assert {c.action: c for c in SIMULATOR_COMMANDS}["toggle_view('clock')"].keys == "T"


@run_async
async def test_the_key_toggles_the_view_and_the_plots_hold_the_engines_numbers():
    app = make_app(resolve("batch-size-cost"))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await stepped_screen(pilot, 400)
        epochs, time = screen.query_one("#epochs", CurvePlot), screen.query_one("#clock-time", CurvePlot)
        assert screen.query_one("#clock-row").display and epochs.display and time.display  # shown from step 0
        series, x_range, x_log = screen.view.clock_curves("epochs")
        assert epochs.x_log == x_log and epochs.x_range == x_range
        drawn = {c.name: c for c in epochs.series}
        assert set(drawn) == {c.name for c in series}
        for want in series:
            np.testing.assert_array_equal(drawn[want.name].xs, want.xs)
        text = "\n".join(screen_lines(app))
        assert "loss against epochs" in text and "loss against time (ms)" in text and "batch-1000 1000 1ms" in text
        await pilot.press("T")
        await pilot.pause()
        assert not screen.query_one("#clock-row").display


@run_async
async def test_without_a_clock_the_key_says_so():
    app = make_app(MECHANISM)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await stepped_screen(pilot, 5)
        await pilot.press("T")
        await pilot.pause()
        assert "clock" not in screen.view.views


@run_async
async def test_at_80x24_the_essentials_stay_with_the_view_on():
    app = make_app(resolve("batch-size-cost"))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await stepped_screen(pilot, 400)
        assert screen.query_one(ContourPlot).region.width > 30
        assert screen.query_one("#loss", CurvePlot).region.height >= 4
        assert screen.query_one("#epochs", CurvePlot).region.height >= 3
        assert screen.query_one("#info").region.height >= 2
