"""Trajectories written as CSV or JSON while a simulation runs.

CSV: header ``run,step,<params>,loss,lr,grad_norm``, rows grouped by run, steps
0..n. Row k holds the parameters after k updates, the exact full-data loss and
gradient norm there, and the rate of the update that led to row k (row 0: the
first update's). Floats are written as orjson writes them (Ryu: the shortest
text that reads back to the same float64, like ``repr`` but spelled ``0.00001``,
``1e-7``, ``1e+16``; non-finite values as ``nan``, ``inf``, ``-inf``), so any
``float()`` or CSV reader gets the engine's values back exactly, bit for bit.
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
import orjson

from ..core.norms import row_norms
from ..core.simulation import Simulation


def _numbers(values: np.ndarray | list[float]) -> str:
    """orjson's text of a float64 array or a list of floats: ``[..]`` or ``[[..],[..]]`` with no spaces.

    orjson writes each float as Ryu's shortest round-trip text in Rust, about 6x faster
    than ``repr`` (which alone cost more than the 1 s per million rows the issue allows),
    and NaN or infinity as ``null``, so those are put back with ``repr`` (the only ``null``
    in the text are theirs, in row-major order).
    """
    text = orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    if "null" not in text:
        return text
    flat = np.asarray(values, dtype=np.float64).ravel()
    pieces = text.split("null")
    words = [repr(v) for v in flat[~np.isfinite(flat)].tolist()]
    return "".join([x for pair in zip(pieces, words) for x in pair] + [pieces[-1]])


def csv_header(params: tuple[str, ...] | list[str]) -> str:
    """The CSV's first line (with its newline)."""
    return ",".join(["run", "step", *params, "loss", "lr", "grad_norm"]) + "\n"


def csv_line(name: str, step: int, values: list[float]) -> str:
    """One row: params..., loss, lr, grad_norm at full precision (with its newline)."""
    return f"{name},{step},{_numbers(list(map(float, values)))[1:-1]}\n"


def csv_lines(name: str, steps: list[int], rows: np.ndarray) -> str:
    """Many rows of one run at once, the same text as ``csv_line`` row by row.

    One orjson call formats the whole block; floats contain no ',' or '[' so splitting
    its text at ``],[`` cannot cut a number.
    """
    if not len(steps):
        return ""
    body = _numbers(np.ascontiguousarray(rows, dtype=np.float64))[2:-2].split("],[")
    return "\n".join(map(str.__add__, [f"{name},{k}," for k in steps], body)) + "\n"


class TrajectoryRecorder:
    """Collects every row of every run as the simulation steps; then writes CSV or JSON.

    ``observe`` keeps the step's arrays (the read-only ones a step leaves uncopied, see
    Simulation, others copied) and a copy of the step counts; text is made a block of
    ``BLOCK`` steps at a time (gradient norms too), so recording costs little per step.
    """

    BLOCK = 2048

    def __init__(self, sim: Simulation, fmt: str = "csv") -> None:
        self.sim = sim
        self.fmt = fmt
        n = sim.n_runs
        self._prev_steps = np.full(n, -1, dtype=np.int64)  # step counts of the last row written: none yet
        self._spools: list[IO[str]] = [tempfile.SpooledTemporaryFile(8 << 20, mode="w+", newline="")
                                       for _ in range(n)]
        self._json: list[dict[str, list]] = [{"steps": [], "params": [], "loss": [], "lr": [], "grad_norm": []}
                                             for _ in range(n)]
        self._block = _Block()
        self.observe()

    def observe(self) -> None:
        """Record a row for every run that made an update since the last call (every run on the
        first call). Only keeps arrays: which runs moved is worked out a block at a time (_flush)."""
        sim, b = self.sim, self._block
        b.steps.append(sim.step_count.copy())
        b.params.append(_kept(sim.params))
        b.loss.append(_kept(sim.loss))
        b.lr.append(_kept(sim.last_lr))
        b.grad.append(_kept(sim.grad))
        if len(b.steps) == self.BLOCK:
            self._flush()

    def _flush(self) -> None:
        """Turn the block's arrays into text (or JSON lists), run by run: a run's row is written
        when its step count differs from its previous row's."""
        block, self._block = self._block, _Block()
        if not block.steps:
            return
        k, n, p = len(block.steps), self.sim.n_runs, self.sim.objective.n_params
        steps, loss, lr = (np.concatenate(a).reshape(k, n) for a in (block.steps, block.loss, block.lr))
        params, grad = (np.concatenate(a).reshape(k, n, p) for a in (block.params, block.grad))
        with np.errstate(all="ignore"):  # as Simulation.grad_norm: an overflow to inf is written as inf
            norms = row_norms(grad) if grad.shape[-1] <= 8 else np.stack([row_norms(g) for g in grad])
        rows = np.concatenate([params, loss[..., None], lr[..., None], norms[..., None]], axis=2)
        moved = np.empty(steps.shape, dtype=bool)
        np.not_equal(steps[0], self._prev_steps, out=moved[0])
        np.not_equal(steps[1:], steps[:-1], out=moved[1:])
        self._prev_steps = steps[-1].copy()
        for i, name in enumerate(self.sim.names):
            take = np.flatnonzero(moved[:, i])
            if take.size:
                self._add(i, name, steps[take, i].tolist(), rows[take, i])

    def _add(self, i: int, name: str, run_steps: list[int], run_rows: np.ndarray) -> None:
        """One run's new rows, as CSV text in its spool or onto its JSON lists."""
        if self.fmt != "json":
            self._spools[i].write(csv_lines(name, run_steps, run_rows))
            return
        n_params = self.sim.objective.n_params
        rows = run_rows.tolist()
        d = self._json[i]
        d["steps"] += run_steps
        d["params"] += [r[:n_params] for r in rows]
        d["loss"] += [r[n_params] for r in rows]
        d["lr"] += [r[n_params + 1] for r in rows]
        d["grad_norm"] += [r[n_params + 2] for r in rows]

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


class _Block:
    """A block's arrays, step by step: concatenated once per block (stacking 2048 small arrays
    costs three times as much)."""

    __slots__ = ("steps", "params", "loss", "lr", "grad")

    def __init__(self) -> None:
        self.steps: list[np.ndarray] = []
        self.params: list[np.ndarray] = []
        self.loss: list[np.ndarray] = []
        self.lr: list[np.ndarray] = []
        self.grad: list[np.ndarray] = []


def _kept(a: np.ndarray) -> np.ndarray:
    """The array itself when read-only (a step's result, never written again), else a copy."""
    return a if not a.flags.writeable else a.copy()


def run_status(sim: Simulation, i: int) -> str:
    """A short word for the summary: 'diverged at step k', or 'finished'."""
    if sim.diverged_at[i] >= 0:
        return f"diverged at step {int(sim.diverged_at[i])}"
    return "finished" if sim.step_count[i] >= sim.configs[i].steps else f"stopped at step {int(sim.step_count[i])}"
