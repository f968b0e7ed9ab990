"""Tests of the ContourPlot widget (in a minimal app) and of the palette it draws with."""

from __future__ import annotations


import numpy as np
import pytest
from rich._palettes import EIGHT_BIT_PALETTE, STANDARD_PALETTE
from rich.color import Color, ColorSystem
from textual import events
from textual.app import App, ComposeResult
from textual.geometry import Region
from tui_helpers import run_async

from optsim.tui.render import palette
from optsim.tui.widgets.contour_plot import CURRENT_GLYPH, MINIMUM_GLYPH, ContourPlot

ROSEN_WINDOW = (-2.0, 2.0, -1.0, 3.0)


def rosenbrock(p: np.ndarray) -> np.ndarray:
    return (1 - p[:, 0]) ** 2 + 100 * (p[:, 1] - p[:, 0] ** 2) ** 2


def rosenbrock_grad(x: float, y: float) -> np.ndarray:
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def descent(start, lr, steps, momentum=0.0) -> np.ndarray:
    """A heavy-ball run on Rosenbrock (deterministic test data)."""
    p, v = np.array(start, dtype=float), np.zeros(2)
    out = [p.copy()]
    for _ in range(steps):
        v = momentum * v + rosenbrock_grad(*p)
        p = p - lr * v
        out.append(p.copy())
    return np.array(out)


class PlotApp(App):
    """Only the plot; records the messages it posts."""

    def __init__(self, runs: bool = False) -> None:
        super().__init__()
        self.with_runs = runs
        self.clicks: list[tuple[float, float]] = []
        self.views: list[tuple] = []

    def compose(self) -> ComposeResult:
        yield ContourPlot()

    def on_mount(self) -> None:
        plot = self.query_one(ContourPlot)
        plot.set_surface(rosenbrock, ROSEN_WINDOW, ("w1", "w2"), minima=[(1.0, 1.0)])
        if self.with_runs:
            a = descent((-1.5, 2.5), 8e-4, 300, momentum=0.9)
            b = descent((0.5, -0.8), 1e-3, 300)
            plot.set_runs([
                ("momentum", palette.run_color(0), a[:, 0], a[:, 1], tuple(a[-1])),
                ("gd", palette.run_color(1), b[:, 0], b[:, 1], tuple(b[-1])),
            ])

    def on_contour_plot_clicked(self, message: ContourPlot.Clicked) -> None:
        self.clicks.append((message.x, message.y))

    def on_contour_plot_view_changed(self, message: ContourPlot.ViewChanged) -> None:
        self.views.append(message.window)


def strip_texts(plot: ContourPlot) -> list[str]:
    return [strip.text for strip in plot.frame_strips()]


def plot_backgrounds(plot: ContourPlot) -> set[str]:
    """Hex background colours used inside the plot area."""
    layout = plot.plot_layout
    out = set()
    for strip in plot.frame_strips()[: layout.plot_rows]:
        x = 0
        for seg in strip:
            inside = x + len(seg.text) > layout.left and x < layout.left + layout.plot_cols  # not the key
            if inside and seg.style and seg.style.bgcolor:
                out.add(seg.style.bgcolor.triplet.hex)
            x += len(seg.text)
    return out


# ------------------------------------------------------------------ rendering


@run_async
async def test_renders_every_line_at_full_width():
    app = PlotApp(runs=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        plot = app.query_one(ContourPlot)
        strips = plot.frame_strips()
        assert len(strips) == 24
        assert all(strip.cell_length == 80 for strip in strips)
        texts = [s.text for s in strips]
        assert texts[0].startswith("w2")
        assert texts[-1].rstrip().endswith("w1")
        assert "-1" in texts[-1] and " 1 " in texts[-1]
        assert "└" in texts[-2] and "┬" in texts[-2]
        assert any("┤" in t for t in texts[:-2])
        # braille iso-lines or trajectories are present
        assert any(any(0x2800 < ord(ch) <= 0x28FF for ch in t) for t in texts)


@run_async
async def test_markers_sit_in_the_right_cells():
    app = PlotApp(runs=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        plot = app.query_one(ContourPlot)
        layout = plot.plot_layout
        texts = strip_texts(plot)
        cols, rows, _ = layout.geometry.data_to_cell(np.array([1.0]), np.array([1.0]))
        assert texts[rows[0]][layout.left + cols[0]] == MINIMUM_GLYPH
        plot.set_runs([("a", "#ff0000", np.array([-1.0, 0.0]), np.array([0.0, 0.0]), (0.0, 0.0))])
        cols, rows, _ = layout.geometry.data_to_cell(np.array([0.0]), np.array([0.0]))
        strip = plot.frame_strips()[rows[0]]
        x = 0
        for seg in strip:
            if x <= layout.left + cols[0] < x + len(seg.text):
                assert seg.text[layout.left + cols[0] - x] == CURRENT_GLYPH
                assert seg.style.color.triplet.hex == "#ff0000"
                break
            x += len(seg.text)
        else:
            pytest.fail("no segment covers the current point")


@run_async
async def test_arrows_are_drawn_with_labels():
    app = PlotApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        plot = app.query_one(ContourPlot)
        plot.set_arrows([((-1.0, 1.0), (1.0, 0.0), "#ffffff", "grad"),
                         ((0.0, 0.0), (0.0, 0.0), "#ffffff", "none"),
                         ((1.0, 0.0), (0.0, 0.0), "#ffffff", "g ≈ 0", 0.0)])
        texts = strip_texts(plot)
        assert sum("→grad" in t for t in texts) == 1
        assert not any("none" in t for t in texts)  # zero direction: nothing drawn
        assert sum("g ≈ 0" in t for t in texts) == 1  # scale 0: the label alone, at its point
        plot.set_arrows([])
        assert not any("grad" in t for t in strip_texts(plot))


@run_async
async def test_a_label_wider_than_either_side_is_cut_with_an_ellipsis_apart_from_its_point():
    """At 80x24 adagrad-bursts' "≈ 0" label fitted on neither side of a point mid-plot: it was cut
    at the plot's left edge (losing its first words) and ran into the point's count ("≈ 02").
    Now it keeps its first words, ends in "…" inside the plot, and a blank column stays between
    it and the point."""
    label = "-lr·g, step ≈ 0 (1.5e-14, 1.9e-15) and more words than any plot side holds"
    app = PlotApp()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        plot = app.query_one(ContourPlot)
        plot.set_arrows([((-1.0, 0.0), (0.0, 0.0), "#ffffff", label, 0.0)])
        layout = plot.plot_layout
        cols, rows, _ = layout.geometry.data_to_cell(np.array([-1.0]), np.array([0.0]))
        point = layout.left + int(cols[0])
        (line,) = [t for t in strip_texts(plot) if "-lr·g, step ≈ 0" in t]
        start = line.index("-lr·g")
        end = line.index("…", start) + 1
        cut = line[start:end]
        assert layout.left <= start and end <= layout.left + layout.geometry.cols  # inside the plot area
        assert end <= point - 1 or start >= point + 2  # one column clear of the point on either side
        right_room = layout.geometry.cols - int(cols[0]) - 2
        room = max(right_room, int(cols[0]) - 1)  # the wider side, filled up to a word's end
        assert cut == label[:room - 1].rstrip() + "…"


@run_async
async def test_labels_of_arrows_from_one_point_do_not_overwrite_each_other():
    """resnet-warmup drew "↑λ 200tum 11": an eigenvector's label over the momentum's."""
    app = PlotApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        plot = app.query_one(ContourPlot)
        plot.set_arrows([((-1.0, 1.0), (0.0, 1.0), "#ffffff", "momentum 11"),
                         ((-1.0, 1.0), (0.0, 2.0), "#ffffff", "λ 200"),
                         ((-1.0, 1.0), (0.0, 1.0), "#ffffff", "-g 80", 0.0)])
        texts = strip_texts(plot)
        for label in ("momentum 11", "λ 200", "-g 80"):
            assert sum(label in t for t in texts) == 1, label


@run_async
async def test_too_small_shows_a_message():
    app = PlotApp(runs=True)
    async with app.run_test(size=(12, 4)) as pilot:
        await pilot.pause()
        plot = app.query_one(ContourPlot)
        texts = strip_texts(plot)
        assert len(texts) == 4
        assert texts[0].startswith("plot too")
        assert all(t.strip() == "" for t in texts[1:])
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert strip_texts(plot)[0].startswith("w2")
        layout = plot.plot_layout
        assert layout.plot_cols + layout.left + layout.legend == 80 and layout.legend > 0


@run_async
async def test_no_surface_yet():
    class Empty(App):
        def compose(self) -> ComposeResult:
            yield ContourPlot()

    app = Empty()
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        plot = app.query_one(ContourPlot)
        plot.set_runs([("a", "#ff0000", np.array([0.0]), np.array([0.0]), None)])
        assert strip_texts(plot)[0].startswith("no surface")
        plot.zoom(2.0)  # nothing to zoom: no error
        assert plot.window is None


@run_async
async def test_surface_errors_and_nan_do_not_crash():
    def broken(p):
        raise ValueError("bad formula")

    app = PlotApp()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        plot = app.query_one(ContourPlot)
        plot.set_surface(lambda p: np.where(p[:, 0] < 0, np.nan, p[:, 0] ** 2), (-1, 1, -1, 1))
        assert len(plot.frame_strips()) == 20
        assert palette.invalid_color("truecolor") in plot_backgrounds(plot)
        plot.set_surface(broken, (-1, 1, -1, 1))
        assert "bad formula" in strip_texts(plot)[0]


# ------------------------------------------------------------------ interaction


@run_async
async def test_click_posts_the_data_point_under_the_cell():
    app = PlotApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        plot = app.query_one(ContourPlot)
        layout = plot.plot_layout
        x0, x1, y0, y1 = ROSEN_WINDOW
        cw = (x1 - x0) / layout.plot_cols
        ch = (y1 - y0) / layout.plot_rows
        for col, row in ((0, 0), (10, 5), (layout.plot_cols - 1, layout.plot_rows - 1)):
            app.clicks.clear()
            await pilot.click(ContourPlot, offset=(layout.left + col, row))
            await pilot.pause()
            assert len(app.clicks) == 1
            x, y = app.clicks[0]
            # inside the data rectangle covered by that cell (independent of the widget's maths)
            assert x0 + col * cw <= x <= x0 + (col + 1) * cw
            assert y1 - (row + 1) * ch <= y <= y1 - row * ch
        app.clicks.clear()
        await pilot.click(ContourPlot, offset=(0, 3))  # the y tick labels
        await pilot.click(ContourPlot, offset=(40, 23))  # the x tick labels
        await pilot.pause()
        assert app.clicks == []


@run_async
async def test_mouse_drag_pans_and_is_not_a_click():
    app = PlotApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        plot = app.query_one(ContourPlot)
        layout = plot.plot_layout
        x0, x1, y0, y1 = ROSEN_WINDOW
        start = (layout.left + 20, 8)
        await pilot.mouse_down(ContourPlot, offset=start)
        await pilot.hover(ContourPlot, offset=(start[0] + 10, start[1] + 4))  # 10 cells right, 4 down
        await pilot.mouse_up(ContourPlot, offset=(start[0] + 10, start[1] + 4))
        await pilot.pause()
        nx0, nx1, ny0, ny1 = plot.window
        # the content moved with the pointer: the view went left by 10 columns and up by 4 rows
        assert nx0 == pytest.approx(x0 - 10 * (x1 - x0) / layout.plot_cols)
        assert ny0 == pytest.approx(y0 + 4 * (y1 - y0) / layout.plot_rows)
        assert nx1 - nx0 == pytest.approx(x1 - x0)  # a pan, not a zoom
        assert app.clicks == []  # releasing the drag placed no start
        await pilot.click(ContourPlot, offset=start)  # and the next plain click is a click again
        await pilot.pause()
        assert len(app.clicks) == 1 and plot.window == (nx0, nx1, ny0, ny1)


@run_async
async def test_keys_zoom_pan_and_reset():
    app = PlotApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        plot = app.query_one(ContourPlot)
        plot.focus()
        await pilot.press("z")
        x0, x1, y0, y1 = plot.window
        assert x1 - x0 == pytest.approx(4 / 1.5) and (x0 + x1) / 2 == pytest.approx(0.0)
        assert y1 - y0 == pytest.approx(4 / 1.5) and (y0 + y1) / 2 == pytest.approx(1.0)
        await pilot.press("Z")
        assert plot.window == pytest.approx(ROSEN_WINDOW)
        await pilot.press("right", "up")
        assert plot.window == pytest.approx((-1.6, 2.4, -0.6, 3.4))
        await pilot.press("0")
        assert plot.window == pytest.approx(ROSEN_WINDOW)
        await pilot.pause()
        assert len(app.views) == 5  # z, Z, right, up, 0
        # the background follows the view: the x labels change when zoomed in
        before = strip_texts(plot)[-1]
        plot.zoom(4.0, center=(1.0, 1.0))
        assert plot.window == pytest.approx((0.25, 1.25, 0.5, 1.5))
        assert strip_texts(plot)[-1] != before


@run_async
async def test_mouse_wheel_zooms_about_the_pointer():
    app = PlotApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        plot = app.query_one(ContourPlot)
        layout = plot.plot_layout
        x, y = layout.left + 50, 6
        before = layout.widget_to_data(x, y)
        plot.post_message(events.MouseScrollUp(plot, x, y, 0, -1, 0, False, False, False))
        await pilot.pause()
        x0, x1, y0, y1 = plot.window
        assert x1 - x0 < 4.0 and y1 - y0 < 4.0
        after = plot.plot_layout.widget_to_data(x, y)
        cw, ch = plot.plot_layout.geometry.cell_size
        assert abs(after[0] - before[0]) <= cw and abs(after[1] - before[1]) <= ch
        plot.post_message(events.MouseScrollDown(plot, x, y, 0, 1, 0, False, False, False))
        await pilot.pause()
        # back to the start, up to the shift of the plot area when the tick labels' width
        # changes with the zoom (a fraction of a cell)
        assert plot.window == pytest.approx(ROSEN_WINDOW, abs=cw)


@run_async
async def test_set_runs_refreshes_only_changed_rows(monkeypatch):
    app = PlotApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        plot = app.query_one(ContourPlot)
        plot.frame_strips()
        layout = plot.plot_layout
        calls: list[tuple[Region, ...]] = []
        original = plot.refresh

        def spy(*regions, **kwargs):
            calls.append(regions)
            return original(*regions, **kwargs)

        monkeypatch.setattr(plot, "refresh", spy)

        def row_of(y: float) -> int:
            return int(layout.geometry.data_to_cell(np.array([0.0]), np.array([y]))[1][0])

        xs = np.linspace(-1.5, 1.5, 50)
        plot.set_runs([("a", "#ff0000", xs, np.full(50, 2.0), None)])
        assert len(calls) == 1 and len(calls[0]) == 1  # one changed row
        rows = {y for (region,) in calls for y in range(region.y, region.y + region.height)}
        assert rows == {row_of(2.0)}
        # only the changed span of the row: the 50 points from x = -1.5 to 1.5, not the full width
        c0 = int(layout.geometry.data_to_cell(np.array([-1.5]), np.array([2.0]))[0][0]) + layout.left
        c1 = int(layout.geometry.data_to_cell(np.array([1.5]), np.array([2.0]))[0][0]) + layout.left
        (region,) = calls[0]
        assert region.x == c0 and region.x + region.width - 1 == c1 and region.width < 80

        calls.clear()
        plot.set_runs([("a", "#ff0000", xs, np.full(50, 2.0), None)])  # same frame again
        assert calls == []

        calls.clear()
        plot.set_runs([("a", "#ff0000", xs, np.full(50, 0.0), None)])  # moved
        rows = {y for regions in calls for region in regions for y in range(region.y, region.y + region.height)}
        assert rows == {row_of(2.0), row_of(0.0)}


@run_async
async def test_runs_and_arrows_of_a_frame_are_drawn_once_and_the_same_arrows_not_again(monkeypatch):
    app = PlotApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        plot = app.query_one(ContourPlot)
        plot.frame_strips()
        draws: list[bool] = []
        original = plot._draw
        monkeypatch.setattr(plot, "_draw", lambda refresh: (draws.append(refresh), original(refresh)))
        run = [("a", "#ff0000", np.array([-1.0, 0.0]), np.array([2.0, 2.0]), (0.0, 2.0))]
        arrow = [((0.0, 2.0), (1.0, 0.0), "#ffffff", "step 0.1")]
        plot.set_overlay(run, arrow)
        assert len(draws) == 1
        text = "\n".join(plot.text_lines())
        assert "step 0.1" in text and "●" in text  # both in that one frame
        plot.set_arrows(arrow)  # the same arrows: nothing new to draw
        assert len(draws) == 1
        plot.set_arrows([((0.0, 2.0), (0.0, 1.0), "#ffffff", "step 0.2")])
        assert len(draws) == 2 and "step 0.2" in "\n".join(plot.text_lines())


# ------------------------------------------------------------------ modes and colours


@run_async
async def test_low_bandwidth_has_no_band_backgrounds():
    app = PlotApp(runs=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        plot = app.query_one(ContourPlot)
        bands = set(palette.band_colors(plot.n_bands, "truecolor"))
        assert plot_backgrounds(plot) & bands  # filled: the band colours are there
        plot.low_bandwidth = True
        await pilot.pause()
        used = plot_backgrounds(plot)
        assert not used & bands
        assert len(used) <= 1  # at most the widget's own background
        low_segments = sum(len(s) for s in plot.frame_strips())
        plot.low_bandwidth = False
        await pilot.pause()
        # fewer style changes (escape sequences) per frame than the filled plot
        assert low_segments < sum(len(s) for s in plot.frame_strips())


@run_async
async def test_light_theme_without_bands_keeps_runs_readable():
    app = PlotApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.theme = "textual-light"
        plot = app.query_one(ContourPlot)
        plot.low_bandwidth = True
        await pilot.pause()
        plot.set_runs([("w", "#ffffff", np.array([-1.0, 0.0]), np.array([0.5, 0.5]), (0.0, 0.5))])
        layout = plot.plot_layout
        row = int(layout.geometry.data_to_cell(np.array([0.0]), np.array([0.5]))[1][0])
        colors = [seg.style for seg in plot.frame_strips()[row] if CURRENT_GLYPH in seg.text]
        assert colors
        fg, bg = colors[0].color.triplet.hex, colors[0].bgcolor.triplet.hex
        assert palette.luminance(bg) > 0.5 and palette.contrast(fg, bg) >= 2.5


@run_async
async def test_palette_follows_the_color_system():
    app = PlotApp(runs=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        plot = app.query_one(ContourPlot)
        for system in ("16", "256"):
            allowed = palette.band_colors(plot.n_bands, system)
            plot.color_system = system
            await pilot.pause()
            used = plot_backgrounds(plot)
            halo = {palette.halo_color(c, system) for c in allowed}  # under the runs
            assert used and used <= set(allowed) | {palette.invalid_color(system)} | halo


def _downgrade(color: str, system: ColorSystem) -> int:
    return Color.parse(color).downgrade(system).number


def test_run_colors_stay_distinct_after_downgrade():
    assert len(palette.RUN_COLORS) >= 8
    assert len({_downgrade(c, ColorSystem.EIGHT_BIT) for c in palette.RUN_COLORS}) == len(palette.RUN_COLORS)
    sixteen = [palette.run_color(i, "16") for i in range(7)]
    assert len({_downgrade(c, ColorSystem.STANDARD) for c in sixteen}) == 7


def _lab(color: str) -> np.ndarray:
    """CIE L*a*b* of a hex colour (D65), to judge how far apart two colours look."""
    c = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = m @ c / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_band_ramps_are_dark_to_light_and_exact_in_their_system():
    for system in ("truecolor", "256"):
        lum = [palette.luminance(c) for c in palette.band_colors(9, system)]
        assert all(b >= a for a, b in zip(lum, lum[1:])), system
    assert len(set(palette.band_colors(9, "truecolor"))) == 9
    assert len(set(palette.band_colors(9, "256"))) >= 5
    assert len(set(palette.band_colors(9, "16"))) >= 4
    # 256 and 16 colour ramps are members of their palettes, so nothing shifts on downgrade
    for c in palette.band_colors(9, "256"):
        n = _downgrade(c, ColorSystem.EIGHT_BIT)
        assert Color.from_ansi(n).get_truecolor().hex == c
    ansi = [_downgrade(c, ColorSystem.STANDARD) for c in palette.band_colors(9, "16")]
    assert [STANDARD_PALETTE[n].hex for n in ansi] == palette.band_colors(9, "16")
    # 16 colours: dark to light as a typical terminal (xterm's defaults) draws them
    lum = [palette.luminance(Color.from_triplet(EIGHT_BIT_PALETTE[n]).triplet.hex) for n in ansi]
    assert all(b >= a for a, b in zip(lum, lum[1:]))


def test_runs_never_vanish_into_a_band():
    for system, cs in (("256", ColorSystem.EIGHT_BIT), ("16", ColorSystem.STANDARD)):
        bands = {_downgrade(c, cs) for c in palette.band_colors(9, system)}
        n_runs = len(palette.RUN_COLORS_16) if system == "16" else len(palette.RUN_COLORS)
        runs = {_downgrade(palette.run_color(i, system), cs) for i in range(n_runs)}
        assert not runs & bands, system
    # truecolour: every run colour is far (CIE76 distance >= 30) from every band colour,
    # and the dark two thirds of the ramp also give a clear lightness contrast
    for run in palette.RUN_COLORS:
        for band in palette.band_colors(9):
            assert np.linalg.norm(_lab(run) - _lab(band)) >= 30, (run, band)
        assert min(palette.contrast(run, b) for b in palette.band_colors(9)[:4]) >= 2.5
    runs = palette.RUN_COLORS
    assert min(np.linalg.norm(_lab(a) - _lab(b)) for i, a in enumerate(runs) for b in runs[i + 1:]) >= 20


def test_readable_on():
    assert palette.readable_on("#ff0000", "#000000") == "#ff0000"
    fixed = palette.readable_on("#ffffff", "#efefef")
    assert palette.contrast(fixed, "#efefef") >= 2.5
    assert palette.contrast(palette.readable_on("#101010", "#000000"), "#000000") >= 2.5


def test_iso_lines_differ_from_their_band():
    for system, cs in (("256", ColorSystem.EIGHT_BIT), ("16", ColorSystem.STANDARD)):
        for band, iso in zip(palette.band_colors(9, system), palette.iso_line_colors(9, system)):
            assert _downgrade(band, cs) != _downgrade(iso, cs)
    for band, iso in zip(palette.band_colors(9), palette.iso_line_colors(9)):
        assert palette.luminance(iso) > palette.luminance(band)


# ------------------------------------------------------------------ snapshot


def test_snapshot_rosenbrock_80x24(snap_compare):
    """Rosenbrock with its log-spaced bands, a momentum run and a plain GD run, minimum at (1, 1)."""
    assert snap_compare(PlotApp(runs=True), terminal_size=(80, 24))
