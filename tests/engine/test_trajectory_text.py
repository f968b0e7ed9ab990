"""The CSV writer's bulk formatting (trajectory_io.csv_lines) makes exactly the text of
csv_line row by row: repr of every float, including the awkward ones."""
from __future__ import annotations

import numpy as np

from optsim.engine.scenario.trajectory_io import csv_line, csv_lines

AWKWARD = [0.1, -0.0, 0.0, 1e-05, 1e16, 1.0000000000000002, float("nan"), float("inf"), -float("inf"),
           5e-324, 1.7976931348623157e308, 123456789012345678.0, -2.5]


def _row_by_row(name: str, steps: list[int], rows: np.ndarray) -> str:
    return "".join(csv_line(name, k, r) for k, r in zip(steps, rows.tolist()))


def test_varying_values_match_row_by_row_text():
    rng = np.random.default_rng(3)
    rows = rng.standard_normal((200, 5)) * 10.0 ** rng.integers(-30, 30, (200, 5))
    rows[: len(AWKWARD), 1] = AWKWARD
    rows[: len(AWKWARD), 3] = AWKWARD  # the rate column varies: no shared text
    steps = list(range(7, 207))
    assert csv_lines("run, one", steps, rows) == _row_by_row("run, one", steps, rows)


def test_constant_rate_is_formatted_once_with_the_same_text():
    rows = np.random.default_rng(4).standard_normal((50, 6))
    rows[:, -2] = 0.001
    steps = list(range(50))
    text = csv_lines("adam", steps, rows)
    assert text == _row_by_row("adam", steps, rows)
    assert text.count(",0.001,") == 50


def test_signed_zero_rates_are_not_merged():
    rows = np.zeros((3, 5))
    rows[:, -2] = [0.0, -0.0, 0.0]
    steps = [0, 1, 2]
    text = csv_lines("r", steps, rows)
    assert text == _row_by_row("r", steps, rows)
    assert ",-0.0," in text


def test_no_rows_make_no_text():
    assert csv_lines("r", [], np.zeros((0, 5))) == ""
