"""The numbers the rules read, measured from the Diagnoser's window and the simulation, vectorized over runs."""
from __future__ import annotations

from functools import partial

import numpy as np

from ...core.simulation import Simulation
from ...optim.registry import get_optimizer
from ..critical import is_near, model_critical_distance
from .facts import (ABS_GRAD, ADAPTIVE, EIG_RTOL, FLAT_RTOL, MIN_OBS, SMALL_GRAD, BurstFacts, Progress,
                    RunFacts, StabilityLimit)


def window_stats(w: dict[str, np.ndarray], evecs: np.ndarray) -> dict[str, np.ndarray]:
    """Per-run numbers over the window: distinct observations, loss change, flips, effective rate."""
    valid = w["valid"] & (w["s"] >= 0) & np.isfinite(w["l"])
    R = valid.shape[1]
    pair = valid[1:] & valid[:-1] & (w["s"][1:] != w["s"][:-1])  # consecutive distinct observations
    n_obs = pair.sum(axis=0) + valid.any(axis=0)
    idx = np.arange(R)
    first = np.argmax(valid, axis=0)
    last = valid.shape[0] - 1 - np.argmax(valid[::-1], axis=0)
    v = evecs[:, :, -1]  # top eigenvector per run
    with np.errstate(all="ignore"):
        proj = np.einsum("wrp,rp->wr", w["g"], v)
        gn = np.sqrt(np.einsum("wrp,wrp->wr", w["g"], w["g"]))
        flips = pair & (np.sign(proj[1:]) * np.sign(proj[:-1]) < 0)
        flip_share = flips.sum(axis=0) / np.maximum(pair.sum(axis=0), 1)
        along = np.where(valid & (gn > 0), np.abs(proj) / gn, 0.0).sum(axis=0) / np.maximum(valid.sum(axis=0), 1)
        dtheta = w["p"][1:] - w["p"][:-1]
        dsteps = (w["s"][1:] - w["s"][:-1]).astype(float)
        num = -np.where(pair, np.einsum("wrp,wrp->wr", dtheta, w["g"][:-1]), 0.0).sum(axis=0)
        den = np.where(pair, gn[:-1] ** 2 * dsteps, 0.0).sum(axis=0)
        rate = np.where(den > 0, num / den, np.nan)
    return {"n_obs": n_obs, "loss_first": w["l"][first, idx], "loss_last": w["l"][last, idx],
            "flip_share": flip_share, "along": along, "rate": rate}


def weight_decay(sim: Simulation) -> tuple[np.ndarray, np.ndarray]:
    """Each run's weight_decay (0 where its optimizer has none), and whether it is coupled (added to g)."""
    wd, coupled = np.zeros(sim.n_runs), np.zeros(sim.n_runs)
    for i, c in enumerate(sim.configs):
        defaults = get_optimizer(c.optimizer).defaults
        if "weight_decay" in defaults:
            wd[i] = float(c.hyper.get("weight_decay", defaults["weight_decay"]))
            decoupled = c.optimizer == "adamw" or bool(c.hyper.get("decoupled_weight_decay", False))
            coupled[i] = 0.0 if decoupled else 1.0
    return wd, coupled


def momentum(optimizer: str, hyper: dict) -> float:
    """The momentum a run already uses: sgd's/RMSProp's momentum, or beta1 of the Adam family; else 0."""
    defaults = get_optimizer(optimizer).defaults
    if "momentum" in defaults:
        return float(hyper.get("momentum", defaults["momentum"]))
    if "betas" in defaults:
        return float(hyper.get("betas", defaults["betas"])[0])
    return 0.0


def stability_limit(optimizer: str, hyper: dict) -> StabilityLimit | None:
    """The limit of lr * lambda_max for a fixed-rate method (None for adaptive ones: their step
    is lr/sigma, and sigma moves, so no number bounds lr itself).

    Plain gradient descent: 2. Heavy-ball momentum mu (torch's SGD, the lecture's momentum):
    the iteration theta' = theta - a theta + mu (theta - theta_prev), a = lr*lambda, is stable
    iff a < 2(1 + mu); torch's dampening d scales the step by (1 - d): a < 2(1 + mu)/(1 - d).
    Nesterov (torch's form, d = 0): the characteristic polynomial z^2 - (1 + mu - a(1 + mu)) z
    + mu(1 - a) has both roots inside the unit circle iff a < 2(1 + mu)/(1 + 2 mu)."""
    if optimizer in ADAPTIVE:
        return None
    defaults = get_optimizer(optimizer).defaults
    mu = float(hyper.get("momentum", defaults.get("momentum", 0.0)))
    if mu <= 0:
        return StabilityLimit(2.0, "2")
    m = f"{mu:g}"
    if bool(hyper.get("nesterov", defaults.get("nesterov", False))):
        return StabilityLimit(2 * (1 + mu) / (1 + 2 * mu), f"2(1+{m})/(1+2*{m})")
    damp = float(hyper.get("dampening", defaults.get("dampening", 0.0)))
    if 0 < damp < 1:
        return StabilityLimit(2 * (1 + mu) / (1 - damp), f"2(1+{m})/(1-{damp:g})")
    return StabilityLimit(2 * (1 + mu), f"2(1+{m})")


def critical_point_tests(sim: Simulation, gmax: np.ndarray, evals: np.ndarray, evecs: np.ndarray,
                         wd: np.ndarray, coupled: np.ndarray) -> dict[str, np.ndarray]:
    """Per run: is the gradient small, is the quadratic model's critical point near, and how far it is.

    With coupled weight decay the gradient tested is g + weight_decay * theta, where such decay settles.
    """
    gnow, gn = sim.grad, sim.grad_norm
    if (wd * coupled).any():
        gnow = gnow + (wd * coupled)[:, None] * sim.params
        gn = np.sqrt(np.einsum("rp,rp->r", gnow, gnow))
    gsmall_tol = np.maximum(SMALL_GRAD * np.maximum(gmax, np.nan_to_num(sim.grad_norm)), ABS_GRAD)
    with np.errstate(all="ignore"):
        scale = np.maximum(1.0, np.nanmax(np.abs(evals), axis=1))
        eig_tol = EIG_RTOL * scale
        dist = model_critical_distance(gnow, evals, evecs, eig_tol, gsmall_tol)
        near = is_near(dist, np.linalg.norm(sim.params, axis=1))  # the point report's rule too
    small_raw = ~(sim.grad_norm > np.maximum(SMALL_GRAD * gmax, ABS_GRAD))  # NaN counts as small
    return {"small": gn <= gsmall_tol, "small_raw": small_raw, "near": near, "dist": dist, "eig_tol": eig_tol}


def gather(sim: Simulation, w: dict[str, np.ndarray], evals: np.ndarray, evecs: np.ndarray, progress: Progress,
           bursts: list[BurstFacts]) -> list[RunFacts]:
    """One RunFacts per run, for the state after the last observation."""
    st = window_stats(w, evecs)
    wd, coupled = weight_decay(sim)
    crit = critical_point_tests(sim, progress.gmax, evals, evecs, wd, coupled)
    with np.errstate(all="ignore"):
        loss_change = st["loss_last"] - st["loss_first"]
        flat = np.abs(loss_change) <= FLAT_RTOL * np.maximum(
            np.maximum(np.abs(st["loss_first"]), np.abs(st["loss_last"])), 1e-300)
    names = tuple(sim.objective.params)
    theta_norm = np.linalg.norm(sim.params, axis=1)
    ok = np.isfinite(evals).all(axis=1) & (evals.shape[1] > 0)
    lo = np.where(ok, evals[:, 0], np.nan) if evals.shape[1] else np.full(sim.n_runs, np.nan)
    hi = np.where(ok, evals[:, -1], np.nan) if evals.shape[1] else np.full(sim.n_runs, np.nan)
    cfgs = sim.configs
    next_lr = sim.next_lr()
    return [RunFacts(
        optimizer=cfgs[r].optimizer, adaptive=cfgs[r].optimizer in ADAPTIVE,
        momentum=momentum(cfgs[r].optimizer, cfgs[r].hyper),
        stability=stability_limit(cfgs[r].optimizer, cfgs[r].hyper), step=int(sim.step_count[r]), loss=float(sim.loss[r]),
        grad_norm=float(sim.grad_norm[r]), theta_norm=float(theta_norm[r]), lr=float(sim.last_lr[r]),
        next_lr=float(next_lr[r]),
        evals=evals[r], evecs=evecs[r], eigen_ok=bool(ok[r]), lo=float(lo[r]), hi=float(hi[r]),
        eig_tol=float(crit["eig_tol"][r]), small=bool(crit["small"][r]), small_raw=bool(crit["small_raw"][r]),
        near=bool(crit["near"][r]), flat=bool(flat[r]), enough=bool(st["n_obs"][r] >= MIN_OBS),
        dist=float(crit["dist"][r]), loss_change=float(loss_change[r]), weight_decay=float(wd[r]),
        diverged_at=int(sim.diverged_at[r]), loss_start=float(progress.loss_start[r]),
        loss_best=float(progress.loss_best[r]), best_step=int(progress.best_step[r]), gmax=float(progress.gmax[r]),
        burst=bursts[r], flip_share=float(st["flip_share"][r]), along=float(st["along"][r]),
        rate=float(st["rate"][r]), param_names=names,
        falling_flat_direction=partial(falling_flat_direction, sim, r, evals[r], evecs[r]),
        noise_level=partial(noise_level, sim, r)) for r in range(sim.n_runs)]


def noise_level(sim: Simulation, r: int) -> float:
    """Expected norm of the gradient noise of run r's updates: noise * sqrt(p), or the mini-batch spread."""
    cfg = sim.configs[r]
    p = sim.objective.n_params
    level = float(cfg.noise) * np.sqrt(p) if cfg.noise else 0.0
    data = sim.objective.data
    if data is not None and cfg.batch_size is not None and cfg.batch_size < data.n_train:
        m, b = data.n_train, cfg.batch_size
        with np.errstate(all="ignore"):
            g = sim.objective.formula.gradient(sim.params[r : r + 1], data.train)[0]  # (m, p) per sample
        var = float(np.sum(np.var(g, axis=0)))  # trace of the per-sample covariance
        level = float(np.hypot(level, np.sqrt(max(var, 0.0) / b * (m - b) / max(m - 1, 1))))
    return level


def falling_flat_direction(sim: Simulation, r: int, ev: np.ndarray, vecs: np.ndarray,
                           flat_tol: float) -> np.ndarray | None:
    """A (nearly) flat direction along which the loss falls beyond its first-order term, or None.

    Each direction u with |lambda| <= flat_tol is probed at +-s (s = 0.1 max(1, |theta|)); the slope term
    +-s g.u is removed so that only curvature and higher orders speak (a cubic, as in the monkey saddle,
    makes one side fall).
    """
    flat = np.flatnonzero(np.abs(ev) <= flat_tol)
    if flat.size == 0:
        return None
    theta, g = sim.params[r], sim.grad[r]
    loss = float(sim.loss[r])
    step = 0.1 * max(1.0, float(np.linalg.norm(theta)))
    dirs = vecs[:, flat].T
    pts = np.concatenate([theta + step * dirs, theta - step * dirs])
    with np.errstate(all="ignore"):
        vals = sim.objective.loss(pts) - loss
    slope = step * (dirs @ g)
    tol = 1e-9 * max(1.0, abs(loss))
    for k in range(flat.size):
        if min(vals[k] - slope[k], vals[k + flat.size] + slope[k]) < -tol:
            return dirs[k]
    return None
