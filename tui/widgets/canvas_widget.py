"""CanvasWidget: the Line-API plumbing shared by widgets that paint a CellCanvas."""

from __future__ import annotations

import numpy as np
from rich.style import Style
from textual import events
from textual.strip import Strip
from textual.widget import Widget

from ..render.cell_grid import grid_lines
from .cell_canvas import CellCanvas


class CanvasWidget(Widget):
    """A widget whose lines come from a CellCanvas that `_draw` fills.

    Subclasses implement `_draw(refresh)` (paint the grids, then `_commit` them); this
    class repaints on resize and style changes and hands Textual the canvas's lines (a
    blank line in the widget's style where the canvas has none).
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None,
                 disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._canvas = CellCanvas()
        self._styles_kept: dict[tuple[str, bool], Style] = {}  # see kept_style

    # ------------------------------------------------------------------ public API

    def text_lines(self) -> list[str]:
        """The frame as plain text, one string per row (tests, headless text frames)."""
        self._ensure()
        return [] if self._canvas.codes is None else grid_lines(self._canvas.codes)

    def frame_strips(self, rebuild: bool = False) -> list[Strip]:
        """Every line of the current frame, as render_line gives it to Textual. With
        `rebuild`, the per-row strip cache is dropped first (benchmarks, tests)."""
        if rebuild:
            self._canvas.drop_strips()
        return [self.render_line(y) for y in range(self.size.height)]

    # ------------------------------------------------------------------ for subclasses

    def _draw(self, refresh: bool) -> None:
        raise NotImplementedError

    def _commit(self, codes: np.ndarray, styles: np.ndarray, refresh: bool) -> None:
        """Make the painted grids the frame (repainting what changed if `refresh`)."""
        self._canvas.commit(self, codes, styles, refresh)

    def _style_changed(self) -> None:
        """Hook for subclasses that cache something derived from the style."""

    def kept_style(self, component: str = "", partial: bool = False) -> Style:
        """The widget's rich_style (or a component's, e.g. "run-table--header"), kept until
        Textual tells of a style change: each walks every ancestor's styles, and Textual's own
        cache of them is cleared by every refresh, i.e. every frame. notify_style_update comes
        for any CSS, class, pseudo-class or theme change of the widget or of an ancestor
        (Textual restyles the subtree), as the contour plot's background already relies on."""
        key = (component, partial)
        style = self._styles_kept.get(key)
        if style is None:
            style = self.get_component_rich_style(component, partial=partial) if component else self.rich_style
            self._styles_kept[key] = style
        return style

    # ------------------------------------------------------------------ Textual

    def on_resize(self, event: events.Resize) -> None:
        self._canvas.invalidate()
        self._style_changed()
        self._draw(refresh=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles_kept = {}
        self._style_changed()
        if self.is_attached:
            self._canvas.invalidate()

    def render_line(self, y: int) -> Strip:
        self._ensure()
        line = self._canvas.line(y)  # rich_style walks the ancestors: only for a blank line
        return Strip.blank(self.size.width, self.kept_style()) if line is None else line

    def _ensure(self) -> None:
        if self._canvas.codes is None:
            self._draw(refresh=False)
