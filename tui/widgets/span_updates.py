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

It also writes each piece's colours as changes: Textual (through rich) writes every run of
cells of one style as "set the whole style, the text, reset" (ESC[0m), so three quarters of
the bytes of a playing frame were colour codes, half of them resets. Here a run of cells sets
only what differs from the run before it (the foreground alone where only it changes, as a
trajectory crossing a band does), resets only where an attribute or a colour goes back to the
default, and once at the end of the piece, so the next write starts from the default as
Textual's always do.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.color import ColorSystem
from rich.console import Console
from rich.control import Control
from rich.style import Style
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


_PARTS: dict[tuple[Style, ColorSystem], tuple[str, int, str, str]] = {}
"""Each style's codes: (all of them, its attribute bits, its foreground's, its background's)."""


def _parts(style: Style, system: ColorSystem) -> tuple[str, int, str, str]:
    key = (style, system)
    parts = _PARTS.get(key)
    if parts is None:
        if len(_PARTS) > 4096:
            _PARTS.clear()
        fg = ";".join(style.color.downgrade(system).get_ansi_codes()) if style.color is not None else ""
        bg = (";".join(style.bgcolor.downgrade(system).get_ansi_codes(foreground=False))
              if style.bgcolor is not None else "")
        attributes = style.without_color._make_ansi_codes(system)
        codes = ";".join(code for code in (attributes, fg, bg) if code)  # as Style._make_ansi_codes orders them
        parts = _PARTS[key] = (codes, style._attributes & style._set_attributes, fg, bg)
    return parts


def render_strip(strip: Strip, console: Console) -> str:
    """The strip's cells as Strip.render writes them, with each style written as the change
    from the one before (see the module's docstring); the terminal is left in the default
    style, as after Strip.render."""
    system = console._color_system or ColorSystem.TRUECOLOR
    out: list[str] = []
    now: tuple[str, int, str, str] | None = None  # the style in force (None: the default)
    for text, style, _ in strip:
        if not text:
            continue
        if style is None or style._link:
            if now is not None:
                out.append("\x1b[0m")
                now = None
            out.append(text if style is None else Strip.render_style(style, text, color_system=system))
            continue
        parts = _parts(style, system)
        if parts[0] == "":
            if now is not None:
                out.append("\x1b[0m")
                now = None
        elif now is None:
            out.append(f"\x1b[{parts[0]}m")
        elif parts[0] != now[0]:
            out.append(_change(now, parts))
        now = parts if parts[0] else None
        out.append(text)
    if now is not None:
        out.append("\x1b[0m")
    return "".join(out)


def _change(now: tuple[str, int, str, str], new: tuple[str, int, str, str]) -> str:
    """The codes from style `now` to style `new` (both with codes): the colours that differ
    when the attributes stay and no colour goes back to the default, else all of `new`'s."""
    if now[1] == new[1] and (new[2] or not now[2]) and (new[3] or not now[3]):
        changed = [code for code, old in ((new[2], now[2]), (new[3], now[3])) if code != old]
        return f"\x1b[{';'.join(changed)}m"
    return f"\x1b[0;{new[0]}m"


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
                append(render_strip(strip, console))
                continue
            start = x1 - x if x < x1 and _start_inside(strip, x1 - x) else 0
            strip = strip.crop(start, min(end, x2) - x)
            append(move_to(x + start, y).segment.text)
            append(render_strip(strip, console))
        if y != last_y:
            append("\n")
    return "".join(sequences)


def install() -> None:
    """Use the cropping render for every partial update of this process."""
    ChopsUpdate.render_segments = render_segments
