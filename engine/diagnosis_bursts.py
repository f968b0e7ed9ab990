"""Burst detection for engine.diagnosis: an adaptive method's step suddenly jumping.

The lecture's case is its Adagrad in a ravine: after a long quiet walk the
accumulated sigma in the steep direction has shrunk, eta/sigma blows up and
the point shoots out across the ravine. Called by Diagnoser._fold once per
block of observations; the rule is stated in engine.diagnosis.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from optsim.engine import diagnosis as D

if TYPE_CHECKING:
    from optsim.engine.diagnosis import Diagnoser


def detect_bursts(d: "Diagnoser", lo: int, stop: int, block_len: np.ndarray) -> None:
    """Adaptive runs whose step jumped far above its recent minimum while the loss rose materially.

    The references are the smallest step length and the lowest loss over the
    observations before (up to a window back): a minimum over the window before
    the block and a running minimum inside it. A cheap test on the block and a
    summary of the block before keeps the exact one to the few runs where a
    burst is possible.
    """
    W = d.window
    cur_rows = np.arange(lo, stop) % W
    blk_loss = d._l[cur_rows]
    with np.errstate(all="ignore"):
        progress = np.maximum(d.loss_start - d.loss_best, 0.0)
        progress = np.where(np.isfinite(progress), progress, 0.0)
        len_min = np.minimum(d._len[cur_rows].min(axis=0), d._prev_len_min)
        loss_min = np.fmin(np.fmin.reduce(blk_loss, axis=0), d._prev_loss_min)
        cand = (d._adaptive & (block_len.max(axis=0) >= D.BURST_FACTOR * len_min)
                & (np.fmax.reduce(blk_loss, axis=0) - loss_min >= D.BURST_GIVEBACK * progress))
        d._prev_len_min = d._len[cur_rows].min(axis=0)
        d._prev_loss_min = np.fmin.reduce(blk_loss, axis=0)
    ring_loss = d._l
    cols = np.flatnonzero(cand)
    if cols.size == 0:
        return
    obs = np.arange(lo, stop)
    cur, prev = obs % W, (obs - 1) % W
    before = np.arange(max(0, stop - W), lo) % W  # older observations still in the ring
    lens = d._len[:, cols]
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
