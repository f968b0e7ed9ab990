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
    its text at ``],[`` cannot cut a number. The lines are then made by one ``%`` format
    of the steps and row texts taken in turn (in C; a string per line made in Python cost
    as much as the numbers' text).
    """
    if not len(steps):
        return ""
    body = _numbers(np.ascontiguousarray(rows, dtype=np.float64))[2:-2].split("],[")
    args: list = [None] * (2 * len(body))
    args[0::2] = steps
    args[1::2] = body
    return ((name.replace("%", "%%") + ",%d,%s\n") * len(body)) % tuple(args)


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
        self._spools = [_TextSpool(8 << 20) for _ in range(n)]
        self._json: list[dict[str, list]] = [{"steps": [], "params": [], "loss": [], "lr": [], "grad_norm": []}
                                             for _ in range(n)]
        self._block: list[tuple[np.ndarray, ...]] = []  # per step: step counts, params, loss, lr, grad
        self.observe()

    def observe(self) -> None:
        """Record a row for every run that made an update since the last call (every run on the
        first call). Only keeps arrays: which runs moved is worked out a block at a time (_flush)."""
        sim, block = self.sim, self._block
        # a read-only array is a step's result, never written again: kept uncopied
        params, loss, lr, grad = sim.params, sim.loss, sim.last_lr, sim.grad
        block.append((sim.step_count.copy(), params if not params.flags.writeable else params.copy(),
                      loss if not loss.flags.writeable else loss.copy(), lr if not lr.flags.writeable else lr.copy(),
                      grad if not grad.flags.writeable else grad.copy()))
        if len(block) == self.BLOCK:
            self._flush()

    def _flush(self) -> None:
        """Turn the block's arrays into text (or JSON lists), run by run: a run's row is written
        when its step count differs from its previous row's."""
        block, self._block = self._block, []
        if not block:
            return
        k, n, p = len(block), self.sim.n_runs, self.sim.objective.n_params
        steps, params, loss, lr, grad = zip(*block)
        steps = _joined(steps, np.int64, (k, n))
        loss, lr = (_joined(a, np.float64, (k, n)) for a in (loss, lr))
        params, grad = (_joined(a, np.float64, (k, n, p)) for a in (params, grad))
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
            spool.copy_to(out)

    def close(self) -> None:
        for spool in self._spools:
            spool.close()


class _TextSpool:
    """Text kept in memory up to ``limit`` characters, then in a temporary file.

    tempfile.SpooledTemporaryFile in text mode asks its TextIOWrapper for ``tell()`` at
    every write (to know when to roll over) and encodes what it keeps, then decodes it to
    copy it out: together half as much again as the numbers' text. Here the text stays
    the strings it was made as until the limit, and is written out as they are.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.chunks: list[str] = []
        self.file: IO[str] | None = None

    def write(self, text: str) -> None:
        if self.file is not None:
            self.file.write(text)
            return
        self.chunks.append(text)
        self.size += len(text)
        if self.size > self.limit:
            self.file = tempfile.TemporaryFile(mode="w+", encoding="utf-8", newline="")
            self.file.writelines(self.chunks)
            self.chunks = []

    def copy_to(self, out: IO[str]) -> None:
        if self.file is None:
            out.writelines(self.chunks)
            return
        self.file.seek(0)
        shutil.copyfileobj(self.file, out)
        self.file.seek(0, 2)  # later rows are added at the end again

    def close(self) -> None:
        self.chunks = []
        if self.file is not None:
            self.file.close()


def _joined(arrays: tuple[np.ndarray, ...], dtype: type, shape: tuple[int, ...]) -> np.ndarray:
    """The block's arrays of one quantity end to end, as one array of ``shape``.

    They are the Simulation's own contiguous float64 (step counts: int64) arrays or copies
    of them, so their bytes joined are the concatenation: b"".join takes about 30 ns an
    array where np.concatenate takes 120. Anything else (a buffer that is not contiguous,
    a run added within the block) takes np.concatenate, which copes or says why.
    """
    try:
        out = np.frombuffer(b"".join(arrays), dtype=dtype)
    except (BufferError, ValueError, TypeError):
        out = None
    if out is None or out.size != int(np.prod(shape)) or any(a.dtype != dtype for a in (arrays[0], arrays[-1])):
        out = np.concatenate(arrays).astype(dtype, copy=False)
    return out.reshape(shape)


def run_status(sim: Simulation, i: int) -> str:
    """A short word for the summary: 'diverged at step k', or 'finished'."""
    if sim.diverged_at[i] >= 0:
        return f"diverged at step {int(sim.diverged_at[i])}"
    return "finished" if sim.step_count[i] >= sim.configs[i].steps else f"stopped at step {int(sim.step_count[i])}"
