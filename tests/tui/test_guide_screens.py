"""The general-guide (g) and batch-lab (L) screens: they show the engine's own numbers."""

from __future__ import annotations

import math

import numpy as np
from optsim.engine.analysis.batch_lab import loss_curves, run_batch_lab
from optsim.engine.scenario.catalog import resolve
from optsim.tui.render.curve_grid import (
    YScale,
    plan_curve_axes,
    rasterize_curve,
    x_scale_for,
)
from optsim.engine.analysis.guide import general_guide
from optsim.engine.scenario.load import load_scenario
from optsim.engine.watch.session import Session
from optsim.tui.screens.batch_lab import BatchLabScreen
from optsim.tui.screens.guide import COMPUTING, GuideScreen
from optsim.tui.screens.help import HelpScreen
from optsim.tui.screens.keys import SIMULATOR_COMMANDS
from optsim.tui.screens.simulator import SimulatorScreen
from optsim.tui.widgets.curve_plot import CurvePlot
from optsim.tui.widgets.status_line import StatusLine
from tui_helpers import ROSENBROCK, SCENARIOS, catalog, run_async, screen_lines

SIZE = (100, 32)


def _app(name_or_path, steps: int = 0):
    from optsim.tui.app import OptsimApp

    path = name_or_path if not isinstance(name_or_path, str) else resolve(name_or_path)
    session = Session(load_scenario(path))
    session.advance(steps)
    return OptsimApp(session=session, builtins=catalog(SCENARIOS)), session


async def _open(pilot, key: str) -> str:
    """Press key on the simulator, wait for the screen's worker, return the screen's text."""
    await pilot.pause()
    assert isinstance(pilot.app.screen, SimulatorScreen)
    await pilot.press(key)
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()
    return "\n".join(screen_lines(pilot.app))


def _flat(text: str) -> str:
    """Screen text with the dialog's borders and line breaks removed (wrapped sentences rejoin)."""
    rows = [line.strip().strip("│").strip() for line in text.splitlines()]
    return " ".join(rows)


@run_async
async def test_guide_screen_shows_the_engines_verdict_and_remedy():
    for name in ("overfitting", "mismatch", "model-bias"):
        app, session = _app(name, steps=100_000)  # to the end of every run
        async with app.run_test(size=SIZE) as pilot:
            text = await _open(pilot, "g")
            assert isinstance(app.screen, GuideScreen)
            expected = general_guide(session.scenario, session.sim)
            main = expected.main
            shown = _flat(text)
            assert COMPUTING not in text
            assert app.screen.report.main.verdict == main.verdict
            assert f"Run {main.run} (best run): {main.verdict.upper()}" in shown, name
            assert f"{main.verdict.upper()}" in shown
            assert "Remedy: " + main.remedy[:60] in shown, name
            # the tree's first question carries the engine's numbers
            assert f"train {main.evidence['train_loss']:.4g} vs target {main.evidence['train_target']:.4g}" in shown
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, SimulatorScreen)


@run_async
async def test_guide_walks_the_test_branch_with_its_numbers():
    app, session = _app("overfitting", steps=100_000)
    async with app.run_test(size=SIZE) as pilot:
        shown = _flat(await _open(pilot, "g"))
        main = general_guide(session.scenario, session.sim).main
        assert main.verdict == "overfitting"
        assert f"test {main.evidence['test_loss']:.4g} vs target {main.evidence['test_target']:.4g}" in shown
        assert "▶ no, same kind of data → OVERFITTING" in shown  # the path taken is marked
        assert "▶ yes, they differ" not in shown


@run_async
async def test_guide_without_test_loss_stops_at_the_training_loss():
    app, session = _app(ROSENBROCK)
    async with app.run_test(size=SIZE) as pilot:
        shown = _flat(await _open(pilot, "g"))
        assert session.objective.test_loss(session.sim.params) is None
        assert "no test loss in this scenario" in shown
        assert "Testing loss large?  test" not in shown
        main = general_guide(session.scenario, session.sim).main
        assert main.verdict.upper() in shown


@run_async
async def test_guide_pauses_playback_and_runs_in_a_worker():
    app, session = _app("overfitting")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        sim_screen = app.screen
        await pilot.press("space")
        assert sim_screen.playing
        await pilot.press("g")
        assert not sim_screen.playing  # the worker thread reads a simulation that holds still
        tick = session.tick
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, GuideScreen) and app.screen.report is not None
        assert app.screen.step == tick and session.tick == tick


@run_async
async def test_batch_lab_shows_the_engines_table():
    app, session = _app("batch-size-cost")
    async with app.run_test(size=SIZE) as pilot:
        text = await _open(pilot, "L")
        assert isinstance(app.screen, BatchLabScreen)
        lab = run_batch_lab(session.scenario)
        rows = {r.batch: r for r in lab.runs}
        lines = [line.strip("│ ") for line in text.splitlines()]
        row1 = next(line for line in lines if line.split()[:2] == ["1", str(int(rows[1].updates[-1]))])
        row1000 = next(line for line in lines if line.split()[:2] == ["1000", str(int(rows[1000].updates[-1]))])
        assert f"{rows[1].sharpness:.4g}" in row1.split()
        assert f"{rows[1000].sharpness:.4g}" in row1000.split()
        assert f"{rows[1].final_loss:.4g}" in row1.split()
        costs = {c.batch: c for c in lab.costs}
        cost1000 = next(line for line in lines if line.split()[:2] == ["1000", str(costs[1000].updates_per_epoch)])
        assert f"{costs[1000].time_per_epoch:.4g}" in cost1000
        shown = _flat(text)
        assert "Batch 1 ended in the flat minimum" in shown  # the lowest sharpness, named
        assert rows[1].sharpness < rows[1000].sharpness
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SimulatorScreen)


@run_async
async def test_batch_lab_plots_one_curve_per_batch_size_on_three_axes():
    app, session = _app("batch-size-cost")
    async with app.run_test(size=(100, 40)) as pilot:
        await _open(pilot, "L")
        screen = app.screen
        assert isinstance(screen, BatchLabScreen)
        lab = run_batch_lab(session.scenario)
        plot = screen.query_one("#curves", CurvePlot)
        assert plot.display
        series = plot.series
        assert [s.name for s in series] == [r.name for r in lab.runs]  # one curve per batch size
        assert sorted(s.run for s in series) == list(range(len(lab.runs)))  # each its own colour
        for s, r in zip(series, lab.runs):
            np.testing.assert_array_equal(s.ys, r.loss)  # the engine's loss records, every update
        legend = str(screen.query_one("#legend").render())
        assert all(f"━━ {r.batch}" in legend for r in lab.runs)
        # the losses go below 0 here, so the y axis stays linear
        assert min(float(np.nanmin(r.loss)) for r in lab.runs) < 0 and not plot.y_range.scale().log

        # default: simulated time; the runs end 60x apart (2500 ms vs 1.5e5 ms): log x
        assert screen.axis == "time" and plot.x_log
        assert plot.x_range[1] == max(float(r.time[-1]) for r in lab.runs)
        assert plot.x_range[1] == float(lab.runs[-1].time[-1]) == 2500 * lab.cost.time_per_update_at(60000)
        assert plot.x_range[0] == float(lab.cost.time_per_update_at(1))  # the first update; 0 is off a log axis
        assert plot.title == "loss vs simulated time (ms)" and "(log x)" in plot.text_lines()[0]
        assert "1e5" in "\n".join(plot.text_lines())  # decade tick labels
        assert "[t] time" in str(screen.query_one("#hint").render())

        await pilot.press("u")
        await pilot.pause()
        assert screen.axis == "updates" and not plot.x_log  # every run makes 2500 updates: linear
        assert plot.x_range == (0.0, max(float(r.updates[-1]) for r in lab.runs)) == (0.0, 2500.0)
        assert plot.text_lines()[0].startswith("loss vs updates") and "log" not in plot.text_lines()[0]
        for s, r in zip(plot.series, lab.runs):
            np.testing.assert_array_equal(s.xs, r.updates)

        await pilot.press("p")
        await pilot.pause()
        assert screen.axis == "epochs" and plot.x_log
        assert plot.x_range[1] == max(float(r.epochs[-1]) for r in lab.runs) == 2500.0  # batch 60000: 1 per update
        assert math.isclose(plot.x_range[0], 1 / lab.config.n_samples)  # batch 1's first update
        for s, r in zip(plot.series, lab.runs):
            np.testing.assert_array_equal(s.xs, r.epochs)

        await pilot.press("t")
        await pilot.pause()
        assert screen.axis == "time" and plot.x_range[1] == float(lab.runs[-1].time[-1])
        assert isinstance(app.screen, BatchLabScreen)  # the axis keys do not close the screen


def test_loss_curves_and_log_x_axis():
    lab = run_batch_lab(load_scenario(resolve("batch-size-cost")))
    curves = loss_curves(lab, "epochs")
    assert len(curves) == len(lab.runs)
    assert x_scale_for([x for x, _ in loss_curves(lab, "updates")]) == ((0.0, 2500.0), False)
    # equal ends: linear, from the smallest x; ends 10x+ apart: log from the smallest positive x
    assert x_scale_for([np.array([0.0, 5.0]), np.array([0.0, 40.0])]) == ((0.0, 40.0), False)
    assert x_scale_for([np.array([0.0, 2.0, 4.0]), np.array([0.0, 100.0])]) == ((2.0, 100.0), True)
    axes = plan_curve_axes(60, 12, (1.0, 1000.0), YScale(False, 0.0, 1.0), x_log=True)
    assert axes.x_log and axes.x_ticks.labels == ["1", "10", "100", "1000"]
    # x = 10 is a third of the way along 1..1000 on a log axis (not 1% as on a linear one)
    bits = rasterize_curve(axes, np.array([10.0, 10.0]), np.array([0.5, 0.5]))
    cols = np.flatnonzero(bits.any(axis=0))
    assert cols.size and abs(cols[0] - axes.plot_cols / 3) <= 1
    # x <= 0 is off a log axis: nothing drawn
    assert not rasterize_curve(axes, np.array([0.0, -1.0]), np.array([0.5, 0.5])).any()


@run_async
async def test_batch_lab_without_table_notifies():
    app, session = _app(ROSENBROCK)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "batch_lab" not in session.scenario.extra
        await pilot.press("L")
        await pilot.pause()
        assert isinstance(app.screen, SimulatorScreen)
        message = app.screen.query_one(StatusLine).message
        assert message is not None and "no [batch_lab] table" in message[0]


@run_async
async def test_keys_reach_help_and_palette():
    actions = {c.action: c for c in SIMULATOR_COMMANDS}
    assert actions["general_guide"].keys == "g" and actions["batch_lab"].keys == "L"
    app, _ = _app(ROSENBROCK)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(screen_lines(app))
        assert "General guide" in text or "general guide" in text
        await pilot.press("escape")
        await pilot.pause()
        app.screen.run_palette_command(actions["general_guide"])  # what the palette runs
        await pilot.pause()
        assert isinstance(app.screen, GuideScreen)


@run_async
async def test_an_analysis_that_fails_says_so_on_its_screen(monkeypatch):
    """The worker's error replaces "Computing…" with one red line naming the key, on both screens."""
    from optsim.engine.errors import ScenarioError
    import optsim.tui.screens.batch_lab as lab_screen
    import optsim.tui.screens.guide as guide_screen

    def refuse(*args, **kwargs):
        raise ScenarioError("x.toml", "batch_lab.sizes", "too much work for this test")

    monkeypatch.setattr(guide_screen, "general_guide", refuse)
    monkeypatch.setattr(lab_screen, "run_batch_lab", refuse)
    for key, subject in (("g", "The guide"), ("L", "The batch lab")):
        app, _ = _app("batch-size-cost")
        async with app.run_test(size=SIZE) as pilot:
            text = _flat(await _open(pilot, key))
            assert f"{subject} could not run: batch_lab.sizes: too much work for this test" in text
            assert COMPUTING not in text


@run_async
async def test_batch_lab_screen_compares_at_equal_updates_epochs_and_time_with_the_engines_rows():
    """The lecture's point: which batch size is ahead depends on the clock. The screen shows
    the engine's result.comparisons (as `optsim diagnose` prints them), row by row."""
    from textual.geometry import Region
    from textual.widgets import Static

    from optsim.engine.text_format import sig

    for size in ((80, 24), (160, 48)):
        app, session = _app("batch-size-cost")
        async with app.run_test(size=size) as pilot:
            await _open(pilot, "L")
            screen = app.screen
            assert isinstance(screen, BatchLabScreen)
            lab = run_batch_lab(session.scenario)
            assert [c.axis for c in lab.comparisons] == ["updates", "epochs", "time"]
            compare = screen.query_one("#compare", Static)
            assert compare.display
            lines = [strip.text for strip in compare.render_lines(Region(0, 0, *compare.outer_size))]
            text = "\n".join(lines)
            assert "…" not in text  # no cell cut short
            unit = lab.cost.unit
            for c, heading in zip(lab.comparisons, ("equal updates", "equal epochs", "equal simulated time")):
                at = f"{c.at:.4g} {unit}" if c.axis == "time" else f"{c.at:.4g} {c.axis}"
                start = text.index(f"At {heading} ({at})")
                block = text[start:].split("\n\n", 1)[0].splitlines()
                for row in c.rows:
                    cells = [str(row.batch), str(row.updates), f"{row.epochs:.4g}", f"{row.time:.4g}", unit,
                             sig(row.train_loss), sig(row.test_loss), sig(row.sharpness)]
                    assert any(line.split() == cells for line in block), (size, c.axis, cells)
                train, test = c.lowest("train_loss"), c.lowest("test_loss")
                lead = " ".join(" ".join(block).split())
                assert f"lowest training loss: batch {train.batch} ({sig(train.train_loss)})" in lead
                assert f"lowest test loss: batch {test.batch} ({sig(test.test_loss)})" in lead
            # the clocks disagree on the leader of the training loss (the lecture's point)
            assert len({c.lowest("train_loss").batch for c in lab.comparisons}) > 1


GUIDED = """
title = "a scripted guide"
[surface]
builtin = "rosenbrock"
[[runs]]
name = "a"
optimizer = "adam"
lr = 0.05
start = [-1.5, 2]
steps = 100
[[runs]]
name = "b"
optimizer = "sgd"
lr = 0.00001
start = [-1.5, 2]
steps = 100
[[events]]
at = 30
run = "b"
show = "guide"
say = "b is still far from the minimum"
"""


def _guided(tmp_path) -> Session:
    path = tmp_path / "guided.toml"
    path.write_text(GUIDED)
    return Session(load_scenario(path))


def test_a_scripted_guide_is_asked_for_on_its_step_only(tmp_path):
    from optsim.tui.view.model import GuideRequest, ViewModel

    session = _guided(tmp_path)
    view = ViewModel(session)
    session.advance(1000)
    assert session.tick == 30  # the session stops on the guide's step, so the guide reads that step
    assert view.selected == 1 and view.guide_request == (1, 30)
    assert view.take_guide_request() == (1, 30) and view.take_guide_request() is None  # once
    assert ViewModel(session).take_guide_request() is None  # a view made later opens no guide of the past
    view.guide_request = GuideRequest(1, 30)
    session.advance(5)
    assert view.take_guide_request() is None  # nor one the session has stepped past


@run_async
async def test_a_scripted_guide_opens_on_its_run_and_playback_goes_on_when_it_closes(tmp_path):
    from optsim.tui.app import OptsimApp

    session = _guided(tmp_path)
    app = OptsimApp(session=session, builtins=catalog(SCENARIOS))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        sim_screen = app.screen
        sim_screen.play()
        sim_screen.advance(1000)  # as the timer would, many ticks in one frame
        await pilot.pause()
        assert session.tick == 30 and isinstance(app.screen, GuideScreen) and not sim_screen.playing
        await app.workers.wait_for_complete()
        await pilot.pause()
        expected = general_guide(session.scenario, session.sim)
        assert expected.best == 0  # so the guide's own choice would be run a...
        assert app.screen.step == 30 and app.screen.index == 1  # ...but the script named b
        assert f"Run b: {expected.verdicts[1].verdict.upper()}" in _flat("\n".join(screen_lines(app)))
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is sim_screen and sim_screen.playing  # it was playing: it plays on
        sim_screen.advance(1000)
        assert session.tick == 100 and not isinstance(app.screen, GuideScreen)


def test_headless_playback_shows_the_scripted_guide_in_its_frame_only(tmp_path):
    from optsim.tui.cli import main

    (tmp_path / "guided.toml").write_text(GUIDED)
    out = tmp_path / "frames"
    assert main(["play", "--headless", str(tmp_path / "guided.toml"), "--frames", "events,end",
                 "--out-dir", str(out), "--size", "100x32"]) == 0
    at_guide = _flat((out / "frame-000030.txt").read_text())
    assert "General guide" in at_guide and "step 30" in at_guide and COMPUTING not in at_guide
    assert "Run b:" in at_guide
    assert "General guide" not in (out / "frame-000100.txt").read_text()
