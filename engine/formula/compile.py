"""Formula compiler: untrusted formula text -> exact value, gradient and Hessian in NumPy.

Pipeline: our own whitelisting parser (parse.py; nothing is ever eval'd)
-> SymPy expression built with explicit constructors -> exact gradient by
sympy.diff -> sympy.cse -> exact Hessian by sympy.diff through the cse'd
gradient (chain rule, so it stays linear in size) -> straight-line programs of
NumPy ufunc calls (lower.py, program.py). SymPy is imported only
inside compile_formula, because it is slow to import, and not at all when the
formula's Programs are in the on-disk cache (cache.py).

Language: numbers (1, 2.5, 1e-3), names (parameters, data columns, constants,
pi, e), + - * / and ** (or ^, right associative, -x**2 = -(x**2)) with unary
signs and parentheses, and the functions sin cos tan exp log sqrt abs tanh
sigmoid relu softplus cosh sinh atan log1p (one argument) and min max (two).
Kinks: d abs = sign, d relu = step with step(0) = 0, d max(a, b) = step(a - b)
for a and 1 - step(a - b) for b (min alike); their second derivatives are 0.

Bounds (each a FormulaError with a message and position): MAX_LENGTH
characters, MAX_DEPTH levels of nesting, MAX_NODES numbers/names/operations,
constant exponents within +-MAX_EXPONENT, MAX_PARAMS parameters, constant parts
must be finite in float64, no division by something that simplifies to 0, and a
cap on the work of the second derivative (long products of many factors).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping, Sequence

import numpy as np

from .cache import cache_key, load as load_cached, store as store_cached
from .parse import (
    FUNCTIONS, MAX_DEPTH, MAX_EXPONENT, MAX_LENGTH, MAX_NODES, MAX_PARAMS, FormulaError,
    build_namespace, parse_formula,
)

__all__ = ["FormulaError", "CompiledFormula", "compile_formula", "FUNCTIONS",
           "MAX_LENGTH", "MAX_DEPTH", "MAX_NODES", "MAX_EXPONENT", "MAX_PARAMS"]

_NO_CONSTANTS: Mapping[str, float] = MappingProxyType({})


class CompiledFormula:
    """A loss formula ready to evaluate on many points at once.

    points: float64 array (n, p), p = len(params). Without data the results are
    value (n,), gradient (n, p), hessian (n, p, p). With data (a mapping from
    each column to an array (m,) or (n, m)) they are per sample: value (n, m),
    gradient (n, m, p), hessian (n, m, p, p). Overflow gives inf/nan, silently.
    """

    __slots__ = ("params", "columns", "constants", "text",
                 "_value", "_gradient", "_value_and_gradient", "_hessian")

    def __init__(self, text: str, params: tuple[str, ...], columns: tuple[str, ...],
                 constants: Mapping[str, float], programs: Mapping) -> None:
        self.text = text
        self.params = params
        self.columns = columns
        self.constants = MappingProxyType(dict(constants))
        self._value = programs["value"]
        self._gradient = programs["gradient"]
        self._value_and_gradient = programs["value_and_gradient"]
        self._hessian = programs["hessian"]

    def value(self, points, data: Mapping | None = None) -> np.ndarray:
        """The loss at each point: (n,) or, with data, (n, m)."""
        return self._value(points, data)

    def gradient(self, points, data: Mapping | None = None) -> np.ndarray:
        """Exact gradient: (n, p) or, with data, (n, m, p)."""
        return self._gradient(points, data)

    def value_and_gradient(self, points, data: Mapping | None = None
                           ) -> tuple[np.ndarray, np.ndarray]:
        """Both at once, sharing the common work."""
        return self._value_and_gradient(points, data)

    def hessian(self, points, data: Mapping | None = None) -> np.ndarray:
        """Exact Hessian: (n, p, p) or, with data, (n, m, p, p); symmetric."""
        return self._hessian(points, data)

    def __repr__(self) -> str:
        return f"CompiledFormula({self.text!r}, params={self.params}, columns={self.columns})"


def compile_formula(text: str, params: Sequence[str],
                    constants: Mapping[str, float] = _NO_CONSTANTS,
                    columns: Sequence[str] = ()) -> CompiledFormula:
    """Parse, check and compile text; raises FormulaError with a message and position."""
    names = build_namespace(params, constants, columns)
    tree = parse_formula(text, names)
    params_t, columns_t = tuple(params), tuple(columns)
    declared = {k: v[1] for k, v in names.items() if v[0] == "const"}
    key = cache_key(text, params_t, columns_t, declared)
    programs = load_cached(key, params_t, columns_t)
    if programs is None:
        from .lower import compile_programs   # lazy: SymPy is slow to load
        try:
            programs = compile_programs(tree, params_t, columns_t, text)
        except RecursionError:  # a safety net: the depth bounds should keep this away
            raise FormulaError("the formula is too deeply nested to differentiate") from None
        store_cached(key, programs)
    return CompiledFormula(text, params_t, columns_t, declared, programs)
