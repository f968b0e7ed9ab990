"""Lower bounds of a loss: a value no point can go below, and the reason, in words.

Rules, in order (known_lower_bound):
1. ``[guide] lower_bound`` when the scenario states one.
2. 0 when the formula is provably >= 0 for all real inputs: it is built only
   of non-negative pieces (squares and even integer powers, abs, exp, sqrt,
   sigmoid, relu, softplus, cosh; sums and products of such; non-negative
   constants; tanh, sinh, atan and log1p of non-negative pieces; max with a
   non-negative argument, min of two). A data loss is the mean of such
   per-sample losses, so it is >= 0 too. The test is syntactic and
   conservative: ``x^2 - 2*x + 1`` is >= 0 but is not recognised.
3. For a built-in surface with its default constants: the lowest loss at its
   listed minima (the built-ins list their global minima).
"""
from __future__ import annotations

from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np


class LowerBound(NamedTuple):
    """A value the loss can never go below, and why."""

    value: float
    reason: str


_NONNEG_CALLS = {"abs", "exp", "sqrt", "sigmoid", "relu", "softplus", "cosh"}
_SIGN_KEEPING_CALLS = {"tanh", "sinh", "atan", "log1p"}


def _nonnegative(node: Any) -> bool:
    """True when the parse-tree node is >= 0 for all real inputs (a conservative syntactic test)."""
    if node.const is not None:
        return node.const >= 0.0
    kind = node.kind
    if kind == "sum":
        return all(op == "+" and _nonnegative(child) for op, child in node.items)
    if kind == "prod":
        return all(_nonnegative(child) for _, child in node.items)
    if kind == "pow":
        base, exponent = node.items[0][1], node.items[1][1]
        if exponent.const is not None and float(exponent.const).is_integer() and int(exponent.const) % 2 == 0:
            return True
        return _nonnegative(base)
    if kind == "call":
        args = [child for _, child in node.items]
        if node.value in _NONNEG_CALLS:
            return True
        if node.value in _SIGN_KEEPING_CALLS:
            return _nonnegative(args[0])
        if node.value == "max":
            return _nonnegative(args[0]) or _nonnegative(args[1])
        if node.value == "min":
            return _nonnegative(args[0]) and _nonnegative(args[1])
    return False


def formula_lower_bound(expr: str, params: Sequence[str], constants: Mapping[str, float] = {},
                        columns: Sequence[str] = ()) -> LowerBound | None:
    """0 when the formula is provably >= 0 (built only of non-negative pieces), else None."""
    from .parse import FormulaError, build_namespace, parse_formula

    try:
        tree = parse_formula(expr, build_namespace(params, constants, columns))
    except FormulaError:
        return None
    if not _nonnegative(tree):
        return None
    what = "the mean over samples of a per-sample loss" if columns else "the loss"
    return LowerBound(0.0, f"{what} is built only of squares and other non-negative terms, so it is >= 0")


def known_lower_bound(scenario: Any, objective: Any = None) -> LowerBound | None:
    """The best lower bound optsim knows for a scenario's loss (the rules above); ``objective`` evaluates
    a built-in's minima."""
    guide = scenario.extra.get("guide", {}) if hasattr(scenario, "extra") else {}
    if isinstance(guide.get("lower_bound"), (int, float)) and not isinstance(guide.get("lower_bound"), bool):
        return LowerBound(float(guide["lower_bound"]), "stated by the scenario's [guide] lower_bound")
    s = scenario.surface
    columns = scenario.data.columns if scenario.data is not None else ()
    bound = formula_lower_bound(s.expr, s.params, s.constants, columns)
    if bound is not None:
        return bound
    if s.builtin is not None and s.minima and objective is not None:
        from ..core.surfaces import BUILTIN_SURFACES

        builtin = BUILTIN_SURFACES.get(s.builtin)
        if builtin is not None and dict(builtin.constants) == dict(s.constants):
            values = objective.loss(np.asarray(s.minima, dtype=np.float64))
            return LowerBound(float(np.min(values)), f"the lowest listed minimum of the built-in {s.builtin!r}")
    return None
