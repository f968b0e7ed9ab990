"""Reading untrusted TOML values: typed getters that name the file and the key on failure.

Shared by the scenario loader (load.py), the run rules (run_rules.py) and the analysis
tables (analysis_tables.py), so every file error reads the same and no module of the three
imports another's private helpers.
"""
from __future__ import annotations

import math
import re
from typing import Any, Mapping

from ..errors import ScenarioError, nearest

MAX_STEPS = 10_000_000
MAX_PARAMS = 64
MAX_COORD = 1e15
"""Largest |coordinate| of a start, a view or a minimum: beyond it float64 cannot draw a window around it."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class Reader:
    """Typed getters over a decoded TOML table that name the file and the key on failure."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, message: str) -> ScenarioError:
        return ScenarioError(self.file, key, message)

    def keys(self, table: Mapping[str, Any], path: str, allowed: tuple[str, ...]) -> None:
        for k in table:
            if k not in allowed:
                raise self.fail(_join(path, k), "unknown key" + nearest(k, allowed))

    def table(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, not {_kind(value)}")
        return value

    def string(self, value: Any, key: str, limit: int = 100_000) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, not {_kind(value)}")
        if len(value) > limit:
            raise self.fail(key, f"is longer than {limit} characters")
        one_line = limit <= 200  # names, titles and keywords; longer texts may hold newlines and tabs
        bad = (_CONTROL_LINE if one_line else _CONTROL).search(value)
        if bad:  # a terminal would obey an ESC printed raw
            raise self.fail(key, f"holds the control character {bad.group()!r} at position {bad.start()}")
        return value

    def integer(self, value: Any, key: str, lo: int, hi: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be an integer, not {_kind(value)}")
        if not lo <= value <= hi:
            raise self.fail(key, f"must be between {lo} and {hi}, not {value}")
        return value

    def number(self, value: Any, key: str, lo: float = -math.inf, hi: float = math.inf) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, f"must be a number, not {_kind(value)}")
        v = float(value)
        if not math.isfinite(v):
            raise self.fail(key, f"must be finite, not {value}")
        if not lo <= v <= hi:
            raise self.fail(key, f"must be between {lo:g} and {hi:g}, not {value}")
        return v

    def boolean(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {_kind(value)}")
        return value

    def numbers(self, value: Any, key: str, length: int | None = None, bound: float = math.inf) -> tuple[float, ...]:
        if not isinstance(value, (list, tuple)):
            raise self.fail(key, f"must be a list of numbers, not {_kind(value)}")
        if length is not None and len(value) != length:
            raise self.fail(key, f"must hold {length} numbers, not {len(value)}")
        return tuple(self.number(v, f"{key}[{i}]", -bound, bound) for i, v in enumerate(value))

    def ranges(self, value: Any, key: str, params: tuple[str, ...]) -> dict[str, tuple[float, float]]:
        """A table of parameter -> [low, high] (a view, a search box, a window)."""
        out = {}
        for k, v in self.table(value, key).items():
            if k not in params:
                raise self.fail(f"{key}.{k}", "not a parameter" + nearest(k, params))
            lo, hi = self.numbers(v, f"{key}.{k}", 2, MAX_COORD)
            if not lo < hi:
                raise self.fail(f"{key}.{k}", f"needs low < high, not [{lo:g}, {hi:g}]")
            out[k] = (lo, hi)
        return out

    def names(self, value: Any, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(key, "must be a non-empty list of names")
        out = []
        for i, v in enumerate(value):
            s = self.string(v, f"{key}[{i}]", 64)
            if not s.isidentifier() or s.startswith("_"):
                raise self.fail(f"{key}[{i}]", f"{s!r} is not a valid name (letters, digits, _)")
            if s in out:
                raise self.fail(f"{key}[{i}]", f"{s!r} appears twice")
            out.append(s)
        return tuple(out)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


def check_formula(r: Reader, expr: str, params: tuple[str, ...], constants: Mapping[str, float],
                   columns: tuple[str, ...], key: str) -> None:
    """Parse (without SymPy) so that a bad formula is reported at load time with its key."""
    from ..formula.parse import FormulaError, build_namespace, parse_formula

    try:
        parse_formula(expr, build_namespace(params, constants, columns))
    except FormulaError as exc:
        raise r.fail(key, str(exc)) from None
