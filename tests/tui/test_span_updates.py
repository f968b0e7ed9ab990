"""A partial update sent from the changed span's first column shows the same screen as Textual's
own (sent from the widget's left edge), in fewer bytes (tui/widgets/span_updates.py)."""

from __future__ import annotations

import re

import pytest

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual._compositor import ChopsUpdate
from textual.strip import Strip

from optsim.tui.widgets import cell_canvas, span_updates

CONTROL = re.compile(r"\x1b\[(\d+);(\d+)H|\x1b\[([0-9;]*)m|([\r\n])")


def _sgr(state: dict[str, object], params: str) -> dict[str, object]:
    """The style after an SGR sequence: attributes on/off, foreground and background colours."""
    state = dict(state)
    codes = [int(c) if c else 0 for c in params.split(";")] if params else [0]
    i = 0
    while i < len(codes):
        c = codes[i]
        if c == 0:
            state = {}
        elif 1 <= c <= 9:
            state[f"attr{c}"] = True
        elif c in (22,):
            state.pop("attr1", None), state.pop("attr2", None)
        elif 23 <= c <= 29:
            state.pop(f"attr{c - 20}", None)
        elif c in (38, 48):
            n = 3 if codes[i + 1] == 5 else 5
            state["fg" if c == 38 else "bg"] = tuple(codes[i + 1:i + n])
            i += n - 1
        elif c in (39, 49):
            state.pop("fg" if c == 39 else "bg", None)
        elif 30 <= c <= 37 or 90 <= c <= 97:
            state["fg"] = (c,)
        elif 40 <= c <= 47 or 100 <= c <= 107:
            state["bg"] = (c,)
        i += 1
    return state


def _apply(screen: list[list[tuple[str, tuple]]], data: str) -> list[list[tuple[str, tuple]]]:
    """A small terminal: cursor moves, SGR styles (as the attributes and colours in force) and
    printed characters; a wide character takes its cell and blanks the next."""
    out = [row[:] for row in screen]
    row = col = 0
    state: dict[str, object] = {}
    pos = 0

    def put(text: str) -> None:
        nonlocal col
        for ch in text:
            style = tuple(sorted(state.items()))
            out[row][col] = (ch, style)
            if cell_len(ch) == 2:
                out[row][col + 1] = ("", style)
            col += cell_len(ch)

    for m in CONTROL.finditer(data):
        put(data[pos:m.start()])
        pos = m.end()
        if m.group(1):
            row, col = int(m.group(1)) - 1, int(m.group(2)) - 1
        elif m.group(3) is not None:
            state = _sgr(state, m.group(3))
    put(data[pos:])
    assert state == {}, "every write leaves the terminal in the default style"
    return out


def _style(text: str) -> Style:
    """A new Style object (rich keeps a style's codes on the object, for one colour system)."""
    parsed = Style.parse(text)
    return Style(color=parsed.color, bgcolor=parsed.bgcolor, bold=parsed.bold, italic=parsed.italic)


def _strip(*parts: tuple[str, str]) -> Strip:
    return Strip([Segment(text, _style(style)) for text, style in parts])


def _update(strips: dict[int, Strip], width: int, span: tuple[int, int]) -> ChopsUpdate:
    """One line cut into pieces at the dict's keys (widgets side by side), span (x1, x2)."""
    starts = sorted(strips)
    ends = [*starts[1:], width]
    return ChopsUpdate([dict(strips)], [(0, *span)], [ends])


def _screens(before: dict[int, Strip], after: dict[int, Strip], width: int, span: tuple[int, int],
             system: str = "truecolor"):
    console = Console(width=width, color_system=system, force_terminal=True, legacy_windows=False)
    blank = [[(" ", ())] * (width + 1)]
    shown = _apply(blank, span_updates.TEXTUAL_RENDER_SEGMENTS(_update(before, width, (0, width)), console))
    update = _update(after, width, span)
    theirs = span_updates.TEXTUAL_RENDER_SEGMENTS(update, console)
    ours = span_updates.render_segments(update, console)
    return _apply(shown, theirs), _apply(shown, ours), theirs, ours


def test_the_cropping_render_is_installed_by_the_canvas():
    assert cell_canvas.span_updates is span_updates
    assert ChopsUpdate.render_segments is span_updates.render_segments


def test_a_span_inside_a_widget_is_sent_from_its_first_column_and_shows_the_same_screen():
    before = {0: _strip(("left ", "red"), ("aaaaaaaaaa", "green on blue"), ("tail", "bold")),
              19: _strip(("other widget", "yellow"))}
    after = {0: _strip(("left ", "red"), ("aaaXYZaaaa", "green on blue"), ("tail", "bold")),
             19: _strip(("other widget", "yellow"))}
    theirs_screen, ours_screen, theirs, ours = _screens(before, after, 31, (8, 11))
    assert ours_screen == theirs_screen
    assert "".join(ch for ch, _ in ours_screen[0][8:11]) == "XYZ"
    assert ours.startswith("\x1b[1;9H")  # row 1, column 9: the span's first cell
    assert "left" not in ours and "left" in theirs
    assert len(ours) < len(theirs)


def test_spans_over_two_widgets_are_cropped_in_each():
    before = {0: _strip(("0123456789", "red")), 10: _strip(("abcdefghij", "blue"))}
    after = {0: _strip(("01234567#9", "red")), 10: _strip(("a#cdefghij", "blue"))}
    theirs_screen, ours_screen, _, ours = _screens(before, after, 20, (8, 12))
    assert ours_screen == theirs_screen
    assert "\x1b[1;9H" in ours and "\x1b[1;11H" in ours
    assert "0123" not in ours and "cdef" not in ours


def test_a_span_starting_inside_a_wide_character_is_sent_from_the_piece_start():
    before = {0: _strip(("ab中文cd", "red"))}  # 中 takes cells 2-3, 文 cells 4-5
    after = {0: _strip(("ab中字cd", "red"))}
    theirs_screen, ours_screen, theirs, ours = _screens(before, after, 8, (3, 6))
    assert ours_screen == theirs_screen
    assert ours == theirs  # cell 3 is the right half of 中: not split


def test_a_span_starting_on_a_wide_character_is_cropped_there():
    before = {0: _strip(("ab中文cd", "red"))}
    after = {0: _strip(("ab中字cd", "red"))}
    theirs_screen, ours_screen, theirs, ours = _screens(before, after, 8, (4, 6))
    assert ours_screen == theirs_screen
    assert ours.startswith("\x1b[1;5H") and "ab" not in ours and len(ours) < len(theirs)


@pytest.mark.parametrize("system", ["truecolor", "256", "standard"])
def test_a_line_of_many_styles_is_written_as_changes_and_shows_the_same_screen(system):
    """Every kind of change: the foreground alone, the background alone, both, an attribute on
    and off, a colour back to the default, no style, and 256 and 16 colours."""
    parts = [("ab", "#ff0000 on #000080"), ("cd", "#00ff00 on #000080"), ("ef", "#00ff00 on #008000"),
             ("gh", "bold #00ff00 on #008000"), ("ij", "#00ff00 on #008000"), ("kl", "on #008000"),
             ("mn", ""), ("op", "color(200) on color(17)"), ("qr", "red"), ("st", "italic"), ("uv", "#123456")]
    before = {0: _strip(*[(" " * len(t), "") for t, _ in parts])}
    after = {0: _strip(*parts)}
    width = sum(len(t) for t, _ in parts)
    theirs_screen, ours_screen, theirs, ours = _screens(before, after, width, (0, width), system)
    assert ours_screen == theirs_screen
    assert [ch for ch, _ in ours_screen[0][:width]] == list("abcdefghijklmnopqrstuv")
    assert ours.count("\x1b[0m") < theirs.count("\x1b[0m") and len(ours) < len(theirs)
    if system == "truecolor":
        assert "\x1b[38;2;0;255;0m" in ours  # red to green on the same background: the foreground alone
