"""The status rules of engine.diagnosis applied to a Diagnoser's window, and their words.

Kept apart from the bookkeeping so that each rule reads as the docstring of
engine.diagnosis states it. Headlines stay under 60 characters and carry the
numbers; remedies use the lecture's terms.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import diagnosis as D

if TYPE_CHECKING:
    from .diagnosis import Diagnoser, RunDiagnosis

HEADLINE_MAX = 59


def _g(x: float) -> str:
    """Short number: 3 significant digits, no trailing noise."""
    if not np.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    a = abs(x)
    return f"{x:.0e}" if a < 1e-3 or a >= 1e5 else f"{x:.3g}"


def _cut(text: str) -> str:
    return text if len(text) <= HEADLINE_MAX else text[: HEADLINE_MAX - 1] + "…"


def window_stats(d: "Diagnoser") -> dict[str, np.ndarray]:
    """Per-run numbers over the window: distinct observations, loss change, flips, effective rate."""
    w = d.window_arrays()
    valid = w["valid"] & (w["s"] >= 0) & np.isfinite(w["l"])
    R = d.R
    pair = valid[1:] & valid[:-1] & (w["s"][1:] != w["s"][:-1])  # consecutive distinct observations
    n_obs = pair.sum(axis=0) + valid.any(axis=0)
    idx = np.arange(R)
    first = np.argmax(valid, axis=0)
    last = valid.shape[0] - 1 - np.argmax(valid[::-1], axis=0)
    loss_first, loss_last = w["l"][first, idx], w["l"][last, idx]
    evals, evecs = d.hessian_eigen(idx)
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
    return {"n_obs": n_obs, "loss_first": loss_first, "loss_last": loss_last, "evals": evals, "evecs": evecs,
            "flip_share": flip_share, "along": along, "rate": rate}


def diagnose_window(d: "Diagnoser") -> list["RunDiagnosis"]:
    sim = d.sim
    st = window_stats(d)
    evals, evecs = st["evals"], st["evecs"]
    gnow, gn = sim.grad, sim.grad_norm
    wd, coupled = _weight_decay(sim)
    if (wd * coupled).any():  # coupled weight decay settles where g + wd theta = 0, not g = 0
        gnow = gnow + (wd * coupled)[:, None] * sim.params
        gn = np.sqrt(np.einsum("rp,rp->r", gnow, gnow))
    gmax = np.maximum(d.gmax, np.nan_to_num(sim.grad_norm))
    gsmall_tol = np.maximum(D.SMALL_GRAD * gmax, D.ABS_GRAD)
    small = gn <= gsmall_tol
    with np.errstate(all="ignore"):
        scale = np.maximum(1.0, np.nanmax(np.abs(evals), axis=1))
        eig_tol = D.EIG_RTOL * scale
        comps = np.einsum("rpk,rp->rk", evecs, gnow)
        flat_dir = np.abs(evals) <= eig_tol[:, None]
        dk = np.where(flat_dir, np.where(np.abs(comps) <= gsmall_tol[:, None], 0.0, np.inf), comps / np.abs(evals))
        dist = np.sqrt(np.sum(dk * dk, axis=1))
        near = dist <= D.NEAR * np.maximum(1.0, np.linalg.norm(sim.params, axis=1))
        loss_change = st["loss_last"] - st["loss_first"]
        flat = np.abs(loss_change) <= D.FLAT_RTOL * np.maximum(
            np.maximum(np.abs(st["loss_first"]), np.abs(st["loss_last"])), 1e-300)
    enough = st["n_obs"] >= D.MIN_OBS
    out = []
    for r in range(d.R):
        out.append(_one(d, r, st, evals[r], evecs[r], float(eig_tol[r]), bool(small[r]), bool(near[r]),
                        bool(flat[r]), bool(enough[r]), float(dist[r]), float(loss_change[r]), float(wd[r])))
    return out


def _weight_decay(sim) -> tuple[np.ndarray, np.ndarray]:
    """Each run's weight_decay (0 where its optimizer has none), and whether it is coupled (added to g)."""
    from ..optim.registry import get_optimizer

    wd, coupled = np.zeros(sim.n_runs), np.zeros(sim.n_runs)
    for i, c in enumerate(sim.configs):
        defaults = get_optimizer(c.optimizer).defaults
        if "weight_decay" in defaults:
            wd[i] = float(c.hyper.get("weight_decay", defaults["weight_decay"]))
            decoupled = c.optimizer == "adamw" or bool(c.hyper.get("decoupled_weight_decay", False))
            coupled[i] = 0.0 if decoupled else 1.0
    return wd, coupled


def _one(d: "Diagnoser", r: int, st: dict, ev: np.ndarray, vecs: np.ndarray, eig_tol: float, small: bool,
         near: bool, flat: bool, enough: bool, dist: float, loss_change: float, wd: float) -> "RunDiagnosis":
    not_falling = flat or loss_change > 0
    sim = d.sim
    cfg = sim.configs[r]
    loss, gn, step = float(sim.loss[r]), float(sim.grad_norm[r]), int(sim.step_count[r])
    lr = float(sim.last_lr[r])
    lo, hi = (float(ev[0]), float(ev[-1])) if ev.size and np.isfinite(ev).all() else (np.nan, np.nan)
    ev_ok = np.isfinite(lo)
    e = {"step": float(step), "loss": loss, "grad_norm": gn, "lambda_min": lo, "lambda_max": hi, "lr": lr}
    if ev.size > 2 and ev_ok:
        e["min_ratio"] = float(np.mean(ev > eig_tol))
    # 1. diverged
    if sim.diverged_at[r] >= 0:
        k = int(sim.diverged_at[r])
        e["diverged_at"] = float(k)
        x = lr * hi if ev_ok else np.nan
        e["lr_x_lambda_max"] = x
        if cfg.optimizer not in D.ADAPTIVE and np.isfinite(x) and hi > 0:
            head = f"diverged at step {k}: lr {_g(lr)}, lr*lmax {_g(x)} > 2"
            remedy = (f"The rate overshoots the steepest direction (stable only below 2/lambda_max = {_g(2 / hi)}): "
                      "lower the learning rate, or warm it up and decay it.")
        else:
            head = f"diverged at step {k} (lr {_g(lr)})"
            remedy = "The steps grew without bound: lower the learning rate, or start with a warm-up."
        return D.RunDiagnosis("diverged", _cut(head), e, remedy)
    # 1b. diverging: the loss ran away without overflowing (yet)
    best, start = float(d.loss_best[r]), float(d.loss_start[r])
    if np.isfinite(best) and np.isfinite(start) and loss_change > 0 and \
            loss - best > D.RUNAWAY * max(start - best, abs(best), 1e-12):
        k = int(d.best_step[r])
        e["diverged_at"] = float(k)
        x = lr * hi if ev_ok else np.nan
        e["lr_x_lambda_max"] = x
        head = f"diverged: loss {_g(loss)}, rising since step {k}"
        limit = f" (stable only below 2/lambda_max = {_g(2 / hi)})" if ev_ok and hi > 0 else ""
        remedy = (f"The loss keeps growing: the rate overshoots{limit}. Lower the learning rate, or warm it "
                  "up and decay it.")
        return D.RunDiagnosis("diverged", _cut(head), e, remedy)
    # 2. burst
    bursts = int(d.bursts[r])
    if bursts:
        e.update(bursts=float(bursts), last_burst=float(d.last_burst[r]), burst_start=float(d.burst_start[r]),
                 loss_before_burst=float(d.burst_from[r]), loss_peak=float(d.burst_peak[r]))
        recent = step - int(d.last_burst[r]) <= D.BURST_HOLD
        progress = float(d.loss_start[r] - d.loss_best[r])
        unsettled = bursts >= 2 and loss - float(d.loss_best[r]) > 0.01 * max(progress, 0.0)
        if recent or unsettled:
            head = (f"burst at step {int(d.burst_start[r])}: loss {_g(float(d.burst_from[r]))}"
                    f" -> {_g(float(d.burst_peak[r]))}")
            if bursts > 1 and len(head) + 12 <= HEADLINE_MAX:
                head += f" ({bursts} so far)"
            remedy = ("sigma (a statistic of past gradients) grew small along the quiet direction, so "
                      "eta/sigma blew up and the point shot out. Learning-rate decay damps the bursts; "
                      "warm-up gathers sigma before big steps.")
            return D.RunDiagnosis("burst", _cut(head), e, remedy)
    # 3. small gradient: the Hessian decides
    e["distance_to_critical"] = dist
    if (small or wd > 0) and near and ev_ok:
        flat_tol = D.SADDLE_RTOL * max(1.0, float(np.max(np.abs(ev))))
        if lo < -flat_tol and hi < -flat_tol:
            head = f"stuck at a local maximum: |g| {_g(gn)}, eigenvalues {_g(lo)}, {_g(hi)}"
            remedy = ("A local maximum: the loss falls in every direction, and only an exactly zero gradient "
                      "holds the run here. Any nudge, momentum or noise escapes.")
            return D.RunDiagnosis("stuck at saddle", _cut(head), e, remedy)
        if lo < -flat_tol:
            u = vecs[:, 0]
            nz = np.flatnonzero(np.abs(u) > 1e-12)
            if nz.size and u[nz[0]] < 0:
                u = -u
            for name, val in zip(sim.objective.params, u):
                e[f"escape_{name}"] = float(val)
            head = f"stuck near a saddle: |g| {_g(gn)}, eigenvalues {_g(lo)}, {_g(hi)}"
            remedy = (f"Not a minimum: the loss falls along the eigenvector of the negative eigenvalue {_g(lo)} "
                      f"({_vec(u)}). Momentum, small-batch noise or a nudge along it escapes.")
            return D.RunDiagnosis("stuck at saddle", _cut(head), e, remedy)
        falls = _probe_flat(d, r, ev, vecs, flat_tol)
        if falls is not None:
            head = f"stuck near a flat saddle: |g| {_g(gn)}, eigenvalues {_g(lo)}, {_g(hi)}"
            remedy = (f"The Hessian is (nearly) flat here but the loss falls along {_vec(falls)}: a "
                      "higher-order saddle. Momentum or noise carries the run past it.")
            return D.RunDiagnosis("stuck at saddle", _cut(head), e, remedy)
        if wd > 0 and gn > max(D.SMALL_GRAD * float(d.gmax[r]), D.ABS_GRAD):  # the raw |g| is not small
            e["weight_decay"] = wd
            head = f"converged with weight decay: loss {_g(loss)}, |g| {_g(gn)}"
            remedy = (f"At the minimum of the loss plus the weight decay ({_g(wd)}): the decay's pull balances "
                      "the gradient. Less decay moves it closer to the loss's own minimum.")
            return D.RunDiagnosis("converged", _cut(head), e, remedy)
        if ev.size > 2:
            head = f"converged: loss {_g(loss)}, |g| {_g(gn)}, min ratio {e['min_ratio']:.2f}"
        else:
            head = f"converged: loss {_g(loss)}, |g| {_g(gn)}, eigenvalues {_g(lo)}, {_g(hi)}"
        remedy = ("At a minimum: training has stopped. If the training loss is still large, see the "
                  "general guide (model bias or optimization).")
        return D.RunDiagnosis("converged", _cut(head), e, remedy)
    # noise floor: a stochastic run whose exact gradient is below the noise of one update's gradient
    noise = _noise_level(sim, r)
    if noise > 0 and gn <= noise and ev_ok and lo >= -D.SADDLE_RTOL * max(1.0, abs(hi)):
        e["gradient_noise"] = noise
        head = f"converged (noise floor): loss {_g(loss)}, |g| {_g(gn)} < noise {_g(noise)}"
        if len(head) > HEADLINE_MAX:
            head = f"converged (noise floor): |g| {_g(gn)} < noise {_g(noise)}"
        remedy = ("The exact gradient is smaller than the noise of each update's gradient: the run jitters "
                  "about a minimum. A smaller rate (decay) or a larger batch settles it.")
        return D.RunDiagnosis("converged", _cut(head), e, remedy)
    if not enough:
        return _descending(e, loss, gn, loss_change)
    flip, along = float(st["flip_share"][r]), float(st["along"][r])
    e.update(flip_share=flip, along_share=along, loss_change=loss_change)
    rate = float(st["rate"][r])
    e["rate"] = rate
    # 4. oscillating
    if not_falling and not small and flip >= D.FLIP_SHARE and along >= D.ALONG_SHARE:
        x = rate * hi if ev_ok else np.nan
        e["rate_x_lambda_max"] = x
        head = f"bouncing in a ravine: |g| {_g(gn)}, flips {flip:.0%}, rate*lmax {_g(x)}"
        if len(head) > HEADLINE_MAX:
            head = f"bouncing in a ravine: |g| {_g(gn)}, flips {flip:.0%}"
        limit = f" (below 2/lambda_max = {_g(2 / hi)})" if ev_ok and hi > 0 else ""
        remedy = ("The loss is flat while |g| is not small: the steps bounce between the ravine's walls. "
                  f"One rate cannot suit both directions: lower lr{limit} and use an adaptive rate "
                  "(RMSProp/Adam) or momentum.")
        return D.RunDiagnosis("oscillating", _cut(head), e, remedy)
    # 5. too slow
    if ev_ok and hi > eig_tol and np.isfinite(rate) and rate >= 0 and not small:
        x = rate * hi
        e["rate_x_lambda_max"] = x
        if x < D.SLOW:
            head = f"too slow: rate*lmax {_g(x)} (stable up to 2)"
            remedy = (f"Each step makes a tiny part of the progress it could: raise the learning rate "
                      f"(up to about 1/lambda_max = {_g(1 / hi)}), or use an adaptive method or momentum.")
            return D.RunDiagnosis("too slow", _cut(head), e, remedy)
    return _descending(e, loss, gn, loss_change)


def _noise_level(sim, r: int) -> float:
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


def _descending(e: dict, loss: float, gn: float, change: float) -> "RunDiagnosis":
    e.setdefault("loss_change", change)
    head = f"descending: loss {_g(loss)}, |g| {_g(gn)}"
    return D.RunDiagnosis("descending", _cut(head), e, "Nothing to fix yet: the loss is still falling.")


def _vec(v: np.ndarray) -> str:
    v = np.asarray(v, dtype=float)
    first = np.flatnonzero(np.abs(v) > 1e-12)
    if first.size and v[first[0]] < 0:
        v = -v
    return "(" + ", ".join(f"{x:.2f}" for x in v[:4]) + (", ..." if v.size > 4 else "") + ")"


def _probe_flat(d: "Diagnoser", r: int, ev: np.ndarray, vecs: np.ndarray, flat_tol: float) -> np.ndarray | None:
    """A (nearly) flat direction along which the loss falls beyond its first-order term, or None.

    Each direction u with |lambda| <= flat_tol is probed at +-s (s = 0.1 max(1, |theta|)); the slope term
    +-s g.u is removed so that only curvature and higher orders speak (a cubic, as in the monkey saddle,
    makes one side fall).
    """
    flat = np.flatnonzero(np.abs(ev) <= flat_tol)
    if flat.size == 0:
        return None
    theta, g = d.sim.params[r], d.sim.grad[r]
    loss = float(d.sim.loss[r])
    step = 0.1 * max(1.0, float(np.linalg.norm(theta)))
    dirs = vecs[:, flat].T
    pts = np.concatenate([theta + step * dirs, theta - step * dirs])
    with np.errstate(all="ignore"):
        vals = d.sim.objective.loss(pts) - loss
    slope = step * (dirs @ g)
    tol = 1e-9 * max(1.0, abs(loss))
    for k in range(flat.size):
        if min(vals[k] - slope[k], vals[k + flat.size] + slope[k]) < -tol:
            return dirs[k]
    return None
