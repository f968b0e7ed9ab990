"""The status rules, an ordered list of small functions over one run's facts; the first that speaks wins.

Each rule reads a :class:`RunFacts` and the evidence gathered so far, adds
the numbers it looked at to the evidence, and returns a diagnosis or None.
Headlines stay under 60 characters and carry the numbers; remedies use the
lecture's terms and say what to try (fitted to the run: an adaptive run is
not told to use an adaptive rate, a run with momentum not told to add it),
not what will happen. w = the observations in the window, up to 64.

0. not started: the run has taken no step yet.
1. diverged: the engine stopped the run (non-finite or huge numbers) at step
   k. 1b. diverging: the loss runs away while the engine still steps the run:
   it rose over the window and is above the run's best loss by more than
   ``RUNAWAY`` times max(start - best, |best|) (k is then the step of the best
   loss, where the climb began). Two words, so that a run the table still
   steps is never called stopped.
2. burst (adaptive optimizers only): an update whose step length is at least
   ``BURST_FACTOR`` times the smallest step of the window before it and at
   least ``BURST_MIN_LR`` times its learning rate, while the loss rose by at
   least ``BURST_GIVEBACK`` of the run's progress so far (start - best) above
   the window's lowest loss. Detections less than ``BURST_GAP`` steps apart
   are one burst. The status holds for ``BURST_HOLD`` steps after a burst,
   and afterwards while the run has burst at least twice and is still above
   its best loss by more than 1% of its progress (it has not settled).
3. small gradient: ``|g| <= SMALL_GRAD * (largest |g| the run has seen)``
   (or ``<= ABS_GRAD``) and the critical point of the local quadratic model
   lies within ``NEAR * max(1, |theta|)`` (distance ``|H^+ g|`` using
   ``|lambda|``; eigenvalues within ``EIG_RTOL * max(1, |H|)`` count as 0).
   Then the Hessian decides: every eigenvalue below ``-SADDLE_RTOL * max(1, |H|)``
   -> at a maximum; some below -> stuck at saddle; otherwise each nearly flat direction
   (|lambda| within that tolerance) is probed at +-0.1 max(1, |theta|) with
   the slope term removed, and if the loss falls there -> stuck at saddle (a
   higher-order or nearly flat one, like the monkey saddle); else ->
   converged. Next to a valley of degenerate minima, like w1 w2 = 1, the
   Hessian has tiny negative eigenvalues; the probe keeps those from being
   called saddles. With coupled weight decay the gradient tested is
   g + weight_decay * theta (where such decay settles); a decayed run (AdamW
   too) within NEAR of the quadratic model's minimum whose own |g| is not
   small -> wd equilibrium: the decay's pull balances the gradient.
3a. idle (lr 0): the last update's learning rate was 0 and the next one's is too, so the run cannot move.
3b. converged (noise floor), for runs with gradient noise or mini-batches:
   the exact gradient is smaller than the expected size of one update's
   gradient noise (``noise * sqrt(p)``, or the per-sample gradients' spread
   over sqrt(batch) with the finite-population factor) and the Hessian has no
   clearly negative eigenvalue: the run jitters about a minimum.
4. oscillating: the loss is not falling over the window (it rose, or changed
   by at most ``FLAT_RTOL`` of its size), the gradient is not small, the gradient's
   component along the top Hessian eigenvector changed sign in at least
   ``FLIP_SHARE`` of consecutive observations, and that component carries at
   least ``ALONG_SHARE`` of |g| on average.
4b. plateau: the loss is level over the window and the ground is flat at the
   problem's scale, |g| * max(1, |theta|) <= ``PLATEAU_RTOL`` * |loss|: a
   small rate cannot move on flat ground.
4c. noisy, for runs with gradient noise or mini-batches away from a minimum: the
   exact gradient is smaller than one update's gradient noise and the loss is
   not falling over the window (it rose, or is level): the steps are mostly noise.
5. too slow: the top eigenvalue is positive and the effective rate along the
   gradient, eta = -sum(dtheta . g) / sum(|g|^2) per step, is so small that
   eta * lambda_max < ``SLOW`` = 0.2: the rate is at least ten times below
   the stability limit 2 / lambda_max (gradient descent is fastest near 1),
   far too small for the progress a step could make.
6. descending otherwise.

Stability limits quoted in remedies are the run's own method's (measure.stability_limit):
2/lambda_max for plain gradient descent, 2(1+mu)/lambda_max with heavy-ball momentum mu,
2(1+mu)/((1+2mu) lambda_max) with Nesterov; none for adaptive methods, whose step lr/sigma
is not bounded by any number for lr itself.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ...text_format import direction, short
from .facts import (ALONG_SHARE, BURST_HOLD, FLIP_SHARE, HEADLINE_MAX, PLATEAU_RTOL, RUNAWAY,
                    SADDLE_RTOL, SLOW, RunDiagnosis, RunFacts, cut)

Evidence = dict[str, float]
Rule = Callable[[RunFacts, Evidence], "RunDiagnosis | None"]


def diagnose(f: RunFacts) -> RunDiagnosis:
    """The first rule that speaks, else descending."""
    e = first_evidence(f)
    for rule in RULES:
        found = rule(f, e)
        if found is not None:
            return found
    return descending(f, e)


def first_evidence(f: RunFacts) -> Evidence:
    e = {"step": float(f.step), "loss": f.loss, "grad_norm": f.grad_norm, "lambda_min": f.lo,
         "lambda_max": f.hi, "lr": f.lr}
    if f.evals.size > 2 and f.eigen_ok:
        e["min_ratio"] = float(np.mean(f.evals > f.eig_tol))
    return e


def engine_stopped(f: RunFacts, e: Evidence) -> RunDiagnosis | None:
    """1. diverged: the engine stopped the run (non-finite or huge numbers)."""
    if f.diverged_at < 0:
        return None
    k, lr, hi = f.diverged_at, f.lr, f.hi
    e["diverged_at"] = float(k)
    x = lr * hi if f.eigen_ok else np.nan
    e["lr_x_lambda_max"] = x
    limit = _limit(f)
    if f.stability is not None and np.isfinite(x) and limit:
        c = f.stability.factor
        head = f"diverged at step {k}: lr {short(lr)}, lr*lmax {short(x)} " + (f"> {short(c)}" if x > c else
                                                                                 f"(limit {short(c)})")
        remedy = f"The rate overshoots the steepest direction{limit}: lower the learning rate, or warm it up and decay it."
    else:
        head = f"diverged at step {k} (lr {short(lr)})"
        remedy = "The steps grew without bound: lower the learning rate, or start with a warm-up."
    return RunDiagnosis("diverged", cut(head), e, remedy)


def not_started(f: RunFacts, e: Evidence) -> RunDiagnosis | None:
    """0. no step taken yet, or only steps of lr 0 that the next step ends (a scripted start):
    nothing to judge."""
    if f.step == 0:
        head = f"not started: loss {short(f.loss)}, |g| {short(f.grad_norm)}"
        return RunDiagnosis("not started", cut(head), e, "Nothing to judge yet: the run has not taken a step.")
    if f.lr == 0 and f.next_lr > 0 and f.loss == f.loss_start:
        head = f"not started: lr 0 until now, {short(f.next_lr)} from the next step"
        return RunDiagnosis("not started", cut(head), e,
                            "Nothing to judge yet: the run has not moved, and its next step moves it.")
    return None


def running_away(f: RunFacts, e: Evidence) -> RunDiagnosis | None:
    """1b. diverging: the loss runs away without overflowing (yet); the run still steps."""
    best, start, loss = f.loss_best, f.loss_start, f.loss
    if not (np.isfinite(best) and np.isfinite(start) and f.loss_change > 0
            and loss - best > RUNAWAY * max(start - best, abs(best), 1e-12)):
        return None
    k, hi = f.best_step, f.hi
    e["diverged_at"] = float(k)
    e["lr_x_lambda_max"] = f.lr * hi if f.eigen_ok else np.nan
    head = f"diverging: loss {short(loss)}, rising since step {k}"
    limit = _limit(f)
    remedy = (f"The loss keeps growing: the rate overshoots{limit}. Lower the learning rate, or warm it "
              "up and decay it.")
    return RunDiagnosis("diverging", cut(head), e, remedy)


def bursting(f: RunFacts, e: Evidence) -> RunDiagnosis | None:
    """2. burst: recently, or repeatedly and not yet settled."""
    b = f.burst
    if not b.count:
        return None
    e.update(bursts=float(b.count), last_burst=float(b.last), burst_start=float(b.start),
             loss_before_burst=b.loss_from, loss_peak=b.loss_peak)
    recent = f.step - b.last <= BURST_HOLD
    progress = f.loss_start - f.loss_best
    unsettled = b.count >= 2 and f.loss - f.loss_best > 0.01 * max(progress, 0.0)
    if not (recent or unsettled):
        return None
    head = f"burst at step {b.start}: loss {short(b.loss_from)} -> {short(b.loss_peak)}"
    if b.count > 1 and len(head) + 12 <= HEADLINE_MAX:
        head += f" ({b.count} so far)"
    remedy = ("sigma (a statistic of past gradients) grew small along the quiet direction, so "
              "eta/sigma blew up and the point shot out. Try learning-rate decay to damp the bursts, "
              "or a warm-up to gather sigma before big steps.")
    return RunDiagnosis("burst", cut(head), e, remedy)


def at_critical_point(f: RunFacts, e: Evidence) -> RunDiagnosis | None:
    """3. small gradient near the quadratic model's critical point: the Hessian decides."""
    e["distance_to_critical"] = f.dist
    if not ((f.small or f.weight_decay > 0) and f.near and f.eigen_ok):
        return None
    flat_tol = SADDLE_RTOL * max(1.0, float(np.max(np.abs(f.evals))))
    lo, hi = f.lo, f.hi
    eigs = f"|g| {short(f.grad_norm)}, eigenvalues {short(lo)}, {short(hi)}"
    if lo < -flat_tol and hi < -flat_tol:
        remedy = ("A local maximum: the loss falls in every direction, and only an exactly zero gradient "
                  "holds the run here. Try a nudge in any direction, or gradient noise.")
        return RunDiagnosis("at a maximum", cut(f"stuck at a local maximum: {eigs}"), e, remedy)
    if lo < -flat_tol:
        u = f.evecs[:, 0]
        nz = np.flatnonzero(np.abs(u) > 1e-12)
        if nz.size and u[nz[0]] < 0:
            u = -u
        for name, val in zip(f.param_names, u):
            e[f"escape_{name}"] = float(val)
        remedy = (f"Not a minimum: the loss falls along the eigenvector of the negative eigenvalue {short(lo)} "
                  f"({direction(u)}). Try {_escape_aids('a nudge along it')}.")
        return RunDiagnosis("stuck at saddle", cut(f"stuck near a saddle: {eigs}"), e, remedy)
    falls = f.falling_flat_direction(flat_tol)
    if falls is not None:
        remedy = (f"The Hessian is (nearly) flat here but the loss falls along {direction(falls)}: a "
                  f"higher-order saddle. Try {_escape_aids('a nudge along that direction')}.")
        return RunDiagnosis("stuck at saddle", cut(f"stuck near a flat saddle: {eigs}"), e, remedy)
    return converged(f, e)


def converged(f: RunFacts, e: Evidence) -> RunDiagnosis:
    """3, no way down: at a minimum (of the loss, or of the loss plus the weight decay)."""
    loss, gn = short(f.loss), short(f.grad_norm)
    if f.weight_decay > 0 and not f.small_raw:
        e["weight_decay"] = f.weight_decay
        remedy = (f"At the minimum of the loss plus the weight decay ({short(f.weight_decay)}): the decay's pull "
                  "balances the gradient. Less decay moves it closer to the loss's own minimum.")
        return RunDiagnosis("wd equilibrium", cut(f"weight-decay equilibrium: loss {loss}, |g| {gn}"), e, remedy)
    if f.evals.size > 2:
        head = f"converged: loss {loss}, |g| {gn}, min ratio {e['min_ratio']:.2f}"
    else:
        head = f"converged: loss {loss}, |g| {gn}, eigenvalues {short(f.lo)}, {short(f.hi)}"
    remedy = ("At a minimum: training has stopped. If the training loss is still large, see the "
              "general guide (model bias or optimization).")
    return RunDiagnosis("converged", cut(head), e, remedy)


def _escape_aids(nudge: str) -> str:
    """What to try to leave a saddle. Not momentum: it only carries a run that already moves the way down
    (a run that starts on the ridge stays on it with momentum 0.9 too)."""
    return f"{nudge} or gradient noise (small batches); momentum only carries a run already moving that way"


def idle(f: RunFacts, e: Evidence) -> RunDiagnosis | None:
    """3a. the last update's learning rate was 0 and the next one's is too: the run stands still
    by design. (A run whose rate was just raised from 0 is judged by the other rules.)"""
    if f.lr != 0 or f.next_lr != 0:
        return None
    head = f"lr 0: loss {short(f.loss)}, |g| {short(f.grad_norm)}"
    remedy = ("The learning rate is 0, so the run does not move. If that is not the plan (a scheduled "
              "start), try a learning rate above 0.")
    return RunDiagnosis("idle (lr 0)", cut(head), e, remedy)


def noise_floor(f: RunFacts, e: Evidence) -> RunDiagnosis | None:
    """3b. a stochastic run whose exact gradient is below the noise of one update's gradient."""
    noise = f.noise_level()
    if not (noise > 0 and f.grad_norm <= noise and f.eigen_ok
            and f.lo >= -SADDLE_RTOL * max(1.0, abs(f.hi))):
        return None
    e["gradient_noise"] = noise
    head = f"converged (noise floor): loss {short(f.loss)}, |g| {short(f.grad_norm)} < noise {short(noise)}"
    if len(head) > HEADLINE_MAX:
        head = f"converged (noise floor): |g| {short(f.grad_norm)} < noise {short(noise)}"
    remedy = ("The exact gradient is smaller than the noise of each update's gradient: the run jitters "
              "about a minimum. To settle it, try a smaller rate (decay) or a larger batch.")
    return RunDiagnosis("converged", cut(head), e, remedy)


def too_few_observations(f: RunFacts, e: Evidence) -> RunDiagnosis | None:
    """The window rules need MIN_OBS observations: until then, descending."""
    return None if f.enough else descending(f, e)


def oscillating(f: RunFacts, e: Evidence) -> RunDiagnosis | None:
    """4. the loss is not falling while |g| flips along the steepest direction."""
    e.update(flip_share=f.flip_share, along_share=f.along, loss_change=f.loss_change)
    e["rate"] = f.rate
    not_falling = f.flat or f.loss_change > 0
    if not (not_falling and not f.small and f.flip_share >= FLIP_SHARE and f.along >= ALONG_SHARE):
        return None
    hi, gn, flip = f.hi, short(f.grad_norm), f.flip_share
    x = f.rate * hi if f.eigen_ok else np.nan
    e["rate_x_lambda_max"] = x
    head = f"bouncing in a ravine: |g| {gn}, flips {flip:.0%}, rate*lmax {short(x)}"
    if len(head) > HEADLINE_MAX:
        head = f"bouncing in a ravine: |g| {gn}, flips {flip:.0%}"
    limit = _limit(f, "below")
    remedy = ("The loss is flat while |g| is not small: the steps bounce between the ravine's walls. "
              f"One rate cannot suit both directions: try a lower lr{limit}{_other_aids(f, ' and')}.")
    return RunDiagnosis("oscillating", cut(head), e, remedy)


def _limit(f: RunFacts, words: str = "stable only below") -> str:
    """' (stable only below 2(1+0.9)/lambda_max = 0.0142)': the largest stable lr of the run's
    method at the current top curvature (measure.stability_limit: momentum raises it, Nesterov
    less so); '' for adaptive methods (their step is lr/sigma: no number bounds lr) or without
    a positive curvature."""
    if f.stability is None or not (f.eigen_ok and f.hi > 0):
        return ""
    c = f.stability
    return f" ({words} {c.formula}/lambda_max = {short(c.factor / f.hi)})"


def _other_aids(f: RunFacts, joint: str) -> str:
    """' and an adaptive rate (RMSProp/Adam) or momentum' (joint first), leaving out what the run already uses."""
    aids = ([] if f.adaptive else ["an adaptive rate (RMSProp/Adam)"]) + ([] if f.momentum > 0 else ["momentum"])
    return f"{joint} " + " or ".join(aids) if aids else ""


def plateau(f: RunFacts, e: Evidence) -> RunDiagnosis | None:
    """4b. the loss is level and the ground flat: a small rate cannot move here."""
    slope = f.grad_norm * max(1.0, f.theta_norm)
    if not (f.flat and np.isfinite(slope) and slope <= PLATEAU_RTOL * abs(f.loss)):
        return None
    e["slope_x_theta"] = slope
    head = f"plateau: loss {short(f.loss)}, |g| {short(f.grad_norm)}"
    remedy = ("The ground is flat here: |g| is tiny, so each step barely moves, and a small rate cannot move on "
              f"flat ground. Try a much larger rate{_other_aids(f, ',')}, or another start.")
    return RunDiagnosis("plateau", cut(head), e, remedy)


def noisy(f: RunFacts, e: Evidence) -> RunDiagnosis | None:
    """4c. a stochastic run whose loss is not falling while its exact gradient is below the noise
    of one update's gradient, away from a minimum: the steps are mostly noise (the small batch of
    the lecture), so neither "too slow" nor "converged" would be true."""
    noise = f.noise_level()
    if not (noise > 0 and f.grad_norm < noise and (f.flat or f.loss_change > 0)):
        return None
    e["gradient_noise"] = noise
    trend = "rising" if f.loss_change > 0 and not f.flat else "level"
    head = f"noisy: |g| {short(f.grad_norm)} < noise {short(noise)}, loss {trend}"
    remedy = ("Each update's gradient is mostly noise: the run wanders instead of descending. A larger batch "
              "(the noise falls as 1/sqrt(batch)) or a smaller, decaying rate averages it out; the same noise "
              "helps a run leave saddles and sharp minima, so keep some of it early on.")
    return RunDiagnosis("noisy", cut(head), e, remedy)


def too_slow(f: RunFacts, e: Evidence) -> RunDiagnosis | None:
    """5. each step makes a tiny part of the progress it could."""
    hi, rate = f.hi, f.rate
    if not (f.eigen_ok and hi > f.eig_tol and np.isfinite(rate) and rate >= 0 and not f.small):
        return None
    x = rate * hi
    e["rate_x_lambda_max"] = x
    if x >= SLOW:
        return None
    upto = f" (up to about 1/lambda_max = {short(1 / hi)})" if f.stability is not None else ""
    remedy = (f"Each step makes a tiny part of the progress it could: try a larger learning rate"
              f"{upto}{_other_aids(f, ', or')}.")
    head = f"too slow: rate*lmax {short(x)}"
    if f.stability is not None and f.momentum <= 0:  # plain steps: the measured rate is lr
        head += f" (stable up to {short(f.stability.factor)})"
    return RunDiagnosis("too slow", cut(head), e, remedy)


def descending(f: RunFacts, e: Evidence) -> RunDiagnosis:
    """6. nothing else holds."""
    e.setdefault("loss_change", f.loss_change)
    head = f"descending: loss {short(f.loss)}, |g| {short(f.grad_norm)}"
    return RunDiagnosis("descending", cut(head), e, "Nothing to fix yet: the loss is still falling.")


RULES: tuple[Rule, ...] = (engine_stopped, not_started, running_away, bursting, at_critical_point, idle,
                           noise_floor, too_few_observations, oscillating, plateau, noisy, too_slow)
