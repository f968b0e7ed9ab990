"""CurvePlot: curves against steps (the loss of every run, or its learning rate) in braille.

A Line-API widget. The axes (title, ticks, labels) are laid out by
optsim.tui.render.curve_grid and cached until the size, the step range or the y scale
changes; each frame the curves are rasterized (also in the engine, by a CurveRasterizer
that keeps each curve's raster and adds only its new tail, all curves in one pass) over a
copy of that background and only the rows that differ are repainted. The y range only
grows while a scenario plays (reset_range() starts it again), so the axes hold still.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..render.contour_grid import BRAILLE_BASE
from ..render.curve_clip import OFF_SCALE_GLYPH, CurveFit, fit_curves, off_scale_cells
from ..render.curve_grid import CurveAxes, CurveRange, CurveRasterizer, CurveSeries, plan_curve_axes
from ..render.cell_grid import draw_axes, fill_blanks, put_text
from .canvas_widget import CanvasWidget


class CurvePlot(CanvasWidget):
    """Braille curves of several runs against the step, with a log y axis where it fits."""

    DEFAULT_CSS = """
    CurvePlot {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(self, title: str, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.title = title
        self.note = ""
        self._range = CurveRange()
        self._series: list[CurveSeries] = []
        self._colors: Sequence[str] = ()
        self._x_range: tuple[float, float] = (0.0, 1.0)
        self._x_log = False
        self._bg_key: tuple | None = None
        self._bg: tuple[np.ndarray, np.ndarray, CurveAxes | None] | None = None
        self._fit: CurveFit | None = None
        self._title_end = 0  # first column after the title and its scale marker
        self._rasterizer = CurveRasterizer()  # keeps each curve's raster: a frame adds its new tail
        self._made_of: tuple | None = None  # what the frame shown was drawn from (see _draw)

    # ------------------------------------------------------------------ public API

    @property
    def axes(self) -> CurveAxes | None:
        """The current layout (None before the first frame or when too small)."""
        return self._bg[2] if self._bg else None

    @property
    def x_range(self) -> tuple[float, float]:
        """The x range last set (data units, also on a log axis)."""
        return self._x_range

    @property
    def x_log(self) -> bool:
        """True if the x axis was last set to log10(x)."""
        return self._x_log

    @property
    def series(self) -> list[CurveSeries]:
        """The curves last set, in drawing order."""
        return list(self._series)

    @property
    def y_range(self) -> CurveRange:
        return self._range

    def reset_range(self) -> None:
        """Forget the y range (after a reset: the new curves set it again)."""
        self._range.reset()

    def set_curves(self, series: Sequence[CurveSeries], colors: Sequence[str],
                   x_range: tuple[float, float], note: str = "", x_log: bool = False,
                   follow: bool = False) -> None:
        """Draw these curves; `colors[s.run]` is the colour of series s. Called every frame:
        only the rows that change are repainted. x_log: a log x axis (x_range > 0,
        chosen by the engine, e.g. curve_grid.x_scale_for). follow: the y range is these
        curves' own, not grown over time (a picture of the present, like the data view's
        predictions, which would otherwise stay squeezed by where the runs started)."""
        self._series = list(series)
        self._colors = colors
        self._x_range = (float(x_range[0]), float(x_range[1]))
        self._x_log = x_log
        self.note = note
        if follow:
            self._range.reset()
        self._range.include_series(self._series)
        self._draw(refresh=True)

    @property
    def fit(self) -> CurveFit | None:
        """The curves as last drawn on the current scale, with what is off it (None before)."""
        return self._fit

    # ------------------------------------------------------------------ rendering

    def _style_changed(self) -> None:
        self._bg_key = None

    def _background(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray, CurveAxes | None]:
        scale = self._range.scale()
        base = self.kept_style()
        key = (width, height, self._x_range, self._x_log, scale, self.title, self.note, base)
        if key == self._bg_key and self._bg is not None:
            return self._bg
        codes, styles, table = self._canvas.blank(width, height, base)
        title = table.get(bold=True)
        dim = table.get(dim=True)
        x = put_text(codes, styles, 0, 0, self.title, title)
        axes = plan_curve_axes(width, height, self._x_range, scale, top=1, x_log=self._x_log)
        x_log = axes is not None and axes.x_log
        marker = " (log-log)" if scale.log and x_log else " (log)" if scale.log else " (log x)" if x_log else ""
        if marker:
            put_text(codes, styles, 0, x, marker, dim)
        self._title_end = x + len(marker)
        if self.note and width - len(self.note) > x + 8:
            put_text(codes, styles, 0, width - len(self.note), self.note, dim)
        if axes is None:
            if height > 1:
                put_text(codes, styles, 1, 0, "(too small)", dim)
        else:
            draw_axes(codes, styles, axes, axes.top, axes.x_label_row, dim, table.get())
        self._bg_key, self._bg = key, (codes, styles, axes)
        return self._bg

    def _draw(self, refresh: bool) -> None:
        if not self.is_attached:
            return
        width, height = self.size.width, self.size.height
        if width <= 0 or height <= 0:
            return
        bg = self._background(width, height)
        bg_codes, bg_styles, axes = bg
        if axes is None:
            self._made_of = None
            self._commit(bg_codes.copy(), bg_styles.copy(), refresh)
            return
        self._fit = fit = fit_curves(self._series, axes.scale)
        raster = self._rasterizer.draw(axes, fit.series)
        # What the cells are made of: when it is what the shown frame was made of (the
        # same background and raster objects, the same colours, markers and note), the
        # frame stands as it is (late in a run most steps add no dot to any curve).
        made_of = (bg, raster, [s.run for s in fit.series], list(self._colors),
                   off_scale_cells(axes, fit.off_scale), self._clip_note(fit))
        last = self._made_of
        self._made_of = made_of
        if (last is not None and self._canvas.codes is not None and last[0] is bg and last[1] is raster
                and last[2:] == made_of[2:]):
            return
        codes, styles = bg_codes.copy(), bg_styles.copy()
        top, left = axes.top, axes.left
        area_codes = codes[top:top + axes.plot_rows, left:left + axes.plot_cols]
        area_styles = styles[top:top + axes.plot_rows, left:left + axes.plot_cols]
        hit = raster.owner >= 0
        if hit.any():
            owners = raster.owner[hit]
            style_of = np.zeros(len(fit.series), dtype=styles.dtype)
            for i in np.unique(owners).tolist():
                style_of[i] = self._run_style(fit.series[i].run)
            area_codes[hit] = BRAILLE_BASE + raster.bits[hit].astype(np.uint32)
            area_styles[hit] = style_of[owners]
        for row, col, run in made_of[4]:
            area_codes[row, col] = ord(OFF_SCALE_GLYPH)
            area_styles[row, col] = self._run_style(run, bold=True)
        fill_blanks(area_codes, area_styles)
        if made_of[5]:
            put_text(codes, styles, 0, self._title_end + 1, made_of[5], self._canvas.table.get(bold=True))
        self._commit(codes, styles, refresh)

    def _run_style(self, run: int, bold: bool = False) -> int:
        color = self._colors[run] if run < len(self._colors) else None
        return self._canvas.table.get(fg=color, bold=bold)

    def _clip_note(self, fit: CurveFit) -> str:
        """What is off the chart, for the title row between the title and the legend note."""
        start = self._title_end + 1
        room = self.size.width - start - (len(self.note) + 1 if self.note else 0)
        return fit.note(room)

