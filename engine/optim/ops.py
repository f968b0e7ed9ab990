"""Small numeric helpers shared by the optimizer updates, tuned for few NumPy calls.

Speed notes (NumPy 2, one run of two parameters): an op on two (1, 2) arrays
costs ~0.2 us, an (n, p) op with an (n, 1) column ~0.6 us (broadcasting), with
a Python float ~0.35 us, and arithmetic on Python floats ~0.03 us. So the
updates (1) skip work no run needs, tested with ``np.count_nonzero`` (~0.15 us)
rather than ``np.where`` (~0.7 us), and (2) with one run, turn the per-run
columns into Python floats (:func:`columns`).

Bit-identity across group sizes: a run stepped alone and the same run inside
a group of many get the same bits. +, -, *, / and sqrt are correctly rounded
in both Python and NumPy, but NumPy's SIMD ``power`` can differ from libm's
``pow`` in the last bit, so powers are always taken on the (n, 1) arrays,
before :func:`columns` unboxes them.
"""
from __future__ import annotations

from typing import Any, Sequence

import math

import numpy as np

try:  # NumPy 2's count_nonzero without its dispatch wrapper (~0.4 us less per call; the same result)
    from numpy._core._multiarray_umath import count_nonzero as nonzero
except ImportError:  # pragma: no cover - other NumPy versions
    nonzero = np.count_nonzero


def sqrt(x: Any) -> Any:
    """Square root of a Python float (math.sqrt) or an array (np.sqrt): both correctly rounded, the same bits."""
    return math.sqrt(x) if type(x) is float else np.sqrt(x)


def columns(*cols: np.ndarray) -> Sequence[Any]:
    """Each (n, 1) column itself, or a Python float where it has one row (see the module notes).

    One row means one run, or a column that every run shares (see :func:`uniform`
    and ``base.compact_columns``): a float broadcasts ~13x faster than an
    (n, 1) column over (n, p) arrays.
    """
    return [c.item() if c.shape[0] == 1 else c for c in cols]


def uniform(col: np.ndarray) -> np.ndarray:
    """``col[:1]`` when every row of an (n, 1) column holds the same value, else ``col``.

    Used on step counters before taking powers, so that runs stepping in lockstep
    pay for one ``pow`` instead of n (and get the same bits as a run alone).
    """
    if col.shape[0] > 1 and (col.strides[0] == 0 or (col == col[0, 0]).all()):
        return col[:1]
    return col


def next_step(step: np.ndarray) -> np.ndarray:
    """``step + 1.0`` for an (n, 1) step counter, as a read-only broadcast of one row when
    every run has made as many steps (the usual case): then neither this addition nor
    :func:`uniform` walks n rows again on later steps. The same values either way."""
    if step.shape[0] > 1 and step.strides[0] == 0:
        return np.broadcast_to(step[:1] + 1.0, step.shape)
    new = step + 1.0
    if new.shape[0] > 1 and (new == new[0, 0]).all():
        return np.broadcast_to(new[:1], new.shape)
    return new


def count(mask: Any) -> tuple[int, int]:
    """(number of true rows, number of rows) of a bool column or a Python bool."""
    if isinstance(mask, (bool, np.bool_)):
        return int(mask), 1
    return nonzero(mask), mask.size


def select(mask: Any, a: Any, b: Any) -> Any:
    """np.where(mask, a, b), returning ``a`` or ``b`` itself when the mask is all true or all false."""
    yes, size = count(mask)
    if yes == size:
        return a
    if yes == 0:
        return b
    return np.where(mask, a, b)


def coupled(grads: np.ndarray, params: np.ndarray, weight_decay: np.ndarray) -> np.ndarray:
    """torch's L2 weight decay ``grad.add(param, alpha=weight_decay)``; ``grads`` itself when every wd is 0."""
    if not nonzero(weight_decay):
        return grads
    g = params * weight_decay
    g += grads
    return g


def decay_split(hyper: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """(L2 weight decay column, decoupled weight decay column or None when no run decouples)."""
    wd, dec = hyper.weight_decay, hyper.decoupled_weight_decay
    if not nonzero(dec) or not nonzero(wd):
        return wd, None
    return select(dec, 0.0, wd), select(dec, wd, 0.0)


def decoupled(upd: np.ndarray, params: np.ndarray, lr: np.ndarray, wd: np.ndarray | None) -> np.ndarray:
    """Fold torch's decoupled decay, ``param.mul_(1 - lr*wd)`` before the step, into the updates.

    Computed as (theta*(1 - lr*wd) + step) - theta: that difference is exact whenever the new and old
    values are within a factor 2 (Sterbenz), so theta + updates is bit for bit torch's theta.
    """
    if wd is None:
        return upd
    lr_, wd_ = columns(lr, wd)  # floats where shared: the same product, two NumPy calls fewer
    new = params * (1.0 - lr_ * wd_)
    new += upd
    new -= params
    return new


def lerp(start: np.ndarray, end: np.ndarray, weight: Any) -> np.ndarray:
    """torch's ``start.lerp_(end, weight)`` = start + weight*(end - start), as a new array."""
    out = end - start
    out *= weight
    out += start
    return out


def square_avg(old: np.ndarray, g: np.ndarray, decay: Any) -> np.ndarray:
    """torch's ``old.mul_(decay).addcmul_(g, g, value=1 - decay)`` = decay*old + ((1-decay)*g)*g, as a new array."""
    out = old * decay
    t = g * (1.0 - decay)
    t *= g
    out += t
    return out
