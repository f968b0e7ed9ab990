"""torch.optim's optimizers, vectorized over runs: the same update equations, names and defaults.

Each update follows torch 2.x's single-tensor path (``foreach=False``) in the
same order of operations where that costs nothing extra, so trajectories agree
with torch to rounding (tests hold them to 1e-9 over 200 steps). Shapes:
params, grads and the moment arrays are (n, p); step counters, per-run scalars
and every hyperparameter are (n, 1). ``lr`` is the rate of this update, already
scheduled. See base.py for the purity rule (inputs are never written).

Not modelled: torch's ``maximize``, ``foreach``, ``fused``, ``capturable``,
``differentiable`` (they do not change the numbers) and sparse gradients.
"""
from __future__ import annotations

from typing import Any, Mapping, NamedTuple

import numpy as np

from .base import OptimizerSpec, Problems, hyper_maker, nonnegative, rule
from .one_run import adagrad_one, adam_one, first_try, rmsprop_one, sgd_one
from .ops import columns, uniform, count, next_step, coupled, decay_split, decoupled, lerp, nonzero, select, sqrt, square_avg

F64 = np.float64


def _zeros_col(params: np.ndarray, fill: float = 0.0) -> np.ndarray:
    return np.full((params.shape[0], 1), fill, dtype=F64)


# ----- SGD ----------------------------------------------------------------------
class SGDHyper(NamedTuple):
    momentum: np.ndarray
    dampening: np.ndarray
    weight_decay: np.ndarray
    nesterov: np.ndarray  # bool


class SGDState(NamedTuple):
    momentum_buffer: np.ndarray  # (n, p)
    has_buffer: np.ndarray  # (n, 1) bool: torch creates the buffer on the first step with momentum != 0


def sgd_init(params: np.ndarray) -> SGDState:
    return SGDState(np.zeros(params.shape, F64), np.zeros((params.shape[0], 1), np.bool_))


def sgd_update(grads, state: SGDState, params, lr, hyper: SGDHyper):
    """g = grad + wd*theta; b = mu*b + (1 - dampening)*g (b = g on the first step);
    d = g + mu*b if nesterov else b (d = g when mu = 0); theta -= lr*d."""
    if grads.shape[0] == 1:
        done = first_try(sgd_one, grads, state, params, lr, hyper)
        if done is not None:
            return done
    g = coupled(grads, params, hyper.weight_decay)
    on = hyper.momentum != 0.0
    if not nonzero(on):  # plain gradient descent: torch keeps no buffer
        return g * columns(-lr)[0], state
    lr_, mu, damp = columns(lr, hyper.momentum, hyper.dampening)
    buf = state.momentum_buffer * mu
    buf += g * (1.0 - damp)
    buf = select(state.has_buffer, buf, g)  # torch: buf = grad.clone() when there is none yet
    buf = select(on, buf, state.momentum_buffer)  # momentum 0: torch leaves its (absent) buffer alone
    direction = buf
    if nonzero(hyper.nesterov):
        direction = select(hyper.nesterov, g + buf * mu, buf)
    direction = select(on, direction, g)
    return direction * -lr_, SGDState(buf, state.has_buffer | on)


def _check_sgd(v: Mapping[str, Any]) -> Problems:
    p: Problems = []
    nonnegative(p, v, "lr", "momentum", "weight_decay")
    rule(p, not (v["nesterov"] and (v["momentum"] <= 0 or v["dampening"] != 0)), "nesterov",
         "Nesterov momentum requires a momentum and zero dampening")
    return p


SGD_DEFAULTS = {"lr": 1e-3, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False}


# ----- Adagrad ------------------------------------------------------------------
class AdagradHyper(NamedTuple):
    lr_decay: np.ndarray
    weight_decay: np.ndarray
    initial_accumulator_value: np.ndarray
    eps: np.ndarray


class AdagradState(NamedTuple):
    step: np.ndarray  # (n, 1) float, updates made
    sum: np.ndarray  # (n, p) sum of squared gradients (initial_accumulator_value is added on update 1)


def adagrad_init(params: np.ndarray) -> AdagradState:
    return AdagradState(_zeros_col(params), np.zeros(params.shape, F64))


def adagrad_update(grads, state: AdagradState, params, lr, hyper: AdagradHyper):
    """g = grad + wd*theta; clr = lr / (1 + (t - 1)*lr_decay); s += g^2 (s_0 = initial_accumulator_value);
    theta -= clr * g / (sqrt(s) + eps)."""
    if grads.shape[0] == 1:
        done = first_try(adagrad_one, grads, state, params, lr, hyper)
        if done is not None:
            return done
    step = next_step(state.step)
    g = coupled(grads, params, hyper.weight_decay)
    lr_, t, decay, eps = columns(lr, uniform(step), hyper.lr_decay, hyper.eps)
    clr = lr_ / (1.0 + (t - 1.0) * decay)
    acc = g * g
    acc += state.sum
    # torch fills the accumulator with initial_accumulator_value at construction; init() sees no
    # hyperparameters, so it is added here on the first update, which gives the same sum.
    if nonzero(hyper.initial_accumulator_value):
        acc += select(state.step == 0.0, hyper.initial_accumulator_value, 0.0)
    std = np.sqrt(acc)
    std += eps
    upd = g * -clr
    upd /= std
    return upd, AdagradState(step, acc)


def _check_adagrad(v: Mapping[str, Any]) -> Problems:
    p: Problems = []
    nonnegative(p, v, "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")
    return p


ADAGRAD_DEFAULTS = {"lr": 1e-2, "lr_decay": 0.0, "weight_decay": 0.0, "initial_accumulator_value": 0.0,
                    "eps": 1e-10}


# ----- RMSprop ------------------------------------------------------------------
class RMSpropHyper(NamedTuple):
    alpha: np.ndarray
    eps: np.ndarray
    weight_decay: np.ndarray
    momentum: np.ndarray
    centered: np.ndarray  # bool


class RMSpropState(NamedTuple):
    step: np.ndarray
    square_avg: np.ndarray
    grad_avg: np.ndarray  # kept for every run; read only by centered runs
    momentum_buffer: np.ndarray


def rmsprop_init(params: np.ndarray) -> RMSpropState:
    z = np.zeros(params.shape, F64)
    return RMSpropState(_zeros_col(params), z, z.copy(), z.copy())


def rmsprop_update(grads, state: RMSpropState, params, lr, hyper: RMSpropHyper):
    """g = grad + wd*theta; v = alpha*v + (1-alpha)*g^2 (v_0 = 0); centered: gbar = lerp(gbar, g, 1-alpha),
    avg = sqrt(v - gbar^2) + eps, else sqrt(v) + eps; momentum > 0: b = mu*b + g/avg, theta -= lr*b;
    else theta -= lr*g/avg."""
    if grads.shape[0] == 1:
        done = first_try(rmsprop_one, grads, state, params, lr, hyper)
        if done is not None:
            return done
    centered = hyper.centered
    lr_, alpha, eps, mu = columns(lr, hyper.alpha, hyper.eps, hyper.momentum)
    g = coupled(grads, params, hyper.weight_decay)
    sq = square_avg(state.square_avg, g, alpha)
    ga = state.grad_avg  # advanced only while some run is centered
    if nonzero(centered):
        ga = lerp(ga, g, 1.0 - alpha)
        avg = np.sqrt(select(centered, sq - ga * ga, sq))
    else:
        avg = np.sqrt(sq)
    avg += eps
    on = mu > 0.0
    n_on, size = count(on)
    buf, upd = state.momentum_buffer, None
    if n_on:
        buf = buf * mu
        buf += g / avg
        upd = buf * -lr_
    if upd is None or n_on < size:
        plain = g * -lr_
        plain /= avg
        upd = plain if upd is None else np.where(on, upd, plain)
    return upd, RMSpropState(next_step(state.step), sq, ga, buf)


def _check_rmsprop(v: Mapping[str, Any]) -> Problems:
    p: Problems = []
    nonnegative(p, v, "lr", "eps", "momentum", "weight_decay", "alpha")
    return p


RMSPROP_DEFAULTS = {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0,
                    "centered": False}


# ----- Adam / AdamW -------------------------------------------------------------
class AdamHyper(NamedTuple):
    beta1: np.ndarray
    beta2: np.ndarray
    eps: np.ndarray
    weight_decay: np.ndarray
    amsgrad: np.ndarray  # bool
    decoupled_weight_decay: np.ndarray  # bool; always true for adamw


class AdamState(NamedTuple):
    step: np.ndarray
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray
    max_exp_avg_sq: np.ndarray  # advanced only by amsgrad runs


def adam_init(params: np.ndarray) -> AdamState:
    z = np.zeros(params.shape, F64)
    return AdamState(_zeros_col(params), z, z.copy(), z.copy())


def adam_update(grads, state: AdamState, params, lr, hyper: AdamHyper):
    """Adam: g = grad + wd*theta (AdamW: theta *= 1 - lr*wd instead); m = lerp(m, g, 1-b1);
    v = b2*v + (1-b2)*g^2; vhat = max(vhat, v) with amsgrad; theta -= lr/(1-b1^t) * m /
    (sqrt(v or vhat)/sqrt(1-b2^t) + eps). Step 1 moves each coordinate by lr*sign(g) (up to eps)."""
    if grads.shape[0] == 1 and not nonzero(hyper.amsgrad):
        done = first_try(adam_one, grads, state, params, lr, hyper)
        if done is not None:
            return done
    step = next_step(state.step)
    s = uniform(step)
    lr_, b1, b2, eps, b1t, b2t = columns(lr, hyper.beta1, hyper.beta2, hyper.eps,
                                         hyper.beta1 ** s, hyper.beta2 ** s)
    l2, dwd = decay_split(hyper)
    g = coupled(grads, params, l2)
    m = lerp(state.exp_avg, g, 1.0 - b1)
    v = square_avg(state.exp_avg_sq, g, b2)
    vmax, ams = state.max_exp_avg_sq, hyper.amsgrad
    if nonzero(ams):
        vmax = select(ams, np.maximum(vmax, v), vmax)
        den = np.sqrt(select(ams, vmax, v))
    else:
        den = np.sqrt(v)
    den /= sqrt(1.0 - b2t)
    den += eps
    upd = m * (-lr_ / (1.0 - b1t))
    upd /= den
    return decoupled(upd, params, lr, dwd), AdamState(step, m, v, vmax)


def _check_adam(v: Mapping[str, Any]) -> Problems:
    p: Problems = []
    nonnegative(p, v, "lr", "eps")
    b1, b2 = v["betas"]
    rule(p, 0.0 <= b1 < 1.0, "betas", f"Invalid beta parameter at index 0: {b1}")
    rule(p, 0.0 <= b2 < 1.0, "betas", f"Invalid beta parameter at index 1: {b2}")
    nonnegative(p, v, "weight_decay")
    if "momentum_decay" in v:
        rule(p, v["momentum_decay"] >= 0.0, "momentum_decay",
             f"Invalid momentum_decay value: {v['momentum_decay']}")
    return p


ADAM_DEFAULTS = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False,
                 "decoupled_weight_decay": False}


ADAMW_DEFAULTS = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2, "amsgrad": False}


# ----- NAdam --------------------------------------------------------------------
class NAdamHyper(NamedTuple):
    beta1: np.ndarray
    beta2: np.ndarray
    eps: np.ndarray
    weight_decay: np.ndarray
    momentum_decay: np.ndarray
    decoupled_weight_decay: np.ndarray  # bool


class NAdamState(NamedTuple):
    step: np.ndarray
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray
    mu_product: np.ndarray  # (n, 1), starts at 1


def nadam_init(params: np.ndarray) -> NAdamState:
    z = np.zeros(params.shape, F64)
    return NAdamState(_zeros_col(params), z, z.copy(), _zeros_col(params, 1.0))


def nadam_update(grads, state: NAdamState, params, lr, hyper: NAdamHyper):
    """mu_t = b1*(1 - 0.5*0.96^(t*psi)); P_t = prod mu; m, v as Adam; den = sqrt(v/(1-b2^t)) + eps;
    theta -= lr*(1-mu_t)/(1-P_t) * g/den + lr*mu_{t+1}/(1-P_t*mu_{t+1}) * m/den."""
    step = next_step(state.step)
    psi = hyper.momentum_decay
    # powers on the arrays (see ops.py), the rest on columns
    s = uniform(step)
    lr_, b1, b2, eps, b2t, d_t, d_next = columns(lr, hyper.beta1, hyper.beta2, hyper.eps, hyper.beta2 ** s,
                                                 0.96 ** (s * psi), 0.96 ** ((s + 1.0) * psi))
    mu = b1 * (1.0 - 0.5 * d_t)
    mu_next = b1 * (1.0 - 0.5 * d_next)
    mu_product = state.mu_product * mu
    prod = columns(mu_product)[0]
    l2, dwd = decay_split(hyper)
    g = coupled(grads, params, l2)
    m = lerp(state.exp_avg, g, 1.0 - b1)
    v = square_avg(state.exp_avg_sq, g, b2)
    den = np.sqrt(v / (1.0 - b2t))
    den += eps
    upd = g * (-lr_ * (1.0 - mu) / (1.0 - prod))
    upd /= den
    upd2 = m * (-lr_ * mu_next / (1.0 - prod * mu_next))
    upd2 /= den
    upd += upd2
    return decoupled(upd, params, lr, dwd), NAdamState(step, m, v, mu_product)


NADAM_DEFAULTS = {"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                  "momentum_decay": 4e-3, "decoupled_weight_decay": False}


# ----- RAdam --------------------------------------------------------------------
class RAdamHyper(NamedTuple):
    beta1: np.ndarray
    beta2: np.ndarray
    eps: np.ndarray
    weight_decay: np.ndarray
    decoupled_weight_decay: np.ndarray  # bool


class RAdamState(NamedTuple):
    step: np.ndarray
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray


def radam_init(params: np.ndarray) -> RAdamState:
    z = np.zeros(params.shape, F64)
    return RAdamState(_zeros_col(params), z, z.copy())


def radam_update(grads, state: RAdamState, params, lr, hyper: RAdamHyper):
    """m, v as Adam; rho_inf = 2/(1-b2) - 1; rho_t = rho_inf - 2t*b2^t/(1-b2^t); if rho_t > 5:
    theta -= lr * m/(1-b1^t) * sqrt(1-b2^t)/(sqrt(v)+eps) * r_t, r_t = sqrt((rho_t-4)(rho_t-2)rho_inf /
    ((rho_inf-4)(rho_inf-2)rho_t)); else theta -= lr * m/(1-b1^t) (the built-in warm-up)."""
    step = next_step(state.step)
    s = uniform(step)
    lr_, t, b1, b2, eps, b1t, b2t = columns(lr, s, hyper.beta1, hyper.beta2, hyper.eps,
                                            hyper.beta1 ** s, hyper.beta2 ** s)
    l2, dwd = decay_split(hyper)
    g = coupled(grads, params, l2)
    m = lerp(state.exp_avg, g, 1.0 - b1)
    v = square_avg(state.exp_avg_sq, g, b2)
    bc2 = 1.0 - b2t
    rho_inf = 2.0 / (1.0 - b2) - 1.0
    rho_t = rho_inf - 2.0 * t * b2t / bc2
    corrected = m / (1.0 - b1t)
    corrected *= lr_
    rectified = rho_t > 5.0
    n_rect, size = count(rectified)
    upd = corrected
    if n_rect:
        # Evaluated for every run but used only where rho_t > 5 (there rho_inf > rho_t > 5): the clip
        # keeps the other rows finite instead of warning on sqrt of a negative or 0/0.
        rt, ri = np.maximum(rho_t, 5.0), np.maximum(rho_inf, 5.0)
        rect = np.sqrt((rt - 4.0) * (rt - 2.0) * ri / ((ri - 4.0) * (ri - 2.0) * rt))
        den = np.sqrt(v)
        den += eps
        adaptive = np.sqrt(bc2) / den
        adaptive *= corrected
        adaptive *= rect
        upd = adaptive if n_rect == size else np.where(rectified, adaptive, corrected)
    return decoupled(-upd, params, lr, dwd), RAdamState(step, m, v)


RADAM_DEFAULTS = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                  "decoupled_weight_decay": False}


# ----- specs --------------------------------------------------------------------
TORCH_CHECKS: dict[str, Any] = {}
"""Each optimizer's torch ValueError rules, by name (read by registry.validate_hyperparameters)."""


def _spec(name, defaults, structural, init, update, hyper_cls, check, description, fixed=None):
    TORCH_CHECKS[name] = check
    return OptimizerSpec(name, defaults, structural, init, update,
                         hyper_maker(name, hyper_cls, defaults, structural, check, fixed), description)


TORCH_SPECS = (
    _spec("sgd", SGD_DEFAULTS, ("nesterov",), sgd_init, sgd_update, SGDHyper, _check_sgd,
          "torch.optim.SGD: gradient descent with optional (Nesterov) momentum, dampening, weight decay."),
    _spec("adagrad", ADAGRAD_DEFAULTS, (), adagrad_init, adagrad_update, AdagradHyper, _check_adagrad,
          "torch.optim.Adagrad: divides by the root of the SUM of squared gradients."),
    _spec("rmsprop", RMSPROP_DEFAULTS, ("centered",), rmsprop_init, rmsprop_update, RMSpropHyper,
          _check_rmsprop, "torch.optim.RMSprop: divides by a running root mean square (starts at 0)."),
    _spec("adam", ADAM_DEFAULTS, ("amsgrad", "decoupled_weight_decay"), adam_init, adam_update, AdamHyper,
          _check_adam, "torch.optim.Adam: momentum + RMSProp with bias correction."),
    _spec("adamw", ADAMW_DEFAULTS, ("amsgrad",), adam_init, adam_update, AdamHyper, _check_adam,
          "torch.optim.AdamW: Adam with decoupled weight decay (theta *= 1 - lr*wd).",
          fixed={"decoupled_weight_decay": True}),
    _spec("nadam", NADAM_DEFAULTS, ("decoupled_weight_decay",), nadam_init, nadam_update, NAdamHyper,
          _check_adam, "torch.optim.NAdam: Adam with Nesterov momentum and a momentum-decay schedule."),
    _spec("radam", RADAM_DEFAULTS, ("decoupled_weight_decay",), radam_init, radam_update, RAdamHyper,
          _check_adam, "torch.optim.RAdam: Adam whose variance rectification is a built-in warm-up."),
)
