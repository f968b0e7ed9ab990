"""What every part of the diagnosis shares: the thresholds, the statuses, and the records passed along.

The Diagnoser (bookkeeping) fills a :class:`RunFacts` per run; the rules read
only those facts. Keeping the numbers and records here lets the bookkeeping,
the burst detector and the rules import one module instead of each other.
The thresholds' meaning is stated with the rules (engine.analysis.diagnosis.rules).
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ..critical import NEAR_RTOL
from .events import Event

STATUSES = ("not started", "descending", "converged", "wd equilibrium", "stuck at saddle", "at a maximum",
            "plateau", "idle (lr 0)", "oscillating", "noisy", "diverging", "diverged", "too slow", "burst")
ADAPTIVE = frozenset({"adagrad", "rmsprop", "adam", "adamw", "nadam", "radam", "adagrad_lecture",
                      "rmsprop_lecture", "adam_lecture"})

WINDOW = 64
BLOCK = 32
HESSIAN_EVERY = 16
MIN_OBS = 8  # observations needed before the window rules (oscillating, too slow) apply
SMALL_GRAD = 1e-3
ABS_GRAD = 1e-10
NEAR = NEAR_RTOL  # one nearness rule with the point report (engine.analysis.critical)
EIG_RTOL = 1e-6
SADDLE_RTOL = 1e-3
FLAT_RTOL = 1e-2
FLIP_SHARE = 0.75
ALONG_SHARE = 0.5
SLOW = 0.2
PLATEAU_RTOL = 1e-6  # flat ground: |g| * max(1, |theta|) below this share of |loss|
RUNAWAY = 1e3
BURST_FACTOR = 10.0
BURST_MIN_LR = 0.1
BURST_GIVEBACK = 0.1
BURST_GAP = 64
BURST_HOLD = 64
HEADLINE_MAX = 59


class RunDiagnosis(NamedTuple):
    status: str
    headline: str
    evidence: dict[str, float]
    remedy: str
    events: tuple[Event, ...] = ()  # notable moments over the whole run, oldest first


class Ring(NamedTuple):
    """The Diagnoser's ring buffers of the last observations (row = observation % window)."""
    p: np.ndarray  # params (W, R, p)
    g: np.ndarray  # gradients (W, R, p)
    l: np.ndarray  # loss (W, R)
    gn: np.ndarray  # |g| (W, R)
    lr: np.ndarray  # rate of the update into the observation (W, R)
    s: np.ndarray  # step count (W, R), -1 before the first
    len2: np.ndarray  # squared step length into the observation (W, R), inf where the run did not move


class Progress(NamedTuple):
    """Per-run running statistics since the run's current life began (arrays of length R, updated in place)."""
    first: np.ndarray  # first observation that belongs to the run's current life
    gmax: np.ndarray  # largest |g| seen
    loss_start: np.ndarray
    loss_best: np.ndarray
    best_step: np.ndarray  # step of the lowest loss


class BurstFacts(NamedTuple):
    count: int
    last: int  # step of the latest burst detection
    start: int  # step where the latest burst began
    loss_from: float  # loss before it
    loss_peak: float  # highest loss while it burst


class StabilityLimit(NamedTuple):
    """Gradient descent's step on a quadratic of curvature lambda is stable only while
    lr * lambda < factor; `formula` says where the factor comes from ("2(1+mu)" ...)."""

    factor: float
    formula: str


class RunFacts(NamedTuple):
    """Everything the rules read about one run, measured once per report."""
    optimizer: str
    adaptive: bool  # a per-coordinate adaptive rate (Adagrad, RMSProp, Adam, ...)
    momentum: float  # the momentum (or Adam's beta1) the run already uses, 0 without
    stability: StabilityLimit | None  # lr*lambda_max must stay below its factor (None: adaptive)
    step: int
    loss: float
    grad_norm: float
    theta_norm: float
    lr: float  # the rate of the last update taken
    next_lr: float  # the rate of the next update (an edit may have changed it)
    evals: np.ndarray  # Hessian eigenvalues, ascending (NaN where the Hessian is not finite)
    evecs: np.ndarray  # their eigenvectors, as columns
    eigen_ok: bool  # the Hessian was finite: lo and hi are its extreme eigenvalues (else NaN)
    lo: float
    hi: float
    eig_tol: float  # |lambda| below this counts as 0
    small: bool  # the gradient (with coupled weight decay) is small against the largest seen
    small_raw: bool  # the gradient itself (without any decay) is small against the largest seen before
    near: bool  # the local quadratic model's critical point is near
    flat: bool  # the loss barely changed over the window
    enough: bool  # enough observations for the window rules
    dist: float  # distance to the quadratic model's critical point
    loss_change: float  # over the window
    weight_decay: float
    diverged_at: int  # the engine stopped the run at this step, or -1
    loss_start: float
    loss_best: float
    best_step: int
    gmax: float
    burst: BurstFacts
    flip_share: float
    along: float
    rate: float  # effective rate along the gradient per step
    param_names: tuple[str, ...]
    falling_flat_direction: Callable[[float], np.ndarray | None]  # probes nearly flat directions (costly)
    noise_level: Callable[[], float]  # expected size of one update's gradient noise (costly)


def cut(text: str) -> str:
    """A headline cut to HEADLINE_MAX characters."""
    return text if len(text) <= HEADLINE_MAX else text[: HEADLINE_MAX - 1] + "…"
