"""The app driven by key presses (Pilot): screens, keys, edits, files, sizes."""

from __future__ import annotations

import numpy as np

from optsim.tui.screens.edit_run import EditRunScreen
from optsim.tui.screens.help import HelpScreen
from optsim.tui.screens.keys import PICKER_COMMANDS, SIMULATOR_COMMANDS, ScreenCommands
from optsim.tui.screens.picker import PickerScreen
from optsim.tui.screens.report import ReportScreen
from optsim.tui.screens.simulator import LOW_BANDWIDTH_FPS, SPEEDS, SimulatorScreen
from optsim.tui.widgets.contour_plot import ContourPlot
from optsim.tui.widgets.curve_plot import CurvePlot
from optsim.tui.widgets.run_table import RunTable
from textual.widgets import Input, Select
from tui_helpers import DATA, ROSENBROCK, SADDLE, THREE, make_app, run_async, screen_lines


async def _sim(pilot) -> SimulatorScreen:
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, SimulatorScreen)
    return screen


@run_async
async def test_picker_previews_and_opens_with_enter():
    app = make_app(None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        text = "\n".join(screen_lines(app))
        assert "The saddle of y = w1 * w2 * x" in text  # the first scenario's preview
        await pilot.press("down")
        await pilot.pause()
        assert "Rosenbrock's banana valley" in "\n".join(screen_lines(app))
        await pilot.press("enter")
        screen = await _sim(pilot)
        assert screen.session.scenario.title.startswith("Rosenbrock")
        await pilot.press("escape")  # back to the picker it came from
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


@run_async
async def test_picker_shows_a_broken_file_instead_of_opening_it(tmp_path):
    from optsim.engine.scenario.catalog import catalog
    from optsim.tui.app import OptsimApp

    (tmp_path / "bad.toml").write_text('title = "Broken"\n[surface]\nexpr = "x +* y"\n[[runs]]\nstart = [0, 0]\n')
    app = OptsimApp(folder=tmp_path, builtins=[])
    assert catalog(tmp_path)[0].title == "Broken"
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "does not load" in "\n".join(screen_lines(app))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)  # still here, no crash


@run_async
async def test_space_n_speed_and_reset():
    app = make_app(SADDLE)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _sim(pilot)
        sim = screen.session.sim
        assert not screen.playing and sim.tick == 0
        await pilot.press("n", "n", "n")
        assert sim.tick == 3 and sim.step_count.tolist() == [3, 3, 3]
        speed = screen.speed
        await pilot.press("plus")
        assert screen.speed == SPEEDS[SPEEDS.index(speed) + 1]
        await pilot.press("minus", "minus")
        assert screen.speed == SPEEDS[SPEEDS.index(speed) - 1]
        await pilot.press("space")
        assert screen.playing
        await pilot.pause(0.5)  # the timer steps while the app keeps taking keys
        await pilot.press("space")
        assert not screen.playing and sim.tick > 3
        await pilot.press("r")
        assert sim.tick == 0 and np.allclose(sim.params[0], (1.2, -1.2))
        table = screen.query_one(RunTable)
        assert [row.step for row in table.rows] == [0, 0, 0]


@run_async
async def test_play_stops_at_a_scripted_pause_and_shows_the_report():
    app = make_app(SADDLE)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _sim(pilot)
        screen.play()
        screen.advance(1000)  # as the timer would, many frames at once
        await pilot.pause()
        assert not screen.playing and screen.session.tick == 60
        text = "\n".join(screen_lines(app))
        assert "The gradient is almost zero here" in text  # the caption
        assert "escape" in text and "-grad" in text  # arrows on the plot
        assert "stuck at saddle" in text or "running" in text  # the status column


@run_async
async def test_edit_form_changes_the_learning_rate_mid_run():
    app = make_app(SADDLE)
    async with app.run_test(size=(100, 34)) as pilot:
        screen = await _sim(pilot)
        screen.advance(10)
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, EditRunScreen)
        lr = form.query_one("#h-lr", Input)
        assert app.focused is lr and lr.value == "0.05"
        lr.value = "-3"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form  # a bad value keeps the form open...
        assert "Invalid learning rate" in str(form.query_one("#error").render())  # ...and says why
        lr.value = "fast"
        await pilot.press("enter")
        await pilot.pause()
        assert "not a number" in str(form.query_one("#error").render())
        lr.value = "0.2"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        sim = screen.session.sim
        assert sim.configs[0].hyper == {"lr": 0.2} and sim.step_count[0] == 10
        await pilot.pause()
        assert screen.query_one(RunTable).rows[0].lr == 0.2  # the table shows the new rate
        await pilot.press("n")
        assert sim.last_lr[0] == 0.2  # the next update used it


@run_async
async def test_edit_form_switches_optimizer_and_schedule():
    app = make_app(SADDLE)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await _sim(pilot)
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        form.query_one("#f-optimizer", Select).value = "adam"
        await pilot.pause()
        assert form.query_one("#h-betas", Input).value == "0.9, 0.999"
        form.query_one("#h-betas", Input).value = "0.8, 0.99"
        form.query_one("#f-kind", Select).value = "cosine"
        await pilot.pause()
        form.query_one("#h-lr", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form and "T_max" in str(form.query_one("#error").render())
        form.query_one("#s-T_max", Input).value = "300"
        form.action_apply()
        await pilot.pause()
        cfg = screen.session.sim.configs[0]
        assert cfg.optimizer == "adam" and cfg.hyper["betas"] == (0.8, 0.99)
        assert cfg.schedule == {"kind": "cosine", "T_max": 300}
        assert cfg.hyper["lr"] == 0.05


@run_async
async def test_edit_cancel_changes_nothing():
    app = make_app(SADDLE)
    async with app.run_test(size=(100, 34)) as pilot:
        screen = await _sim(pilot)
        before = screen.session.sim.configs[0]
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#h-lr", Input).value = "9"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and screen.session.sim.configs[0] == before


@run_async
async def test_add_remove_hide_and_select_runs():
    app = make_app(SADDLE)
    async with app.run_test(size=(100, 34)) as pilot:
        screen = await _sim(pilot)
        s = screen.session
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert form.query_one("#f-name", Input).value == "gd copy"
        form.query_one("#x-start", Input).value = "0.5, 0.5"
        form.action_apply()
        await pilot.pause()
        assert s.sim.names == ["gd", "gd-off-line", "adam", "gd copy"] and screen.view.selected == 3
        assert s.sim.configs[3].start == (0.5, 0.5)
        await pilot.press("left_square_bracket")
        assert screen.view.selected == 2
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert screen.view.selected == 0
        await pilot.press("v")
        assert not screen.view.visible(0)
        await pilot.pause()
        assert screen.query_one(RunTable).text_lines()[1].startswith("○ gd")
        await pilot.press("V")
        assert screen.view.visible(0)
        await pilot.press("d")
        assert s.sim.names == ["gd-off-line", "adam", "gd copy"]
        await pilot.press("d", "d", "d")  # the last run stays
        assert s.sim.n_runs == 1
        await pilot.pause()
        assert len(screen.query_one(RunTable).text_lines()) == 2


@run_async
async def test_run_table_click_and_arrows_select():
    app = make_app(ROSENBROCK)
    async with app.run_test(size=(100, 34)) as pilot:
        screen = await _sim(pilot)
        await pilot.click(RunTable, offset=(3, 3))  # header is line 0
        assert screen.view.selected == 2
        await pilot.press("down")  # the table has focus now
        assert screen.view.selected == 3


@run_async
async def test_click_on_the_plot_places_the_selected_run():
    app = make_app(SADDLE)
    async with app.run_test(size=(100, 34)) as pilot:
        screen = await _sim(pilot)
        screen.advance(5)
        plot = screen.query_one(ContourPlot)
        layout = plot.plot_layout
        col, row = layout.plot_cols // 4, layout.plot_rows // 4
        await pilot.click(ContourPlot, offset=(layout.left + col, row))
        await pilot.pause()
        x, y = layout.widget_to_data(layout.left + col, row)
        s = screen.session
        assert s.sim.configs[0].start == (x, y) and s.sim.step_count[0] == 0
        assert s.sim.step_count[1] == 5


@run_async
async def test_hessian_report_and_arrows():
    app = make_app(SADDLE)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _sim(pilot)
        screen.advance(59)
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, ReportScreen)
        text = "\n".join(screen_lines(app))
        assert "Hessian report at gd, step 59" in text and "eigenvalues" in text and "escape" in text
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and len(screen.view.arrows) == 2
        await pilot.press("c")
        assert screen.view.arrows == []


@run_async
async def test_files_are_saved(tmp_path):
    app = make_app(SADDLE, save_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _sim(pilot)
        screen.advance(12)
        await pilot.press("s", "w", "t", "s")
        await pilot.pause()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["saddle-edited.toml", "saddle-step12-2.svg", "saddle-step12.csv", "saddle-step12.svg"]
    assert (tmp_path / "saddle-step12.svg").read_text().startswith("<svg")
    csv = (tmp_path / "saddle-step12.csv").read_text().splitlines()
    assert csv[0] == "run,step,w1,w2,loss,lr,grad_norm" and len(csv) == 1 + 3 * 13
    from optsim.engine.scenario.load import load_scenario

    assert [r.name for r in load_scenario(tmp_path / "saddle-edited.toml").runs] == ["gd", "gd-off-line", "adam"]


@run_async
async def test_help_lists_every_key_and_the_palette_every_command():
    app = make_app(SADDLE)
    async with app.run_test(size=(100, 72)) as pilot:  # tall enough for the whole list unscrolled
        screen = await _sim(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(screen_lines(app))
        for command in SIMULATOR_COMMANDS:
            assert command.help[:30] in text, command.title
        await pilot.press("escape")
        await pilot.pause()
        provider = ScreenCommands(screen)
        titles = [hit.text for hit in [h async for h in provider.discover()]]
        assert len(titles) == len(SIMULATOR_COMMANDS) - 1  # all but "command palette" itself
        hits = [h async for h in provider.search("hessian")]
        assert hits and "Hessian" in str(hits[0].match_display)
        hits[0].command()
        await pilot.pause()
        assert isinstance(app.screen, ReportScreen)
        await pilot.press("escape")
        await pilot.pause()
        zoom = [h async for h in provider.search("zoom in")][0]
        window = screen.query_one(ContourPlot).window
        zoom.command()
        await pilot.pause()
        assert screen.query_one(ContourPlot).window != window  # plot commands run on the plot
    assert {c.title for c in PICKER_COMMANDS} >= {"Open", "Help", "Quit"}


@run_async
async def test_low_bandwidth_toggle():
    app = make_app(SADDLE)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _sim(pilot)
        plot = screen.query_one(ContourPlot)
        assert not plot.low_bandwidth and screen.fps == 30
        await pilot.press("b")
        assert plot.low_bandwidth and screen.fps == LOW_BANDWIDTH_FPS
        assert "low bandwidth" in screen_lines(app)[0]
        await pilot.press("b")
        assert not plot.low_bandwidth


@run_async
async def test_resize_down_to_too_small_and_back():
    app = make_app(ROSENBROCK)
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await _sim(pilot)
        screen.advance(100)
        for size in ((120, 40), (80, 24), (60, 18)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            lines = screen_lines(app)
            assert len(lines) == size[1]
            assert "step 100/3000" in lines[0] and not screen.has_class("-too-small")
            assert any("adagrad" in line for line in lines)  # the whole run table is there
        await pilot.resize_terminal(40, 12)
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert "Terminal too small: 40x12" in text and "at least 60x18" in text
        await pilot.press("n")  # keys still work, nothing breaks
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert "step 101/3000" in screen_lines(app)[0]


@run_async
async def test_picker_too_small():
    app = make_app(None)
    async with app.run_test(size=(30, 10)) as pilot:
        await pilot.pause()
        assert "Terminal too small" in "\n".join(screen_lines(app))


@run_async
async def test_three_parameter_scenario_plots_a_slice_and_follows_the_selection():
    app = make_app(THREE)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _sim(pilot)
        plot = screen.query_one(ContourPlot)
        field0 = plot.contour_field.cell_values.copy()
        text = "\n".join(screen_lines(app))
        assert "w3 = -1 (held at gd)" in text
        await pilot.press("right_square_bracket")  # adam holds w3 = 2
        await pilot.pause()
        assert not np.allclose(plot.contour_field.cell_values, field0)
        assert "w3 = 2 (held at adam)" in "\n".join(screen_lines(app))
        await pilot.press("p")  # random directions through adam's point (engine.slicing)
        await pilot.pause()
        assert screen.view.plane.slice.kind == "random"
        assert "random filter-normalized" in "\n".join(screen_lines(app))
        top = plot.region.y  # under the status line (two rows while a long message is on it)
        assert screen_lines(app)[top].startswith("random slice at adam")  # the plot's title
        assert screen_lines(app)[top + 1].startswith("along r2")  # the y axis name, whole
        await pilot.press("p", "p")
        assert screen.view.plane.slice.kind == "params"


@run_async
async def test_data_scenario_shows_test_loss():
    app = make_app(DATA)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _sim(pilot)
        screen.advance(30)
        await pilot.pause()
        assert screen.query_one(RunTable).text_lines()[0].split()[:5] == ["run", "optimizer", "step", "loss", "test"]
        assert "╌ test" in screen.query_one("#loss", CurvePlot).text_lines()[0]


@run_async
async def test_play_mode_autoplays_to_the_end():
    app = make_app(ROSENBROCK, play=True)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _sim(pilot)
        assert screen.playing and screen.play_mode
        screen.advance(10_000)
        assert screen.session.finished and not screen.playing


@run_async
async def test_a_diverging_run_is_shown_not_a_crash():
    app = make_app(ROSENBROCK)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _sim(pilot)
        screen.session.edit_run(0, {"lr": 5.0})
        screen.advance(50)
        await pilot.pause()
        s = screen.session
        assert s.sim.diverged_at[0] > 0 and s.sim.step_count[1] == 50
        row = screen.query_one(RunTable).text_lines()[1]
        assert "diverged" in row
        screen.refresh_views(force=True)  # curves with huge values, plot with a run off the view
        await pilot.pause()
        assert len(screen_lines(app)) == 36


def test_build_app_targets(tmp_path):
    import pytest

    from optsim.engine.errors import ScenarioError
    from optsim.tui.launch import build_app

    app = build_app(str(SADDLE), low_bandwidth=True)
    assert app.initial_session.scenario.title.startswith("The saddle") and app.low_bandwidth
    app = build_app(str(SADDLE.parent))
    assert app.folder == SADDLE.parent and app.initial_session is None
    with pytest.raises(ScenarioError, match="no such file or built-in"):
        build_app("no-such-scenario")
    with pytest.raises(ScenarioError, match="no \\*.toml"):
        build_app(str(tmp_path))
