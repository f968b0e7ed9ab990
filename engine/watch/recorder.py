"""Every run's rows as the app plays, for "save trajectories as CSV".

trajectory_io.TrajectoryRecorder records a fixed set of runs from their start, which is
what `optsim run` needs. In the app runs are added, removed, moved (a new start resets the
run) and reset while playing, so this recorder keeps one growing table per run and follows
those changes. Rows are the same as `optsim run --out F.csv` writes (header
``run,step,<params>,loss,lr,grad_norm``; floats as the shortest text that round-trips).

Memory is bounded: a run keeps every row up to ``max_rows``; past that it drops every other
row and from then on keeps one step in two (and so on), like History, so a million-step run
stays covered from start to now at an even stride. The latest row is always written.
"""

from __future__ import annotations

from typing import IO

import numpy as np

from ..core.simulation import Simulation

MAX_ROWS = 100_000


class _RunRows:
    """One run's rows: step, params..., loss, lr, grad_norm."""

    def __init__(self, width: int, max_rows: int) -> None:
        self.rows = np.empty((min(max_rows, 1024), width))
        self.size = 0
        self.stride = 1
        self.max_rows = max_rows
        self.last: np.ndarray | None = None  # newest row, kept even when the stride skips it

    def add(self, row: np.ndarray) -> None:
        self.last = row
        step = int(row[0])
        if step % self.stride:
            return
        if self.size == self.rows.shape[0]:
            if self.size < self.max_rows:
                grown = np.empty((min(self.max_rows, 2 * self.size), self.rows.shape[1]))
                grown[: self.size] = self.rows
                self.rows = grown
            else:
                self.rows[: self.size // 2] = self.rows[: self.size : 2]
                self.size //= 2
                self.stride *= 2
                if step % self.stride:
                    return
        self.rows[self.size] = row
        self.size += 1

    def table(self) -> np.ndarray:
        out = self.rows[: self.size]
        if self.last is not None and (self.size == 0 or out[-1, 0] != self.last[0]):
            out = np.vstack([out, self.last[None]])
        return out


class LiveRecorder:
    """Rows of every run of a simulation that changes shape while it plays."""

    def __init__(self, sim: Simulation, max_rows: int = MAX_ROWS) -> None:
        self.sim = sim
        self.max_rows = max_rows
        self._width = 1 + sim.objective.n_params + 3
        self._runs = [_RunRows(self._width, max_rows) for _ in range(sim.n_runs)]
        self._prev = np.full(sim.n_runs, -1, dtype=np.int64)
        self.observe()

    def observe(self) -> None:
        """Record a row for every run whose step count changed (call after each tick)."""
        sim = self.sim
        moved = np.flatnonzero(sim.step_count != self._prev)
        if not moved.size:
            return
        self._prev = sim.step_count.copy()
        rows = np.column_stack([sim.step_count.astype(float), sim.params, sim.loss, sim.last_lr, sim.grad_norm])
        for i in moved.tolist():
            self._runs[i].add(rows[i].copy())

    def restart_run(self, i: int) -> None:
        """Run i went back to its start (reset or moved): forget its rows, record row 0."""
        self._runs[i] = _RunRows(self._width, self.max_rows)
        self._prev[i] = -1
        self.observe()

    def restart_all(self) -> None:
        self._runs = [_RunRows(self._width, self.max_rows) for _ in range(self.sim.n_runs)]
        self._prev = np.full(self.sim.n_runs, -1, dtype=np.int64)
        self.observe()

    def add_run(self) -> None:
        """A run was appended to the simulation."""
        self._runs.append(_RunRows(self._width, self.max_rows))
        self._prev = np.append(self._prev, -1)
        self.observe()

    def remove_run(self, i: int) -> None:
        del self._runs[i]
        self._prev = np.delete(self._prev, i)

    def rows(self, i: int) -> np.ndarray:
        """Run i's recorded rows (k, 1 + n_params + 3), oldest first."""
        return self._runs[i].table()

    def write_csv(self, out: IO[str]) -> int:
        """Write the CSV; returns the number of data rows."""
        # Imported when saving: the CSV writer (orjson, tempfile, shutil) is not needed to play.
        from ..scenario.trajectory_io import csv_header, csv_line

        sim = self.sim
        out.write(csv_header(sim.objective.params))
        count = 0
        for i, name in enumerate(sim.names):
            for row in self._runs[i].table().tolist():
                out.write(csv_line(name, int(row[0]), row[1:]))
                count += 1
        return count
