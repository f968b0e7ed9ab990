"""What the screen keeps from frame to frame never outlives its inputs: a paused step in a
scenario of more than two parameters cuts the slice again only once the selected run has left
it by more than a plot cell, the panel names the values the drawn slice holds, and pausing or
a new selection cuts it exactly through the run's point."""

from __future__ import annotations

import numpy as np

from optsim.tui.screens.simulator import SimulatorScreen
from optsim.tui.widgets.contour_plot import ContourPlot
from tui_helpers import THREE, make_app, run_async, screen_lines


async def _sim(pilot) -> SimulatorScreen:
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, SimulatorScreen)
    return screen


def _held_text(screen: SimulatorScreen) -> str:
    values = screen.view.held_values()
    return ", ".join(f"{k} = {x:.3g}" for k, x in values.items())


@run_async
async def test_a_paused_step_cuts_the_slice_again_only_past_a_plot_cell():
    app = make_app(THREE)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _sim(pilot)
        plot = screen.query_one(ContourPlot)
        v = screen.view
        cell = min(plot.drawn_cell_size)
        cuts = kept = 0
        for _ in range(60):
            before = v.plane.slice
            screen.advance(1)
            await pilot.pause()
            now = screen.session.sim.params[v.selected]
            after = v.plane.slice
            moved = float(np.max(np.abs(np.delete(now - before.origin, list(v.plane.axes)))))
            if after is before:
                kept += 1
                assert moved <= cell  # kept: the run is within a cell of the slice drawn
            else:
                cuts += 1
                assert moved > cell and np.array_equal(after.origin[2:], now[2:])  # cut through it
            # The panel names the values of the slice drawn, not the run's newest ones.
            assert _held_text(screen) in "\n".join(screen_lines(app))
            assert v.held_values() == {"w3": after.origin[2]}
        assert cuts >= 1 and kept >= 1  # both happen in these 60 steps


@run_async
async def test_pausing_and_selecting_cut_the_slice_through_the_run_exactly():
    app = make_app(THREE)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _sim(pilot)
        v = screen.view
        screen.advance(1)
        screen.pause()
        await pilot.pause()
        sim = screen.session.sim
        assert np.array_equal(v.plane.slice.origin[2:], sim.params[v.selected][2:])
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert np.array_equal(v.plane.slice.origin[2:], sim.params[v.selected][2:])
        # The contour drawn is the one a freshly cut slice gives.
        plot = screen.query_one(ContourPlot)
        f = v.surface_function()
        pts = np.array([[0.25, 0.5], [-1.0, 0.75]])
        full = np.column_stack([pts, np.full(2, sim.params[v.selected][2])])
        assert np.allclose(f(pts), screen.session.objective.loss(full))
        assert plot.contour_field is not None


def _assert_plot_fresh(plot: ContourPlot) -> None:
    """The plot's frame (its paths rastered from what changed) equals the frame drawn whole."""
    from dataclasses import replace

    bg = plot._background()
    # no kept rasters, and a copy of the cells that has no last frame to hand back
    codes, styles = replace(bg.cells).frame(plot._runs, plot._arrows, plot._minima)
    assert np.array_equal(plot._canvas.codes, codes) and np.array_equal(plot._canvas.styles, styles)


@run_async
async def test_the_plot_with_kept_path_rasters_equals_one_drawn_whole_after_every_change():
    from dataclasses import replace

    from tui_helpers import ROSENBROCK

    app = make_app(ROSENBROCK)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _sim(pilot)
        plot = screen.query_one(ContourPlot)
        s = screen.session

        async def check(*keys: str) -> None:
            if keys:
                await pilot.press(*keys)
            await pilot.pause()
            plot.frame_strips()
            _assert_plot_fresh(plot)

        screen.advance(700)  # past the full-resolution window: it slides over the decimated part
        await check()
        for _ in range(3):
            await check("n")
        await check("right_square_bracket")  # another selected run: drawn last
        await check("v")  # hidden
        await check("V")
        plot.zoom(1.3)
        await check("n")
        await check("b")  # low bandwidth: another background
        await check("n")
        s.set_start(0, (0.5, 0.5))
        await check("n")
        s.edit_run(1, {"lr": 1e-4})
        await check("n", "n")
        s.add_run(replace(s.sim.configs[0], name="copy"))
        await check("n")
        s.remove_run(0)
        await check("n")
        await pilot.resize_terminal(100, 32)
        await check("n")
        await check("r")  # reset: every path back to its start
        await check("n")


def _assert_canvas_fresh(widget) -> None:
    """A canvas widget's frame, drawn with its kept styles, equals one drawn after forgetting them."""
    codes, styles = widget._canvas.codes.copy(), widget._canvas.styles.copy()
    table = widget._canvas.table
    widget._styles_kept = {}
    widget._draw(refresh=False)
    assert widget._canvas.table is table or table.base == widget._canvas.table.base
    assert np.array_equal(widget._canvas.codes, codes) and np.array_equal(widget._canvas.styles, styles)


@run_async
async def test_kept_styles_follow_focus_and_theme_changes():
    from optsim.tui.widgets.curve_plot import CurvePlot
    from optsim.tui.widgets.run_table import RunTable
    from tui_helpers import ROSENBROCK

    app = make_app(ROSENBROCK)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _sim(pilot)
        table, loss = screen.query_one(RunTable), screen.query_one("#loss", CurvePlot)
        screen.advance(20)
        await pilot.pause()
        before = (loss.kept_style(), table.kept_style("run-table--cursor"))
        for change in ("focus", "theme", "theme back"):
            if change == "focus":
                table.focus()
            else:
                app.theme = "textual-light" if change == "theme" else "textual-dark"
            await pilot.pause()
            screen.advance(1)
            await pilot.pause()
            assert loss.kept_style() == loss.rich_style
            assert table.kept_style("run-table--cursor") == table.get_component_rich_style("run-table--cursor")
            assert table.kept_style() == table.rich_style
            _assert_canvas_fresh(table)
            _assert_canvas_fresh(loss)
            if change == "theme":
                assert loss.kept_style() != before[0]  # the light theme's style was taken, not the kept one


@run_async
async def test_a_frame_from_the_same_inputs_is_the_last_one_and_a_moved_point_is_drawn():
    """The contour plot keeps its frame when no path gains or loses a dot and no current point
    changes cell (nothing is painted or compared then); a step that moves a point is drawn,
    and every frame equals one drawn whole."""
    from tui_helpers import ROSENBROCK

    app = make_app(ROSENBROCK)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _sim(pilot)
        plot = screen.query_one(ContourPlot)
        screen.advance(400)
        await pilot.pause()
        kept = drawn = 0
        for _ in range(40):
            before = plot._canvas.codes
            screen.advance(1)
            await pilot.pause()
            _assert_plot_fresh(plot)
            if plot._canvas.codes is before:
                kept += 1
            else:
                drawn += 1
        assert kept >= 1 and drawn >= 1
        bg = plot._background()
        again = bg.cells.frame(plot._runs, plot._arrows, plot._minima, plot._trails)
        assert again[0] is plot._canvas.codes  # the same inputs: the same arrays
