"""ContourPlot: the loss surface as filled bands and iso-lines, with runs drawn over it.

A Line-API widget on the shared cell canvas (CanvasWidget). The expensive part, sampling
the surface and tracing iso-lines (optsim.tui.render.contour_grid), runs only when the
view, the size or the surface changes; it leaves a background of character codes and
style ids for every cell (optsim.tui.render.contour_cells). Each frame, set_runs() lays
the rasterized trajectories over a copy of the background and the canvas repaints only
the rows that differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive

from ..render.cell_grid import put_text
from ..render.trail_raster import TrailRasters
from ..render.contour_cells import CURRENT_GLYPH, MINIMUM_GLYPH, ContourCells, PlotArrow, RunTrace, paint_contour
from ..render.contour_grid import (
    BOTTOM_MARGIN,
    DEFAULT_BANDS,
    MIN_PLOT_COLS,
    MIN_PLOT_ROWS,
    ContourField,
    Layout,
    Window,
    check_window,
    compute_contour_field,
    pan_window,
    plan_layout,
    zoom_window,
)
from .canvas_widget import CanvasWidget
from .cell_canvas import widget_color_system

__all__ = ["ContourPlot", "RunTrace", "PlotArrow", "MINIMUM_GLYPH", "CURRENT_GLYPH", "ZOOM_STEP", "PAN_STEP"]

ZOOM_STEP = 1.5
PAN_STEP = 0.1


@dataclass
class _Background:
    """The cached view: layout, field and the cell grids of everything but the overlay
    (just a message when there is nothing to plot: no surface, too small, no values)."""

    key: tuple
    layout: Layout | None
    field: ContourField | None
    codes: np.ndarray  # (height, width) uint32 code points
    styles: np.ndarray  # (height, width) int32 style ids
    cells: ContourCells | None = None


class ContourPlot(CanvasWidget, can_focus=True):
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
        self._title = ""
        self._surface_version = 0
        self._runs: list[RunTrace] = []
        self._arrows: list[PlotArrow] = []
        self._trails = TrailRasters()  # the paths' rasters, drawn from what changed since the last frame
        self._bg: _Background | None = None
        self._style_check = True
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
        bg = self._background()
        return bg.layout if bg else None

    @property
    def drawn_cell_size(self) -> tuple[float, float] | None:
        """Width and height in data units of a plot cell of the background drawn now (None if
        none is drawn: nothing is computed here, unlike plot_layout)."""
        bg = self._bg
        return None if bg is None or bg.layout is None else bg.layout.geometry.cell_size

    @property
    def contour_field(self) -> ContourField | None:
        """The sampled field of the current view (levels, bands, iso-lines)."""
        bg = self._background()
        return bg.field if bg else None

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

    def set_title(self, title: str) -> None:
        """A line over the plot (e.g. which slice of a bigger model it shows); "" for none."""
        if title != self._title:
            self._title = title
            self._invalidate_background()

    def set_runs(self, runs: Sequence[RunTrace | Sequence[Any]]) -> None:
        """Replace the runs drawn over the surface: (name, color, xs, ys, current[, glyph]) each.
        Called every frame; only rows whose cells changed are repainted."""
        self._runs = [RunTrace(str(r[0]), str(r[1]), np.asarray(r[2], dtype=float),
                               np.asarray(r[3], dtype=float), r[4], str(r[5]) if len(r) > 5 else CURRENT_GLYPH)
                      for r in runs]
        self._draw(refresh=True)

    def set_arrows(self, arrows: Sequence[PlotArrow | Sequence[Any]]) -> None:
        """Replace the arrows: (origin, direction, color, label[, scale]) each, e.g. the gradient
        and the escape direction at a run's current point. A zero direction draws nothing; scale 0
        draws the label alone at the point (render.contour_cells.PlotArrow); the same arrows
        again draw nothing new."""
        if self._take_arrows(arrows):
            self._draw(refresh=True)

    def set_overlay(self, runs: Sequence[RunTrace | Sequence[Any]],
                    arrows: Sequence[PlotArrow | Sequence[Any]]) -> None:
        """set_runs and set_arrows in one frame, drawn once (the screen's every frame)."""
        self._take_arrows(arrows)
        self.set_runs(runs)

    def _take_arrows(self, arrows: Sequence[PlotArrow | Sequence[Any]]) -> bool:
        """Keep these arrows; True if they differ from the last ones."""
        new = [PlotArrow((float(a[0][0]), float(a[0][1])), (float(a[1][0]), float(a[1][1])), str(a[2]),
                         str(a[3]), float(a[4]) if len(a) > 4 else 1.0)
               for a in arrows]
        changed = new != self._arrows
        self._arrows = new
        return changed

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
        bg = self._background()
        if bg is None or bg.layout is None:
            return None
        return bg.layout.widget_to_data(x, y)

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

    def watch_low_bandwidth(self, value: bool) -> None:
        self._invalidate_background()

    def watch_color_system(self, value: str | None) -> None:
        self._invalidate_background()

    def watch_n_bands(self, value: int) -> None:
        self._invalidate_background()

    # ------------------------------------------------------------------ rendering

    def _draw(self, refresh: bool) -> None:
        """Lay the overlay over the background and make it the frame."""
        bg = self._background()
        if bg is None:
            return
        if bg.cells is None:
            self._commit(bg.codes, bg.styles, refresh)
            return
        codes, styles = bg.cells.frame(self._runs, self._arrows, self._minima, self._trails)
        if codes is self._canvas.codes and styles is self._canvas.styles:
            return  # the frame shown, drawn from the same inputs
        self._commit(codes, styles, refresh)

    def _ensure(self) -> None:
        """Redraw if the frame is gone or the background may be stale (render_line calls
        this for every line: cheap when nothing changed)."""
        bg = self._bg
        if (self._canvas.codes is None or bg is None or self._style_check
                or bg.key[:2] != tuple(self.size)):
            self._draw(refresh=False)

    def _style_changed(self) -> None:
        # CSS changed (theme, focus, hover...): re-check the widget's style before next use.
        self._style_check = True

    def _set_window(self, window: Window) -> None:
        if window != self._window:
            self._window = window
            self._invalidate_background()
            self.post_message(self.ViewChanged(self, window))

    def _invalidate_background(self) -> None:
        self._bg = None
        self._canvas.invalidate()
        self.refresh()

    def _background_key(self) -> tuple:
        return (self.size.width, self.size.height, self._window, self._surface_version, self._title,
                self.low_bandwidth, widget_color_system(self, self.color_system), self.n_bands,
                self.rich_style)

    def _background(self) -> _Background | None:
        """The cached background, rebuilt if the view, size, mode or widget style changed."""
        if not self.is_attached:
            return None
        bg = self._bg
        if bg is not None and not self._style_check and bg.key[:2] == tuple(self.size):
            return bg
        key = self._background_key()
        self._style_check = False
        if bg is None or bg.key != key:
            bg = self._bg = self._build_background(key)
            self._canvas.invalidate()
        return bg

    def _message_background(self, key: tuple, message: str) -> _Background:
        width, height = self.size.width, self.size.height
        codes, styles, table = self._canvas.blank(width, height, self.rich_style)
        put_text(codes, styles, 0, 0, message, table.get(bold=True))
        return _Background(key, None, None, codes, styles)

    def _build_background(self, key: tuple) -> _Background:
        width, height = self.size.width, self.size.height
        if self._func is None or self._window is None:
            return self._message_background(key, "no surface")
        layout = plan_layout(width, height, self._window, self._names, legend_rows=self.n_bands + 1,
                             title=self._title)
        if layout is None:
            need = f"{MIN_PLOT_COLS + 6}x{MIN_PLOT_ROWS + BOTTOM_MARGIN}"
            return self._message_background(key, f"plot too small ({width}x{height}, need about {need})")
        try:
            field = compute_contour_field(self._func, layout.geometry, self.n_bands)
        except (ArithmeticError, ValueError) as error:
            return self._message_background(key, f"cannot draw the surface: {error}")
        table = self._canvas.style_table(self.rich_style)
        system = widget_color_system(self, self.color_system)
        cells = paint_contour(layout, field, table, system, self.low_bandwidth, self.n_bands)
        note = getattr(self._func, "note", "")  # e.g. "contour from 1,389 of 200,000 rows"
        if note:
            put_text(cells.codes, cells.styles, 0, max(layout.left, layout.left + layout.plot_cols - len(note)),
                     note, table.get(bold=True), limit=layout.plot_cols)
        return _Background(key, layout, field, cells.codes, cells.styles, cells)
