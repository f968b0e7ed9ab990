"""Shared pieces of the optimizers: the spec record, hyperparameter checking and packing, state rows.

An optimizer is a pair of pure functions in optax's shape, vectorized over runs:

    init(params (n, p)) -> State                       # NamedTuple of arrays, first axis = run
    update(grads, state, params, lr, hyper) -> (updates, new_state)   # params_new = params + updates

Every hyperparameter is an array of shape (n, 1) so that each run has its own
value; structural flags (nesterov, amsgrad, centered, decoupled_weight_decay)
are per-run bool arrays of shape (n, 1) as well, selected with ``np.where``
where runs differ (skipped when all agree), so runs that differ only in a flag
can still share one group. Writing into a hyper array changes that run from
its next update on.

Purity: ``update`` never writes into its inputs (grads, state, params, lr,
hyper). It allocates the new state arrays and may then modify *those* in place,
which keeps the number of temporaries (and NumPy calls) low. The new state may
share an array that did not change with the old state (a buffer no run uses),
so treat states as values: replace them, never edit them in place.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Mapping, NamedTuple, Sequence, TypeVar

import numpy as np

from ..errors import nearest

Problems = list[tuple[str, str]]
Check = Callable[[Mapping[str, Any]], Problems]
T = TypeVar("T", bound=tuple)


class OptimizerSpec(NamedTuple):
    """One optimizer: torch.optim's names and defaults plus the pure init/update pair."""

    name: str
    defaults: dict[str, float | bool | tuple]  # every accepted key, lr included
    structural: tuple[str, ...]  # the bool flags among the defaults
    init: Callable[[np.ndarray], Any]
    update: Callable[..., tuple[np.ndarray, Any]]
    make_hyper: Callable[[Sequence[Mapping[str, Any]]], Any]
    description: str


class HyperparameterError(ValueError):
    """Invalid hyperparameters; ``problems`` lists (key, message) pairs."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{k}: {m}" for k, m in problems))


# ----- per-run state rows ------------------------------------------------------
def take_rows(state: T, index: Any) -> T:
    """The runs ``index`` (int, slice, int array or bool mask) of a NamedTuple of arrays.

    An int keeps the run axis (returns one row, not a squeezed array), so the
    result can always be fed back to ``update`` or to :func:`concat_states`.
    """
    if isinstance(index, numbers.Integral):
        index = slice(int(index), int(index) + 1 or None)  # -1 -> slice(-1, None)
    return type(state)(*(np.asarray(a)[index] for a in state))


def compact_columns(hyper: T) -> T:
    """The same hyperparameters with every column that all runs share cut to one row, shape (1, 1).

    Updates broadcast a (1, 1) column like a scalar, ~13x faster than an (n, 1)
    column over (n, p) arrays. For a caller that rebuilds its hyperparameters
    rather than writing into them (the simulation); the values are unchanged.
    """
    out = []
    for a in hyper:
        a = np.asarray(a)
        out.append(a[:1] if a.shape[0] > 1 and (a == a[0]).all() else a)
    return type(hyper)(*out)


def concat_states(states: Sequence[T]) -> T:
    """Stack NamedTuples of arrays of one type along the run axis (the inverse of take_rows)."""
    if not states:
        raise ValueError("concat_states needs at least one state")
    kind = type(states[0])
    if any(type(s) is not kind for s in states):
        raise TypeError("concat_states needs states of one type")
    return kind(*(np.concatenate(parts, axis=0) for parts in zip(*states)))


# ----- checking ------------------------------------------------------------
def is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def is_flag(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def check_mapping(name: str, defaults: Mapping[str, Any], structural: Sequence[str],
                  check: Check, mapping: Mapping[str, Any]) -> Problems:
    """Unknown keys (with the nearest valid one), wrong types, non-finite numbers, then torch's value rules.

    The value rules see the defaults overlaid with the well-typed given values,
    so that e.g. ``nesterov = true`` alone is reported (torch needs momentum > 0).
    """
    problems: Problems = []
    merged = dict(defaults)
    for key, value in mapping.items():
        if key not in defaults:
            problems.append((key, f"unknown hyperparameter {key!r} for {name}" + nearest(key, defaults)))
        elif key in structural:
            if not is_flag(value):
                problems.append((key, f"must be true or false, not {_describe(value)}"))
            else:
                merged[key] = bool(value)
        elif isinstance(defaults[key], tuple):
            size = len(defaults[key])
            if (isinstance(value, (str, bytes)) or not isinstance(value, Sequence)
                    or len(value) != size or not all(is_number(v) for v in value)):
                problems.append((key, f"must be a list of {size} numbers, not {_describe(value)}"))
            elif not all(math.isfinite(float(v)) for v in value):
                problems.append((key, f"must be finite numbers, not {list(value)}"))
            else:
                merged[key] = tuple(value)
        elif not is_number(value):
            problems.append((key, f"must be a number, not {_describe(value)}"))
        elif not math.isfinite(float(value)):
            problems.append((key, f"must be a finite number, not {value}"))
        else:
            merged[key] = value
    bad_type = {k for k, _ in problems}
    # Defaults never break a rule, so every rule that fails names a key the caller gave;
    # a key already reported for its type is not reported again.
    problems.extend((k, m) for k, m in check(merged) if k not in bad_type)
    return problems


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def rule(problems: Problems, ok: bool, key: str, message: str) -> None:
    """Append (key, message) unless ``ok``: keeps the per-optimizer rule lists one line per torch check."""
    if not ok:
        problems.append((key, message))


_NONNEGATIVE_NAMES = {"lr": "learning rate", "eps": "epsilon value"}


def nonnegative(problems: Problems, values: Mapping[str, Any], *keys: str) -> None:
    """torch's `Invalid ... value` check for each key that must be >= 0, in torch's order and words."""
    for key in keys:
        name = _NONNEGATIVE_NAMES.get(key, f"{key} value")
        rule(problems, values[key] >= 0.0, key, f"Invalid {name}: {values[key]}")


# ----- packing hyperparameters ----------------------------------------------------
def hyper_maker(name: str, hyper_cls: type, defaults: Mapping[str, Any], structural: Sequence[str],
                check: Check, fixed: Mapping[str, Any] | None = None) -> Callable[[Sequence[Mapping[str, Any]]], Any]:
    """Build ``make_hyper(list_of_dicts) -> Hyper``: one row per run, defaults filled in, arrays (n, 1).

    A tuple default such as ``betas`` fills the fields ``beta1, beta2``. ``lr``
    is accepted and ignored (the schedule supplies the rate). ``fixed`` sets
    fields that the user cannot change (AdamW's decoupled weight decay).
    """
    fixed = dict(fixed or {})
    fields = hyper_cls._fields

    def make_hyper(rows: Sequence[Mapping[str, Any]]) -> Any:
        columns: dict[str, list[Any]] = {f: [] for f in fields}
        seen: dict[Any, dict[str, Any]] = {}  # each distinct row is checked and filled once
        for i, row in enumerate(rows):
            key = _row_key(row)
            values = seen.get(key) if key is not None else None
            if values is None:
                problems = check_mapping(name, defaults, structural, check, row)
                if problems:
                    raise HyperparameterError([(f"[{i}].{k}", m) for k, m in problems])
                values = _fields_of({**defaults, **row, **fixed}, defaults)
                if key is not None:
                    seen[key] = values
            for f in fields:
                columns[f].append(values[f])
        arrays = []
        for f in fields:
            dtype = np.bool_ if f in structural or f in fixed else np.float64
            arrays.append(np.array(columns[f], dtype=dtype).reshape(len(rows), 1))
        return hyper_cls(*arrays)

    return make_hyper


def _row_key(row: Mapping[str, Any]) -> Any:
    """A hashable stand-in for a row, or None when it holds something unhashable.

    Types are part of the key: ``True == 1``, yet ``nesterov = 1`` must still be reported.
    """
    try:
        key = tuple(sorted((k, type(v).__name__, tuple(v) if isinstance(v, list) else v) for k, v in row.items()))
        hash(key)
        return key
    except TypeError:
        return None


def _fields_of(values: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """User-facing keys to Hyper fields: ``betas`` -> beta1, beta2; everything else keeps its name."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(defaults.get(key), tuple):
            for j, v in enumerate(value):
                out[f"{_singular(key)}{j + 1}"] = float(v)
        else:
            out[key] = value
    return out


def _singular(key: str) -> str:
    return key[:-1] if key.endswith("s") else key


def hyper_field_keys(key: str, defaults: Mapping[str, Any]) -> tuple[str, ...]:
    """The Hyper fields that hold the user-facing key (``betas`` -> ``beta1, beta2``)."""
    if isinstance(defaults.get(key), tuple):
        return tuple(f"{_singular(key)}{j + 1}" for j in range(len(defaults[key])))
    return (key,)
