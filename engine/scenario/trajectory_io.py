"""Trajectories written as CSV or JSON while a simulation runs.

CSV: header ``run,step,<params>,loss,lr,grad_norm``, rows grouped by run, steps
0..n. Row k holds the parameters after k updates, the exact full-data loss and
gradient norm there, and the rate of the update that led to row k (row 0: the
first update's). Floats are written with ``repr`` (the shortest text that
round-trips), so a reader gets the engine's float64 values back exactly.
Each run's rows are spooled to a temporary file (in memory up to 8 MB) so a
million-step run does not grow memory; a diverged run's rows end at its last
finite point.

JSON: ``{"scenario", "seed", "params", "runs": [{"name", "optimizer",
"status", "diverged_at", "steps": [...], "params": [[...]], "loss": [...],
"lr": [...], "grad_norm": [...]}]}``, built in memory (use CSV for very long runs).
"""
from __future__ import annotations

import json
import shutil
import tempfile
from typing import IO

import numpy as np

from ..core.simulation import Simulation


def _fmt(values: list[float]) -> str:
    return ",".join(map(repr, values))


def csv_header(params: tuple[str, ...] | list[str]) -> str:
    """The CSV's first line (with its newline)."""
    return ",".join(["run", "step", *params, "loss", "lr", "grad_norm"]) + "\n"


def csv_line(name: str, step: int, values: list[float]) -> str:
    """One row: params..., loss, lr, grad_norm at full precision (with its newline)."""
    return f"{name},{step},{_fmt(values)}\n"


def csv_lines(name: str, steps: list[int], rows: np.ndarray) -> str:
    """Many rows of one run at once, the same text as ``csv_line`` row by row.

    ``repr`` of a list of lists formats every float in C (as ``repr`` of each float:
    the shortest text that round-trips), so only the separators are rewritten; floats
    contain no ',' or '[' so the rewrite cannot touch a number. A rate that stays the
    same over the block (no schedule) is formatted once.
    """
    if not len(steps):
        return ""
    lr = rows[:, -2].view(np.int64)  # compared bit for bit: 0.0 and -0.0 print differently
    if not (lr == lr[0]).all():
        body = repr(rows.tolist())[2:-2].replace(", ", ",").split("],[")
        return "".join([f"{name},{k},{r}\n" for k, r in zip(steps, body)])
    head = repr(rows[:, :-2].tolist())[2:-2].replace(", ", ",").split("],[")
    norms = repr(rows[:, -1].tolist())[1:-1].split(", ")
    rate = repr(float(rows[0, -2]))
    return "".join([f"{name},{k},{h},{rate},{g}\n" for k, h, g in zip(steps, head, norms)])


class TrajectoryRecorder:
    """Collects every row of every run as the simulation steps; then writes CSV or JSON.

    ``observe`` only copies the step's arrays into preallocated block arrays; text is
    made a block of ``BLOCK`` steps at a time, so recording costs little per step.
    """

    BLOCK = 2048

    def __init__(self, sim: Simulation, fmt: str = "csv") -> None:
        self.sim = sim
        self.fmt = fmt
        n, p = sim.n_runs, sim.objective.n_params
        self._prev_steps = np.full(n, -1, dtype=np.int64)  # step counts of the last row written: none yet
        self._spools: list[IO[str]] = [tempfile.SpooledTemporaryFile(8 << 20, mode="w+", newline="")
                                       for _ in range(n)]
        self._json: list[dict[str, list]] = [{"steps": [], "params": [], "loss": [], "lr": [], "grad_norm": []}
                                             for _ in range(n)]
        self._steps = np.zeros((self.BLOCK, n), dtype=np.int64)
        self._rows = np.zeros((self.BLOCK, n, p + 3))
        self._count = 0  # rows of the block in use
        self.observe()

    def observe(self) -> None:
        """Record a row for every run that made an update since the last call (every run on the
        first call). Only copies: which runs moved is worked out a block at a time (_flush)."""
        sim, k = self.sim, self._count
        self._steps[k] = sim.step_count
        rows, p = self._rows[k], sim.objective.n_params
        rows[:, :p] = sim.params
        rows[:, p] = sim.loss
        rows[:, p + 1] = sim.last_lr
        rows[:, p + 2] = sim.grad_norm
        self._count = k + 1
        if self._count == self.BLOCK:
            self._flush()

    def _flush(self) -> None:
        """Turn the block's arrays into text (or JSON lists), run by run: a run's row is written
        when its step count differs from its previous row's."""
        k, self._count = self._count, 0
        if not k:
            return
        steps = self._steps[:k]
        moved = np.empty(steps.shape, dtype=bool)
        np.not_equal(steps[0], self._prev_steps, out=moved[0])
        np.not_equal(steps[1:], steps[:-1], out=moved[1:])
        self._prev_steps = steps[-1].copy()
        n_params = self.sim.objective.n_params
        for i, name in enumerate(self.sim.names):
            take = np.flatnonzero(moved[:, i])
            if not take.size:
                continue
            run_rows, run_steps = self._rows[take, i], steps[take, i].tolist()
            if self.fmt != "json":
                self._spools[i].write(csv_lines(name, run_steps, run_rows))
                continue
            run_rows = run_rows.tolist()
            d = self._json[i]
            d["steps"] += run_steps
            d["params"] += [r[:n_params] for r in run_rows]
            d["loss"] += [r[n_params] for r in run_rows]
            d["lr"] += [r[n_params + 1] for r in run_rows]
            d["grad_norm"] += [r[n_params + 2] for r in run_rows]

    def write(self, out: IO[str], scenario_path: str = "", seed: int = 0) -> None:
        """Write everything recorded so far to ``out``."""
        self._flush()
        sim = self.sim
        if self.fmt == "json":
            runs = []
            for i, cfg in enumerate(sim.configs):
                d = dict(name=cfg.name, optimizer=cfg.optimizer, status=run_status(sim, i),
                         diverged_at=int(sim.diverged_at[i]) if sim.diverged_at[i] >= 0 else None, **self._json[i])
                runs.append(d)
            json.dump({"scenario": scenario_path, "seed": seed, "params": list(sim.objective.params),
                       "runs": runs}, out, allow_nan=True)
            out.write("\n")
            return
        out.write(csv_header(sim.objective.params))
        for spool in self._spools:
            spool.seek(0)
            shutil.copyfileobj(spool, out)

    def close(self) -> None:
        for spool in self._spools:
            spool.close()


def run_status(sim: Simulation, i: int) -> str:
    """A short word for the summary: 'diverged at step k', or 'finished'."""
    if sim.diverged_at[i] >= 0:
        return f"diverged at step {int(sim.diverged_at[i])}"
    return "finished" if sim.step_count[i] >= sim.configs[i].steps else f"stopped at step {int(sim.step_count[i])}"
