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


def csv_lines(name: str, steps: list[int] | np.ndarray, rows: np.ndarray) -> str:
    """Many rows of one run at once, the same text as ``csv_line`` row by row."""
    if not len(steps):
        return ""
    return _lines(name + ",", _step_texts(np.asarray(steps, dtype=np.int64)), np.asarray(rows, dtype=np.float64))


def _step_texts(steps: np.ndarray) -> list[str]:
    """Each step's decimal text (orjson writes integers as %d does), one orjson call for the lot."""
    return orjson.dumps(np.ascontiguousarray(steps), option=orjson.OPT_SERIALIZE_NUMPY).decode()[1:-1].split(",")


def _lines(prefix: str, steps: list[str], rows: np.ndarray, finite: bool = False) -> str:
    """``prefix`` + step + ``,`` + row + newline for each row (``finite``: the caller knows every
    value is finite, so orjson's text needs no repair).

    One orjson call formats the whole block; floats contain no ',' or '[' so splitting its text
    at ``],[`` cannot cut a number. The lines are then one ``str.join`` of a list whose every
    fifth item is the prefix, the comma or the newline (the same string objects) and whose
    others are the step and row texts put in by two slice assignments: all in C (a % format of
    the lot, or a string per line made in Python, cost more).
    """
    rows = np.ascontiguousarray(rows)
    if finite:
        text = orjson.dumps(rows, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    else:
        text = _numbers(rows)
    body = text[2:-2].split("],[")
    parts = [prefix, None, ",", None, "\n"] * len(body)
    parts[1::5] = steps
    parts[3::5] = body
    return "".join(parts)


class TrajectoryRecorder:
    """Collects every row of every run as the simulation steps; then writes CSV or JSON.

    ``observe`` keeps one bytes object per step: the step counts, params, loss, rates and
    gradients joined as they lie in the Simulation's arrays (C-ordered int64 and float64), made
    while those are fresh in the cache; nothing that happens after the step can alter it. Text
    is made a block of ``BLOCK`` steps at a time from one array over the block's bytes (gradient
    norms too), so recording costs little per step.
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
        self._ticks: list[bytes] = []  # per step: step counts, params, loss, lr, grad as bytes
        self.observe()

    def observe(self) -> None:
        """Record a row for every run that made an update since the last call (every run on the
        first call). Only keeps the step's numbers: which runs moved is worked out a block at a
        time (_flush)."""
        sim = self.sim
        arrays = (sim.step_count, sim.params, sim.loss, sim.last_lr, sim.grad)
        try:  # the buffers of C-contiguous arrays, their bytes in order
            tick = b"".join(arrays)
        except (BufferError, ValueError, TypeError):
            tick = b"".join([np.ascontiguousarray(a).tobytes() for a in arrays])
        self._ticks.append(tick)
        if len(self._ticks) == self.BLOCK:
            self._flush()

    def _flush(self) -> None:
        """Turn the block's steps into text (or JSON lists), run by run: a run's row is written
        when its step count differs from its previous row's."""
        ticks, self._ticks = self._ticks, []
        if not ticks:
            return
        sim = self.sim
        k, n, p = len(ticks), sim.n_runs, sim.objective.n_params
        width = n * (3 + 2 * p)
        data = b"".join(ticks)
        if len(data) != 8 * k * width or sim.step_count.dtype != np.int64 or sim.params.dtype != np.float64:
            raise ValueError("the recorder keeps a fixed set of runs, with int64 step counts and float64 values")
        table = np.frombuffer(data, dtype=np.float64).reshape(k, width)
        steps = np.frombuffer(data, dtype=np.int64).reshape(k, width)[:, :n]
        a, b = n, n + n * p
        params, loss, lr, grad = (table[:, a:b].reshape(k, n, p), table[:, b:b + n], table[:, b + n:b + 2 * n],
                                  table[:, b + 2 * n:].reshape(k, n, p))
        with np.errstate(all="ignore"):  # as Simulation.grad_norm: an overflow to inf is written as inf
            norms = row_norms(grad) if p <= 8 else np.stack([row_norms(np.ascontiguousarray(g)) for g in grad])
        rows = np.empty((n, k, p + 3))  # run by run: each run's rows are one contiguous block
        rows[..., :p] = params.transpose(1, 0, 2)
        rows[..., p] = loss.T
        rows[..., p + 1] = lr.T
        rows[..., p + 2] = norms.T
        finite = bool(np.isfinite(rows).all())
        moved = np.empty(steps.shape, dtype=bool)
        np.not_equal(steps[0], self._prev_steps, out=moved[0])
        np.not_equal(steps[1:], steps[:-1], out=moved[1:])
        self._prev_steps = steps[-1].copy()
        every = moved.all(axis=0)
        shared = None  # the step texts, when every run made the same steps (the usual block)
        if self.fmt != "json" and every.all() and (steps == steps[:, :1]).all():
            shared = _step_texts(steps[:, 0])
        for i, name in enumerate(sim.names):
            if every[i]:
                run_steps, run_rows = steps[:, i], rows[i]
            else:
                take = np.flatnonzero(moved[:, i])
                if not take.size:
                    continue
                run_steps, run_rows = steps[take, i], rows[i, take]
            if self.fmt == "json":
                self._add_json(i, run_steps.tolist(), run_rows)
            else:
                texts = shared if shared is not None else _step_texts(run_steps)
                self._spools[i].write(_lines(name + ",", texts, run_rows, finite))

    def _add_json(self, i: int, run_steps: list[int], run_rows: np.ndarray) -> None:
        """One run's new rows onto its JSON lists."""
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


def run_status(sim: Simulation, i: int) -> str:
    """A short word for the summary: 'diverged at step k', or 'finished'."""
    if sim.diverged_at[i] >= 0:
        return f"diverged at step {int(sim.diverged_at[i])}"
    return "finished" if sim.step_count[i] >= sim.configs[i].steps else f"stopped at step {int(sim.step_count[i])}"
