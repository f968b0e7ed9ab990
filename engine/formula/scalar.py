"""A compiled formula's value and gradient at one point, on Python floats.

The simulation's small-run path (engine.core.simulation) steps a few runs entirely on
Python floats, where a NumPy call on a (5, 2) array costs more than the arithmetic. This
runs the same straight-line program as program.py, instruction by instruction, with the
operations' scalar twins (formula.ops): + - * / sqrt abs ... are correctly rounded in
both, so the bits are those of the array path. It exists only for formulas without data
whose every operation has a twin; Python raises where NumPy gives inf or nan (x/0,
sqrt(-1)) and the caller then takes the array path.

The loop is the cost (a tick of five runs evaluates it five times), so it does as little
as it can per instruction: every instruction takes two registers (no branch), the loop
body makes two instructions (half the loop's own steps; an odd program makes its first
one before the loop), and the registers start as the point's list joined to the rest (one list
concatenation). Nothing is generated or exec'd.
"""
from __future__ import annotations

from operator import itemgetter
from typing import Callable, Sequence

from .compile import CompiledFormula
from .ops import OPS

SCALAR_ERRORS = (ArithmeticError, ValueError)
"""What the scalar program raises where NumPy would return inf or nan."""

_EXTRA_TWINS: dict[str, Callable | None] = {"pair": lambda a, b: (a, b), "select": None}


class ScalarProgram:
    """(value, d/dp1, ..., d/dpn) of the formula at one point given as floats."""

    def __init__(self, spec: tuple) -> None:
        n_params, columns, instructions, n_temps, constants, outputs, _ = spec
        first_const = n_params + len(columns) + n_temps
        self._p = n_params
        # Registers: the point, then the temporaries (each written before it is read) and the constants.
        self._tail: list = [0.0] * (first_const - n_params) + [float(c) for c in constants]
        steps: list = []
        for op, args, out in instructions:
            fn = _EXTRA_TWINS[op] if op in _EXTRA_TWINS else OPS[op].scalar
            if len(args) == 1:  # every step takes two registers: the loop has no branch
                fn, args = _unary(fn), (args[0], args[0])
            steps.append((fn, args[0], args[1], out))
        self._first = steps.pop(0) if len(steps) % 2 else None  # an odd program's first instruction
        self._pairs = tuple(steps[i] + steps[i + 1] for i in range(0, len(steps), 2))
        self._get = itemgetter(*outputs) if len(outputs) > 1 else (lambda r, k=outputs[0]: (r[k],))
        if self._first is not None:
            self.values = self._values_odd  # type: ignore[method-assign]

    def values(self, point: list[float]) -> tuple[float, ...]:
        """The outputs (value first, then the gradient) at ``point`` (a list of the parameters);
        raises SCALAR_ERRORS where NumPy would not."""
        r = point + self._tail
        for f, a, b, o, f2, a2, b2, o2 in self._pairs:
            r[o] = f(r[a], r[b])
            r[o2] = f2(r[a2], r[b2])
        return self._get(r)

    def _values_odd(self, point: list[float]) -> tuple[float, ...]:
        """``values`` of a program of an odd number of instructions: the first, then the pairs."""
        r = point + self._tail
        f, a, b, o = self._first
        r[o] = f(r[a], r[b])
        for f, a, b, o, f2, a2, b2, o2 in self._pairs:
            r[o] = f(r[a], r[b])
            r[o2] = f2(r[a2], r[b2])
        return self._get(r)

    def run(self, *point: float) -> tuple[float, ...]:
        """``values`` of the parameters given one by one."""
        return self.values(list(point))

    def __call__(self, point: Sequence[float]) -> tuple[float, ...]:
        return self.values(list(point))


def _unary(fn: Callable) -> Callable:
    return lambda x, _: fn(x)


def scalar_value_and_gradient(formula: CompiledFormula) -> ScalarProgram | None:
    """The float twin of ``formula.value_and_gradient`` for one point, or None when the formula
    has data columns or an operation without an exact scalar twin (exp, sin, pow, ...)."""
    # The program's plain-data spec (what the formula cache stores) describes it completely.
    spec = formula._value_and_gradient.spec
    _, columns, instructions, _, _, outputs, kind = spec
    if columns or kind != "value_and_gradient" or not outputs:
        return None
    for op, _, _ in instructions:
        if (_EXTRA_TWINS[op] if op in _EXTRA_TWINS else OPS[op].scalar) is None:
            return None
    return ScalarProgram(spec)
