"""The primitive operations a compiled formula may execute.

Each operation has a NumPy implementation (used for arrays and for folding
constants) and, when its float64 result is exactly the IEEE one (+ - * /,
sqrt, abs, comparisons), a pure-Python scalar twin. The scalar twins make a
single point (n = 1) cheap and give bit-identical results to the arrays;
transcendental functions have no twin because libm and NumPy's SIMD loops may
differ in the last bit.
"""

from __future__ import annotations

import math
import operator
from typing import Callable, NamedTuple

import numpy as np


class Op(NamedTuple):
    numpy: Callable
    scalar: Callable | None
    arity: int


# NumPy implementations accept out= so that large inputs can reuse a workspace.
def _sigmoid(x, out=None):
    # 1/(1+exp(-x)) overflows only to 1/inf = 0, never to nan.
    if out is None:
        return 1.0 / (1.0 + np.exp(np.negative(x)))
    t = np.negative(x, out=out)
    np.exp(t, out=t)
    np.add(t, 1.0, out=t)
    return np.divide(1.0, t, out=t)


def _step(x, out=None):
    return np.heaviside(x, 0.0, out=out)             # 0 at 0


def _relu(x, out=None):
    return np.maximum(x, 0.0, out=out)


def _softplus(x, out=None):
    return np.logaddexp(0.0, x, out=out)


def _s_max(a: float, b: float) -> float:
    return a if (a > b or a != a) else b          # np.maximum: NaN propagates


def _s_min(a: float, b: float) -> float:
    return a if (a < b or a != a) else b          # np.minimum: NaN propagates


def _s_relu(x: float) -> float:
    return x if (x > 0.0 or x != x) else 0.0


def _s_step(x: float) -> float:
    return 1.0 if x > 0.0 else (x if x != x else 0.0)


def _s_sign(x: float) -> float:
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return x if x != x else 0.0


def _identity(x, out=None):
    return x


def _where(cond, a, b):
    return np.where(cond, a, b)


OPS: dict[str, Op] = {
    "identity": Op(_identity, _identity, 1),
    "add": Op(np.add, operator.add, 2),
    "sub": Op(np.subtract, operator.sub, 2),
    "mul": Op(np.multiply, operator.mul, 2),
    "div": Op(np.divide, operator.truediv, 2),   # x/0 raises in Python -> NumPy path
    "neg": Op(np.negative, operator.neg, 1),
    "sqrt": Op(np.sqrt, math.sqrt, 1),            # sqrt(-1) raises in Python -> NumPy path
    "abs": Op(np.absolute, abs, 1),
    "sign": Op(np.sign, _s_sign, 1),
    "step": Op(_step, _s_step, 1),
    "relu": Op(_relu, _s_relu, 1),
    "max": Op(np.maximum, _s_max, 2),
    "min": Op(np.minimum, _s_min, 2),
    "pow": Op(np.power, None, 2),
    "exp": Op(np.exp, None, 1),
    "log": Op(np.log, None, 1),
    "log1p": Op(np.log1p, None, 1),
    "sin": Op(np.sin, None, 1),
    "cos": Op(np.cos, None, 1),
    "tan": Op(np.tan, None, 1),
    "sinh": Op(np.sinh, None, 1),
    "cosh": Op(np.cosh, None, 1),
    "tanh": Op(np.tanh, None, 1),
    "atan": Op(np.arctan, None, 1),
    "sigmoid": Op(_sigmoid, None, 1),
    "softplus": Op(_softplus, None, 1),
    # Only reached through sympy.Piecewise, which the formula language never writes itself.
    "lt": Op(np.less, None, 2),
    "le": Op(np.less_equal, None, 2),
    "gt": Op(np.greater, None, 2),
    "ge": Op(np.greater_equal, None, 2),
    "eq": Op(np.equal, None, 2),
    "ne": Op(np.not_equal, None, 2),
    "and": Op(np.logical_and, None, 2),
    "or": Op(np.logical_or, None, 2),
    "not": Op(np.logical_not, None, 1),
    "where": Op(_where, None, 3),
}
