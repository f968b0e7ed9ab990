"""Read an optimizer's state the way the lecture talks about it: sigma and momentum.

The simulator shows the mechanism behind a trajectory (issue 11): each coordinate's sigma,
the effective rate lr/sigma, the remembered momentum. Those quantities live in the
optimizers' NamedTuple states under each optimizer's own names and conventions; these pure
functions read them (never write) so that no widget does the math. Every function takes a
state (and the hyperparameters it needs) for n runs and returns an (n, p) array, NaN for a
run that has no such quantity yet (no update made, momentum 0), or None when the optimizer
has no such quantity at all (plain SGD has no sigma, Adagrad no momentum).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .ops import nonzero, uniform
from .lecture import AdagradLectureState, AdamLectureState, MomentumLectureState, RMSPropLectureState
from .torch_equal import AdagradState, AdamState, NAdamState, RAdamState, RMSpropState, SGDState


def _before_first(step: np.ndarray, value: np.ndarray) -> np.ndarray:
    """NaN for the runs that have made no update yet (their sigma is not defined); ``value``
    itself when every run has (read at every stored tick of the history: one check, no copy)."""
    started = step > 0.0
    if nonzero(started) == started.size:
        return value
    return np.where(started, value, np.nan)


def _adagrad_lecture(state: AdagradLectureState, hyper: Any) -> np.ndarray:
    """sigma_t = sqrt(sum of g^2 / t): the root MEAN square its last update divided by."""
    return _before_first(state.step, np.sqrt(state.sum_sq / state.step))


def _adagrad(state: AdagradState, hyper: Any) -> np.ndarray:
    """torch's Adagrad divides by the root of the SUM (initial accumulator included)."""
    return _before_first(state.step, np.sqrt(state.sum))


def _rmsprop_lecture(state: RMSPropLectureState, hyper: Any) -> np.ndarray:
    return _before_first(state.step, np.sqrt(state.square_avg))


def _rmsprop(state: RMSpropState, hyper: Any) -> np.ndarray:
    """sqrt(v), or sqrt(v - gbar^2) for a centered run, as torch's RMSprop divides."""
    centered = np.asarray(hyper.centered, dtype=bool)
    var = state.square_avg
    if nonzero(centered):
        var = np.where(centered, var - state.grad_avg ** 2, var)
    return _before_first(state.step, np.sqrt(var))


def _adam_like(state: Any, hyper: Any) -> np.ndarray:
    """Adam, AdamW, NAdam, RAdam: sqrt(v / (1 - beta2^t)), the bias-corrected denominator
    (AMSGrad runs divide by their running maximum of v)."""
    v = state.exp_avg_sq
    ams = getattr(hyper, "amsgrad", None)
    if ams is not None and nonzero(ams):
        v = np.where(ams, state.max_exp_avg_sq, v)
    # runs in lockstep share one power (the same bits, see ops.uniform)
    bias = 1.0 - hyper.beta2 ** uniform(state.step)
    return _before_first(state.step, np.sqrt(v / bias))


def _adam_lecture(state: AdamLectureState, hyper: Any) -> np.ndarray:
    """sigma / sqrt(c2), c2 = 1 - beta2^t (bias correction) or the notes' 1 - beta2."""
    c2 = np.where(hyper.bias_correction, 1.0 - hyper.beta2 ** state.step, 1.0 - hyper.beta2)
    return _before_first(state.step, np.sqrt(state.square_avg / c2))


_SIGMA: dict[type, Callable[[Any, Any], np.ndarray]] = {
    AdagradLectureState: _adagrad_lecture,
    AdagradState: _adagrad,
    RMSPropLectureState: _rmsprop_lecture,
    RMSpropState: _rmsprop,
    AdamState: _adam_like,
    NAdamState: _adam_like,
    RAdamState: _adam_like,
    AdamLectureState: _adam_lecture,
}


def sigma(state: Any, hyper: Any) -> np.ndarray | None:
    """Each coordinate's sigma, the scale the last update divided the gradient by (eps left
    out), in the optimizer's own terms; None for an optimizer that divides by nothing."""
    with np.errstate(all="ignore"):  # 0/0 before the first step: NaN, then masked
        return sigma_quiet(state, hyper)


def sigma_quiet(state: Any, hyper: Any) -> np.ndarray | None:
    """:func:`sigma` for a caller already inside ``np.errstate(all="ignore")`` (the simulation's
    step records it at every stored tick, where entering errstate per group would cost more)."""
    read = _SIGMA.get(type(state))
    return None if read is None else read(state, hyper)


def momentum(state: Any, hyper: Any) -> np.ndarray | None:
    """The remembered movement, pointing the way it pushes the point: the lecture's momentum
    keeps the movement m itself; torch's SGD/RMSprop buffer and Adam's m average gradients, so
    they push along -buffer. NaN rows for runs without one (momentum 0, no step yet); None for
    an optimizer that keeps no momentum."""
    if isinstance(state, MomentumLectureState):
        return np.array(state.movement, dtype=float)
    if isinstance(state, SGDState):
        on = np.asarray(state.has_buffer, dtype=bool) & (np.asarray(hyper.momentum) != 0.0)
        return np.where(on, -state.momentum_buffer, np.nan)
    if isinstance(state, RMSpropState):
        return np.where(np.asarray(hyper.momentum) > 0.0, -state.momentum_buffer, np.nan)
    if isinstance(state, (AdamState, NAdamState, RAdamState)):
        return _before_first(state.step, -state.exp_avg)
    if isinstance(state, AdamLectureState):
        return _before_first(state.step, -state.momentum)
    return None


def has_momentum(state: Any) -> bool:
    """Whether the optimizer keeps a momentum at all (whatever its runs' values)."""
    return isinstance(state, (MomentumLectureState, SGDState, RMSpropState, AdamState, NAdamState, RAdamState,
                              AdamLectureState))


def effective_rate(lr: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """lr / sigma per coordinate: how far one unit of gradient moves the point (NaN where
    sigma is 0 or undefined). ``lr`` (k,) or (k, 1) broadcasts over the coordinates."""
    lr = np.asarray(lr, dtype=float)
    if lr.ndim == 1 and np.ndim(sigmas) == 2:
        lr = lr[:, None]
    with np.errstate(all="ignore"):
        return np.where(sigmas > 0.0, lr / sigmas, np.nan)
