"""CanvasWidget: the Line-API plumbing shared by widgets that paint a CellCanvas."""

from __future__ import annotations

from textual import events
from textual.strip import Strip
from textual.widget import Widget

from .cell_canvas import CellCanvas


class CanvasWidget(Widget):
    """A widget whose lines come from a CellCanvas that `_draw` fills.

    Subclasses implement `_draw(refresh)`; this class repaints on resize and style
    changes and hands Textual the canvas's lines (a blank line in the widget's style
    where the canvas has none).
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None,
                 disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._canvas = CellCanvas()

    def _draw(self, refresh: bool) -> None:
        raise NotImplementedError

    def _style_changed(self) -> None:
        """Hook for subclasses that cache something derived from the style."""

    def on_resize(self, event: events.Resize) -> None:
        self._canvas.invalidate()
        self._style_changed()
        self._draw(refresh=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style_changed()
        if self.is_attached:
            self._canvas.invalidate()

    def render_line(self, y: int) -> Strip:
        self._ensure()
        line = self._canvas.line(y)  # rich_style walks the ancestors: only for a blank line
        return Strip.blank(self.size.width, self.rich_style) if line is None else line

    def _ensure(self) -> None:
        if self._canvas.codes is None:
            self._draw(refresh=False)
