"""Learning-rate schedules: torch.optim.lr_scheduler's values as closed forms, vectorized over runs.

    schedule = make_schedule({"kind": "cosine", "T_max": 300, "warmup": {"steps": 20, "start_factor": 0.1}})
    lr = schedule(steps, base_lr)          # steps: int (n, 1), base_lr: float (n, 1) -> lr (n, 1)

``steps`` counts the updates a run has already made, so update t (0-based)
uses ``lr(t)``: in torch, the rate that ``optimizer.step()`` number t + 1
sees after t calls of ``scheduler.step()``. torch computes most schedules
recursively (lr_t from lr_{t-1}); these are the closed forms of the same
values, which agree with torch's to rounding (tests hold them to 1e-12,
including cosine beyond T_max, where torch's recursion, like the closed form,
climbs back to the base rate at 2*T_max and repeats).

Kinds (torch twin): constant; step (StepLR); multistep (MultiStepLR);
exponential (ExponentialLR); cosine (CosineAnnealingLR); linear (LinearLR);
noam (the Transformer's, torch's LambdaLR with
d_model^-0.5 * min(s^-0.5, s * warmup_steps^-1.5), s = t + 1). Any kind may
hold ``warmup = {steps = N, start_factor = f}``, which means torch's
SequentialLR([LinearLR(f, 1.0, N), main], milestones=[N]): updates 0..N-1 use
base*(f + (1 - f)*t/N), and from update N on the main schedule restarts at its
own step 0 (t - N), so at the milestone the rate is main(0), e.g. the base rate.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import nearest

Schedule = Callable[[np.ndarray, np.ndarray], np.ndarray]
Problems = list[tuple[str, str]]

REQUIRED = object()
"""Marks a key without a default (torch has none either)."""

KINDS: dict[str, dict[str, Any]] = {
    "constant": {},
    "step": {"step_size": REQUIRED, "gamma": 0.1},
    "multistep": {"milestones": REQUIRED, "gamma": 0.1},
    "exponential": {"gamma": REQUIRED},
    "cosine": {"T_max": REQUIRED, "eta_min": 0.0},
    "linear": {"start_factor": 1.0 / 3, "end_factor": 1.0, "total_iters": 5},
    "noam": {"d_model": 512, "warmup_steps": 4000},
}
"""Each kind's keys and torch's defaults (noam: the Transformer paper's)."""

WARMUP: dict[str, Any] = {"steps": REQUIRED, "start_factor": 1.0 / 3}
"""The warm-up table's keys; start_factor defaults to LinearLR's."""

_INT_KEYS = {"step_size", "T_max", "total_iters", "d_model", "warmup_steps"}  # each must be >= 1


class ScheduleError(ValueError):
    """An invalid schedule; ``problems`` lists (key, message) pairs."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{k}: {m}" if k else m for k, m in problems))


# ----- validation ----------------------------------------------------------------
def validate_schedule(spec: Any) -> Problems:
    """(key, message) for every problem: unknown kind or key (with the nearest name), missing required keys,
    wrong types and impossible values (T_max <= 0, gamma <= 0, a start_factor outside (0, 1], ...).

    A missing ``kind`` means constant, so ``{}`` is valid. Warm-up keys are reported as ``warmup.steps``.
    """
    if not isinstance(spec, Mapping):
        return [("", f"a schedule must be a table, not {type(spec).__name__}")]
    kind = spec.get("kind", "constant")
    if not isinstance(kind, str):
        return [("kind", f"must be a string, not {type(kind).__name__} {kind!r}")]
    if kind not in KINDS:
        return [("kind", f"unknown schedule kind {kind!r}" + nearest(kind, KINDS)
                 + f" (kinds: {', '.join(KINDS)})")]
    keys = KINDS[kind]
    problems: Problems = []
    for key, value in spec.items():
        if key in ("kind", "warmup"):
            continue
        if key not in keys:
            problems.append((key, _unknown_key(key, kind)))
        else:
            problems.extend(_check_value(key, value))
    for key, default in keys.items():
        if default is REQUIRED and key not in spec:
            problems.append((key, f"is missing (kind {kind!r} needs it)"))
    if "warmup" in spec:
        problems.extend(_check_warmup(spec["warmup"]))
    return problems


def _unknown_key(key: str, kind: str) -> str:
    valid = list(KINDS[kind]) + ["kind", "warmup"]
    owners = [k for k, keys in KINDS.items() if key in keys]
    hint = f" (it belongs to kind {owners[0]!r})" if owners else ""
    return f"unknown key {key!r} for kind {kind!r}" + (nearest(key, valid) if not owners else "") + hint


def _check_value(key: str, value: Any, path: str = "") -> Problems:
    name = path + key
    if key == "milestones":
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            return [(name, f"must be a list of step numbers, not {type(value).__name__} {value!r}")]
        if not all(_is_int(v) and v >= 0 for v in value):
            return [(name, f"must hold whole numbers >= 0, not {list(value)!r}")]
        if any(b <= a for a, b in zip(value, value[1:])):
            return [(name, f"must be increasing, not {list(value)!r}")]
        return []
    if key in _INT_KEYS or key == "steps":
        if not _is_int(value):
            return [(name, f"must be a whole number, not {type(value).__name__} {value!r}")]
        return [] if value >= 1 else [(name, f"must be >= 1, not {value}")]
    if not (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))):
        return [(name, f"must be a number, not {type(value).__name__} {value!r}")]
    if not math.isfinite(value):
        return [(name, f"must be a finite number, not {value}")]
    if key == "gamma" and not value > 0:
        return [(name, f"must be > 0, not {value}")]
    if key == "eta_min" and not value >= 0:
        return [(name, f"must be >= 0, not {value}")]
    if key == "start_factor" and not 0 < value <= 1:
        return [(name, f"must be in (0, 1] (torch's LinearLR), not {value}")]
    if key == "end_factor" and not 0 <= value <= 1:
        return [(name, f"must be in [0, 1] (torch's LinearLR), not {value}")]
    return []


def _check_warmup(value: Any) -> Problems:
    if not isinstance(value, Mapping):
        return [("warmup", f"must be a table like {{ steps = 100, start_factor = 0.1 }}, not {value!r}")]
    problems: Problems = []
    for key, v in value.items():
        if key not in WARMUP:
            problems.append((f"warmup.{key}", f"unknown key {key!r} for warmup" + nearest(key, WARMUP)))
        else:
            problems.extend(_check_value(key, v, "warmup."))
    if "steps" not in value:
        problems.append(("warmup.steps", "is missing"))
    return problems


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


# ----- the schedules -------------------------------------------------------------
def make_schedule(spec: Mapping[str, Any]) -> Schedule:
    """The schedule described by ``spec`` (see the module notes); ScheduleError if it is invalid."""
    problems = validate_schedule(spec)
    if problems:
        raise ScheduleError(problems)
    kind = spec.get("kind", "constant")
    params = {k: spec.get(k, d) for k, d in KINDS[kind].items()}
    main = _BUILDERS[kind](**params)
    if "warmup" not in spec:
        return main
    warm = {k: spec["warmup"].get(k, d) for k, d in WARMUP.items()}
    return _with_warmup(main, int(warm["steps"]), float(warm["start_factor"]))


def schedule_curve(spec: Mapping[str, Any], base_lr: float, n_steps: int) -> np.ndarray:
    """lr(t) for t = 0 .. n_steps - 1 at one base rate, shape (n_steps,): for plotting."""
    steps = np.arange(int(n_steps), dtype=np.int64).reshape(-1, 1)
    return make_schedule(spec)(steps, np.full(steps.shape, float(base_lr)))[:, 0]


def _constant() -> Schedule:
    def constant(steps: np.ndarray, base_lr: np.ndarray) -> np.ndarray:
        """lr = base_lr (a copy, so the caller may edit it)."""
        return np.array(base_lr, dtype=np.float64)
    return constant


def _step(step_size: int, gamma: float) -> Schedule:
    def step(steps: np.ndarray, base_lr: np.ndarray) -> np.ndarray:
        """StepLR: lr = base * gamma^(t // step_size)."""
        return base_lr * gamma ** (np.asarray(steps) // step_size).astype(np.float64)
    return step


def _multistep(milestones: list[int], gamma: float) -> Schedule:
    marks = np.asarray(milestones, dtype=np.int64)

    def multistep(steps: np.ndarray, base_lr: np.ndarray) -> np.ndarray:
        """MultiStepLR: lr = base * gamma^(number of milestones <= t)."""
        passed = np.searchsorted(marks, np.asarray(steps), side="right").astype(np.float64)
        return base_lr * gamma ** passed
    return multistep


def _exponential(gamma: float) -> Schedule:
    def exponential(steps: np.ndarray, base_lr: np.ndarray) -> np.ndarray:
        """ExponentialLR: lr = base * gamma^t."""
        return base_lr * gamma ** np.asarray(steps, dtype=np.float64)
    return exponential


def _cosine(T_max: int, eta_min: float) -> Schedule:
    def cosine(steps: np.ndarray, base_lr: np.ndarray) -> np.ndarray:
        """CosineAnnealingLR: lr = eta_min + (base - eta_min) * (1 + cos(pi*t/T_max)) / 2, period 2*T_max."""
        t = np.asarray(steps, dtype=np.float64)
        return eta_min + (base_lr - eta_min) * (1.0 + np.cos(math.pi * t / T_max)) / 2.0
    return cosine


def _linear(start_factor: float, end_factor: float, total_iters: int) -> Schedule:
    def linear(steps: np.ndarray, base_lr: np.ndarray) -> np.ndarray:
        """LinearLR: lr = base * (start + (end - start) * min(t, total_iters) / total_iters)."""
        t = np.minimum(np.asarray(steps), total_iters).astype(np.float64)
        return base_lr * (start_factor + (end_factor - start_factor) * t / total_iters)
    return linear


def _noam(d_model: int, warmup_steps: int) -> Schedule:
    scale, ramp = float(d_model) ** -0.5, float(warmup_steps) ** -1.5

    def noam(steps: np.ndarray, base_lr: np.ndarray) -> np.ndarray:
        """The Transformer's: lr = base * d_model^-0.5 * min(s^-0.5, s * warmup_steps^-1.5), s = t + 1."""
        s = np.asarray(steps, dtype=np.float64) + 1.0
        return base_lr * (scale * np.minimum(s ** -0.5, s * ramp))
    return noam


def _with_warmup(main: Schedule, n: int, start_factor: float) -> Schedule:
    def warmed(steps: np.ndarray, base_lr: np.ndarray) -> np.ndarray:
        """SequentialLR([LinearLR(f, 1, N), main], [N]): linear ramp for t < N, then main(t - N)."""
        steps = np.asarray(steps)
        ramp = base_lr * (start_factor + (1.0 - start_factor) * np.minimum(steps, n) / n)
        after = main(np.maximum(steps - n, 0), base_lr)
        return np.where(steps < n, ramp, after)
    return warmed


_BUILDERS: dict[str, Callable[..., Schedule]] = {
    "constant": _constant, "step": _step, "multistep": _multistep, "exponential": _exponential,
    "cosine": _cosine, "linear": _linear, "noam": _noam,
}
