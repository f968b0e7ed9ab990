"""A few runs, each of a different optimizer, stepped together on Python floats.

A scenario of five optimizers makes five groups of one run each; stepping them with NumPy
costs a dozen calls on (1, 2) arrays per group, the formula's fifteen on a (5, 2) array and
the bookkeeping's, far more than the arithmetic. Here each run's optimizer state stays in
floats between steps (engine.optim.one_run's steppers), the formula runs as its scalar twin
(engine.formula.scalar) and the divergence test is made on the floats; the simulation only
turns the new points, losses and gradients into its arrays. Every operation is the array
path's, in the same order, correctly rounded in both: the same bits (tests compare).

Used only while every run is active, has a fixed rate, no noise and no data, and every
optimizer has a float stepper; a step that raises (x/0, sqrt(-1)) or might diverge is taken
back and redone by the array path, which decides.
"""
from __future__ import annotations

import math
import struct
from math import isfinite
from itertools import chain
from operator import itemgetter
from typing import Any, Sequence

import numpy as np

from .norms import row_norms
from ..formula.scalar import SCALAR_ERRORS, ScalarProgram
from ..optim.one_run import float_stepper


_LOSS, _GRADIENT = itemgetter(0), itemgetter(slice(1, None))  # of the formula's (value, gradient...)


class FloatRuns:
    """The runs' optimizer states, points and gradients as floats (one stepper per run, in run order)."""

    COUNTS = 512
    """Step counts are made this many ticks at a time (one NumPy addition), a read-only row per tick."""

    def __init__(self, steppers: list[Any], evaluate: ScalarProgram, lrs: list[float], params: np.ndarray,
                 grad: np.ndarray, bound: float, step_count: np.ndarray) -> None:
        self.steppers = steppers
        self.moves = [st.move for st in steppers]
        self.evaluate = evaluate
        self.lrs = lrs
        self.points: list[list[float]] = params.tolist()
        self.grads: list[Sequence[float]] = grad.tolist()
        self.bound = bound
        self.n_params = params.shape[1]
        n, k = params.shape[0], params.size
        # A step's numbers become arrays through one bytes object: np.frombuffer of bytes is
        # read-only already (the simulation publishes its arrays read-only), and one packing
        # costs less than three np.array calls on nested lists and their flag changes.
        self._pack = struct.Struct(f"{2 * k + n}d").pack
        self._cuts = (n, k)
        self._pack_sigma = struct.Struct(f"{k + n}d").pack
        self._counts = self._count_block(step_count)
        self._tick = 0

    @classmethod
    def build(cls, groups: Sequence[Any], evaluate: ScalarProgram | None, lrs: np.ndarray, params: np.ndarray,
              grad: np.ndarray, bound: float, step_count: np.ndarray) -> FloatRuns | None:
        """From groups of one run each in run order (spec, state, hyper); None where one has no stepper."""
        if evaluate is None:
            return None
        steppers = []
        for g in groups:
            st = float_stepper(g.spec.name, g.state, g.hyper)
            if st is None:
                return None
            steppers.append(st)
        return cls(steppers, evaluate, lrs.tolist(), params, grad, bound, step_count)

    def step(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """One update of every run, kept: (params, loss, grad, step counts) as read-only arrays of the
        array path's shapes, and the array that params, grad and loss are views of, in that order
        (the history's ring copies it whole); None when Python raised or a value may have diverged
        (then nothing is kept: the array path redoes the step from the state before it)."""
        points, outs, values = [], [], self.evaluate.values
        try:
            for move, p, g, lr in zip(self.moves, self.points, self.grads, self.lrs):
                q = move(g, p, lr)  # old + update; the stepper keeps its new state
                points.append(q)
                outs.append(values(q))  # (loss, gradient...)
        except SCALAR_ERRORS:
            self._undo(len(points))
            return None
        losses = list(map(_LOSS, outs))
        grads = list(map(_GRADIENT, outs))
        # Simulation's _healthy, cheaper: a sum of magnitudes within the bound (NaN fails the
        # comparison) bounds each one; a larger sum only sends the step to the array path. Any
        # inf or nan among the losses and gradients makes their sum not finite (so does a sum
        # that overflows, which only sends the step to the array path too).
        if not (sum(map(abs, chain(losses, *points))) <= self.bound and isfinite(sum(chain(*outs)))):
            self._undo(len(points))
            return None
        self.points, self.grads = points, grads
        n, k = self._cuts
        flat = np.frombuffer(self._pack(*chain(*points, *grads, losses)))
        tick = self._tick
        if tick == self.COUNTS:
            self._counts = self._count_block(self._counts[-1])
            tick = 0
        self._tick = tick + 1
        return flat[:k].reshape(n, -1), flat[2 * k:], flat[k:2 * k].reshape(n, -1), self._counts[tick], flat

    def _count_block(self, last: np.ndarray) -> np.ndarray:
        """(COUNTS, n) step counts of the next COUNTS ticks after ``last``, read-only."""
        block = last[None, :] + np.arange(1, self.COUNTS + 1, dtype=np.int64)[:, None]
        block.flags.writeable = False
        return block

    def _undo(self, moved: int) -> None:
        """Take back the last move of the first ``moved`` steppers."""
        for st in self.steppers[:moved]:
            st.undo()

    def states(self) -> list[Any]:
        """Each run's optimizer state as the NamedTuple of arrays its group keeps."""
        return [st.state() for st in self.steppers]

    def sigma_and_norms(self) -> tuple[np.ndarray, np.ndarray]:
        """What a stored history sample needs: (n_runs, n_params) inspect.sigma of every run (NaN
        for an optimizer without one) and each run's |gradient|, from one array. The norms are
        norms.row_norms's operations in its order (squares summed column by column, then the
        root; a product too large is inf in both), or row_norms itself past the 8 columns where
        it switches to einsum."""
        p, nan = self.n_params, [math.nan] * self.n_params
        sigma, norms = [], []
        for st, g in zip(self.steppers, self.grads):
            acc = g[0] * g[0]
            for v in g[1:]:
                acc += v * v
            sigma += st.sigma() or nan
            norms.append(math.sqrt(acc))
        n, k = self._cuts
        flat = np.frombuffer(self._pack_sigma(*sigma, *norms))  # one array for both, as in ``step``
        if p > 8:
            with np.errstate(all="ignore"):
                return flat[:k].reshape(n, p), row_norms(np.array(self.grads))
        return flat[:k].reshape(n, p), flat[k:]
