"""The optimizer registry: torch.optim's optimizers and the lecture's, by name.

    spec = get_optimizer("adam")
    hyper = spec.make_hyper([{"betas": (0.9, 0.98)}, {"amsgrad": True}])  # one dict per run
    state = spec.init(params)                                           # params (n, p) float64
    updates, state = spec.update(grads, state, params, lr, hyper)       # lr (n, 1)
    params = params + updates

Hyperparameters live in ``hyper`` as (n, 1) arrays, one row per run (a tuple
key such as ``betas`` becomes the fields ``beta1, beta2``); structural flags
are (n, 1) bool arrays, so runs may differ in them too. Writing into a hyper
array (or using :func:`set_hyperparameter`) changes that run from the next
update on. The implementations live in torch_equal.py and lecture.py.
"""
from __future__ import annotations

from typing import Any, Mapping

from .base import (
    HyperparameterError,
    OptimizerSpec,
    Problems,
    check_mapping,
    concat_states,
    hyper_field_keys,
    take_rows,
)
from ..errors import nearest
from .lecture import LECTURE_CHECKS, LECTURE_SPECS
from .torch_equal import TORCH_CHECKS, TORCH_SPECS

__all__ = [
    "OPTIMIZERS",
    "OptimizerSpec",
    "HyperparameterError",
    "get_optimizer",
    "validate_hyperparameters",
    "set_hyperparameter",
    "take_rows",
    "concat_states",
]

OPTIMIZERS: dict[str, OptimizerSpec] = {spec.name: spec for spec in TORCH_SPECS + LECTURE_SPECS}
"""Every optimizer by name: sgd, adagrad, rmsprop, adam, adamw, nadam, radam, and the lecture's
adagrad_lecture, rmsprop_lecture, momentum_lecture, adam_lecture."""


def get_optimizer(name: str) -> OptimizerSpec:
    """The spec called ``name``; ValueError naming the nearest valid name otherwise."""
    try:
        return OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown optimizer {name!r}" + nearest(str(name), OPTIMIZERS)) from None


def validate_hyperparameters(name: str, mapping: Mapping[str, Any]) -> Problems:
    """(key, message) for every problem in ``mapping``: unknown keys (with the nearest name), wrong types,
    non-finite numbers, and torch's own ValueError rules (messages worded as torch words them).

    ``lr`` is accepted. An unknown optimizer gives one ('optimizer', message) pair.
    """
    spec = OPTIMIZERS.get(name) if isinstance(name, str) else None
    if spec is None:
        return [("optimizer", f"unknown optimizer {name!r}" + nearest(str(name), OPTIMIZERS))]
    check = _CHECKS[name]
    return check_mapping(name, spec.defaults, spec.structural, check, mapping)


def set_hyperparameter(name: str, hyper: Any, row: int, key: str, value: Any) -> None:
    """Write one run's value of ``key`` into ``hyper`` in place (``betas`` writes beta1 and beta2).

    Validates the value alone (so a rule that couples keys, like nesterov's, is the caller's to check).
    """
    spec = get_optimizer(name)
    problems = validate_hyperparameters(name, {key: value})
    if problems:
        raise HyperparameterError(problems)
    if key == "lr":
        raise ValueError("lr is not a field of hyper: change the run's base learning rate instead")
    fields = hyper_field_keys(key, spec.defaults)
    values = value if len(fields) > 1 else (value,)
    for field, v in zip(fields, values):
        getattr(hyper, field)[row, 0] = v


_CHECKS = {**TORCH_CHECKS, **LECTURE_CHECKS}
