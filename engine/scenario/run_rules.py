"""The rules of a run's settings, in one place: a [[runs]] table of a file, a scripted
`set`, an edit in the app and a run added in the app are all checked here, so the same
bad value gets the same message wherever it was typed. Only the key path differs (the
file's `runs[1].lr`, an event's `events[0].set.lr`, the app's `run.lr`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..errors import nearest
from ..optim.registry import OPTIMIZERS, validate_hyperparameters
from ..optim.schedules import validate_schedule
from .reader import MAX_COORD, MAX_STEPS, Reader

RUN_KEYS = ("name", "optimizer", "start", "steps", "batch_size", "noise", "schedule")
"""The keys of a run that are not the optimizer's hyperparameters."""
SET_KEYS = ("optimizer", "batch_size", "noise", "schedule")
"""The run keys a scripted `set` may change (the rest only the app changes)."""
NAME_LIMIT = 40


@dataclass(frozen=True)
class RunContext:
    """What a run's settings are checked against: the scenario around the run."""

    n_params: int
    n_train: int | None  # rows of training data; None without [data]
    taken: frozenset[str] = frozenset()  # names of the other runs


def check_run(r: Reader, values: Mapping[str, Any], optimizer: str, key: str, ctx: RunContext, *,
              current: Mapping[str, Any] | None = None, keys: tuple[str, ...] = RUN_KEYS) -> dict[str, Any]:
    """Check some or all settings of one run; returns them normalized (lists as tuples, numbers
    as floats). ``optimizer`` is the run's optimizer (a value "optimizer" changes it);
    ``current`` the run's hyperparameters, which the values are merged over while the optimizer
    stays (so ``nesterov = true`` is judged with the run's momentum); ``keys`` the run keys
    allowed here. Raises ScenarioError naming ``key.<name>``."""
    out = dict(values)
    opt = _optimizer(r, out.get("optimizer", optimizer), f"{key}.optimizer")
    spec = OPTIMIZERS[opt]
    for k in out:
        if k not in keys and k not in spec.defaults:
            raise r.fail(f"{key}.{k}", _unknown(k, opt, keys))
    for k in keys:
        if k in out and k != "optimizer":
            out[k] = _RULES[k](r, out[k], f"{key}.{k}", ctx)
    hyper = {k: v for k, v in out.items() if k in spec.defaults}
    kept = dict(current or {}) if opt == optimizer else {k: v for k, v in (current or {}).items() if k == "lr"}
    for k, msg in validate_hyperparameters(opt, {**kept, **hyper}):
        raise r.fail(f"{key}.{k}", msg)
    out.update({k: (tuple(v) if isinstance(v, list) else v) for k, v in hyper.items()})
    return out


def _optimizer(r: Reader, value: Any, key: str) -> str:
    opt = r.string(value, key, 64)
    if opt not in OPTIMIZERS:
        raise r.fail(key, f"unknown optimizer {opt!r}" + nearest(opt, OPTIMIZERS))
    return opt


def _unknown(k: str, opt: str, keys: tuple[str, ...]) -> str:
    """An unknown key: a hyperparameter of another optimizer, or nothing a run has."""
    valid = tuple(OPTIMIZERS[opt].defaults) + keys
    if any(k in spec.defaults for spec in OPTIMIZERS.values()):
        return f"not a hyperparameter of {opt}" + nearest(k, valid)
    return "unknown key" + nearest(k, valid)


def _name(r: Reader, value: Any, key: str, ctx: RunContext) -> str:
    name = r.string(value, key, NAME_LIMIT)
    if not name.strip():
        raise r.fail(key, "must not be empty")
    if name in ctx.taken:
        raise r.fail(key, f"{name!r} is already the name of another run")
    return name


def _start(r: Reader, value: Any, key: str, ctx: RunContext) -> tuple[float, ...]:
    return r.numbers(value, key, ctx.n_params, MAX_COORD)


def _steps(r: Reader, value: Any, key: str, ctx: RunContext) -> int:
    return r.integer(value, key, 1, MAX_STEPS)


def _batch_size(r: Reader, value: Any, key: str, ctx: RunContext) -> int:
    if ctx.n_train is None:
        raise r.fail(key, "needs a [data] table")
    return r.integer(value, key, 1, ctx.n_train)


def _noise(r: Reader, value: Any, key: str, ctx: RunContext) -> float:
    return r.number(value, key, 0.0)


def _schedule(r: Reader, value: Any, key: str, ctx: RunContext) -> dict[str, Any]:
    schedule = dict(r.table(value, key))
    for k, msg in validate_schedule(schedule):
        raise r.fail(f"{key}.{k}" if k else key, msg)
    return schedule


_RULES = {"name": _name, "start": _start, "steps": _steps, "batch_size": _batch_size, "noise": _noise,
          "schedule": _schedule}
