"""The lecture's own Adagrad, RMSProp, momentum and Adam (Hung-yi Lee, ML 2022 Spring), beside torch's.

They differ from torch.optim on purpose, so that a person can watch the difference:

- adagrad_lecture divides by the root MEAN square of all gradients so far
  (torch: root of the SUM), so its first step is lr in every coordinate. With
  a decay lr_t = lr / sqrt(t + 1) it equals torch's Adagrad (eps aside).
- rmsprop_lecture starts its average at the first gradient, sigma_0 = |g_0|
  (torch: at 0), so its first step is also lr in every coordinate.
- momentum_lecture keeps the movement itself, m = lambda*m - lr*g, theta += m.
  torch's SGD keeps b = mu*b + g and moves by -lr*b, which rescales the whole
  remembered velocity when lr changes (a schedule, an edit); here past steps
  keep the rate they were taken with. With a constant lr both are identical.
- adam_lecture builds Adam from those parts: momentum as the notes write it
  for Adam, m = beta1*m + (1-beta1)*g, and RMSProp's sigma^2 =
  beta2*sigma^2 + (1-beta2)*g^2, both started at 0 (as torch does). With
  ``bias_correction = true`` it divides them by 1 - beta^t and equals
  torch.optim.Adam. With ``false`` it divides by the notes' printed
  constants 1 - beta1 and 1 - beta2 instead: the same at t = 1, but a
  constant is no correction at all (it is uncorrected Adam at the rate
  lr*sqrt(1-beta2)/(1-beta1)), so with a steady gradient the steps first
  grow to about 2*lr (t ~ 12) and then shrink towards 0.32*lr.

eps (default 1e-8) is added to sigma, as torch does, so that a zero gradient
(a run started on a critical point) gives a zero step instead of 0/0.
"""
from __future__ import annotations

from typing import Any, Mapping, NamedTuple

import numpy as np

from .base import OptimizerSpec, Problems, hyper_maker, nonnegative, rule
from .ops import columns, lerp, select, square_avg, uniform
from .torch_equal import TORCH_CHECKS

F64 = np.float64


# ----- adagrad_lecture ----------------------------------------------------------
class AdagradLectureHyper(NamedTuple):
    eps: np.ndarray


class AdagradLectureState(NamedTuple):
    step: np.ndarray  # (n, 1) float: updates made so far, t
    sum_sq: np.ndarray  # (n, p): sum of g_k^2 for k < t


def adagrad_lecture_init(params: np.ndarray) -> AdagradLectureState:
    return AdagradLectureState(np.zeros((params.shape[0], 1), F64), np.zeros(params.shape, F64))


def adagrad_lecture_update(grads, state: AdagradLectureState, params, lr, hyper: AdagradLectureHyper):
    """sigma_t = sqrt(1/(t+1) * sum_{k<=t} g_k^2) (so sigma_0 = |g_0|); theta -= lr * g_t / (sigma_t + eps)."""
    step = state.step + 1.0
    lr_, t, eps = columns(lr, uniform(step), hyper.eps)
    acc = grads * grads
    acc += state.sum_sq
    sigma = np.sqrt(acc / t)
    sigma += eps
    upd = grads / sigma  # exactly +-1 on step 1 (eps = 0), so that step is exactly lr
    upd *= -lr_
    return upd, AdagradLectureState(step, acc)


def _check_adagrad_lecture(v: Mapping[str, Any]) -> Problems:
    p: Problems = []
    nonnegative(p, v, "lr", "eps")
    return p


# ----- rmsprop_lecture ----------------------------------------------------------
class RMSPropLectureHyper(NamedTuple):
    alpha: np.ndarray
    eps: np.ndarray


class RMSPropLectureState(NamedTuple):
    step: np.ndarray  # (n, 1) float
    square_avg: np.ndarray  # (n, p): sigma_{t-1}^2


def rmsprop_lecture_init(params: np.ndarray) -> RMSPropLectureState:
    return RMSPropLectureState(np.zeros((params.shape[0], 1), F64), np.zeros(params.shape, F64))


def rmsprop_lecture_update(grads, state: RMSPropLectureState, params, lr, hyper: RMSPropLectureHyper):
    """sigma_0 = |g_0|; sigma_t = sqrt(alpha*sigma_{t-1}^2 + (1-alpha)*g_t^2); theta -= lr*g_t/(sigma_t + eps)."""
    lr_, alpha, eps = columns(lr, hyper.alpha, hyper.eps)
    g2 = grads * grads
    sq = state.square_avg * alpha
    sq += g2 * (1.0 - alpha)
    sq = select(state.step == 0.0, g2, sq)
    sigma = np.sqrt(sq)
    sigma += eps
    upd = grads / sigma  # exactly +-1 on step 1 (eps = 0), so that step is exactly lr
    upd *= -lr_
    return upd, RMSPropLectureState(state.step + 1.0, sq)


def _check_rmsprop_lecture(v: Mapping[str, Any]) -> Problems:
    p: Problems = []
    nonnegative(p, v, "lr", "eps")
    rule(p, 0.0 <= v["alpha"] <= 1.0, "alpha", f"Invalid alpha value: {v['alpha']} (must be in [0, 1])")
    return p


# ----- momentum_lecture ---------------------------------------------------------
class MomentumLectureHyper(NamedTuple):
    momentum: np.ndarray  # the lecture's lambda


class MomentumLectureState(NamedTuple):
    movement: np.ndarray  # (n, p): m_t, the last step taken


def momentum_lecture_init(params: np.ndarray) -> MomentumLectureState:
    return MomentumLectureState(np.zeros(params.shape, F64))


def momentum_lecture_update(grads, state: MomentumLectureState, params, lr, hyper: MomentumLectureHyper):
    """m_0 = 0; m_t = lambda*m_{t-1} - lr*g_{t-1}; theta_t = theta_{t-1} + m_t (so m_2 = -lambda*lr*g_0 - lr*g_1)."""
    lr_, lam = columns(lr, hyper.momentum)
    m = state.movement * lam
    m -= grads * lr_
    return m.copy(), MomentumLectureState(m)  # distinct arrays: a caller may edit updates in place


def _check_momentum_lecture(v: Mapping[str, Any]) -> Problems:
    p: Problems = []
    nonnegative(p, v, "lr", "momentum")
    return p


# ----- adam_lecture -------------------------------------------------------------
class AdamLectureHyper(NamedTuple):
    beta1: np.ndarray  # the momentum's beta
    beta2: np.ndarray  # RMSProp's alpha
    eps: np.ndarray
    bias_correction: np.ndarray  # bool: divide by 1 - beta^t (true) or by the notes' 1 - beta (false)


class AdamLectureState(NamedTuple):
    step: np.ndarray  # (n, 1) float: updates made so far
    momentum: np.ndarray  # (n, p): m_t, a running mean of gradients started at 0
    square_avg: np.ndarray  # (n, p): sigma_t^2, a running mean of squared gradients started at 0


def adam_lecture_init(params: np.ndarray) -> AdamLectureState:
    z = np.zeros(params.shape, F64)
    return AdamLectureState(np.zeros((params.shape[0], 1), F64), z, z.copy())


def adam_lecture_update(grads, state: AdamLectureState, params, lr, hyper: AdamLectureHyper):
    """m_t = b1*m + (1-b1)*g; sigma_t^2 = b2*sigma^2 + (1-b2)*g^2; mhat = m/c1, sigmahat = sigma/sqrt(c2);
    theta -= lr*mhat/(sigmahat + eps), with c = 1 - b^t (bias_correction) or the notes' c = 1 - b."""
    step = state.step + 1.0
    s = uniform(step)
    b1, b2, on = hyper.beta1, hyper.beta2, hyper.bias_correction
    c1 = select(on, 1.0 - b1 ** s, 1.0 - b1)  # powers on (n, 1) arrays: see ops' notes on bit-identity
    c2 = select(on, 1.0 - b2 ** s, 1.0 - b2)
    lr_, b1_, b2_, eps, c1, root_c2 = columns(lr, b1, b2, hyper.eps, c1, np.sqrt(c2))
    m = lerp(state.momentum, grads, 1.0 - b1_)  # torch's exp_avg.lerp_(g, 1 - beta1)
    v = square_avg(state.square_avg, grads, b2_)
    den = np.sqrt(v)
    den /= root_c2
    den += eps
    upd = m * (-lr_ / c1)
    upd /= den
    return upd, AdamLectureState(step, m, v)


def _check_adam_lecture(v: Mapping[str, Any]) -> Problems:
    """torch's Adam rules (lr, eps, betas); there is no weight decay here."""
    return TORCH_CHECKS["adam"]({**v, "weight_decay": 0.0})


# ----- specs --------------------------------------------------------------------
LECTURE_CHECKS: dict[str, Any] = {}
"""Each optimizer's value rules, by name (read by registry.validate_hyperparameters)."""


def _spec(name, defaults, init, update, hyper_cls, check, description, structural=()):
    LECTURE_CHECKS[name] = check
    return OptimizerSpec(name, defaults, structural, init, update,
                         hyper_maker(name, hyper_cls, defaults, structural, check), description)


LECTURE_SPECS = (
    _spec("adagrad_lecture", {"lr": 1e-2, "eps": 1e-8}, adagrad_lecture_init, adagrad_lecture_update,
          AdagradLectureHyper, _check_adagrad_lecture,
          "The lecture's Adagrad: divides by the root MEAN square of all gradients; step 1 is lr per coordinate."),
    _spec("rmsprop_lecture", {"lr": 1e-2, "alpha": 0.9, "eps": 1e-8}, rmsprop_lecture_init,
          rmsprop_lecture_update, RMSPropLectureHyper, _check_rmsprop_lecture,
          "The lecture's RMSProp: sigma starts at |g_0| and then averages squares with weight alpha."),
    _spec("momentum_lecture", {"lr": 1e-3, "momentum": 0.9}, momentum_lecture_init, momentum_lecture_update,
          MomentumLectureHyper, _check_momentum_lecture,
          "The lecture's momentum: m = lambda*m - lr*g, theta += m (past steps keep their own lr)."),
    _spec("adam_lecture", {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "bias_correction": True},
          adam_lecture_init, adam_lecture_update, AdamLectureHyper, _check_adam_lecture,
          "The lecture's Adam: RMSProp + momentum; bias_correction divides by 1 - beta^t (torch's) "
          "or, when false, by the notes' printed 1 - beta.", structural=("bias_correction",)),
)
