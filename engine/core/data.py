"""Data sets for data-driven losses, and the seeded mini-batch sampler.

With a ``[data]`` table the scenario's formula is a per-sample loss over data
columns and the loss is the mean over rows. A mini-batch gradient is the mean
over a batch drawn by each run's own random stream, in epochs without
replacement (like ``torch.utils.data.DataLoader(shuffle=True, drop_last=False)``:
the last batch of an epoch holds the rows left over).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

MAX_ROWS = 200_000
"""Largest data set a scenario may hold (inline, CSV or generated), so a file cannot exhaust memory."""


@dataclass(frozen=True)
class Dataset:
    """Training rows and, optionally, test rows: columns of equal length."""

    columns: tuple[str, ...]
    train: dict[str, np.ndarray]
    test: dict[str, np.ndarray] | None = None

    @property
    def n_train(self) -> int:
        return len(next(iter(self.train.values()))) if self.train else 0

    @property
    def n_test(self) -> int:
        return 0 if self.test is None else len(next(iter(self.test.values())))

    @staticmethod
    def from_rows(columns: tuple[str, ...], rows: np.ndarray, test_rows: np.ndarray | None = None) -> "Dataset":
        """Build from row-major arrays of shape (n, len(columns))."""
        train = {c: np.ascontiguousarray(rows[:, i], dtype=np.float64) for i, c in enumerate(columns)}
        test = None
        if test_rows is not None:
            test = {c: np.ascontiguousarray(test_rows[:, i], dtype=np.float64) for i, c in enumerate(columns)}
        return Dataset(columns, train, test)


class BatchSampler:
    """Per-run epochs without replacement, drawn from each run's own generator.

    Runs may have different batch sizes; one call returns padded index and
    weight arrays of shape (n_runs, max_batch) whose weights sum to 1 per run,
    so a batch gradient is one weighted sum for all runs at once. Runs can be
    added, removed, reset or resized without touching the others' streams.
    """

    def __init__(self, n_rows: int, batch_sizes: Sequence[int], rngs: Sequence[np.random.Generator]) -> None:
        self.n_rows = n_rows
        self.batch_sizes: list[int] = []
        self.rngs: list[np.random.Generator] = []
        self._perms: list[np.ndarray] = []
        self._pos: list[int] = []
        for b, rng in zip(batch_sizes, rngs):
            self.add(int(b), rng)

    def add(self, batch_size: int, rng: np.random.Generator) -> None:
        """A new run at the start of its first epoch."""
        self.batch_sizes.append(min(max(int(batch_size), 1), self.n_rows))
        self.rngs.append(rng)
        self._perms.append(np.arange(0))
        self._pos.append(self.n_rows)  # the first call draws the first permutation

    def remove(self, run: int) -> None:
        for seq in (self.batch_sizes, self.rngs, self._perms, self._pos):
            del seq[run]

    def reset(self, run: int, rng: np.random.Generator) -> None:
        """Start a run's epochs over from a fresh generator."""
        self.rngs[run] = rng
        self._pos[run] = self.n_rows

    def resize(self, run: int, batch_size: int) -> None:
        """A new batch size from the next batch on (the epoch in progress goes on)."""
        self.batch_sizes[run] = min(max(int(batch_size), 1), self.n_rows)

    def next_batches(self, rows: Sequence[int] | np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Indices (n, b_max) and weights (n, b_max) of the next batch of each run in ``rows``."""
        which = range(len(self.rngs)) if rows is None else [int(r) for r in rows]
        sizes = [self.batch_sizes[r] for r in which]
        b_max = max(sizes, default=0)
        idx = np.zeros((len(sizes), b_max), dtype=np.int64)
        wts = np.zeros((len(sizes), b_max))
        for out, r in enumerate(which):
            pos = self._pos[r]
            if pos >= self.n_rows:  # new epoch: a fresh permutation from this run's stream
                self._perms[r] = self.rngs[r].permutation(self.n_rows)
                pos = 0
            take = self._perms[r][pos : pos + self.batch_sizes[r]]
            self._pos[r] = pos + len(take)
            idx[out, : len(take)] = take
            wts[out, : len(take)] = 1.0 / len(take)
        return idx, wts


MAX_FIELD_CHARS = 1000
"""Longest CSV cell: a number never needs more, and csv's own limit (128 KiB) would raise."""


def parse_csv_rows(text: str, columns: tuple[str, ...]) -> np.ndarray:
    """Parse a numeric CSV with a header naming at least ``columns``; returns (n, len(columns)).

    Raises ValueError whose message names the missing column or the bad line but never
    quotes the file's text (a scenario may point at a file whose contents are secret).
    Cells must be finite numbers, as in ``data.rows``.
    """
    import csv
    import io

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    old_limit = csv.field_size_limit(MAX_FIELD_CHARS)
    try:
        out = _csv_body(reader, columns)
    except csv.Error:
        raise ValueError(f"line {reader.line_num} is not valid CSV (or has a cell longer than "
                         f"{MAX_FIELD_CHARS} characters)") from None
    finally:
        csv.field_size_limit(old_limit)
    if not out:
        raise ValueError("the file has no data rows")
    return np.asarray(out, dtype=np.float64)


def _csv_body(reader, columns: tuple[str, ...]) -> list[list[float]]:
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ValueError("the file is empty") from None
    missing = [c for c in columns if c not in header]
    if missing:
        raise ValueError(f"column {missing[0]!r} is not in the header (line 1)")
    pick = [header.index(c) for c in columns]
    out: list[list[float]] = []
    for row in reader:
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(out) >= MAX_ROWS:
            raise ValueError(f"more than {MAX_ROWS} rows")
        try:
            values = [float(row[i]) for i in pick]
        except (ValueError, IndexError):
            raise ValueError(f"line {reader.line_num} is not a row of numbers") from None
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"line {reader.line_num} holds a value that is not finite")
        out.append(values)
    return out
