"""The optional JIT path for large groups: update, new parameters and their bound check in one loop.

At 100,000 runs every NumPy pass over the (n, p) arrays costs about 50 us and Adam makes a dozen;
a compiled loop makes them in one pass (issue 12's large-batch goal). The kernels (jit_kernels.py)
need numba, an optional extra (``pip install optsim[fast]``); without it, with OPTSIM_NO_JIT=1,
for groups under JIT_MIN_ROWS runs, or for a case a kernel does not cover (per-run hyperparameter
values, runs at different step counts, plain SGD, NAdam, RAdam, the lecture's optimizers), and until
the process has done enough large-batch work to pay for loading numba (engine/jit.py), ``fused_update``
returns None and the caller uses the NumPy update: the same numbers either way, bit for bit.
Nothing here imports numba until then, so start-up and short jobs never pay for it.

Scalars are computed here exactly as torch_equal.py computes them (the same helpers, in the
same order); the kernels then repeat its array operations element by element.
"""
from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from ..jit import JIT_MIN_ROWS, enabled, wanted
from .ops import columns, count, decay_split, next_step, nonzero, sqrt, uniform
from .torch_equal import AdagradState, AdamState, RMSpropState, SGDState

_UNLOADED = object()
_kernels: Any = _UNLOADED


def jit_module() -> ModuleType | None:
    """The compiled kernels, or None when numba is missing or OPTSIM_NO_JIT is set (engine/jit.py)."""
    global _kernels
    if not enabled():
        return None
    if _kernels is _UNLOADED:
        try:
            from . import jit_kernels
        except ImportError:  # pragma: no cover - enabled() already imported numba
            jit_kernels = None
        _kernels = jit_kernels
    return _kernels


def fused_update(grads: np.ndarray, state: Any, params: np.ndarray, lr: np.ndarray, hyper: Any,
                 bound: float) -> tuple[np.ndarray, Any, bool] | None:
    """(``params + update``, the new state, every new parameter within +-bound and not NaN), or None
    when the JIT does not apply (see the module notes)."""
    if params.shape[0] < JIT_MIN_ROWS or lr.shape[0] != 1 or any(np.shape(a)[0] != 1 for a in hyper):
        return None
    make = _KERNELS.get(type(state))
    if make is None or not wanted(params.shape[0]):
        return None
    out = np.empty(params.shape)  # C-contiguous, whatever the layout of params
    done = make(grads, state, params, lr, hyper, out, bound)
    return None if done is None else (out, *done)


def finite_within(loss: np.ndarray, grad: np.ndarray, bound: float) -> bool | None:
    """Every loss within +-bound and every gradient component finite, in one compiled pass; None
    without the JIT (the caller then reduces with NumPy)."""
    jit = jit_module() if loss.shape[0] >= JIT_MIN_ROWS else None
    if jit is None or not grad.flags.c_contiguous:
        return None
    return bool(jit.finite_within(loss, grad.reshape(-1), bound))


def _flat(*arrays: np.ndarray) -> list[np.ndarray]:
    return [np.ascontiguousarray(a).reshape(-1) for a in arrays]


def _l2(weight_decay: Any) -> tuple[float, bool]:
    """The coupled weight decay as a float, and whether ops.coupled adds it (it skips a zero)."""
    return float(np.asarray(weight_decay).reshape(-1)[0]), bool(nonzero(weight_decay))


def _adam(grads, state: AdamState, params, lr, hyper, out, bound):
    step = next_step(state.step)
    s = uniform(step)
    jit = jit_module() if s.shape[0] == 1 else None
    if jit is None:
        return None
    lr_, b1, b2, eps, b1t, b2t = columns(lr, hyper.beta1, hyper.beta2, hyper.eps, hyper.beta1 ** s, hyper.beta2 ** s)
    l2, dwd = decay_split(hyper)
    ams = bool(hyper.amsgrad[0, 0])
    decay_f = 0.0
    if dwd is not None:
        lr_d, wd_d = columns(lr, dwd)
        decay_f = 1.0 - lr_d * wd_d
    m, v = np.empty_like(params), np.empty_like(params)
    vmax = np.empty_like(params) if ams else state.max_exp_avg_sq
    ok = jit.adam(*_flat(params, grads, state.exp_avg, state.exp_avg_sq, state.max_exp_avg_sq),
                  out.reshape(-1), m.reshape(-1), v.reshape(-1), vmax.reshape(-1), *_l2(l2),
                  1.0 - b1, b2, 1.0 - b2, sqrt(1.0 - b2t), eps, -lr_ / (1.0 - b1t),
                  decay_f, dwd is not None, ams, bound)
    return AdamState(step, m, v, vmax), bool(ok)


def _sgd(grads, state: SGDState, params, lr, hyper, out, bound):
    # Plain gradient descent is two NumPy passes: too little to win back numba's start-up.
    has, size = count(state.has_buffer)
    jit = jit_module() if nonzero(hyper.momentum != 0.0) and has in (0, size) else None
    if jit is None:
        return None
    l2 = _l2(hyper.weight_decay)
    lr_, mu, damp = columns(lr, hyper.momentum, hyper.dampening)
    buf = np.empty_like(params)
    ok = jit.sgd_momentum(*_flat(params, grads, state.momentum_buffer), out.reshape(-1), buf.reshape(-1), *l2,
                          mu, 1.0 - damp, has == size, bool(hyper.nesterov[0, 0]), -lr_, bound)
    return SGDState(buf, np.ones_like(state.has_buffer)), bool(ok)


def _rmsprop(grads, state: RMSpropState, params, lr, hyper, out, bound):
    jit = jit_module()
    if jit is None:
        return None
    lr_, alpha, eps, mu = columns(lr, hyper.alpha, hyper.eps, hyper.momentum)
    centered, use_buf = bool(hyper.centered[0, 0]), mu > 0.0
    sq = np.empty_like(params)
    ga = np.empty_like(params) if centered else state.grad_avg
    buf = np.empty_like(params) if use_buf else state.momentum_buffer
    ok = jit.rmsprop(*_flat(params, grads, state.square_avg, state.grad_avg, state.momentum_buffer),
                     out.reshape(-1), sq.reshape(-1), ga.reshape(-1), buf.reshape(-1),
                     *_l2(hyper.weight_decay), alpha, 1.0 - alpha, eps, centered, mu, use_buf, -lr_, bound)
    return RMSpropState(next_step(state.step), sq, ga, buf), bool(ok)


def _adagrad(grads, state: AdagradState, params, lr, hyper, out, bound):
    step = next_step(state.step)
    t_col, first = uniform(step), uniform(state.step)
    jit = jit_module() if t_col.shape[0] == 1 else None
    if jit is None:
        return None
    lr_, t, decay, eps = columns(lr, t_col, hyper.lr_decay, hyper.eps)
    clr = lr_ / (1.0 + (t - 1.0) * decay)
    initial = float(hyper.initial_accumulator_value[0, 0]) if first[0, 0] == 0.0 else 0.0
    acc = np.empty_like(params)
    ok = jit.adagrad(*_flat(params, grads, state.sum), out.reshape(-1), acc.reshape(-1), *_l2(hyper.weight_decay),
                     initial, bool(nonzero(hyper.initial_accumulator_value)), eps, -clr, bound)
    return AdagradState(step, acc), bool(ok)


_KERNELS = {AdamState: _adam, SGDState: _sgd, RMSpropState: _rmsprop, AdagradState: _adagrad}
