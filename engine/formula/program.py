"""Run a compiled formula: a straight-line program of NumPy ufunc calls.

The program is a list of instructions ``(function, a, b, out)`` over a list of
registers: first the parameters, then the data columns, then temporaries (one
per instruction), then constants. No code is generated or exec'd; evaluation
is a plain loop. Everything that can be decided at compile time (functions,
register indices, constant arrays, output layout, buffer reuse) is.

Three ways to run, chosen per call, all giving the same float64 results:
- one point without data, when every operation is IEEE-exact (+ - * / sqrt abs
  ...): Python floats, a few hundred nanoseconds; a division by zero or a
  sqrt of a negative number falls back to NumPy so the result stays inf/nan;
- small arrays: one NumPy call per instruction, each allocating its result;
- large arrays: the same calls writing with out= into a reused workspace,
  since allocating fresh memory for every temporary costs page faults.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Mapping, Sequence

import numpy as np

from .ops import OPS

_F64 = np.dtype(np.float64)
_SCALAR_ERRORS = (ArithmeticError, ValueError)    # x/0, sqrt(-1): redo with NumPy
WORKSPACE_MIN_ELEMENTS = 8192                     # from this many samples on, reuse buffers
_WORKSPACE_MAX_BYTES = 64 * 2**20                 # larger workspaces are not kept


def _pair(a, b):
    return (a, b)


def _select(cond, pair):
    return np.where(cond, pair[0], pair[1])


_EXTRA = {"pair": (_pair, _pair), "select": (_select, None)}
_NO_WORKSPACE = {"pair", "select", "lt", "le", "gt", "ge", "eq", "ne", "and", "or", "not",
                 "identity"}


class Program:
    """Straight-line evaluator for one set of outputs (value, gradient, ...)."""

    def __init__(self, n_params: int, columns: Sequence[str],
                 instructions: Sequence[tuple[str, tuple[int, ...], int]], n_temps: int,
                 constants: Sequence[float], outputs: Sequence[int], kind: str) -> None:
        self.p = n_params
        self.columns = tuple(columns)
        # The arguments again, as plain data: what the on-disk cache (cache.py) stores.
        self.spec = (n_params, self.columns, tuple((op, tuple(args), out)
                                                   for op, args, out in instructions),
                     n_temps, tuple(float(c) for c in constants), tuple(outputs), kind)
        self.kind = kind                  # "value", "gradient", "value_and_gradient", "hessian"
        n_inputs = n_params + len(self.columns)
        first_const = n_inputs + n_temps
        n_registers = first_const + len(constants)
        # NumPy constants are 0-d arrays: faster ufunc arguments than Python floats.
        self._np_regs: list = [None] * n_registers
        self._py_regs: list = [None] * n_registers
        for k, c in enumerate(constants):
            self._np_regs[first_const + k] = np.array(c, dtype=np.float64)
            self._py_regs[first_const + k] = float(c)
        np_prog, py_prog = [], []
        scalar_ok = not self.columns
        for op, args, out in instructions:
            np_fn, py_fn = _EXTRA[op] if op in _EXTRA else (OPS[op].numpy, OPS[op].scalar)
            a = args[0]
            b = args[1] if len(args) > 1 else -1
            np_prog.append((np_fn, a, b, out))
            py_prog.append((py_fn, a, b, out))
            scalar_ok = scalar_ok and py_fn is not None
        self._np_prog = tuple(np_prog)
        # The bit-exact scalar twin exists only for IEEE-exact operations and without data.
        self._py_prog = tuple(py_prog) if scalar_ok else None
        self._outputs = tuple(outputs)
        self._fresh_value = n_inputs <= outputs[0] < first_const
        self._get = (itemgetter(*outputs) if len(outputs) > 1
                     else (lambda r, k=outputs[0]: (r[k],)))
        self._ws = None
        if instructions and not any(op in _NO_WORKSPACE for op, _, _ in instructions):
            self._ws = _WorkspacePlan(n_params, n_inputs, n_temps, first_const,
                                      self._np_prog, self._outputs, self._np_regs)

    # --- entry ----------------------------------------------------------
    def __call__(self, points, data: Mapping | None = None):
        if type(points) is not np.ndarray or points.dtype != _F64:
            points = np.asarray(points, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != self.p:
            raise ValueError(f"points must have shape (n, {self.p}), got {points.shape}")
        if self.columns:
            return self._run_data(points, data)
        if data:
            raise ValueError("this formula has no data columns; pass data=None")
        n = points.shape[0]
        if n == 1 and self._py_prog is not None:
            r = self._py_regs.copy()
            r[:self.p] = points.tolist()[0]
            try:
                for f, a, b, o in self._py_prog:
                    r[o] = f(r[a]) if b < 0 else f(r[a], r[b])
            except _SCALAR_ERRORS:
                pass
            else:
                return self._pack_scalar(r)
        if n >= WORKSPACE_MIN_ELEMENTS and self._ws is not None:
            return self._ws.run(self, points, None, (n,))
        r = self._np_regs.copy()
        r[:self.p] = points.T
        with np.errstate(all="ignore"):
            for f, a, b, o in self._np_prog:
                r[o] = f(r[a]) if b < 0 else f(r[a], r[b])
        return self._pack(r, (n,), self._fresh_value, self._outputs)

    def _run_data(self, points: np.ndarray, data: Mapping | None):
        if data is None:
            raise ValueError("this formula needs data columns: " + ", ".join(self.columns))
        n = points.shape[0]
        cols = []
        m = None
        for name in self.columns:
            if name not in data:
                raise ValueError(f"data has no column '{name}'")
            col = np.asarray(data[name], dtype=np.float64)
            if col.ndim == 2 and col.shape[0] != n:
                raise ValueError(f"data column '{name}' has shape {col.shape}; expected (m,) "
                                 f"or ({n}, m)")
            if col.ndim not in (1, 2) or (m is not None and col.shape[-1] != m):
                raise ValueError(f"data column '{name}' has shape {col.shape}; every column "
                                 "must be (m,) or (n, m) with the same m")
            m = col.shape[-1]
            cols.append(col)
        shape = (n, m)
        if n * m >= WORKSPACE_MIN_ELEMENTS and self._ws is not None:
            return self._ws.run(self, points, cols, shape)
        r = self._np_regs.copy()
        r[:self.p] = points.T[:, :, None]                  # each parameter as (n, 1)
        r[self.p:self.p + len(cols)] = cols
        with np.errstate(all="ignore"):
            for f, a, b, o in self._np_prog:
                r[o] = f(r[a]) if b < 0 else f(r[a], r[b])
        return self._pack(r, shape, self._fresh_value, self._outputs)

    # --- outputs --------------------------------------------------------
    @staticmethod
    def _value(v, shape, fresh: bool):
        if fresh and type(v) is np.ndarray and v.shape == shape and v.dtype == _F64:
            return v
        out = np.empty(shape)
        out[...] = v
        return out

    def _pack(self, r, shape, fresh: bool, outs: Sequence[int]):
        kind, p = self.kind, self.p
        if kind == "value":
            return self._value(r[outs[0]], shape, fresh)
        if kind == "hessian":
            out = np.empty(shape + (p, p))
            for k, reg in enumerate(outs):
                out[..., k // p, k % p] = r[reg]
            return out
        out = np.empty(shape + (p,))
        if kind == "gradient":
            for j, reg in enumerate(outs):
                out[..., j] = r[reg]
            return out
        for j, reg in enumerate(outs[1:]):
            out[..., j] = r[reg]
        return self._value(r[outs[0]], shape, fresh), out

    def _pack_scalar(self, r):
        vals = self._get(r)
        kind = self.kind
        if kind == "value":
            return np.array(vals, dtype=np.float64)
        if kind == "gradient":
            return np.array((vals,), dtype=np.float64)
        if kind == "hessian":
            return np.array(vals, dtype=np.float64).reshape(1, self.p, self.p)
        return np.array(vals[:1], dtype=np.float64), np.array((vals[1:],), dtype=np.float64)


class _WorkspacePlan:
    """The program rewritten to write every temporary into a reused buffer.

    Temporaries get buffer slots by liveness (a slot is reused once its value
    is dead), so the workspace holds only as many arrays as are alive at once.
    Without data the parameters are copied into the first rows so that the
    ufuncs read contiguous memory instead of the strided columns of points.
    Buffers are pooled per shape (at most two shapes, two buffers each, each
    at most _WORKSPACE_MAX_BYTES); pop/append keep this safe across threads.
    """

    def __init__(self, p: int, n_inputs: int, n_temps: int, first_const: int,
                 prog: Sequence[tuple], outputs: Sequence[int], regs: list) -> None:
        last_use: dict[int, int] = {}
        for k, (_, a, b, _) in enumerate(prog):
            last_use[a] = k
            if b >= 0:
                last_use[b] = k
        keep = set(outputs)
        slot_of: dict[int, int] = {}
        free: list[int] = []
        n_slots = 0
        for k, (_, a, b, o) in enumerate(prog):
            for x in {a, b}:
                if n_inputs <= x < first_const and x not in keep and last_use.get(x) == k:
                    free.append(slot_of[x])
            if free:
                slot_of[o] = free.pop()
            else:
                slot_of[o] = n_slots
                n_slots += 1
        # Register file: inputs, constants (as before), then the workspace rows:
        # without data p rows of contiguous parameter copies, then the temporaries;
        # with data only the temporaries (the params stay (n, 1) views that broadcast).
        base = len(regs)
        self.p = p
        self.base = base
        self.rows = {True: p + n_slots, False: n_slots}

        def remap(x: int, no_data: bool) -> int:
            if x < p and no_data:
                return base + x
            if n_inputs <= x < first_const:
                return base + (p if no_data else 0) + slot_of[x]
            return x

        self.progs = {
            flag: tuple((f, remap(a, flag), -1 if b < 0 else remap(b, flag), remap(o, flag))
                        for f, a, b, o in prog)
            for flag in (True, False)}
        self.outputs = {flag: tuple(remap(x, flag) for x in outputs) for flag in (True, False)}
        self.regs = {flag: regs + [None] * self.rows[flag] for flag in (True, False)}
        self.pool: dict[tuple, list] = {}

    def run(self, program: Program, points: np.ndarray, cols, shape: tuple):
        no_data = cols is None
        try:
            ws = self.pool[shape].pop()
        except (KeyError, IndexError):
            ws = np.empty((self.rows[no_data],) + shape)
        r = self.regs[no_data].copy()
        p = self.p
        if no_data:
            np.copyto(ws[:p], points.T)
        else:
            r[:p] = points.T[:, :, None]
            r[p:p + len(cols)] = cols
        r[self.base:] = ws
        with np.errstate(all="ignore"):
            for f, a, b, o in self.progs[no_data]:
                if b < 0:
                    f(r[a], out=r[o])
                else:
                    f(r[a], r[b], out=r[o])
        result = program._pack(r, shape, False, self.outputs[no_data])
        if ws.nbytes <= _WORKSPACE_MAX_BYTES:
            if shape not in self.pool and len(self.pool) >= 2:
                self.pool.clear()                             # keep memory bounded
            bucket = self.pool.setdefault(shape, [])
            if len(bucket) < 2:
                bucket.append(ws)
        return result
