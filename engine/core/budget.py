"""Work budgets: every number a file gives has its own limit, and so does their product.

A file within each limit (1000 runs, 10^7 steps, 200 000 rows, a 401 x 401 search grid)
could still ask for years of work or, without chunking, gigabytes. Two kinds of bound:

- Work the user asked for explicitly (runs x steps of `run`, `play`, `sweep`; the rows every
  step evaluates) is checked before it starts: over the budget is bad input, exit 2 naming
  the key or flag (:func:`work_problem`).
- Work a picture or a summary needs (the guide's coarse search, a contour of a data loss)
  is evaluated on a fixed, seeded subsample of the training rows when all rows would exceed
  the budget (:func:`rows_within`, :func:`subsample`), and the output says so ("from 1,000 of
  200,000 rows"). A mean over a random subsample is an unbiased estimate of the full mean,
  so the picture keeps its shape; the numbers a verdict rests on are re-evaluated on all rows.

Memory is bounded separately: data losses are evaluated in chunks (core.objective.CHUNK_VALUES).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .data import Dataset

MAX_RUN_STEPS = 100_000_000
"""Steps summed over all runs of one simulation (1000 runs x 100 000 steps, or one run of 10^7):
about 10 s of engine time without data."""
MAX_ROW_STEPS = 1_000_000_000
"""Data rows evaluated summed over all steps of all runs. Every step evaluates the loss on all
training rows (the recorded loss is the full-data loss), whatever the batch: about a minute."""
MAX_SEARCH_STEPS = 1_000_000
"""The guide's coarse search: refine starts x Adam steps (the default is 64 x 300)."""
SEARCH_ROW_WORK = 100_000_000
"""The guide's coarse search: rows x (grid points + refine x steps). Above it the search runs
on a seeded subsample of the rows; its best point is then evaluated on all rows."""
CONTOUR_ROW_POINTS = 100_000_000
"""One contour of a data loss: rows x sampled points (a 160x48 plot samples ~69 000 points).
Above it the contour is drawn from a seeded subsample of the rows, and the plot says so."""
MIN_SAMPLE_ROWS = 1_000
"""A subsample never has fewer rows than this (or than the data has): fewer would be noise.
With the limits above the largest search (10^6 refine steps) stays within ~10^9 row
evaluations, the largest contour (400x200: ~720 000 points) within ~10^9."""
SAMPLE_SEED = 2024


def work_problem(runs: int, total_steps: int, n_rows: int | None) -> str | None:
    """Why ``runs`` runs taking ``total_steps`` steps in all (over ``n_rows`` training rows, or
    None without data) are too much work, or None when they fit."""
    if total_steps > MAX_RUN_STEPS:
        return f"{runs} runs take {total_steps} steps in all, more than {MAX_RUN_STEPS}"
    if n_rows is not None and total_steps * n_rows > MAX_ROW_STEPS:
        return (f"{runs} runs evaluate {total_steps * n_rows} data rows in all (steps x {n_rows} rows: "
                f"each step computes the full-data loss), more than {MAX_ROW_STEPS}")
    return None


def rows_within(n_rows: int, per_row: int, budget: int) -> int:
    """How many of ``n_rows`` rows a job of ``per_row`` evaluations per row may use within
    ``budget`` (all of them when they fit; never fewer than MIN_SAMPLE_ROWS)."""
    fit = budget // max(1, per_row)
    return n_rows if fit >= n_rows else min(n_rows, max(MIN_SAMPLE_ROWS, fit))


def subsample(data: Dataset, k: int, seed: int = SAMPLE_SEED) -> Dataset:
    """The first ``k`` training rows of a seeded permutation (the same rows every time, and a
    smaller ``k`` takes a subset of a larger one); test rows are left out."""
    if k >= data.n_train:
        return data
    pick = np.sort(np.random.default_rng(seed).permutation(data.n_train)[:k])
    return Dataset(data.columns, {c: np.ascontiguousarray(a[pick]) for c, a in data.train.items()}, None)


def rows_note(used: int, total: int) -> str:
    """'1,000 of 200,000 rows', the words an output shows beside a subsampled result."""
    return f"{used:,} of {total:,} rows"


class SampledLoss:
    """The loss over many points for a picture (a contour), within CONTOUR_ROW_POINTS.

    Called with n points it evaluates the full-data loss while rows x n fits the budget,
    else the mean over a seeded subsample of rows_within(rows, n, budget) training rows (the
    same rows on every call of that size). ``note`` says which, for the picture to show:
    "" (all rows) or "contour from 1,389 of 200,000 rows".
    """

    def __init__(self, objective, budget: int = CONTOUR_ROW_POINTS) -> None:
        self.objective = objective
        self.budget = budget
        self.note = ""
        self._sampled: tuple[int, object] | None = None  # (rows, objective on those rows)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        data = self.objective.data
        if data is None:
            return self.objective.loss(points)
        k = rows_within(data.n_train, len(points), self.budget)
        if k == data.n_train:
            self.note = ""
            return self.objective.loss(points)
        if self._sampled is None or self._sampled[0] != k:
            self._sampled = (k, replace(self.objective, data=subsample(data, k)))
        self.note = f"contour from {rows_note(k, data.n_train)}"
        return self._sampled[1].loss(points)
