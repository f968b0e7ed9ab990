"""Tests of the Textual-free cell grids: style interning, segments, diffs, text, axes, colour systems."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.color import Color
from rich.style import Style

from optsim.tui.render.cell_grid import (
    StyleTable,
    blank_grid,
    changed_spans,
    choose_color_system,
    color_hex,
    draw_axes,
    fill_blanks,
    grid_lines,
    is_dark,
    one_cell,
    put_text,
    row_segments,
)
from optsim.tui.render.contour_grid import Geometry, PlotArea, Ticks


def test_style_table_interns_each_style_once_on_the_base():
    base = Style(color="#ffffff", bgcolor="#000000")
    table = StyleTable(base)
    red = table.get(fg="#ff0000", bold=True)
    assert table.get() == 0 and table.styles[0] == base
    assert table.get(fg="#ff0000", bold=True) == red != table.get(fg="#ff0000")
    assert table.styles[red] == base + Style(color="#ff0000", bold=True)
    assert len(table.styles) == 3


def test_row_segments_cut_where_the_style_changes():
    table = StyleTable(Style())
    codes, styles = blank_grid(6, 1)
    bold = table.get(bold=True)
    put_text(codes, styles, 0, 1, "ab", bold)
    segments = row_segments(codes[0], styles[0], table)
    assert [s.text for s in segments] == [" ", "ab", "   "]
    assert [s.style for s in segments] == [table.styles[0], table.styles[bold], table.styles[0]]
    assert grid_lines(codes) == [" ab   "]


def test_changed_spans_name_the_first_and_last_changed_cell_of_each_row():
    codes, styles = blank_grid(10, 3)
    new_codes, new_styles = codes.copy(), styles.copy()
    new_codes[1, 2] = ord("x")
    new_styles[1, 7] = 4
    new_codes[2, 0] = ord("y")
    assert changed_spans(codes, styles, codes, styles) == []
    assert changed_spans(codes, styles, new_codes, new_styles) == [(1, 2, 7), (2, 0, 0)]


def test_put_text_clips_skips_wide_characters_and_returns_the_next_column():
    codes, styles = blank_grid(5, 2)
    assert put_text(codes, styles, 0, 3, "abcd", 1) == 5
    assert put_text(codes, styles, 1, -1, "x界yz", 2) == 2  # '界' takes two cells: skipped
    assert put_text(codes, styles, 5, 0, "off the grid", 1) == 0
    assert grid_lines(codes) == ["   ab", "yz   "]
    assert styles[0].tolist() == [0, 0, 0, 1, 1] and styles[1].tolist() == [2, 2, 0, 0, 0]
    assert one_cell("x界y") == "xy"


def test_fill_blanks_extends_each_drawn_style_to_the_right_only():
    codes = np.array([[32, 65, 32, 32, 66, 32]], dtype=np.uint32)
    styles = np.array([[7, 1, 0, 0, 2, 0]], dtype=np.int32)
    fill_blanks(codes, styles)
    assert styles.tolist() == [[7, 1, 1, 1, 2, 2]]


@dataclass(frozen=True)
class Area(PlotArea):
    left: int
    geometry: Geometry
    x_ticks: Ticks
    y_ticks: Ticks


def test_draw_axes_puts_lines_ticks_and_labels_around_the_plot_area():
    codes, styles = blank_grid(12, 6)
    area = Area(3, Geometry((0.0, 1.0, 0.0, 1.0), 9, 3),
                Ticks(np.zeros(2), np.array([0, 8]), ["a", "bc"], 1.0),
                Ticks(np.zeros(2), np.array([0, 2]), ["10", "0"], 1.0))
    draw_axes(codes, styles, area, 1, 5, axis=1, label=2)
    assert grid_lines(codes) == [
        "            ",
        "10┤         ",
        "  │         ",
        " 0┤         ",
        "  └┬───────┬",
        "   a      bc",  # the last label is kept inside the plot area
    ]
    assert styles[4, 2] == 1 and styles[1, 0] == 2 and styles[5, 3] == 2 and styles[0, 2] == 0


def test_color_system_override_then_forced_then_headless_then_terminal():
    assert choose_color_system("8bit", "truecolor", False, "truecolor") == "256"
    assert choose_color_system(None, "standard", False, "truecolor") == "16"
    assert choose_color_system(None, "auto", True, "standard") == "truecolor"
    assert choose_color_system(None, None, False, "256") == "256"


def test_color_hex_and_darkness_of_a_background():
    assert color_hex(Color.parse("#102030")) == "#102030"
    assert color_hex(None) is None and color_hex(Color.default()) is None
    assert is_dark(Style(bgcolor="#101010")) and not is_dark(Style(bgcolor="#f0f0f0"))
    assert is_dark(Style())  # unknown: assume a dark terminal
