"""Numba kernels: one loop per optimizer that makes the update, the new parameters and their bound check.

Imported only by fused.py, and only when a group of many runs steps with numba installed (the
``fast`` extra) and OPTSIM_NO_JIT unset: nothing else pays for importing numba. Each kernel
performs, element by element, exactly the operations of the NumPy update in torch_equal.py in
the same order (no fastmath, no fused multiply-add: LLVM contracts nothing that numba does not
mark), so the results are the same bits; tests/engine/test_fused.py compares the two paths bit for bit.
Scalars arrive already computed by the caller the way the NumPy path computes them.
Compiled kernels are cached on disk (``cache=True``: next to this file, or numba's per-user
cache folder where that is read-only), so only the first use on a machine compiles.
"""
from __future__ import annotations

import numpy as np
from numba import njit

_JIT = dict(cache=True, nogil=True, error_model="numpy", fastmath=False)


@njit(**_JIT)
def _g(p: float, gr: float, l2: float, has_l2: bool) -> float:
    """torch's coupled weight decay ``grad + wd*theta``, computed as ops.coupled does (p*wd, then + grad)."""
    return p * l2 + gr if has_l2 else gr


@njit(**_JIT)
def adam(p, gr, m, v, vmax, out_p, out_m, out_v, out_vmax, l2, has_l2, w1, b2, omb2, c2, eps, k,
         decay_f, has_decay, ams, bound):
    """Adam/AdamW: m = (g - m)*w1 + m; v = v*b2 + (g*omb2)*g; den = sqrt(v or max)/c2 + eps;
    u = m*k/den; decoupled: u = (p*decay_f + u) - p. Returns whether every new parameter is in bounds."""
    ok = True
    for i in range(p.shape[0]):
        pi = p[i]
        g = _g(pi, gr[i], l2, has_l2)
        mi = (g - m[i]) * w1 + m[i]
        vi = v[i] * b2 + (g * omb2) * g
        out_m[i] = mi
        out_v[i] = vi
        if ams:
            a, b = vmax[i], vi
            vi = a if (a > b or a != a) else b  # np.maximum: NaN propagates
            out_vmax[i] = vi
        den = np.sqrt(vi) / c2 + eps
        u = mi * k / den
        if has_decay:
            u = (pi * decay_f + u) - pi
        q = pi + u
        out_p[i] = q
        ok &= -bound <= q <= bound
    return ok


@njit(**_JIT)
def sgd_momentum(p, gr, buf, out_p, out_buf, l2, has_l2, mu, omd, has_buffer, nesterov, neg_lr, bound):
    """b = b*mu + g*omd (b = g on the first step); d = g + b*mu (Nesterov) or b; u = d*(-lr)."""
    ok = True
    for i in range(p.shape[0]):
        pi = p[i]
        g = _g(pi, gr[i], l2, has_l2)
        b = buf[i] * mu + g * omd if has_buffer else g
        out_buf[i] = b
        d = g + b * mu if nesterov else b
        q = pi + d * neg_lr
        out_p[i] = q
        ok &= -bound <= q <= bound
    return ok


@njit(**_JIT)
def rmsprop(p, gr, sq, ga, buf, out_p, out_sq, out_ga, out_buf, l2, has_l2, alpha, oma, eps, centered,
            mu, use_buf, neg_lr, bound):
    """v = v*alpha + (g*oma)*g; centered: gbar = (g - gbar)*oma + gbar, avg = sqrt(v - gbar*gbar) + eps,
    else sqrt(v) + eps; momentum: b = b*mu + g/avg, u = b*(-lr); else u = (g*(-lr))/avg."""
    ok = True
    for i in range(p.shape[0]):
        pi = p[i]
        g = _g(pi, gr[i], l2, has_l2)
        vi = sq[i] * alpha + (g * oma) * g
        out_sq[i] = vi
        if centered:
            gb = (g - ga[i]) * oma + ga[i]
            out_ga[i] = gb
            avg = np.sqrt(vi - gb * gb) + eps
        else:
            avg = np.sqrt(vi) + eps
        if use_buf:
            b = buf[i] * mu + g / avg
            out_buf[i] = b
            u = b * neg_lr
        else:
            u = (g * neg_lr) / avg
        q = pi + u
        out_p[i] = q
        ok &= -bound <= q <= bound
    return ok


@njit(**_JIT)
def adagrad(p, gr, acc, out_p, out_acc, l2, has_l2, initial, has_initial, eps, neg_clr, bound):
    """s = g*g + s (+ the initial accumulator on the first step); u = (g*(-clr))/(sqrt(s) + eps)."""
    ok = True
    for i in range(p.shape[0]):
        pi = p[i]
        g = _g(pi, gr[i], l2, has_l2)
        s = g * g + acc[i]
        if has_initial:
            s = s + initial
        out_acc[i] = s
        q = pi + (g * neg_clr) / (np.sqrt(s) + eps)
        out_p[i] = q
        ok &= -bound <= q <= bound
    return ok


@njit(**_JIT)
def finite_within(loss, grad, bound):
    """Every loss within +-bound and every gradient component finite (x - x is 0 only for a finite
    x; NaN fails every comparison): the rest of the simulation's divergence check in one pass."""
    ok = True
    for i in range(loss.shape[0]):
        x = loss[i]
        ok &= -bound <= x <= bound
    for i in range(grad.shape[0]):
        x = grad[i]
        ok &= x - x == 0.0
    return ok
