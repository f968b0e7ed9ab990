"""A copy of what the terminal shows, so that each write sends only the cells that change.

Textual 8 sends each changed span of a row from its widget's left edge (Textual issue 5625),
and every run of cells as "whole style, text, reset"; a trajectory point moving at column 80
of the contour plot resends columns 0-80 of its row, three quarters of the bytes colour codes.
`ShadowTerminal.rewrite` reads what Textual writes and returns what to send instead: the
cells that differ from the shadow, each run's style as the change from the style in force
(as curses does), the cursor left where Textual's own write leaves it and the default style
in force, as after Textual's writes. The terminal shows the same cells (text and style).

It models the subset of escape codes Textual writes for a frame: absolute cursor moves
(ESC[row;colH), SGR styles (attributes, 16/256/24-bit colours), printable text with wide
characters, newlines between rows; the codes that change no cell, the cursor's place nor the
style (synchronized output, mouse and keyboard modes, mode queries, the pointer's shape, the
clipboard, the bell) are passed on in their place. Anything else in a write (clearing, the
alternate screen, hyperlinks, text past the last column, a
zero-width character...) makes the whole write go out unchanged and the shadow forget
everything, so every cell is sent again the next time it is written: correctness first. A
change of the terminal's size does the same. Character widths are rich's, as in Textual's
own layout.
"""

from __future__ import annotations

import re

from rich.cells import get_character_cell_size

from .styles import UNKNOWN_STYLE, StyleTable, Unmodelled

UNKNOWN = "\x01"
"""A cell whose content the shadow does not know (equal to no character Textual writes)."""
WIDE_TAIL = "\x00"
"""The right half of a wide character (its left cell holds the character)."""
STYLE_BASE = 0x100
"""Style id i is stored as the character chr(STYLE_BASE + i), one per cell."""
GAP = 3
"""Unchanged cells between two changed ones in a run are written again when there are at most
this many (shorter than moving the cursor over them, for ASCII)."""
RESET = "\x1b[0m"
RUNS_KEPT = 1 << 14
"""How many distinct runs (style and text) are remembered with their cells."""

TOKEN = re.compile(
    r"\x1b\[([0-9;]*)m([^\x00-\x1f\x7f-\x9f]*)\x1b\[0m"  # 1, 2: a run of cells as rich writes it
    r"|\x1b\[([0-9]+);([0-9]+)H"  # 3, 4: cursor to row;column (from 1)
    r"|([^\x00-\x1f\x7f-\x9f]+)"  # 5: text in the style in force
    r"|\x1b\[([0-9;]*)m"  # 6: a style change
    r"|(\n)"  # 7: down a row (Textual moves the cursor after it)
    r"|(\x1b\[\?(?:25|1000|1002|1003|1004|1006|1015|1016|2004|2026|2048)[hl]"  # 8: mouse, focus, paste,
    r"|\x1b\[\?[0-9]+\$p|\x1b\[[<>][0-9]*u"  # synchronized output and size reports; mode queries; keyboard
    r"|\x1b\](?:22|52);[^\x00-\x1f]*\x07|\x07)"  # pointer shape, clipboard; bell: passed on, no cell changes
)


class ShadowTerminal:
    """What a terminal of a given size shows, cell by cell; see the module docstring."""

    def __init__(self) -> None:
        self.size = (0, 0)  # (columns, rows)
        self.chars: list[str] = []  # per row, one character per cell (UNKNOWN, WIDE_TAIL)
        self.cell_styles: list[str] = []  # per row, chr(STYLE_BASE + style id) per cell
        self.table = StyleTable()
        self.cursor: tuple[int, int] | None = None  # where the terminal's cursor is (row, col)
        self.sgr = UNKNOWN_STYLE  # the style in force on the terminal
        self.t_row = 0  # where Textual's own output would have left the cursor
        self.t_col: int | None = None
        self.t_style = 0
        self._cells: dict[str, str] = {}
        self._runs: dict[str, tuple[str, str, int]] = {}

    def invalidate(self, size: tuple[int, int]) -> None:
        """Forget what the terminal shows (every cell is sent again when next written)."""
        self.size = size
        columns, rows = size
        self.chars = [UNKNOWN * columns] * rows
        self.cell_styles = [chr(STYLE_BASE) * columns] * rows
        self.cursor, self.sgr = None, UNKNOWN_STYLE
        self.t_row, self.t_col, self.t_style = 0, None, 0
        if len(self.table) > StyleTable.LIMIT:
            self.table = StyleTable()
            self._runs.clear()

    def rewrite(self, data: str, size: tuple[int, int]) -> str:
        """What to send for Textual's `data` on a terminal of `size` (columns, rows)."""
        if size != self.size or len(self.table) > StyleTable.LIMIT:
            self.invalidate(size)
        try:
            return self._rewrite(data)
        except Unmodelled:
            self.invalidate(size)
            return data

    def _rewrite(self, data: str) -> str:
        out: list[str] = []
        moved = False
        runs, columns = self._runs, self.size[0]
        chars, cell_styles = self.chars, self.cell_styles
        # Every run rich writes ends with a reset, so the pieces between resets are mostly
        # whole runs "ESC[codes m text", the same ones again and again: those are looked up
        # whole; the rest (moves, newlines, other codes) go through the tokenizer. Each piece
        # starts in the default style (after a reset, or at the start of a write).
        *pieces, tail = data.split(RESET)
        for piece in pieces:
            run = runs.get(piece)
            if run is None:
                moved = self._tokens(piece + RESET, out) or moved
                continue
            cells, styles, style = run
            row, col = self.t_row, self.t_col
            end = col + len(cells) if col is not None else columns + 1
            if end > columns:
                raise Unmodelled("text after a newline or past the last column")
            self.t_col = end if end < columns else None
            if chars[row][col:end] != cells or cell_styles[row][col:end] != styles:
                self._send_changes(row, col, cells, styles, style, out)
            moved = True
        moved = self._tokens(tail, out) or moved
        if self.t_style != 0:
            raise Unmodelled("a write that does not end in the default style")
        if moved:
            if self.t_col is None:
                raise Unmodelled("a write that leaves the cursor past the last column")
            out.append(self._move(self.t_row, self.t_col))
        if self.sgr > 0:
            out.append(RESET)
            self.sgr = 0
        return "".join(out)

    def _tokens(self, text: str, out: list[str]) -> bool:
        """Read `text` token by token (see TOKEN); True if it moved Textual's cursor or wrote."""
        covered = 0  # characters matched: the tokens cover the text when it reaches len(text)
        moved = False
        for match in TOKEN.finditer(text):
            token = match[0]
            covered += len(token)
            kind = match.lastindex
            if kind == 2:
                if self.t_style == 0:
                    key = token[:-len(RESET)]
                    self._put(*(self._runs.get(key) or self._new_run(key, match[1], match[2])), out)
                else:
                    self._text(match[2], self.table.apply(self.t_style, match[1]), out)
                self.t_style, moved = 0, True
            elif kind == 4:
                self._textual_moves_to(int(match[3]) - 1, int(match[4]) - 1)
                moved = True
            elif kind == 5:
                self._text(match[5], self.t_style, out)
                moved = True
            elif kind == 6:
                self.t_style = self.table.apply(self.t_style, match[6])
            elif kind == 7:
                self._textual_moves_to(self.t_row + 1, None)
                moved = True
            else:
                out.append(token)
        if covered != len(text):
            raise Unmodelled("an escape code not modelled")
        return moved

    def _textual_moves_to(self, row: int, col: int | None) -> None:
        columns, rows = self.size
        if not (0 <= row < rows and (col is None or 0 <= col < columns)):
            raise Unmodelled(f"cursor outside the screen: {row}, {col}")
        self.t_row, self.t_col = row, col

    def _cell_text(self, text: str) -> str:
        """`text` as one character per cell: a wide character followed by WIDE_TAIL."""
        if text.isascii():
            return text
        cells = self._cells.get(text)
        if cells is None:
            parts = []
            for ch in text:
                width = get_character_cell_size(ch)
                if width not in (1, 2):
                    raise Unmodelled(f"a character {width} cells wide")
                parts.append(ch if width == 1 else ch + WIDE_TAIL)
            cells = "".join(parts)
            if len(self._cells) > 4096:
                self._cells.clear()
            self._cells[text] = cells
        return cells

    def _new_run(self, key: str, codes: str, text: str) -> tuple[str, str, int]:
        """A run as rich writes it ("ESC[codes m text ESC[0m" from the default style): its cells,
        their style characters and its style, remembered by its text up to the reset (`key`)."""
        style = self.table.apply(0, codes)
        cells = self._cell_text(text)
        run = (cells, chr(STYLE_BASE + style) * len(cells), style)
        if len(self._runs) > RUNS_KEPT:
            self._runs.clear()
        self._runs[key] = run
        return run

    def _text(self, text: str, style: int, out: list[str]) -> None:
        """Textual writes `text` in `style` at its cursor."""
        cells = self._cell_text(text)
        self._put(cells, chr(STYLE_BASE + style) * len(cells), style, out)

    def _put(self, cells: str, styles: str, style: int, out: list[str]) -> None:
        """Textual writes `cells` (their style characters `styles`, all `style`) at its cursor."""
        row, col = self.t_row, self.t_col
        if col is None:
            raise Unmodelled("text after a newline or past the last column")
        end = col + len(cells)
        columns = self.size[0]
        if end > columns:
            raise Unmodelled("text past the last column")
        self.t_col = end if end < columns else None
        if self.chars[row][col:end] != cells or self.cell_styles[row][col:end] != styles:
            self._send_changes(row, col, cells, styles, style, out)

    def _send_changes(self, row: int, col: int, cells: str, styles: str, style: int, out: list[str]) -> None:
        """Send the cells of `cells` (to write at `col`) that differ from the shadow."""
        for start, stop in self._changed(row, col, cells, styles[0]):
            self._send(row, col + start, cells[start:stop], style, styles[0], out)

    def _changed(self, row: int, col: int, cells: str, style_char: str) -> list[tuple[int, int]]:
        """The stretches [start, stop) of `cells` (to write at `col`) that differ from the shadow,
        joined over gaps of up to GAP equal cells, never splitting a wide character."""
        shown, styles = self.chars[row], self.cell_styles[row]
        n = len(cells)
        stretches = []
        i = 0
        while i < n:
            if shown[col + i] == cells[i] and styles[col + i] == style_char:
                i += 1
                continue
            start = last = i
            j = i + 1
            while j < n and j - last <= GAP:
                if shown[col + j] != cells[j] or styles[col + j] != style_char:
                    last = j
                j += 1
            stop = last + 1
            if cells[start] == WIDE_TAIL:
                start -= 1
            if stop < n and cells[stop] == WIDE_TAIL:
                stop += 1
            stretches.append((start, stop))
            i = stop
        return stretches

    def _send(self, row: int, col: int, cells: str, style: int, style_char: str, out: list[str]) -> None:
        """Write `cells` at (row, col) in `style` and record them in the shadow."""
        shown, styles = self.chars[row], self.cell_styles[row]
        end = col + len(cells)
        out.append(self._move(row, col))
        if style != self.sgr:
            out.append(self.table.change(self.sgr, style))
            self.sgr = style
        out.append(cells.replace(WIDE_TAIL, "") if WIDE_TAIL in cells else cells)
        columns = self.size[0]
        self.cursor = (row, end) if end < columns else None  # at the last column: wrap pending
        new = shown[:col] + cells + shown[end:]
        # Half a wide character overwritten: terminals differ in what the other half then shows
        # (xterm blanks it), so the shadow forgets it. (_changed also never starts or ends a
        # stretch inside a wide character: either of the two keeps the screens equal.)
        if col > 0 and shown[col] == WIDE_TAIL:  # the wide character to the left is broken
            new = new[:col - 1] + UNKNOWN + new[col:]
        if end < columns and shown[end] == WIDE_TAIL:  # and the one whose left half was overwritten
            new = new[:end] + UNKNOWN + new[end + 1:]
        self.chars[row] = new
        self.cell_styles[row] = styles[:col] + style_char * len(cells) + styles[end:]

    def _move(self, row: int, col: int) -> str:
        """The shortest way to put the terminal's cursor at (row, col)."""
        cursor = self.cursor
        if cursor == (row, col):
            return ""
        self.cursor = (row, col)
        absolute = f"\x1b[{row + 1};{col + 1}H"
        if cursor is None or cursor[0] != row:
            return absolute
        step = col - cursor[1]
        if 0 < step <= GAP:
            gap = self.chars[row][cursor[1]:col]
            if (gap.isascii() and UNKNOWN not in gap and WIDE_TAIL not in gap
                    and self.cell_styles[row][cursor[1]:col] == chr(STYLE_BASE + self.sgr) * step):
                return gap  # what the terminal shows there already, in the style in force
        if step > 0:
            relative = "\x1b[C" if step == 1 else f"\x1b[{step}C"
        else:
            relative = "\x1b[D" if step == -1 else f"\x1b[{-step}D"
        return relative if len(relative) < len(absolute) else absolute
