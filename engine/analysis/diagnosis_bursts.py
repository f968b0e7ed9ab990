"""Burst detection for engine.diagnosis: an adaptive method's step suddenly jumping.

The lecture's case is its Adagrad in a ravine: after a long quiet walk the
accumulated sigma in the steep direction has shrunk, eta/sigma blows up and
the point shoots out across the ravine. Called by Diagnoser._fold once per
block of observations; the rule is stated in engine.diagnosis.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import diagnosis as D

if TYPE_CHECKING:
    from .diagnosis import Diagnoser


def detect_bursts(d: "Diagnoser", lo: int, stop: int, cur: slice | np.ndarray, len_min: np.ndarray,
                  len_max: np.ndarray, loss_low: np.ndarray | None = None) -> None:
    """Adaptive runs whose step jumped far above its recent minimum while the loss rose materially.

    The references are the smallest step length and the lowest loss over the
    observations before (up to a window back): a minimum over the window before
    the block and a running minimum inside it. A cheap test on the block and a
    summary of the block before keeps the exact one to the few runs where a
    burst is possible. The caller gives the block's ring rows ``cur``
    (observations lo..stop-1), each run's smallest step length in the block (inf
    if it did not move) and largest (0 if it did not move), and, when the block
    holds no NaN loss, its lowest loss ``loss_low``.
    """
    W = d.window
    blk_loss = d._l[cur]
    with np.errstate(all="ignore"):
        blk_loss_min = np.fmin.reduce(blk_loss, axis=0) if loss_low is None else loss_low
        # the step test first: it rarely passes, and then the block's losses need no second pass
        cand = d._adaptive & (len_max >= D.BURST_FACTOR * np.minimum(len_min, d._prev_len_min))
        if cand.any():
            progress = np.maximum(d.loss_start - d.loss_best, 0.0)
            progress = np.where(np.isfinite(progress), progress, 0.0)
            cand &= (np.fmax.reduce(blk_loss, axis=0) - np.fmin(blk_loss_min, d._prev_loss_min)
                     >= D.BURST_GIVEBACK * progress)
        d._prev_len_min = len_min
        d._prev_loss_min = blk_loss_min
    ring_loss = d._l
    cols = np.flatnonzero(cand)
    if cols.size == 0:
        return
    obs = np.arange(lo, stop)
    cur, prev = obs % W, (obs - 1) % W
    before = np.arange(max(0, stop - W), lo) % W  # older observations still in the ring
    lens = np.sqrt(d._len2[:, cols])
    loss = np.where(np.isnan(ring_loss[:, cols]), np.inf, ring_loss[:, cols])
    inf_row = np.full((1, cols.size), np.inf)
    with np.errstate(all="ignore"):
        s0 = lens[before].min(axis=0) if before.size else inf_row[0]
        l0 = loss[before].min(axis=0) if before.size else inf_row[0]
        s_ref = np.minimum(s0[None, :], np.vstack([inf_row, np.minimum.accumulate(lens[cur], axis=0)[:-1]]))
        l_ref = np.minimum(l0[None, :], np.vstack([inf_row, np.minimum.accumulate(loss[cur], axis=0)[:-1]]))
        hit = ((lens[cur] >= D.BURST_FACTOR * s_ref) & np.isfinite(lens[cur])
               & (lens[cur] >= D.BURST_MIN_LR * d._lr[cur][:, cols])
               & (loss[cur] > loss[prev]) & np.isfinite(loss[cur])
               & (loss[cur] - l_ref >= D.BURST_GIVEBACK * progress[cols][None, :])
               & (obs[:, None] - 2 > d.first[cols][None, :]))
    for b, c in zip(*np.nonzero(hit)):
        r = int(cols[c])
        step = int(d._s[cur[b], r])
        if step - d.last_burst[r] > D.BURST_GAP:
            d.bursts[r] += 1
            d.burst_from[r] = float(l_ref[b, c])
            d.burst_peak[r] = float(loss[cur[b], c])
            d.burst_start[r] = step
        else:
            d.burst_peak[r] = max(d.burst_peak[r], float(loss[cur[b], c]))
        d.last_burst[r] = step
