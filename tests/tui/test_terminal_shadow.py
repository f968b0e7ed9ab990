"""The shadow terminal (tui/terminal) sends fewer bytes and the terminal shows the same screen.

The reference is a terminal emulator (pyte): Textual's own bytes go to one, the rewritten bytes
to another, and after every write both show the same cells (character, colours, bold, italic,
underline, strike, reverse, blink) and the same cursor. The main case is a real session of the
real app in a pseudo-terminal (tests/tui/write_recorder.py): playing with every run moving,
the mechanism views, the help screen, the run editor and the command palette opening and
closing, the terminal resized larger and smaller, a run name and a title in wide characters.
Random writes in Textual's form check the corners (hypothesis); pyte does not model dim,
double underline or overline, so their codes are checked as text.
"""

from __future__ import annotations

from pathlib import Path

import pyte
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optsim.tui.terminal.driver import ShadowLinuxDriver, choose_driver
from optsim.tui.terminal.shadow import ShadowTerminal
from optsim.tui.terminal.styles import StyleTable

from write_recorder import record_session

SCENARIO = """
title = "Heavy balls 中文 circling"
description = "Every frame moves every run."
seed = 0

[surface]
expr = "x^2 + 3*y^2"
view = {{ x = [-2, 2], y = [-2, 2] }}
{runs}
"""
RUN = """
[[runs]]
name = "{name}"
optimizer = "sgd"
lr = {lr}
momentum = 0.999
start = [{x}, {y}]
steps = 3000
"""
SYNC_END = "\x1b[?2026l"


class Terminal:
    """A pyte screen and stream, resized as the recorded terminal was."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.screen = pyte.Screen(*size)
        self.stream = pyte.Stream(self.screen)

    def feed(self, data: str, size: tuple[int, int]) -> None:
        if size != (self.screen.columns, self.screen.lines):
            self.screen.resize(size[1], size[0])
        self.stream.feed(data)

    def state(self) -> tuple[list[list[pyte.screens.Char]], tuple[int, int]]:
        screen = self.screen
        cells = [[screen.buffer[y][x] for x in range(screen.columns)] for y in range(screen.lines)]
        return cells, (screen.cursor.x, screen.cursor.y)


def replay(writes: list[tuple[tuple[int, int], str]]) -> tuple[list[int], list[int], list[str]]:
    """Feed Textual's writes and the rewritten ones to two emulators; returns the bytes of each
    write, raw and rewritten, and a description of every write after which the screens differ."""
    raw, ours = Terminal(writes[0][0]), Terminal(writes[0][0])
    shadow = ShadowTerminal()
    raw_bytes, our_bytes, differences = [], [], []
    for i, (size, data) in enumerate(writes):
        out = shadow.rewrite(data, size)
        raw.feed(data, size)
        ours.feed(out, size)
        raw_bytes.append(len(data.encode()))
        our_bytes.append(len(out.encode()))
        (raw_cells, raw_cursor), (our_cells, our_cursor) = raw.state(), ours.state()
        if raw_cells != our_cells or raw_cursor != our_cursor:
            first = next(((y, x, a, b) for y, (ra, rb) in enumerate(zip(raw_cells, our_cells))
                          for x, (a, b) in enumerate(zip(ra, rb)) if a != b), None)
            differences.append(f"write {i}: first differing cell {first}, cursor {raw_cursor} / {our_cursor}")
    return raw_bytes, our_bytes, differences


@pytest.fixture(scope="module")
def session_writes(tmp_path_factory) -> list[tuple[tuple[int, int], str]]:
    folder = tmp_path_factory.mktemp("shadow")
    runs = [("球-0", 0.0005, 1.8, 0.3), ("ball-1", 0.0008, -1.5, 1.0), ("ball-2", 0.0012, 0.5, -1.1),
            ("ball-3", 0.0016, -1.0, -0.6), ("ball-4", 0.002, 1.2, 1.1)]
    scenario = folder / "busy.toml"
    scenario.write_text(SCENARIO.format(runs="".join(RUN.format(name=n, lr=lr, x=x, y=y) for n, lr, x, y in runs)),
                        encoding="utf-8")
    steps = [("wait", 3.0), ("keys", b"GSMC"), ("wait", 1.0),
             ("keys", b"?"), ("wait", 0.6), ("keys", b"\x1b"), ("wait", 0.6),
             ("resize", 160, 48), ("wait", 1.0),
             ("keys", b"e"), ("wait", 0.8), ("keys", b"\x1b"), ("wait", 0.5),
             ("keys", b"\x10"), ("wait", 0.6), ("keys", b"lr"), ("wait", 0.4), ("keys", b"\x1b"), ("wait", 0.5),
             ("resize", 90, 26), ("wait", 1.0), ("keys", b"q"), ("wait", 0.5)]
    return record_session(["play", str(scenario)], steps, folder / "writes.jsonl")


def test_the_recorded_session_covers_what_this_test_claims(session_writes):
    text = "".join(data for _, data in session_writes)
    assert {size for size, _ in session_writes} >= {(100, 30), (160, 48), (90, 26)}
    assert "球" in text and "中文" in text  # wide characters
    assert text.count(SYNC_END) > 100  # many frames
    assert "\x1b[?1049h" in text  # the alternate screen: a write the shadow does not model
    assert "Keys" in text or "keys" in text  # the help screen was drawn


def test_the_terminal_shows_the_same_screen_after_every_write_of_a_real_session(session_writes):
    raw_bytes, our_bytes, differences = replay(session_writes)
    assert differences == []
    assert sum(our_bytes) < sum(raw_bytes)


def test_a_playing_session_sends_less_than_half_the_bytes(session_writes):
    """After the first frames (every cell is new then), while the runs move."""
    raw_bytes, our_bytes, _ = replay(session_writes)
    frames = [i for i, (_, data) in enumerate(session_writes) if data.startswith("\x1b[") and "H" in data[:12]]
    later = frames[len(frames) // 10:]
    assert sum(our_bytes[i] for i in later) < 0.5 * sum(raw_bytes[i] for i in later)


# ---------------------------------------------------------------------- made-up writes

def frame(*runs: tuple[int, int, str, str]) -> str:
    """A write as Textual makes it: for each (row, col, style codes, text), a move and a run."""
    return "".join(f"\x1b[{r + 1};{c + 1}H" + (f"\x1b[{codes}m{text}\x1b[0m" if codes else text)
                   for r, c, codes, text in runs) + "\x1b[1;1H"


def screens_agree(writes: list[str], size=(20, 4)) -> list[str]:
    return replay([(size, w) for w in writes])[2]


def test_an_unchanged_frame_sends_only_the_cursor_and_a_changed_cell_only_that_cell():
    shadow = ShadowTerminal()
    first = frame((0, 0, "31", "hello world"), (1, 2, "", "plain"))
    assert shadow.rewrite(first, (20, 4)) != first
    assert shadow.rewrite(first, (20, 4)) == ""  # the cursor is already at 1;1
    changed = frame((0, 0, "31", "hello wOrld"), (1, 2, "", "plain"))
    out = shadow.rewrite(changed, (20, 4))
    assert out == "\x1b[7C\x1b[31mO\x1b[8D\x1b[0m"  # 7 right, the O, 8 back to where Textual leaves it


def test_an_unknown_sequence_goes_out_unchanged_and_the_next_frame_in_full():
    shadow = ShadowTerminal()
    first = frame((0, 0, "31", "hello"))
    shadow.rewrite(first, (20, 4))
    assert shadow.rewrite(first, (20, 4)) == ""
    clear = "\x1b[2J"
    assert shadow.rewrite(clear, (20, 4)) == clear
    assert "hello" in shadow.rewrite(first, (20, 4))
    link = "\x1b[1;1H\x1b]8;id=1;http://x\x1b\\hello\x1b]8;;\x1b\\"  # a hyperlink: not modelled
    assert shadow.rewrite(link, (20, 4)) == link
    assert "hello" in shadow.rewrite(first, (20, 4))


def test_a_resize_sends_the_next_frame_in_full():
    shadow = ShadowTerminal()
    first = frame((0, 0, "31", "hello"), (2, 0, "", "x"))
    shadow.rewrite(first, (20, 4))
    assert shadow.rewrite(first, (20, 4)) == ""
    out = shadow.rewrite(first, (21, 4))
    assert "hello" in out and "x" in out


def test_text_past_the_last_column_or_a_cursor_off_screen_goes_out_unchanged():
    shadow = ShadowTerminal()
    for data in ("\x1b[1;18Habcdef", "\x1b[9;1Hx", "\x1b[4;1Hx\ny"):
        assert shadow.rewrite(data, (20, 4)) == data


def test_codes_that_change_no_cell_pass_in_their_place_and_keep_the_shadow():
    shadow = ShadowTerminal()
    first = frame((0, 0, "31", "hello"))
    shadow.rewrite(first, (20, 4))
    for data in ("\x1b[?2026h", "\x1b]22;pointer\x07", "\x1b[?1000h", "\x1b[?2026l"):
        assert shadow.rewrite(data, (20, 4)) == data
    assert shadow.rewrite(first, (20, 4)) == ""


@pytest.mark.parametrize("writes", [
    [frame((0, 0, "31", "ab中文cd")), frame((0, 4, "31", "字"))],  # a wide character replaced
    [frame((0, 0, "31", "ab中文cd")), frame((0, 3, "32", "x"))],  # the right half of one overwritten
    [frame((0, 0, "31", "ab中文cd")), frame((0, 2, "31", "xy")), frame((0, 0, "31", "ab中文cd"))],
    [frame((0, 0, "31", "abcdef")), frame((0, 1, "31", "中"), (0, 4, "31", "文"))],
    [frame((0, 0, "38;2;1;2;3;48;5;17", "abcdefgh")), frame((0, 0, "38;2;1;2;3;48;5;18", "abcdXfgh"))],
    [frame((0, 0, "1;31", "ab"), (0, 2, "31", "cd"), (0, 4, "3;4;44", "ef"), (0, 6, "", "gh"), (0, 8, "7", "ij"))],
    [frame((1, 0, "31", "a" * 20)), frame((1, 0, "31", "b" + "a" * 18 + "c"))],  # the last column
])
def test_the_screen_is_the_same_in_corner_cases(writes):
    assert screens_agree(writes) == []


def test_dim_double_underline_and_overline_are_turned_off_by_a_reset():
    """pyte ignores these attributes: the change from a style with them is read here."""
    table = StyleTable()
    dim = table.apply(0, "2;31")
    plain_red = table.apply(0, "31")
    over = table.apply(0, "53;21")
    assert table.change(dim, plain_red) == "\x1b[0;31m"
    assert table.change(plain_red, dim) == "\x1b[2m"
    assert table.change(over, plain_red) == "\x1b[0;31m"
    assert table.change(dim, 0) == "\x1b[0m"
    assert table.change(plain_red, table.apply(0, "32")) == "\x1b[32m"
    assert table.change(table.apply(0, "31;44"), table.apply(0, "31")) == "\x1b[49m"


CHARS = st.sampled_from(list("ab ─│▀⣿·σ中文字"))
STYLES = st.sampled_from(["", "31", "1;31", "2", "3;4", "7", "38;5;17", "48;5;200", "38;2;10;20;30",
                          "38;2;10;20;30;48;2;1;2;3", "1;38;2;10;20;30;48;2;1;2;3", "9;92;101", "0"])


@st.composite
def textual_write(draw) -> str:
    """A write in Textual's form on a 12x3 screen: moves, then runs of styled text (some after a
    style set ahead of them, which Textual does not write but the shadow models), no run past
    the last column."""
    runs = []
    for _ in range(draw(st.integers(1, 5))):
        row, col = draw(st.integers(0, 2)), draw(st.integers(0, 11))
        pieces, width = [], col
        for _ in range(draw(st.integers(1, 3))):
            text = "".join(draw(st.lists(CHARS, min_size=1, max_size=6)))
            cells = sum(2 if ch in "中文字" else 1 for ch in text)
            if width + cells > 12:
                break
            width += cells
            codes, before = draw(STYLES), draw(st.one_of(st.just(""), STYLES))
            before = f"\x1b[{before}m" if before else ""  # a style set ahead: the run's codes add to it
            pieces.append(f"{before}\x1b[{codes}m{text}\x1b[0m" if codes else f"{before}{text}\x1b[0m")
        runs.append(f"\x1b[{row + 1};{col + 1}H" + "".join(pieces))
    return "\n".join(runs) + f"\x1b[{draw(st.integers(1, 3))};{draw(st.integers(1, 12))}H"


@settings(max_examples=300, deadline=None)
@given(st.lists(textual_write(), min_size=1, max_size=8))
def test_random_writes_show_the_same_screen(writes):
    assert screens_agree(writes, size=(12, 3)) == []


def test_the_driver_is_used_only_where_textual_would_use_its_linux_driver(monkeypatch):
    from textual.drivers.headless_driver import HeadlessDriver
    from textual.drivers.linux_driver import LinuxDriver
    from textual.drivers.web_driver import WebDriver

    monkeypatch.delenv("OPTSIM_RAW_OUTPUT", raising=False)
    assert choose_driver(LinuxDriver) is ShadowLinuxDriver
    assert choose_driver(WebDriver) is WebDriver and choose_driver(HeadlessDriver) is HeadlessDriver
    monkeypatch.setenv("OPTSIM_RAW_OUTPUT", "1")
    assert choose_driver(LinuxDriver) is LinuxDriver


def test_the_app_asks_for_the_shadowing_driver(monkeypatch):
    from optsim.tui.app import OptsimApp

    monkeypatch.delenv("OPTSIM_RAW_OUTPUT", raising=False)
    assert OptsimApp().driver_class is ShadowLinuxDriver
