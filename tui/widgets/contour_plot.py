"""ContourPlot: the loss surface as filled bands and iso-lines, with runs drawn over it.

A Line-API widget (render_line returns cached Strips). The expensive part, sampling the
surface and tracing iso-lines (optsim.tui.render.contour_grid), runs only when the view, the
size or the surface changes; it leaves a background of character codes and style ids for
every cell. Each frame, set_runs() rasterizes the trajectories (also in the engine), lays
the overlay over a copy of the background, compares it with the previous frame and asks
Textual to repaint only the rows that differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import constants, events
from textual.binding import Binding
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from ..render.contour_grid import (
    BOTTOM_MARGIN,
    DEFAULT_BANDS,
    MIN_PLOT_COLS,
    MIN_PLOT_ROWS,
    ContourField,
    Layout,
    Window,
    braille_chars,
    check_window,
    compute_contour_field,
    pan_window,
    plan_layout,
    rasterize_arrow,
    rasterize_polyline,
    zoom_window,
)
from ..render import palette

MINIMUM_GLYPH = "★"
CURRENT_GLYPH = "●"
ZOOM_STEP = 1.5
PAN_STEP = 0.1


class RunTrace(NamedTuple):
    """One run as the plot draws it (a plain 5-tuple works too)."""

    name: str
    color: str
    xs: np.ndarray
    ys: np.ndarray
    current: tuple[float, float] | None


class PlotArrow(NamedTuple):
    """An arrow from a point along a direction (a plain 4-tuple works too)."""

    origin: tuple[float, float]
    direction: tuple[float, float]
    color: str
    label: str


@dataclass
class _Background:
    """The cached view: layout, field and the cell grids of everything but the overlay."""

    key: tuple
    layout: Layout | None
    field: ContourField | None
    codes: np.ndarray  # (height, width) uint32 code points
    styles: np.ndarray  # (height, width) int32 style ids
    cell_bg: np.ndarray  # (plot_rows, plot_cols) int index into the overlay background column
    message: str | None = None


class _StyleTable:
    """Interns rich Styles as small integers so whole rows can be compared as arrays."""

    def __init__(self, base: Style) -> None:
        self.base = base
        self.styles: list[Style] = []
        self._ids: dict[tuple, int] = {}

    def get(self, fg: str | None = None, bg: str | None = None, bold: bool = False,
            dim: bool = False) -> int:
        key = (fg, bg, bold, dim)
        sid = self._ids.get(key)
        if sid is None:
            extra = Style(color=fg, bgcolor=bg, bold=bold or None, dim=dim or None)
            sid = self._ids[key] = len(self.styles)
            self.styles.append(self.base + extra)
        return sid


class ContourPlot(Widget, can_focus=True):
    """Contour plot of a 2-D loss surface with trajectories, markers and arrows."""

    DEFAULT_CSS = """
    ContourPlot {
        width: 1fr;
        height: 1fr;
    }
    """

    BINDINGS = [
        Binding("z", "zoom_in", "Zoom in"),
        Binding("Z", "zoom_out", "Zoom out"),
        Binding("left", "pan(-1, 0)", "Pan", show=False),
        Binding("right", "pan(1, 0)", "Pan", show=False),
        Binding("up", "pan(0, 1)", "Pan", show=False),
        Binding("down", "pan(0, -1)", "Pan", show=False),
        Binding("0", "reset_view", "Reset view"),
    ]

    low_bandwidth: reactive[bool] = reactive(False)
    """No filled bands, only coloured iso-lines: far fewer colour changes per line."""

    color_system: reactive[str | None] = reactive(None)
    """Palette override ("truecolor", "256", "16"); None follows the terminal."""

    n_bands: reactive[int] = reactive(DEFAULT_BANDS)

    class Clicked(Message):
        """The plot area was clicked; x, y are data coordinates (the cell's centre)."""

        def __init__(self, plot: "ContourPlot", x: float, y: float) -> None:
            super().__init__()
            self.plot = plot
            self.x = x
            self.y = y

        @property
        def control(self) -> "ContourPlot":
            return self.plot

    class ViewChanged(Message):
        """The visible window changed (zoom, pan, reset)."""

        def __init__(self, plot: "ContourPlot", window: Window) -> None:
            super().__init__()
            self.plot = plot
            self.window = window

        @property
        def control(self) -> "ContourPlot":
            return self.plot

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._func: Callable[[np.ndarray], np.ndarray] | None = None
        self._home: Window | None = None
        self._window: Window | None = None
        self._names: tuple[str, str] = ("x", "y")
        self._minima: list[tuple[float, float]] = []
        self._surface_version = 0
        self._runs: list[RunTrace] = []
        self._arrows: list[PlotArrow] = []
        self._bg: _Background | None = None
        self._table: _StyleTable | None = None
        self._combo: dict[tuple[str, bool], np.ndarray] = {}
        self._frame_codes: np.ndarray | None = None
        self._frame_styles: np.ndarray | None = None
        self._strips: dict[int, Strip] = {}
        self._style_check = True
        self._plain_bg: str | None = None
        self._overlay_bgs: list[str | None] = []
        self._drag: tuple[int, int, Window] | None = None  # pointer cell and window when the button went down
        self._dragged = False

    # ------------------------------------------------------------------ public API

    @property
    def window(self) -> Window | None:
        """The visible data window (x0, x1, y0, y1), or None before set_surface."""
        return self._window

    @property
    def plot_layout(self) -> Layout | None:
        """The current axes layout (None if too small or no surface yet)."""
        self._ensure_background()
        return self._bg.layout if self._bg else None

    @property
    def contour_field(self) -> ContourField | None:
        """The sampled field of the current view (levels, bands, iso-lines)."""
        self._ensure_background()
        return self._bg.field if self._bg else None

    def set_surface(self, func: Callable[[np.ndarray], np.ndarray], window: Sequence[float],
                    param_names: Sequence[str] = ("x", "y"),
                    minima: Sequence[tuple[float, float]] = (),
                    view: Sequence[float] | None = None) -> None:
        """Show a new surface. `func` maps points (n, 2) to values (n,). The window becomes
        the home view of reset_view(); `view`, if given, is shown instead for now (e.g. to
        keep the user's zoom when only the surface changes). The background is recomputed
        only here and when the view or the size changes."""
        self._func = func
        self._home = check_window(window)
        self._window = check_window(view) if view is not None else self._home
        names = list(param_names) + ["x", "y"][len(param_names):]
        self._names = (str(names[0]), str(names[1]))
        self._minima = [(float(x), float(y)) for x, y in minima]
        self._surface_version += 1
        self._invalidate_background()

    def set_runs(self, runs: Sequence[RunTrace | Sequence[Any]]) -> None:
        """Replace the runs drawn over the surface: (name, color, xs, ys, current) each.
        Called every frame; only rows whose cells changed are repainted."""
        self._runs = [RunTrace(str(r[0]), str(r[1]), np.asarray(r[2], dtype=float),
                               np.asarray(r[3], dtype=float), r[4]) for r in runs]
        self._update_frame()

    def set_arrows(self, arrows: Sequence[PlotArrow | Sequence[Any]]) -> None:
        """Replace the arrows: (origin, direction, color, label) each, e.g. the gradient and
        the escape direction at a run's current point. A zero direction draws nothing."""
        self._arrows = [PlotArrow((float(a[0][0]), float(a[0][1])),
                                  (float(a[1][0]), float(a[1][1])), str(a[2]), str(a[3]))
                        for a in arrows]
        self._update_frame()

    def zoom(self, factor: float, center: tuple[float, float] | None = None) -> None:
        """Zoom in by `factor` (> 1 shows less) around `center` (default: the view's centre)."""
        if self._window is not None:
            self._set_window(zoom_window(self._window, factor, center))

    def pan(self, dx_frac: float, dy_frac: float) -> None:
        """Move the view by fractions of its width (right +) and height (up +)."""
        if self._window is not None:
            self._set_window(pan_window(self._window, dx_frac, dy_frac))

    def reset_view(self) -> None:
        """Back to the window given to set_surface."""
        if self._home is not None:
            self._set_window(self._home)

    def frame_strips(self, rebuild: bool = False) -> list[Strip]:
        """Every line of the current frame, as render_line gives it to Textual. With
        `rebuild`, the per-row strip cache is dropped first (benchmarks, tests)."""
        if rebuild:
            self._strips.clear()
        return [self.render_line(y) for y in range(self.size.height)]

    # ------------------------------------------------------------------ actions and events

    def action_zoom_in(self) -> None:
        self.zoom(ZOOM_STEP)

    def action_zoom_out(self) -> None:
        self.zoom(1 / ZOOM_STEP)

    def action_pan(self, dx: float, dy: float) -> None:
        self.pan(dx * PAN_STEP, dy * PAN_STEP)

    def action_reset_view(self) -> None:
        self.reset_view()

    def _data_at(self, x: int, y: int) -> tuple[float, float] | None:
        self._ensure_background()
        if self._bg is None or self._bg.layout is None:
            return None
        return self._bg.layout.widget_to_data(x, y)

    def on_click(self, event: events.Click) -> None:
        if self._dragged:  # the end of a drag, not a click
            self._dragged = False
            event.stop()
            return
        point = self._data_at(event.x, event.y)
        if point is not None:
            event.stop()
            self.post_message(self.Clicked(self, point[0], point[1]))

    def on_mouse_down(self, event: events.MouseDown) -> None:
        """Start a drag: the view follows the pointer until the button is released."""
        if self._window is None or self._data_at(event.x, event.y) is None:
            return
        self._drag = (event.x, event.y, self._window)
        self._dragged = False
        self.capture_mouse()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._drag is None or self._bg is None or self._bg.layout is None:
            return
        x0, y0, start = self._drag
        if (event.x, event.y) == (x0, y0) and not self._dragged:
            return
        geometry = self._bg.layout.geometry
        self._dragged = True
        # the point under the pointer stays under it: move the view against the drag
        self._set_window(pan_window(start, -(event.x - x0) / geometry.cols, (event.y - y0) / geometry.rows))

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._drag is not None:
            self._drag = None
            self.release_mouse()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.zoom(ZOOM_STEP ** 0.5, self._data_at(event.x, event.y))

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.zoom(ZOOM_STEP ** -0.5, self._data_at(event.x, event.y))

    def on_resize(self, event: events.Resize) -> None:
        self._invalidate_background()

    def watch_low_bandwidth(self, value: bool) -> None:
        self._invalidate_background()

    def watch_color_system(self, value: str | None) -> None:
        self._invalidate_background()

    def watch_n_bands(self, value: int) -> None:
        self._invalidate_background()

    # ------------------------------------------------------------------ rendering

    def render_line(self, y: int) -> Strip:
        self._ensure_background()
        width = self.size.width
        if self._bg is None or self._frame_codes is None:
            return Strip.blank(width, self.rich_style)
        if self._bg.message is not None:
            if y == 0:
                text = self._bg.message[:width]
                style = self.rich_style + Style(bold=True)
                return Strip([Segment(text, style)], cell_len(text)).extend_cell_length(
                    width, self.rich_style)
            return Strip.blank(width, self.rich_style)
        if not 0 <= y < self._frame_codes.shape[0]:
            return Strip.blank(width, self.rich_style)
        strip = self._strips.get(y)
        if strip is None:
            strip = self._strips[y] = self._build_strip(y)
        return strip

    def _build_strip(self, y: int) -> Strip:
        codes = self._frame_codes[y]
        styles = self._frame_styles[y]
        text = codes.astype("<u4").tobytes().decode("utf-32-le")
        cuts = np.flatnonzero(styles[1:] != styles[:-1]) + 1
        starts = [0, *cuts.tolist()]
        ends = [*cuts.tolist(), len(text)]
        table = self._table.styles
        segments = [Segment(text[a:b], table[styles[a]]) for a, b in zip(starts, ends)]
        return Strip(segments, len(text))

    # ------------------------------------------------------------------ internals

    def _set_window(self, window: Window) -> None:
        if window != self._window:
            self._window = window
            self._invalidate_background()
            self.post_message(self.ViewChanged(self, window))

    def _invalidate_background(self) -> None:
        self._bg = None
        self._strips.clear()
        self._frame_codes = None
        self.refresh()

    def _palette_system(self) -> str:
        if self.color_system:
            return palette.normalize_color_system(self.color_system)
        forced = constants.COLOR_SYSTEM
        if forced and forced != "auto":
            return palette.normalize_color_system(forced)
        if self.is_attached and self.app.is_headless:
            return "truecolor"  # no terminal: screenshots are truecolour SVG
        return palette.normalize_color_system(self.app.console.color_system)

    def _background_key(self) -> tuple:
        return (self.size.width, self.size.height, self._window, self._surface_version,
                self.low_bandwidth, self._palette_system(), self.n_bands, self.rich_style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # CSS changed (theme, focus, hover...): re-check the widget's style before next use.
        self._style_check = True

    def _ensure_background(self) -> None:
        """Rebuild the background if the view, size, mode or widget style changed. Cheap when
        nothing did: render_line calls it for every line."""
        if not self.is_attached:
            return
        bg = self._bg
        if bg is not None and not self._style_check and bg.key[:2] == tuple(self.size):
            if self._frame_codes is None:
                self._compose_frame(refresh=False)
            return
        key = self._background_key()
        self._style_check = False
        if bg is not None and bg.key == key:
            if self._frame_codes is None:
                self._compose_frame(refresh=False)
            return
        self._bg = self._build_background(key)
        self._strips.clear()
        self._frame_codes = None
        self._compose_frame(refresh=False)

    def _message_background(self, key: tuple, message: str) -> _Background:
        self._table = _StyleTable(self.rich_style)
        self._combo = {}
        empty = np.zeros((0, 0), dtype=np.int32)
        return _Background(key, None, None, empty.astype(np.uint32), empty, empty, message)

    def _build_background(self, key: tuple) -> _Background:
        width, height = self.size.width, self.size.height
        if self._func is None or self._window is None:
            return self._message_background(key, "no surface")
        layout = plan_layout(width, height, self._window, self._names)
        if layout is None:
            need = f"{MIN_PLOT_COLS + 6}x{MIN_PLOT_ROWS + BOTTOM_MARGIN}"
            return self._message_background(key, f"plot too small ({width}x{height}, need about {need})")
        try:
            field = compute_contour_field(self._func, layout.geometry, self.n_bands)
        except (ArithmeticError, ValueError) as error:
            return self._message_background(key, f"cannot draw the surface: {error}")
        system = self._palette_system()
        base = self.rich_style
        self._table = table = _StyleTable(base)
        self._combo = {}
        n = field.levels.n_bands if field.levels is not None else self.n_bands
        band_bg = palette.band_colors(n, system)
        invalid = palette.invalid_color(system)
        # Overlay background column per cell: 0..n-1 band, n invalid, n+1 the widget's own.
        if self.low_bandwidth:
            self._overlay_bgs = [None] * (n + 2)
            cell_bg = np.full(field.bands.shape, n + 1, dtype=np.int64)
        else:
            self._overlay_bgs = [*band_bg, invalid, None]
            cell_bg = np.where(field.bands >= 0, field.bands, n).astype(np.int64)

        codes = np.full((height, width), 32, dtype=np.uint32)
        styles = np.full((height, width), table.get(), dtype=np.int32)
        left, rows, cols = layout.left, layout.plot_rows, layout.plot_cols

        # Plot area: band colours (or nothing) with braille iso-lines.
        iso = field.iso_bits > 0
        plot_codes = np.where(iso, braille_chars(field.iso_bits), 32).astype(np.uint32)
        # Overlay colours are adjusted only where they sit on the widget's own (possibly
        # light) background; band colours are dark, and the run colours are made for them.
        self._plain_bg = _background_hex(base) if self.low_bandwidth else None
        if self.low_bandwidth:
            dark = _is_dark(base)
            lines = palette.line_colors(n + 1, system, dark_background=dark)
            line_ids = np.array([table.get(fg=c) for c in lines], dtype=np.int32)
            plot_styles = np.where(iso, line_ids[np.clip(field.iso_level, 0, n)], table.get())
            # A blank cell shows only its background, which is the same for every line
            # colour here: let blanks take the style of the line cell to their left, so a
            # row is a few long segments instead of one escape sequence per dot.
            idx = np.where(iso, np.arange(cols)[None, :], 0)
            np.maximum.accumulate(idx, axis=1, out=idx)
            seen = np.maximum.accumulate(iso, axis=1)
            plot_styles = np.where(seen, np.take_along_axis(plot_styles, idx, axis=1), plot_styles)
        else:
            iso_fg = palette.iso_line_colors(n, system)
            ids = np.array([table.get(fg=iso_fg[b], bg=band_bg[b]) for b in range(n)]
                           + [table.get(bg=invalid)], dtype=np.int32)
            plot_styles = ids[np.where(field.bands >= 0, field.bands, n)]
        codes[:rows, left:left + cols] = plot_codes
        styles[:rows, left:left + cols] = plot_styles

        # Axes: y labels, axis line with ticks, x labels, names.
        axis = table.get(dim=True)
        label = table.get()
        name = table.get(bold=True)
        _put(codes, styles, rows, left - 1, "└", axis)
        codes[:rows, left - 1] = ord("│")
        styles[:rows, left - 1] = axis
        codes[rows, left:left + cols] = ord("─")
        styles[rows, left:left + cols] = axis
        for cell, text in zip(layout.y_ticks.cells, layout.y_ticks.labels):
            codes[cell, left - 1] = ord("┤")
            if text:
                _put(codes, styles, int(cell), left - 1 - len(text), text, label)
        for cell in layout.x_ticks.cells:
            codes[rows, left + int(cell)] = ord("┬")
        for start, text in zip(layout.x_label_starts(), layout.x_ticks.labels):
            if text:
                _put(codes, styles, rows + 1, left + start, text, label)
        _put(codes, styles, 0, 0, layout.y_name, name)
        _put(codes, styles, rows + 1, width - len(layout.x_name), layout.x_name, name)
        return _Background(key, layout, field, codes, styles, cell_bg)

    def _combo_ids(self, color: str, bold: bool) -> np.ndarray:
        """Style ids of `color` on every overlay background column (cached per colour)."""
        key = (color, bold)
        ids = self._combo.get(key)
        if ids is None:
            ids = np.array([self._table.get(fg=color, bg=bg, bold=bold) for bg in self._overlay_bgs],
                           dtype=np.int32)
            self._combo[key] = ids
        return ids

    def _update_frame(self) -> None:
        if not self.is_attached:
            return
        self._ensure_background()
        self._compose_frame(refresh=True)

    def _compose_frame(self, refresh: bool) -> None:
        """Lay the overlay over the background; repaint the rows that changed."""
        bg = self._bg
        if bg is None:
            return
        if bg.layout is None:
            self._frame_codes = bg.codes
            self._frame_styles = bg.styles
            return
        layout = bg.layout
        geometry = layout.geometry
        rows, cols, left = geometry.rows, geometry.cols, layout.left
        system = self._palette_system()
        ov_codes = np.zeros((rows, cols), dtype=np.uint32)
        ov_styles = np.full((rows, cols), -1, dtype=np.int32)
        cell_bg = bg.cell_bg

        def paint(mask: np.ndarray, code: np.ndarray | int, color: str, bold: bool = False) -> None:
            ids = self._combo_ids(color, bold)
            ov_codes[mask] = code if np.isscalar(code) else code[mask]
            ov_styles[mask] = ids[cell_bg[mask]]

        def paint_cell(row: int, col: int, char: str, color: str, bold: bool = True) -> None:
            if 0 <= row < rows and 0 <= col < cols:
                ov_codes[row, col] = ord(char)
                ov_styles[row, col] = self._combo_ids(color, bold)[cell_bg[row, col]]

        plain_bg = self._plain_bg
        fixed: dict[str, str] = {}

        def fix(color: str) -> str:
            out = fixed.get(color)
            if out is None:
                out = palette.to_system(color, system)
                if plain_bg is not None:
                    out = palette.readable_on(out, plain_bg)
                fixed[color] = out
            return out

        colors = [fix(run.color) for run in self._runs]
        for run, color in zip(self._runs, colors):
            bits = rasterize_polyline(run.xs, run.ys, geometry)
            paint(bits > 0, braille_chars(bits), color)
        for arrow in self._arrows:
            raster = rasterize_arrow(arrow.origin, arrow.direction, geometry)
            if raster.head is None:
                continue
            color = fix(arrow.color)
            paint(raster.shaft > 0, braille_chars(raster.shaft), color, True)
            row, col, glyph = raster.head
            paint_cell(row, col, glyph, color)
            text = "".join(ch for ch in arrow.label if cell_len(ch) == 1)
            start = col + 1 if col + 1 + len(text) <= cols else col - len(text)
            for i, ch in enumerate(text):
                paint_cell(row, start + i, ch, color)
        if self._minima:
            mx, my = np.array(self._minima, dtype=float).T
            mcols, mrows, inside = geometry.data_to_cell(mx, my)
            for c, r in zip(mcols[inside], mrows[inside]):
                paint_cell(int(r), int(c), MINIMUM_GLYPH, fix(palette.MINIMUM_COLOR))
        for run, color in zip(self._runs, colors):
            if run.current is None:
                continue
            ccols, crows, inside = geometry.data_to_cell(np.array([run.current[0]]),
                                                         np.array([run.current[1]]))
            if inside[0]:
                paint_cell(int(crows[0]), int(ccols[0]), CURRENT_GLYPH, color)

        codes = bg.codes.copy()
        styles = bg.styles.copy()
        mask = ov_styles >= 0
        codes[:rows, left:left + cols] = np.where(mask, ov_codes, codes[:rows, left:left + cols])
        styles[:rows, left:left + cols] = np.where(mask, ov_styles, styles[:rows, left:left + cols])

        prev_codes, prev_styles = self._frame_codes, self._frame_styles
        self._frame_codes, self._frame_styles = codes, styles
        if prev_codes is None or prev_codes.shape != codes.shape:
            self._strips.clear()
            if refresh:
                self.refresh()
            return
        diff = (codes != prev_codes) | (styles != prev_styles)
        changed = np.flatnonzero(diff.any(axis=1))
        for y in changed.tolist():
            self._strips.pop(y, None)
        if refresh and changed.size:
            # Only the changed span of each row: over SSH every repainted cell costs bytes.
            width = diff.shape[1]
            first = diff[changed].argmax(axis=1)
            last = width - 1 - diff[changed][:, ::-1].argmax(axis=1)
            self.refresh(*(Region(int(x0), int(y), int(x1 - x0 + 1), 1)
                           for y, x0, x1 in zip(changed.tolist(), first.tolist(), last.tolist())))


def _put(codes: np.ndarray, styles: np.ndarray, row: int, col: int, text: str, style: int) -> None:
    """Write text into the cell grids, clipped to the grid."""
    height, width = codes.shape
    if not 0 <= row < height:
        return
    for i, ch in enumerate(text):
        x = col + i
        if 0 <= x < width:
            codes[row, x] = ord(ch)
            styles[row, x] = style


def _background_hex(style: Style) -> str | None:
    """The style's background as #rrggbb, or None if it has none (terminal default)."""
    color = style.bgcolor
    if color is None or color.is_default:
        return None
    return color.get_truecolor().hex


def _is_dark(style: Style) -> bool:
    """True if the style's background is dark (or unknown: terminals mostly are)."""
    color = style.bgcolor
    if color is None or color.triplet is None:
        return True
    r, g, b = color.triplet
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255 < 0.5
