"""Issue 9, the contour plot: what the plot draws agrees with the engine's numbers.

The -grad arrow is drawn only where the gradient is not zero by the critical-point
report's own rule (engine.analysis.critical.gradient_is_zero), and carries |g|.
"""

from __future__ import annotations

import numpy as np

from optsim.engine.analysis.critical import analyze_point, gradient_is_zero
from optsim.engine.scenario.catalog import builtin_dir
from optsim.engine.scenario.load import load_scenario
from optsim.engine.watch.session import Session
from optsim.tui.view.model import ViewModel
from tui_helpers import SADDLE, make_app, run_async, screen_lines, session


def _view_at(stem: str, tick: int) -> ViewModel:
    s = Session(load_scenario(builtin_dir() / f"{stem}.toml"))
    v = ViewModel(s)
    s.advance_to(tick)
    return v


def test_no_gradient_arrow_where_the_gradient_is_zero_by_the_reports_rule():
    for stem, tick in (("41-momentum-over-a-bump", 400), ("10-saddle-w1w2", 70)):
        v = _view_at(stem, tick)
        shown = v.analysed
        assert shown is not None and shown.step == tick  # the script's Hessian report at that step
        report = shown.report
        assert 0 < report.grad_norm < 1e-5  # the issue's |g| about 1e-7: tiny, not exactly zero
        assert report.grad_norm <= report.grad_tol and gradient_is_zero(report.grad_norm, report.grad_tol)
        assert [a.kind for a in shown.arrows if a.kind == "gradient"] == []


def test_the_gradient_arrow_carries_its_length_where_it_is_drawn():
    v = ViewModel(session(SADDLE))
    v.session.advance(20)
    report = v.analyse_point(0, "gradient")
    assert not report.gradient_zero and report.grad_norm > report.grad_tol
    (arrow,) = v.analysed.arrows
    assert arrow.kind == "gradient" and arrow.label.startswith("-grad |g| ")
    value = float(arrow.label.split("|g| ")[1])
    np.testing.assert_allclose(value, report.grad_norm, rtol=0.01)


def test_the_rule_is_the_one_that_makes_a_point_critical():
    v = ViewModel(session(SADDLE))
    obj = v.session.objective
    at_saddle = analyze_point(obj, np.zeros(obj.n_params))
    assert at_saddle.kind == "saddle point" and at_saddle.gradient_zero
    off = analyze_point(obj, np.full(obj.n_params, 0.3))
    assert off.kind == "not critical" and not off.gradient_zero


# ------------------------------------------------------------------ draw order (render level)

def _bowl_cells():
    from rich.style import Style

    from optsim.tui.render.cell_grid import StyleTable
    from optsim.tui.render.contour_cells import paint_contour
    from optsim.tui.render.contour_grid import compute_contour_field, plan_layout

    layout = plan_layout(60, 20, (-2.0, 2.0, -2.0, 2.0))
    field = compute_contour_field(lambda p: p[:, 0] ** 2 + p[:, 1] ** 2, layout.geometry)
    table = StyleTable(Style(bgcolor="#101010"))
    return layout, table, paint_contour(layout, field, table, "truecolor", False, 9)


def _plot_part(layout, codes, styles):
    rows, left, cols = layout.plot_rows, layout.left, layout.plot_cols
    return codes[:rows, left:left + cols], styles[:rows, left:left + cols]


def test_coinciding_paths_all_show_and_markers_stay_on_top():
    from optsim.tui.render.contour_cells import MINIMUM_GLYPH, RunTrace

    layout, table, cells = _bowl_cells()
    xs = np.linspace(-1.8, 1.8, 200)
    colors = ("#ff0000", "#00ff00", "#0000ff")
    runs = [RunTrace(f"r{k}", c, xs, 0.3 * xs, (float(xs[-1]), 0.3 * float(xs[-1])), g)
            for k, (c, g) in enumerate(zip(colors, "●■▲"))]
    codes, styles = _plot_part(layout, *cells.frame(runs, [], [(0.0, 0.0)]))
    fgs = {table.styles[s].color.get_truecolor().hex for s in styles[(codes >= 0x2800) & (codes < 0x2900)].ravel()}
    assert set(colors) <= fgs  # each of three identical paths keeps cells of its own colour
    assert (codes == ord(MINIMUM_GLYPH)).sum() == 1  # the minimum at (0, 0) sits on the paths, not under
    assert not any((codes == ord(g)).any() for g in "●■▲")  # no glyph over the others: their number
    assert (codes == ord("3")).sum() == 1
    runs[0] = runs[0]._replace(current=(0.9, 0.9))  # one moves away: its glyph, and 2 for the others
    codes, _ = _plot_part(layout, *cells.frame(runs, [], [(0.0, 0.0)]))
    assert (codes == ord("●")).sum() == 1 and (codes == ord("2")).sum() == 1 and not (codes == ord("3")).any()


def test_overlay_cells_sit_on_a_dimmed_halo_of_their_band():
    from optsim.tui.render.contour_cells import RunTrace
    from optsim.tui.render.palette import luminance

    layout, table, cells = _bowl_cells()
    bare_codes, bare_styles = _plot_part(layout, cells.codes, cells.styles)
    run = RunTrace("r", "#ffffff", np.linspace(-1.8, 1.8, 50), np.full(50, 0.7), None)
    codes, styles = _plot_part(layout, *cells.frame([run], [], []))
    drawn = styles != bare_styles
    assert drawn.any()
    for r, c in zip(*np.nonzero(drawn)):
        under = table.styles[bare_styles[r, c]].bgcolor.get_truecolor().hex
        halo = table.styles[styles[r, c]].bgcolor.get_truecolor().hex
        assert luminance(halo) < luminance(under)


# ------------------------------------------------------------------ the level key

def test_the_level_key_gives_each_bands_lowest_loss_on_its_colour():
    from rich.style import Style

    from optsim.tui.render import palette
    from optsim.tui.render.cell_grid import StyleTable, row_text
    from optsim.tui.render.contour_cells import paint_contour
    from optsim.tui.render.contour_grid import compute_contour_field, level_labels, plan_layout

    def rosenbrock(p):
        return (1 - p[:, 0]) ** 2 + 100 * (p[:, 1] - p[:, 0] ** 2) ** 2

    layout = plan_layout(47, 21, (-2.0, 2.0, -1.0, 3.0), legend_rows=10)  # the plot's size at 80x24
    assert layout.legend > 0 and layout.legend_left + layout.legend - 1 == 47
    field = compute_contour_field(rosenbrock, layout.geometry, 9)
    table = StyleTable(Style(bgcolor="#101010"))
    cells = paint_contour(layout, field, table, "truecolor", False, 9)
    col = layout.legend_left
    key = [row_text(cells.codes[r, col:]).strip() for r in range(10)]
    assert key[0] == "loss ≥"
    edges = field.levels.edges
    assert key[1:] == level_labels(edges)[:-1][::-1]  # each band's lowest edge, highest band first
    assert field.levels.log and float(key[1]) > 100 * float(key[-1])  # log levels: the key spans decades
    bands = palette.band_colors(9, "truecolor")
    for row, k in zip(range(1, 10), range(8, -1, -1)):
        assert table.styles[cells.styles[row, col]].bgcolor.get_truecolor().hex == bands[k]
    # the band each sampled cell is drawn in agrees with the key's numbers
    v, b = field.cell_values, field.bands
    ok = b >= 0
    assert np.all(v[ok] >= edges[b[ok]] - 1e-9 * np.abs(edges[b[ok]]))


def test_level_labels_fit_the_key():
    from optsim.tui.render.contour_grid import LEGEND_WIDTH, level_label, level_labels

    for v in (0.0, 1e-23, -0.305, 0.0033, 1234.5, -1.25e-5, 4.3e2, 7e100):
        assert len(level_label(v)) <= LEGEND_WIDTH - 1
    assert level_label(1234.5) == "1.2e3" and level_label(0.0033) == "0.0033"
    # log levels over a narrow range: as many digits as tell the edges apart
    assert level_labels([0.5188, 0.519, 0.5201, 0.81]) == ["0.5188", "0.519", "0.5201", "0.81"]


# ------------------------------------------------------------------ the status and the point panel agree

def test_stuck_at_saddle_and_the_point_report_use_one_nearness_rule():
    from optsim.engine.analysis.critical import is_near, model_critical_distance

    v = ViewModel(session(SADDLE))
    v.session.advance(60)  # the script's Hessian report at step 60 (the screen)
    assert v.session.statuses()[0] == "stuck at saddle"
    report = v.analysed.report
    assert report.kind == "not critical" and report.grad_norm > report.grad_tol  # |g| 0.0036: not zero
    assert report.near_kind == "saddle point" and report.verdict == "not critical, near a saddle point"
    # the distance is the diagnosis' own: |H^+ g| of the local quadratic model
    d = model_critical_distance(report.grad, report.eigenvalues, report.eigenvectors, report.eig_tol, report.grad_tol)
    np.testing.assert_allclose(report.near_distance, d)
    np.testing.assert_allclose(d, np.linalg.norm(report.point), rtol=1e-4)  # the saddle is the origin
    assert is_near(d, np.linalg.norm(report.point))


def test_a_point_far_from_any_critical_point_is_just_not_critical():
    v = ViewModel(session(SADDLE))
    v.session.advance(5)
    report = v.analyse_point(2)  # adam, still on its way
    assert report.kind == "not critical" and report.near_kind == "" and report.verdict == "not critical"


@run_async
async def test_the_panel_says_near_a_saddle_where_the_table_says_stuck_at_saddle():
    async with make_app(SADDLE).run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        pilot.app.screen.play()
        pilot.app.screen.advance(500)  # the script pauses at step 60
        await pilot.pause()
        text = "\n".join(screen_lines(pilot.app))
        assert "stuck at saddle: |g| 0.0036" in text
        assert "gd at step 60: not critical, near a saddle point" in text and "(0.0018 away)" in text


# ------------------------------------------------------------------ slices of models with more parameters

@run_async
async def test_a_slice_has_a_title_and_axes_a_person_can_read():
    from optsim.tui.widgets.contour_plot import ContourPlot
    from tui_helpers import THREE

    app = make_app(THREE)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.screen.advance(100)
        await pilot.pause()
        plot = app.screen.query_one(ContourPlot)
        layout = plot.plot_layout
        assert layout.title == "slice at gd: w1, w2; 1 other held" and layout.top == 1
        assert plot.frame_strips()[0].text.startswith("slice at gd")
        await pilot.press("p")  # random directions
        await pilot.pause()
        layout = plot.plot_layout
        assert (layout.x_name, layout.y_name) == ("along r1", "along r2")  # not cut to "direction…"
        assert layout.title == "random slice at gd: distance along r1, r2"
        texts = [s.text for s in plot.frame_strips()]
        assert texts[0].startswith("random slice at gd") and texts[1].startswith("along r2")
        # the axes are distances in parameter space: the runs' paths fit in a few units, not +-500
        x0, x1, y0, y1 = plot.window
        starts = np.array([c.start for c in app.screen.session.sim.configs])
        reach = np.linalg.norm(starts[:, None] - starts[None], axis=2).max()
        assert max(abs(x0), abs(x1), abs(y0), abs(y1)) <= 2 * reach
        await pilot.press("p")  # the path's principal directions
        await pilot.pause()
        layout = plot.plot_layout
        assert (layout.x_name, layout.y_name) == ("along PC1", "along PC2")
        assert layout.title.startswith("PCA slice at gd: distance along PC1, PC2 (")


def test_each_covered_cell_has_exactly_one_owner_and_shared_cells_take_turns():
    from optsim.tui.render.shared_cells import shared_cells

    rng = np.random.default_rng(3)
    covered = rng.random((4, 9, 13)) < 0.5
    owners = shared_cells(covered)
    assert not (owners & ~covered).any()  # a run owns only cells its path covers
    np.testing.assert_array_equal(owners.sum(axis=0), covered.any(axis=0))  # one owner each
    full = np.ones((3, 1, 6), dtype=bool)  # three coinciding paths along a row
    assert shared_cells(full)[:, 0, :].argmax(axis=0).tolist() == [0, 1, 2, 0, 1, 2]
