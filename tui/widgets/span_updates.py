"""Send only the changed span of a line, not the line from its widget's left edge.

Textual 8 writes a partial update (a widget refreshed with regions, as the canvases do for
the cells that changed) from the start of each widget's piece of the line up to the end of
the changed span: it crops the end, never the start (Textual issue 5625, closed unchanged).
A trajectory point that moves at column 80 of the contour plot thus resends columns 0-80
of that row; with every run moving every frame that is most of the plot, 30 times a second.

`install()` replaces `ChopsUpdate.render_segments` by the same loop that also crops the
start and moves the cursor there. The cells written are the cells Textual would write, from
the span's first column on; where that column falls inside a wide character (which would
need half a character drawn) the piece is sent from its own start, as Textual does. The
terminal shows the same screen with fewer bytes (tests/tui/test_span_updates.py).
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console
from rich.control import Control
from textual._compositor import ChopsUpdate
from textual.strip import Strip

TEXTUAL_RENDER_SEGMENTS = ChopsUpdate.render_segments
"""Textual's own (kept for the tests that compare the screens both show)."""


def _start_inside(strip: Strip, start: int) -> bool:
    """True if cell `start` of the strip begins a character (no wide character is split)."""
    pos = 0
    for segment in strip:
        text = segment.text
        width = cell_len(text)
        if pos + width > start:
            if width == len(text):  # all single-width: every cell starts a character
                return True
            return cell_len(text[:_chars_before(text, start - pos)]) == start - pos
        pos += width
    return True


def _chars_before(text: str, cells: int) -> int:
    """How many characters of `text` fit in `cells` cells."""
    used = 0
    for i, ch in enumerate(text):
        used += cell_len(ch)
        if used > cells:
            return i
    return len(text)


def render_segments(self: ChopsUpdate, console: Console) -> str:
    """ChopsUpdate.render_segments, cropping each piece to the span at both ends."""
    sequences: list[str] = []
    append = sequences.append
    move_to = Control.move_to
    last_y = self.spans[-1][0]
    for y, x1, x2 in self.spans:
        for end, (x, strip) in zip(self.chop_ends[y], self.chops[y].items()):
            if strip is None or x > x2 or end <= x1:
                continue
            if x2 > x >= x1 and end <= x2:
                append(move_to(x, y).segment.text)
                append(strip.render(console))
                continue
            start = x1 - x if x < x1 and _start_inside(strip, x1 - x) else 0
            strip = strip.crop(start, min(end, x2) - x)
            append(move_to(x + start, y).segment.text)
            append(strip.render(console))
        if y != last_y:
            append("\n")
    return "".join(sequences)


def install() -> None:
    """Use the cropping render for every partial update of this process."""
    ChopsUpdate.render_segments = render_segments
