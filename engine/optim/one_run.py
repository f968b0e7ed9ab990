"""torch_equal's updates for a group of ONE run, on Python floats.

A scenario of a few runs with different optimizers steps groups of one run each; there a
dozen NumPy calls on (1, p) arrays cost far more than the arithmetic. These functions do
the same operations in the same order on Python floats: + - * / and sqrt are correctly
rounded in both (the same bits), and the powers stay NumPy's (see ops.py). Each returns
None where Python would raise (x/0, sqrt of a negative number) and the array path then
gives NumPy's inf/nan. torch_equal's update functions call them first for one run; the
tests check them against the array path bit for bit.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .ops import sqrt

_ON = np.ones((1, 1), dtype=np.bool_)
_ON.flags.writeable = False


def first_try(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, or None when Python's float arithmetic raised (the array path decides)."""
    try:
        return fn(*args)
    except (ArithmeticError, ValueError):
        return None


def _row(values: list[float]) -> np.ndarray:
    return np.array([values])


def _gradient(grads: np.ndarray, params: np.ndarray, l2: float) -> tuple[list[float], list[float]]:
    """(gradient with torch's L2 weight decay p*wd + g, params) as lists (ops.coupled)."""
    g, p = grads[0].tolist(), params[0].tolist()
    return ([pj * l2 + gj for gj, pj in zip(g, p)] if l2 else g), p


def sgd_one(grads, state, params, lr, hyper):
    """sgd_update (ops.coupled, the buffer, Nesterov) for one run."""
    lr_, mu, damp, wd = (a.item() for a in (lr, hyper.momentum, hyper.dampening, hyper.weight_decay))
    g, _ = _gradient(grads, params, wd)
    if not mu:  # plain gradient descent: torch keeps no buffer
        return _row([gj * -lr_ for gj in g]), state
    old = state.momentum_buffer[0].tolist()
    buf = [b * mu + gj * (1.0 - damp) for b, gj in zip(old, g)] if state.has_buffer.item() else g
    direction = [gj + b * mu for gj, b in zip(g, buf)] if hyper.nesterov.item() else buf
    return _row([d * -lr_ for d in direction]), type(state)(_row(buf), _ON)


def adagrad_one(grads, state, params, lr, hyper):
    """adagrad_update (decayed rate, the accumulator, its initial value on update 1) for one run."""
    step = state.step + 1.0
    lr_, t, decay, eps, wd, initial = (a.item() for a in (lr, step, hyper.lr_decay, hyper.eps,
                                                           hyper.weight_decay, hyper.initial_accumulator_value))
    first = initial if state.step.item() == 0.0 else 0.0
    g, _ = _gradient(grads, params, wd)
    clr = lr_ / (1.0 + (t - 1.0) * decay)
    acc = [gj * gj + s for gj, s in zip(g, state.sum[0].tolist())]
    if initial:
        acc = [a + first for a in acc]
    upd = [gj * -clr / (sqrt(a) + eps) for gj, a in zip(g, acc)]
    return _row(upd), type(state)(step, _row(acc))


def rmsprop_one(grads, state, params, lr, hyper):
    """rmsprop_update (square average, centered, momentum) for one run."""
    lr_, alpha, eps, mu, wd = (a.item() for a in (lr, hyper.alpha, hyper.eps, hyper.momentum, hyper.weight_decay))
    g, _ = _gradient(grads, params, wd)
    sq = [v * alpha + (gj * (1.0 - alpha)) * gj for v, gj in zip(state.square_avg[0].tolist(), g)]
    ga = state.grad_avg
    if hyper.centered.item():
        avg_g = [(gj - a) * (1.0 - alpha) + a for gj, a in zip(g, ga[0].tolist())]  # ops.lerp
        avg = [sqrt(v - a * a) + eps for v, a in zip(sq, avg_g)]
        ga = _row(avg_g)
    else:
        avg = [sqrt(v) + eps for v in sq]
    buf = state.momentum_buffer
    if mu > 0.0:
        b = [old * mu + gj / a for old, gj, a in zip(buf[0].tolist(), g, avg)]
        upd, buf = [x * -lr_ for x in b], _row(b)
    else:
        upd = [gj * -lr_ / a for gj, a in zip(g, avg)]
    return _row(upd), type(state)(state.step + 1.0, _row(sq), ga, buf)


def adam_one(grads, state, params, lr, hyper):
    """adam_update without AMSGrad (L2 or decoupled weight decay) for one run."""
    step = state.step + 1.0
    b1t, b2t = (hyper.beta1 ** step).item(), (hyper.beta2 ** step).item()
    lr_, b1, b2, eps, wd = (a.item() for a in (lr, hyper.beta1, hyper.beta2, hyper.eps, hyper.weight_decay))
    dwd = wd if hyper.decoupled_weight_decay.item() else 0.0
    g, p = _gradient(grads, params, 0.0 if dwd else wd)
    w1, w2, c2, size, keep = 1.0 - b1, 1.0 - b2, sqrt(1.0 - b2t), -lr_ / (1.0 - b1t), 1.0 - lr_ * dwd
    m = [(gj - mj) * w1 + mj for gj, mj in zip(g, state.exp_avg[0].tolist())]  # ops.lerp
    v = [vj * b2 + (gj * w2) * gj for gj, vj in zip(g, state.exp_avg_sq[0].tolist())]  # ops.square_avg
    upd = [mj * size / (sqrt(vj) / c2 + eps) for mj, vj in zip(m, v)]
    if dwd:
        upd = [(pj * keep + u) - pj for pj, u in zip(p, upd)]  # ops.decoupled
    return _row(upd), type(state)(step, _row(m), _row(v), state.max_exp_avg_sq)
