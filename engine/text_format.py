"""Numbers as text, one place for the engine's reports and the app's tables and axes.

Each function keeps the exact output its callers showed before they shared it
(the screen snapshots depend on it). Textual-free, NumPy only.
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np


def short(x: float) -> str:
    """Headline numbers: 3 significant digits, one-digit exponents outside [1e-3, 1e5): 0.0123, 4e-07."""
    if not np.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    a = abs(x)
    return f"{x:.0e}" if a < 1e-3 or a >= 1e5 else f"{x:.3g}"


def column(v: float | None, digits: int = 4) -> str:
    """Short numbers for narrow columns: 0.01234, 1.23e-07, inf, - for missing."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    if 1e-3 <= abs(v) < 1e5:
        return f"{v:.{digits}g}"
    return f"{v:.{max(1, digits - 2)}e}".replace("e-0", "e-").replace("e+0", "e+")


def table(x: float) -> str:
    """Wide table cells: 3 significant digits in [1e-3, 1e4), else 2 decimals of an exponent; - if not finite."""
    if not np.isfinite(x):
        return "-"
    return f"{x:.3g}" if 1e-3 <= abs(x) < 1e4 or x == 0 else f"{x:.2e}"


def sig(x: float | None, digits: int = 4, missing_nan: bool = True) -> str:
    """``digits`` significant digits; - for None (and for NaN unless ``missing_nan`` is False)."""
    if x is None or (missing_nan and isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.{digits}g}"


def listing(v: Iterable[float], digits: int = 3, limit: int | None = None, more: str = ", ...",
            no_minus_zero: bool = False) -> str:
    """1, 2.5, -0.333: each entry to ``digits`` significant digits, at most ``limit`` of them, then ``more``."""
    v = np.asarray(v if isinstance(v, np.ndarray) else list(v), dtype=float).ravel()
    shown = v if limit is None else v[:limit]
    zero = 0.0 if no_minus_zero else -0.0  # x + -0.0 is x, even for -0.0; x + 0.0 turns -0.0 into 0.0
    body = ", ".join(f"{x + zero:.{digits}g}" for x in shown)
    return body + (more if limit is not None and v.size > limit else "")


def vector(v: Iterable[float], digits: int = 3, limit: int | None = None, more: str = ", ...",
           no_minus_zero: bool = False) -> str:
    """(1, 2.5, -0.333): :func:`listing` in parentheses."""
    return f"({listing(v, digits, limit, more, no_minus_zero)})"


def direction(v: np.ndarray, limit: int = 4) -> str:
    """A direction (sign fixed: its first nonzero entry positive), 2 decimals: (0.71, -0.71)."""
    v = np.asarray(v, dtype=float)
    first = np.flatnonzero(np.abs(v) > 1e-12)
    if first.size and v[first[0]] < 0:
        v = -v
    return "(" + ", ".join(f"{x:.2f}" for x in v[:limit]) + (", ..." if v.size > limit else "") + ")"


def decade_label(k: int) -> str:
    """The label of 10**k on a log axis: 0.01 ... 1000, else 1e-5, 1e6."""
    if -2 <= k <= 3:
        return f"{10.0 ** k:g}"
    return f"1e{k}"


def step_label(v: float) -> str:
    """A step count on an axis: 500, 20k, 1.5M."""
    if abs(v) >= 1e6:
        return f"{v / 1e6:g}M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:g}k"
    return f"{v:g}"


def strict_json(value: object) -> object:
    """``value`` with every non-finite float (NaN, +-inf, also inside NumPy arrays) as None: strict JSON.

    ``json.dumps`` writes NaN and Infinity by default, which JSON does not have;
    dump the result with ``allow_nan=False`` to be sure.
    """
    if isinstance(value, dict):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return strict_json(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value
