"""torch_equal's updates for a group of ONE run, on Python floats.

A scenario of a few runs with different optimizers steps groups of one run each; there a
dozen NumPy calls on (1, p) arrays cost far more than the arithmetic. These functions do
the same operations in the same order on Python floats: + - * / and sqrt are correctly
rounded in both (the same bits), and the powers stay NumPy's (see ops.py). Each returns
None where Python would raise (x/0, sqrt of a negative number) and the array path then
gives NumPy's inf/nan. torch_equal's update functions call them first for one run; the
tests check them against the array path bit for bit.

The ``*Floats`` steppers keep one run's state itself as floats between steps, for the
simulation's path where every group is one run (engine.core.simulation): the same
arithmetic (the ``_*_core`` functions' operations, written out again in each ``move``),
no arrays per step. ``move`` makes a step and returns the new point, ``undo`` takes the
last step back (so that a step that raises, or that diverges, leaves the state as it was
for the array path to redo), and ``state`` gives the NamedTuple of arrays back.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

_sqrt = math.sqrt  # the cores get floats only: correctly rounded, as np.sqrt (ops.sqrt)

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


def _coupled(g: list[float], p: list[float], l2: float) -> list[float]:
    """torch's L2 weight decay p*wd + g on floats (ops.coupled)."""
    return [pj * l2 + gj for gj, pj in zip(g, p)] if l2 else g


def _sgd_core(g: list[float], old: list[float] | None, mu: float, damp: float, nesterov: bool,
              lr_: float) -> tuple[list[float], list[float] | None]:
    """(update, buffer): old is None before the first step with momentum."""
    if not mu:  # plain gradient descent: torch keeps no buffer
        return [gj * -lr_ for gj in g], old
    buf = [b * mu + gj * (1.0 - damp) for b, gj in zip(old, g)] if old is not None else g
    direction = [gj + b * mu for gj, b in zip(g, buf)] if nesterov else buf
    return [d * -lr_ for d in direction], buf


def sgd_one(grads, state, params, lr, hyper):
    """sgd_update (ops.coupled, the buffer, Nesterov) for one run."""
    lr_, mu, damp, wd = (a.item() for a in (lr, hyper.momentum, hyper.dampening, hyper.weight_decay))
    g, _ = _gradient(grads, params, wd)
    if not mu:
        return _row(_sgd_core(g, None, mu, damp, False, lr_)[0]), state
    old = state.momentum_buffer[0].tolist() if state.has_buffer.item() else None
    upd, buf = _sgd_core(g, old, mu, damp, bool(hyper.nesterov.item()), lr_)
    return _row(upd), type(state)(_row(buf), _ON)


def _adagrad_core(g: list[float], acc_old: list[float], t: float, first: float, lr_: float, decay: float,
                  eps: float, initial: float) -> tuple[list[float], list[float]]:
    """(update, accumulator) at update t; ``first`` is the initial accumulator value on update 1, else 0."""
    clr = lr_ / (1.0 + (t - 1.0) * decay)
    acc, upd = [], []  # one loop (a comprehension per line costs more than its arithmetic)
    for gj, s in zip(g, acc_old):
        a = gj * gj + s
        if initial:
            a = a + first
        acc.append(a)
        upd.append(gj * -clr / (_sqrt(a) + eps))
    return upd, acc


def adagrad_one(grads, state, params, lr, hyper):
    """adagrad_update (decayed rate, the accumulator, its initial value on update 1) for one run."""
    step = state.step + 1.0
    lr_, t, decay, eps, wd, initial = (a.item() for a in (lr, step, hyper.lr_decay, hyper.eps,
                                                           hyper.weight_decay, hyper.initial_accumulator_value))
    first = initial if state.step.item() == 0.0 else 0.0
    g, _ = _gradient(grads, params, wd)
    upd, acc = _adagrad_core(g, state.sum[0].tolist(), t, first, lr_, decay, eps, initial)
    return _row(upd), type(state)(step, _row(acc))


def _rmsprop_core(g: list[float], sq_old: list[float], ga_old: list[float] | None, buf_old: list[float],
                  lr_: float, alpha: float, eps: float, mu: float):
    """(update, square average, grad average or None when not centered, momentum buffer or None)."""
    w = 1.0 - alpha
    sq, upd, b = [], [], []
    avg_g = None if ga_old is None else []
    for j, gj in enumerate(g):  # one loop (a comprehension per line costs more than its arithmetic)
        v = sq_old[j] * alpha + (gj * w) * gj
        sq.append(v)
        if avg_g is not None:
            a = (gj - ga_old[j]) * w + ga_old[j]  # ops.lerp
            avg_g.append(a)
            avg = _sqrt(v - a * a) + eps
        else:
            avg = _sqrt(v) + eps
        if mu > 0.0:
            b.append(buf_old[j] * mu + gj / avg)
            upd.append(b[-1] * -lr_)
        else:
            upd.append(gj * -lr_ / avg)
    return upd, sq, avg_g, (b if mu > 0.0 else None)


def rmsprop_one(grads, state, params, lr, hyper):
    """rmsprop_update (square average, centered, momentum) for one run."""
    lr_, alpha, eps, mu, wd = (a.item() for a in (lr, hyper.alpha, hyper.eps, hyper.momentum, hyper.weight_decay))
    g, _ = _gradient(grads, params, wd)
    centered = hyper.centered.item()
    upd, sq, avg_g, b = _rmsprop_core(g, state.square_avg[0].tolist(), state.grad_avg[0].tolist() if centered else None,
                                      state.momentum_buffer[0].tolist(), lr_, alpha, eps, mu)
    ga = _row(avg_g) if centered else state.grad_avg
    buf = _row(b) if b is not None else state.momentum_buffer
    return _row(upd), type(state)(state.step + 1.0, _row(sq), ga, buf)


def _adam_core(g: list[float], p: list[float], m_old: list[float], v_old: list[float], lr_: float, b1: float,
               b2: float, b1t: float, b2t: float, eps: float, dwd: float):
    """(update, m, v) of Adam without AMSGrad; b1t, b2t are the betas to the power t (NumPy's)."""
    w1, w2, c2, size, keep = 1.0 - b1, 1.0 - b2, _sqrt(1.0 - b2t), -lr_ / (1.0 - b1t), 1.0 - lr_ * dwd
    m, v, upd = [], [], []
    for gj, mj, vj, pj in zip(g, m_old, v_old, p):  # one loop (a comprehension per line costs more)
        mj = (gj - mj) * w1 + mj  # ops.lerp
        vj = vj * b2 + (gj * w2) * gj  # ops.square_avg
        u = mj * size / (_sqrt(vj) / c2 + eps)
        m.append(mj)
        v.append(vj)
        upd.append((pj * keep + u) - pj if dwd else u)  # ops.decoupled
    return upd, m, v


def adam_one(grads, state, params, lr, hyper):
    """adam_update without AMSGrad (L2 or decoupled weight decay) for one run."""
    step = state.step + 1.0
    b1t, b2t = (hyper.beta1 ** step).item(), (hyper.beta2 ** step).item()
    lr_, b1, b2, eps, wd = (a.item() for a in (lr, hyper.beta1, hyper.beta2, hyper.eps, hyper.weight_decay))
    dwd = wd if hyper.decoupled_weight_decay.item() else 0.0
    g, p = _gradient(grads, params, 0.0 if dwd else wd)
    upd, m, v = _adam_core(g, p, state.exp_avg[0].tolist(), state.exp_avg_sq[0].tolist(), lr_, b1, b2, b1t, b2t,
                           eps, dwd)
    return _row(upd), type(state)(step, _row(m), _row(v), state.max_exp_avg_sq)


# ----- steppers that keep one run's state as floats --------------------------------------------
class _Powers:
    """beta ** t for t = 1, 2, ... taken by NumPy a block at a time: the bits of ``beta ** step``
    on (1, 1) arrays (both contiguous, the same SIMD loop; a test checks), one call per block."""

    BLOCK = 512

    def __init__(self, beta: float) -> None:
        self.beta, self.start, self.values = beta, -self.BLOCK, []

    def fill(self, t: float) -> int:
        """Take the block starting at step t; returns t's place in it (0)."""
        self.start = int(t)
        self.values = np.power(np.full(self.BLOCK, self.beta), np.arange(self.start, self.start + self.BLOCK,
                                                                         dtype=np.float64)).tolist()
        return 0

    def __call__(self, t: float) -> float:
        k = int(t) - self.start
        if not 0 <= k < self.BLOCK:
            k = self.fill(t)
        return self.values[k]


def _items(*arrays: np.ndarray) -> list[float]:
    return [a.item() for a in arrays]


# Each stepper's ``move(g, p, lr)`` makes one update and returns the new point, each coordinate
# ``p + update`` (the array path's ``old + updates``) with the update computed as the ``_*_core``
# above computes it, the same operations in the same order, inline: a tick of a few runs is
# mostly Python's own overhead, and a call and a list per run are a good part of it. ``move``
# keeps the new state at once (computed fully before anything is kept, so a step that raises
# keeps nothing) and ``undo`` puts back the state before the last move, for the rare step the
# array path must redo.
class SGDFloats:
    """sgd_update's state for one run as floats."""

    def __init__(self, state: Any, hyper: Any) -> None:
        self.kind = type(state)
        self.mu, self.damp, self.l2 = _items(hyper.momentum, hyper.dampening, hyper.weight_decay)
        self.nesterov = bool(hyper.nesterov.item())
        self.buf = self._old = state.momentum_buffer[0].tolist() if state.has_buffer.item() else None
        self._zeros = state.momentum_buffer  # the (1, p) buffer while there is none (momentum 0)

    def move(self, g: Sequence[float], p: list[float], lr: float) -> list[float]:
        if self.l2:
            g = _coupled(g, p, self.l2)
        mu = self.mu
        if not mu:  # plain gradient descent: torch keeps no buffer
            return [pj + gj * -lr for gj, pj in zip(g, p)]
        old = self.buf
        if old is None:
            buf = g
        else:
            damp = self.damp
            buf = [b * mu + gj * (1.0 - damp) for b, gj in zip(old, g)]
        direction = [gj + b * mu for gj, b in zip(g, buf)] if self.nesterov else buf
        self._old, self.buf = old, buf
        return [pj + d * -lr for pj, d in zip(p, direction)]

    def undo(self) -> None:
        self.buf = self._old

    def state(self) -> Any:
        if self.buf is None:
            return self.kind(self._zeros, np.zeros((1, 1), dtype=np.bool_))
        return self.kind(_row(list(self.buf)), _ON)

    def sigma(self) -> list[float] | None:
        return None


class AdagradFloats:
    """adagrad_update's state for one run as floats."""

    def __init__(self, state: Any, hyper: Any) -> None:
        self.kind = type(state)
        self.t, self.decay, self.eps, self.l2, self.initial = _items(
            state.step, hyper.lr_decay, hyper.eps, hyper.weight_decay, hyper.initial_accumulator_value)
        self.acc = state.sum[0].tolist()
        self._old = (self.t, self.acc)

    def move(self, g: Sequence[float], p: list[float], lr: float) -> list[float]:
        """_adagrad_core's update, added to the point."""
        t, initial, eps = self.t + 1.0, self.initial, self.eps
        first = initial if self.t == 0.0 else 0.0
        if self.l2:
            g = _coupled(g, p, self.l2)
        clr = lr / (1.0 + (t - 1.0) * self.decay)
        acc, q = [], []
        for gj, s, pj in zip(g, self.acc, p):
            a = gj * gj + s
            if initial:
                a = a + first
            acc.append(a)
            q.append(pj + gj * -clr / (_sqrt(a) + eps))
        self._old = (self.t, self.acc)
        self.t, self.acc = t, acc
        return q

    def undo(self) -> None:
        self.t, self.acc = self._old

    def state(self) -> Any:
        return self.kind(np.array([[self.t]]), _row(self.acc))

    def sigma(self) -> list[float] | None:
        """inspect's sigma: sqrt of the sum (NaN before the first update)."""
        return _nan_sqrts(self.acc) if self.t > 0.0 else [math.nan] * len(self.acc)


class RMSpropFloats:
    """rmsprop_update's state for one run as floats."""

    def __init__(self, state: Any, hyper: Any) -> None:
        self.kind = type(state)
        self.t, self.alpha, self.eps, self.mu, self.l2 = _items(state.step, hyper.alpha, hyper.eps, hyper.momentum,
                                                                hyper.weight_decay)
        self.centered = bool(hyper.centered.item())
        self.sq = state.square_avg[0].tolist()
        self.ga = state.grad_avg[0].tolist()
        self.buf = state.momentum_buffer[0].tolist()
        self._old = (self.t, self.sq, self.ga, self.buf)

    def move(self, g: Sequence[float], p: list[float], lr: float) -> list[float]:
        """_rmsprop_core's update, added to the point."""
        if self.l2:
            g = _coupled(g, p, self.l2)
        alpha, eps, mu, centered = self.alpha, self.eps, self.mu, self.centered
        w = 1.0 - alpha
        sq, ga, buf, q = [], [], [], []
        for gj, s, a_old, b_old, pj in zip(g, self.sq, self.ga, self.buf, p):
            v = s * alpha + (gj * w) * gj
            sq.append(v)
            if centered:
                a = (gj - a_old) * w + a_old  # ops.lerp
                ga.append(a)
                avg = _sqrt(v - a * a) + eps
            else:
                avg = _sqrt(v) + eps
            if mu > 0.0:
                b = b_old * mu + gj / avg
                buf.append(b)
                q.append(pj + b * -lr)
            else:
                q.append(pj + gj * -lr / avg)
        self._old = (self.t, self.sq, self.ga, self.buf)
        self.t, self.sq = self.t + 1.0, sq
        if centered:
            self.ga = ga
        if mu > 0.0:
            self.buf = buf
        return q

    def undo(self) -> None:
        self.t, self.sq, self.ga, self.buf = self._old

    def state(self) -> Any:
        return self.kind(np.array([[self.t]]), _row(self.sq), _row(self.ga), _row(self.buf))

    def sigma(self) -> list[float] | None:
        """inspect's sigma: sqrt(v), or sqrt(v - gbar^2) when centered (NaN before the first update)."""
        if self.t <= 0.0:
            return [math.nan] * len(self.sq)
        if self.centered:
            return _nan_sqrts([v - a * a for v, a in zip(self.sq, self.ga)])
        return _nan_sqrts(self.sq)


class AdamFloats:
    """adam_update's state (Adam and AdamW, without AMSGrad) for one run as floats."""

    def __init__(self, state: Any, hyper: Any) -> None:
        self.kind = type(state)
        self.t, self.b1, self.b2, self.eps, wd = _items(state.step, hyper.beta1, hyper.beta2, hyper.eps,
                                                        hyper.weight_decay)
        self.dwd = wd if hyper.decoupled_weight_decay.item() else 0.0
        self.l2 = 0.0 if self.dwd else wd
        self.m, self.v = state.exp_avg[0].tolist(), state.exp_avg_sq[0].tolist()
        self.vmax = state.max_exp_avg_sq
        self.p2 = _Powers(self.b2)
        self._w1, self._w2 = 1.0 - self.b1, 1.0 - self.b2
        self._lr: float | None = None  # the rate the factors below were made for
        self._start, self._b2t, self._c2, self._size, self._keep = -_Powers.BLOCK, [], [], [], 1.0
        self._old = (self.t, self.m, self.v)

    def _factors(self, t: float, lr: float) -> int:
        """The per-step factors of _adam_core for the block of steps from t: sqrt(1 - beta2^t) and
        -lr / (1 - beta1^t), with the powers as _Powers takes them; NumPy's subtraction, division
        and square root are correctly rounded, as Python's, so the bits are the same. Returns t's
        place in the block (0)."""
        self._lr, self._start = lr, int(t)
        steps = np.arange(self._start, self._start + _Powers.BLOCK, dtype=np.float64)
        b1t = np.power(np.full(_Powers.BLOCK, self.b1), steps)
        b2t = np.power(np.full(_Powers.BLOCK, self.b2), steps)
        self._b2t = b2t.tolist()
        with np.errstate(all="ignore"):  # beta1 = 1 or beta2 > 1: inf or NaN, which sends the step to the array path
            self._c2 = np.sqrt(1.0 - b2t).tolist()
            self._size = (-lr / (1.0 - b1t)).tolist()
        self._keep = 1.0 - lr * self.dwd
        return 0

    def move(self, g: Sequence[float], p: list[float], lr: float) -> list[float]:
        """_adam_core's update, added to the point."""
        t = self.t + 1.0
        k = int(t) - self._start
        if not 0 <= k < _Powers.BLOCK or lr != self._lr:
            k = self._factors(t, lr)
        b2, eps, w1, w2, c2, size = self.b2, self.eps, self._w1, self._w2, self._c2[k], self._size[k]
        if self.l2:
            g = _coupled(g, p, self.l2)
        m, v, q = [], [], []
        if self.dwd:
            keep = self._keep
            for gj, mj, vj, pj in zip(g, self.m, self.v, p):
                mj = (gj - mj) * w1 + mj  # ops.lerp
                vj = vj * b2 + (gj * w2) * gj  # ops.square_avg
                m.append(mj)
                v.append(vj)
                q.append(pj + ((pj * keep + mj * size / (_sqrt(vj) / c2 + eps)) - pj))  # ops.decoupled
        else:
            for gj, mj, vj, pj in zip(g, self.m, self.v, p):
                mj = (gj - mj) * w1 + mj
                vj = vj * b2 + (gj * w2) * gj
                m.append(mj)
                v.append(vj)
                q.append(pj + mj * size / (_sqrt(vj) / c2 + eps))
        self._old = (self.t, self.m, self.v)
        self.t, self.m, self.v = t, m, v
        return q

    def undo(self) -> None:
        self.t, self.m, self.v = self._old

    def state(self) -> Any:
        return self.kind(np.array([[self.t]]), _row(self.m), _row(self.v), self.vmax)

    def sigma(self) -> list[float] | None:
        """inspect's sigma: sqrt(v / (1 - beta2^t)) (NaN before the first update)."""
        t = self.t
        if t <= 0.0:
            return [math.nan] * len(self.v)
        k = int(t) - self._start  # the block the last steps took their factors from holds beta2^t
        bias = 1.0 - (self._b2t[k] if 0 <= k < _Powers.BLOCK else self.p2(t))
        return _nan_sqrts([v / bias for v in self.v])


def _nan_sqrts(values: list[float]) -> list[float]:
    """np.sqrt of each float: math.sqrt's bits, NaN for a negative number (math.sqrt raises)."""
    try:
        return list(map(_sqrt, values))
    except ValueError:
        return [_nan_sqrt(x) for x in values]


def _nan_sqrt(x: float) -> float:
    """np.sqrt on a float: NaN for a negative number instead of Python's ValueError."""
    return math.sqrt(x) if x >= 0.0 or x != x else math.nan


FLOAT_STEPPERS = {"sgd": SGDFloats, "adagrad": AdagradFloats, "rmsprop": RMSpropFloats, "adam": AdamFloats,
                  "adamw": AdamFloats}


def float_stepper(name: str, state: Any, hyper: Any) -> Any | None:
    """A stepper keeping this one run's state as floats, or None where the array path must step it
    (another optimizer, AMSGrad)."""
    cls = FLOAT_STEPPERS.get(name)
    if cls is None or (cls is AdamFloats and bool(hyper.amsgrad.item())):
        return None
    return cls(state, hyper)
