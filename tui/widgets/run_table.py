"""RunTable: one line per run (marker, name, optimizer, step, loss, |g|, lr, status) in the run's colour.

A Line-API widget rather than a DataTable: the numbers change every frame, and this table
repaints only the lines whose text changed. The selected run's line is highlighted; each
run has its own marker glyph (colours repeat; glyphs tell those runs apart); hidden runs are
dimmed with an open marker "○". With more runs than lines the table scrolls to keep the
selected run in view, and its header says how many runs are above and below. Columns that do not fit are dropped, least useful
first; the status column takes the rest of the width.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
from textual import events
from textual.binding import Binding
from textual.message import Message

from ...engine.text_format import column as fmt_num  # (simulator.py imports it from here)
from ..render.cell_grid import color_hex, one_cell, put_text
from .canvas_widget import CanvasWidget


class RunRow(NamedTuple):
    name: str
    color: str
    optimizer: str
    step: int
    steps: int
    loss: float
    test_loss: float | None
    grad_norm: float
    lr: float
    status: str
    visible: bool = True
    glyph: str = "●"  # the run's marker (palette.run_glyph), the same as on the plot


# (key, header, width or None for the remaining space, right-aligned, drop order: higher first;
# the selected run's optimizer is also in the side panel, so it goes before |g|)
COLUMNS = (
    ("marker", "", 1, False, 0),
    ("name", "run", None, False, 0),
    ("optimizer", "optimizer", None, False, 4),
    ("step", "step", None, True, 1),
    ("loss", "loss", 10, True, 0),
    ("test", "test", 10, True, 5),
    ("grad", "|g|", 9, True, 3),
    ("lr", "lr now", 9, True, 2),  # the rate of the next update (scheduled), not the base rate
    ("status", "status", None, False, 0),
)
GAP = 2
MIN_STATUS = 15  # "stuck at saddle"


class RunTable(CanvasWidget, can_focus=True):
    """The runs of the scenario, one per line, in their colours; click or arrows select."""

    DEFAULT_CSS = """
    RunTable {
        height: auto;
        width: 1fr;
    }
    RunTable > .run-table--header {
        text-style: bold;
        color: $text-muted;
    }
    RunTable > .run-table--cursor {
        background: $boost;
        text-style: bold;
    }
    RunTable:focus > .run-table--cursor {
        background: $primary 35%;
    }
    """

    COMPONENT_CLASSES = {"run-table--header", "run-table--cursor"}

    BINDINGS = [
        Binding("up", "move(-1)", "Previous run", show=False),
        Binding("down", "move(1)", "Next run", show=False),
    ]

    class Selected(Message):
        """A run was chosen (by click or arrow keys)."""

        def __init__(self, table: "RunTable", index: int) -> None:
            super().__init__()
            self.table = table
            self.index = index

        @property
        def control(self) -> "RunTable":
            return self.table

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._rows: list[RunRow] = []
        self._selected = 0
        self._show_test = False
        self._top = 0  # index of the first run shown (the table scrolls past its height)

    @property
    def selected(self) -> int:
        return self._selected

    @property
    def rows(self) -> list[RunRow]:
        return list(self._rows)

    def set_rows(self, rows: Sequence[RunRow], selected: int, show_test: bool = False) -> None:
        """Show these runs; repaint only the lines that changed."""
        resize = len(rows) != len(self._rows)
        self._rows = list(rows)
        self._selected = selected
        self._show_test = show_test
        if resize:
            self.refresh(layout=True)
            self._canvas.invalidate()
        self._draw(refresh=True)

    def get_content_height(self, container, viewport, width: int) -> int:
        return 1 + len(self._rows)

    @property
    def shown_runs(self) -> range:
        """Indices of the runs on screen now (the rest are scrolled out of view)."""
        return range(self._top, min(len(self._rows), self._top + self._room()))

    def _room(self) -> int:
        """How many run lines fit under the header."""
        return max(1, self.size.height - 1) if self.is_attached else len(self._rows)

    def _scroll_to_selected(self) -> None:
        """Move the window of shown runs the least that puts the selected run in it."""
        room = self._room()
        top = min(self._top, max(0, len(self._rows) - room))
        if self._selected < top:
            top = self._selected
        elif self._selected >= top + room:
            top = self._selected - room + 1
        self._top = max(0, top)

    def text_lines(self) -> list[str]:
        """The table as plain text, trailing spaces removed."""
        return [line.rstrip() for line in super().text_lines()]

    # ------------------------------------------------------------------ events

    def action_move(self, delta: int) -> None:
        if self._rows:
            self.post_message(self.Selected(self, (self._selected + delta) % len(self._rows)))

    def on_click(self, event: events.Click) -> None:
        index = event.y - 1 + self._top
        if 1 <= event.y and index < len(self._rows):
            event.stop()
            self.post_message(self.Selected(self, index))

    def _cells(self, row: RunRow) -> dict[str, str]:
        return {
            "marker": row.glyph if row.visible else "○",
            "name": row.name,
            "optimizer": row.optimizer,
            "step": f"{row.step}/{row.steps}",
            "loss": fmt_num(row.loss),
            "test": fmt_num(row.test_loss),
            "grad": fmt_num(row.grad_norm, 3),
            "lr": fmt_num(row.lr, 3),
            "status": row.status,
        }

    def _layout(self, width: int, cells: list[dict[str, str]]) -> list[tuple[str, str, int, bool]]:
        """The columns that fit, with their widths; the status column takes what is left."""
        columns = [c for c in COLUMNS if c[0] != "test" or self._show_test]
        widths = {}
        for key, head, fixed, _, _ in columns:
            content = max([len(head)] + [len(c[key]) for c in cells])
            widths[key] = content if fixed is None else max(fixed, content)
        while True:
            used = sum(widths[c[0]] for c in columns if c[0] != "status") + GAP * (len(columns) - 2) + 1
            if width - used >= MIN_STATUS or all(c[4] == 0 for c in columns):
                break
            drop = max(columns, key=lambda c: c[4])
            columns = [c for c in columns if c is not drop]
        used = sum(widths[c[0]] for c in columns if c[0] != "status") + GAP * (len(columns) - 2) + 1
        widths["status"] = max(0, width - used)
        if widths["name"] > 16 and width - used < MIN_STATUS:
            widths["name"] = 16
        return [(key, head, widths[key], right) for key, head, _, right, _ in columns]

    def _draw(self, refresh: bool) -> None:
        if not self.is_attached:
            return
        width, height = self.size.width, self.size.height
        if width <= 0 or height <= 0:
            return
        base = self.kept_style()
        codes, styles, table = self._canvas.blank(width, height, base)
        cells = [self._cells(r) for r in self._rows]
        layout = self._layout(width, cells)
        header = self.kept_style("run-table--header", partial=True)
        cursor = self.kept_style("run-table--cursor")
        head_id = table.get(fg=color_hex(header.color), bold=bool(header.bold))
        cursor_bg = color_hex(cursor.bgcolor)
        # The header: its gaps keep the base style, so cell by cell.
        x = 0
        for key, head, w, right in layout:
            put_text(codes, styles, 0, x, _fit(head, w, right), head_id)
            end = x + len(head) + 1  # the header text of the last (status) column ends here
            x += w + (GAP if key != "marker" else 1)
        self._scroll_to_selected()
        shown = self.shown_runs
        more = _more_note(shown.start, len(self._rows) - shown.stop, width - end)
        if more:
            put_text(codes, styles, 0, width - len(more), more, head_id)
        for line, index in enumerate(shown, start=1):
            if line >= height:
                break
            run = self._rows[index]
            chosen = index == self._selected
            style = table.get(fg=run.color, bg=cursor_bg if chosen else None,
                              bold=chosen, dim=not run.visible)
            # One style for the whole line, gaps included: one escape sequence per line
            # instead of one per cell (the gaps are blank, so their colour never shows).
            styles[line, :] = style
            # The line's text in one write: each column is its own width, gaps blank, and
            # as put_text would write it (characters not one cell wide left out).
            parts = []
            for key, head, w, right in layout:
                text = one_cell(_fit(cells[index][key], w, right))
                parts.append(text + " " * (w - len(text) + (GAP if key != "marker" else 1)))
            text = "".join(parts)[:width]
            codes[line, :len(text)] = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
        self._commit(codes, styles, refresh)


def _more_note(above: int, below: int, room: int) -> str:
    """What the header says about runs scrolled out of view ("" when every run is shown)."""
    if not above and not below:
        return ""
    for note in (f"↑ {above} above  ↓ {below} below ", f"↑{above} ↓{below} ", f"↑{above}↓{below}"):
        if len(note) <= room:
            return note
    return ""


def _fit(text: str, width: int, right: bool) -> str:
    """The text cut (with an ellipsis) or padded to exactly `width` characters."""
    if len(text) > width:
        text = text[: max(0, width - 1)] + "…" if width > 1 else text[:width]
    return text.rjust(width) if right else text.ljust(width)

