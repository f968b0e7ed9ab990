"""The shared number formats: each keeps the exact text its screens and reports showed."""
from __future__ import annotations

import math

import numpy as np
import pytest

from optsim.engine.text_format import column, decade_label, direction, listing, short, sig, step_label, table, vector


@pytest.mark.parametrize("x, text", [(0.0, "0"), (0.0123456, "0.0123"), (4.2e-7, "4e-07"), (123456.0, "1e+05"),
                                     (-2.5, "-2.5"), (math.inf, "inf"), (math.nan, "nan")])
def test_short_headline_numbers(x, text):
    assert short(x) == text


@pytest.mark.parametrize("x, digits, text", [(None, 4, "-"), (math.nan, 4, "-"), (math.inf, 4, "inf"),
                                             (-math.inf, 3, "-inf"), (0.0, 4, "0"), (0.0123456, 4, "0.01235"),
                                             (1.234e-7, 4, "1.23e-7"), (2.5e6, 3, "2.5e+6"), (99999.0, 4, "1e+05")])
def test_column_numbers_stay_narrow(x, digits, text):
    assert column(x, digits) == text


@pytest.mark.parametrize("x, text", [(math.nan, "-"), (math.inf, "-"), (0.0, "0"), (0.5, "0.5"),
                                     (1e-4, "1.00e-04"), (12345.0, "1.23e+04")])
def test_table_cells(x, text):
    assert table(x) == text


def test_sig_says_missing_for_none_and_optionally_nan():
    assert sig(None) == "-" and sig(math.nan) == "-" and sig(math.nan, missing_nan=False) == "nan"
    assert sig(1 / 3) == "0.3333" and sig(1 / 3, 2) == "0.33"


def test_vectors_and_listings():
    assert vector(np.array([1.0, -0.0, 2.5])) == "(1, -0, 2.5)"
    assert vector([1.0, -0.0], digits=6, no_minus_zero=True) == "(1, 0)"
    assert vector(np.arange(8.0), limit=6) == "(0, 1, 2, 3, 4, 5, ...)"
    assert vector(np.arange(8.0), limit=6, more=", …") == "(0, 1, 2, 3, 4, 5, …)"
    assert listing(np.arange(3.0), limit=2, more=", ... (3 in all)") == "0, 1, ... (3 in all)"
    assert vector(np.ones((2, 1))) == "(1, 1)"  # flattened


def test_direction_fixes_the_sign():
    assert direction(np.array([-0.6, 0.8])) == "(0.60, -0.80)"
    assert direction(np.array([0.1, -0.2, 0.3, -0.4, 0.5])) == "(0.10, -0.20, 0.30, -0.40, ...)"


@pytest.mark.parametrize("k, text", [(-3, "1e-3"), (-2, "0.01"), (0, "1"), (3, "1000"), (4, "1e4")])
def test_decade_labels(k, text):
    assert decade_label(k) == text


@pytest.mark.parametrize("v, text", [(500.0, "500"), (20000.0, "20k"), (1.5e6, "1.5M"), (9999.0, "9999")])
def test_step_labels(v, text):
    assert step_label(v) == text


def test_strict_json_turns_every_non_finite_number_into_null():
    import json

    from optsim.engine.text_format import strict_json

    value = {"a": math.nan, "b": [1.0, math.inf, np.float64(-math.inf)], "c": np.array([[0.5, np.nan]]),
             "d": (np.int64(3), np.bool_(True), "x", None)}
    text = json.dumps(strict_json(value), allow_nan=False)
    assert json.loads(text) == {"a": None, "b": [1.0, None, None], "c": [[0.5, None]], "d": [3, True, "x", None]}
