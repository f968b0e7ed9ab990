"""The screen as plain text, composed from Textual's public API (headless text frames, tests).

Textual exports screenshots only as SVG. This rebuilds what its compositor shows, with
public calls only: every widget on the screen (and the scrollbars it shows), where the
screen placed it (`Screen.find_widget`: region, clip, stacking order), and its lines
(`Widget.render_lines`), painted bottom-most first so that what is on top wins.
"""

from __future__ import annotations

from typing import Iterator

from rich.cells import cell_len
from textual.errors import NoWidget
from textual.geometry import Region
from textual.screen import Screen
from textual.widget import Widget


def _placed_widgets(screen: Screen) -> Iterator[Widget]:
    """The screen, its descendants and the scrollbars they show (each once)."""
    seen: dict[Widget, None] = {}
    for widget in screen.walk_children(Widget, with_self=True):
        seen[widget] = None
        vertical, horizontal = widget.scrollbars_enabled
        if vertical:
            seen[widget.vertical_scrollbar] = None
        if horizontal:
            seen[widget.horizontal_scrollbar] = None
        if vertical and horizontal:
            seen[widget.scrollbar_corner] = None
    return iter(seen)


def screen_lines(screen: Screen) -> list[str]:
    """What the screen shows, one string per row (a wide character stands for two cells)."""
    width, height = screen.size
    cells = [[" "] * width for _ in range(height)]
    visible = []
    for widget in _placed_widgets(screen):
        try:
            where = screen.find_widget(widget)
        except NoWidget:
            continue  # not displayed
        shown = where.region.intersection(where.clip).intersection(Region(0, 0, width, height))
        if shown.width and shown.height:
            visible.append((where.order, widget, where.region, shown))
    visible.sort(key=lambda item: item[0])  # bottom-most first: later ones paint over
    for _, widget, region, shown in visible:
        crop = Region(shown.x - region.x, shown.y - region.y, shown.width, shown.height)
        for y, strip in zip(range(shown.y, shown.bottom), widget.render_lines(crop)):
            _paint(cells[y], shown.x, shown.right, strip.text)
    return ["".join(row) for row in cells]


def _paint(row: list[str], x: int, end: int, text: str) -> None:
    """Write text into one row of cells from x (a wide character fills its second cell with "")."""
    for ch in text:
        if x >= end:
            break
        row[x] = ch
        if cell_len(ch) == 2 and x + 1 < end:
            row[x + 1] = ""
            x += 1
        x += 1


def screen_text(screen: Screen) -> str:
    """The screen as plain text: one line per row, trailing spaces removed."""
    return "\n".join(line.rstrip() for line in screen_lines(screen)) + "\n"
