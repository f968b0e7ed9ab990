"""Work budgets (engine.core.budget): bounded work for any accepted file, and honest about it.

A search or contour over more rows than its budget runs on a seeded subsample and says how
many rows it used; work a user asks for (runs x steps x rows) is refused before it starts.
"""
from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.analysis.guide_search import coarse_search
from optsim.engine.core import budget
from optsim.engine.core.budget import SampledLoss, rows_within, subsample, work_problem
from optsim.engine.core.data import Dataset
from optsim.engine.core.objective import Objective
from optsim.engine.formula.compile import compile_formula
from optsim.engine.scenario.analysis_tables import SearchSpec


def _line_fit(n: int, noise: float = 0.3) -> Objective:
    """Per-sample squared error of w*x + b against y = 2x - 1 + noise, over n rows."""
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, n)
    y = 2 * x - 1 + noise * rng.standard_normal(n)
    data = Dataset.from_rows(("x", "y"), np.column_stack([x, y]))
    return Objective(compile_formula("(w*x + b - y)**2", ("w", "b"), {}, ("x", "y")), data)


def test_rows_within_keeps_all_rows_that_fit_and_never_fewer_than_the_floor() -> None:
    assert rows_within(200_000, 10, 10**8) == 200_000
    assert rows_within(200_000, 20_000, 10**8) == 5_000
    assert rows_within(200_000, 10**9, 10**8) == budget.MIN_SAMPLE_ROWS
    assert rows_within(500, 10**9, 10**8) == 500


def test_subsample_is_seeded_and_nested() -> None:
    data = _line_fit(10_000).data
    a, b, small = subsample(data, 3_000), subsample(data, 3_000), subsample(data, 1_000)
    assert a.n_train == 3_000 and a.test is None
    assert np.array_equal(a.train["x"], b.train["x"])           # the same rows every time
    assert set(small.train["x"]) <= set(a.train["x"])            # a smaller sample is a subset
    assert subsample(data, 10_000) is data


def test_work_counts_every_row_at_every_step_whatever_the_batch() -> None:
    assert work_problem(1, 10**7, None) is None
    assert "more than 100000000" in work_problem(20, 2 * 10**8, None)
    assert work_problem(1, 5_000, 200_000) is None
    assert "more than 1000000000" in work_problem(1, 10_000, 200_000)  # a batch of 1 row still costs all rows


def test_search_over_many_rows_uses_a_subsample_and_reports_the_exact_best_loss() -> None:
    obj = _line_fit(50_000)
    spec = SearchSpec(points=41, refine=16, steps=200)
    res = coarse_search(obj, np.array([[-4.0, 4.0], [-4.0, 4.0]]), spec)
    per_row = 41 * 41 + 16 * 200
    assert res.rows_total == 50_000 and res.rows_searched == budget.SEARCH_ROW_WORK // per_row < 50_000
    assert "searched on" in res.describe() and "of 50,000 rows" in res.describe()
    assert res.best_loss == pytest.approx(float(obj.loss(res.best_point[None, :])[0]), rel=1e-12)
    assert np.allclose(res.best_point, [2.0, -1.0], atol=0.05)   # the sample's optimum is the data's, nearly
    small = coarse_search(_line_fit(1_000), np.array([[-4.0, 4.0], [-4.0, 4.0]]), spec)
    assert small.rows_searched == small.rows_total == 1_000 and "searched on" not in small.describe()


def test_sampled_contour_loss_says_when_it_subsamples_and_stays_close() -> None:
    obj = _line_fit(200_000)
    loss = SampledLoss(obj, budget=10**8)
    few = np.array([[0.0, 0.0], [2.0, -1.0]])
    assert np.allclose(loss(few), obj.loss(few)) and loss.note == ""
    grid = np.stack(np.meshgrid(np.linspace(-3, 3, 200), np.linspace(-3, 3, 200)), -1).reshape(-1, 2)
    sampled = loss(grid)
    assert loss.note == "contour from 2,500 of 200,000 rows"
    full = obj.loss(grid[::97])
    assert np.allclose(sampled[::97], full, rtol=0.1)                # an estimate of the same surface
    assert np.argmin(sampled) == np.argmin(obj.loss(grid))           # with its minimum in the same cell
