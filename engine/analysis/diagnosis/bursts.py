"""Burst detection for the Diagnoser: an adaptive method's step suddenly jumping.

The lecture's case is its Adagrad in a ravine: after a long quiet walk the
accumulated sigma in the steep direction has shrunk, eta/sigma blows up and
the point shoots out across the ravine. The Diagnoser calls
:meth:`BurstTracker.detect` once per block of observations; the rule is
stated in engine.analysis.diagnosis.rules.
"""
from __future__ import annotations

import numpy as np

from .events import EventLog
from .facts import BURST_FACTOR, BURST_GAP, BURST_GIVEBACK, BURST_MIN_LR, BurstFacts, Progress, Ring

NEVER = -(10**12)


class BurstTracker:
    """Per-run burst counts and the latest burst's steps and losses (arrays of length R)."""

    def __init__(self, n_runs: int, log: EventLog | None = None) -> None:
        self.log = log  # where each new burst (and its peak) is written down
        self.count = np.zeros(n_runs, dtype=np.int64)
        self.last = np.full(n_runs, NEVER, dtype=np.int64)  # step of the latest detection
        self.loss_from = np.full(n_runs, np.nan)  # loss before the latest burst
        self.peak = np.full(n_runs, np.nan)  # highest loss seen while it burst
        self.start = np.full(n_runs, -1, dtype=np.int64)
        self.prev_len_min = np.full(n_runs, np.inf)  # summaries of the block before, for the cheap test
        self.prev_loss_min = np.full(n_runs, np.inf)

    def forget(self, r: int) -> None:
        """Run r was reset: its bursts no longer count."""
        self.count[r] = 0
        self.last[r] = NEVER
        self.loss_from[r] = self.peak[r] = np.nan
        self.start[r] = -1
        self.prev_len_min[r] = self.prev_loss_min[r] = np.inf

    def facts(self, r: int) -> BurstFacts:
        return BurstFacts(int(self.count[r]), int(self.last[r]), int(self.start[r]), float(self.loss_from[r]),
                          float(self.peak[r]))

    def _candidates(self, ring: Ring, progress: Progress, adaptive: np.ndarray, cur: slice | np.ndarray,
                    len_min: np.ndarray, len_max: np.ndarray, loss_low: np.ndarray | None
                    ) -> tuple[np.ndarray, np.ndarray]:
        """The cheap test on the block against the block before: (runs that may have burst, progress)."""
        blk_loss = ring.l[cur]
        progress_made = np.zeros(0)
        with np.errstate(all="ignore"):
            blk_loss_min = np.fmin.reduce(blk_loss, axis=0) if loss_low is None else loss_low
            # the step test first: it rarely passes, and then the block's losses need no second pass
            cand = adaptive & (len_max >= BURST_FACTOR * np.minimum(len_min, self.prev_len_min))
            if cand.any():
                progress_made = np.maximum(progress.loss_start - progress.loss_best, 0.0)
                progress_made = np.where(np.isfinite(progress_made), progress_made, 0.0)
                cand &= (np.fmax.reduce(blk_loss, axis=0) - np.fmin(blk_loss_min, self.prev_loss_min)
                         >= BURST_GIVEBACK * progress_made)
            self.prev_len_min = len_min
            self.prev_loss_min = blk_loss_min
        return np.flatnonzero(cand), progress_made

    def detect(self, ring: Ring, progress: Progress, adaptive: np.ndarray, lo: int, stop: int,
               cur: slice | np.ndarray, len_min: np.ndarray, len_max: np.ndarray,
               loss_low: np.ndarray | None = None) -> None:
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
        cols, progress_made = self._candidates(ring, progress, adaptive, cur, len_min, len_max, loss_low)
        if cols.size == 0:
            return
        W = ring.l.shape[0]
        obs = np.arange(lo, stop)
        cur, prev = obs % W, (obs - 1) % W
        before = np.arange(max(0, stop - W), lo) % W  # older observations still in the ring
        lens = np.sqrt(ring.len2[:, cols])
        loss = np.where(np.isnan(ring.l[:, cols]), np.inf, ring.l[:, cols])
        inf_row = np.full((1, cols.size), np.inf)
        with np.errstate(all="ignore"):
            s0 = lens[before].min(axis=0) if before.size else inf_row[0]
            l0 = loss[before].min(axis=0) if before.size else inf_row[0]
            s_ref = np.minimum(s0[None, :], np.vstack([inf_row, np.minimum.accumulate(lens[cur], axis=0)[:-1]]))
            l_ref = np.minimum(l0[None, :], np.vstack([inf_row, np.minimum.accumulate(loss[cur], axis=0)[:-1]]))
            hit = ((lens[cur] >= BURST_FACTOR * s_ref) & np.isfinite(lens[cur])
                   & (lens[cur] >= BURST_MIN_LR * ring.lr[cur][:, cols])
                   & (loss[cur] > loss[prev]) & np.isfinite(loss[cur])
                   & (loss[cur] - l_ref >= BURST_GIVEBACK * progress_made[cols][None, :])
                   & (obs[:, None] - 2 > progress.first[cols][None, :]))
        for b, c in zip(*np.nonzero(hit)):
            self._record(int(cols[c]), int(ring.s[cur[b], cols[c]]), float(l_ref[b, c]), float(loss[cur[b], c]))

    def _record(self, r: int, step: int, loss_before: float, loss: float) -> None:
        """A detection at `step`: a new burst, or part of the one less than BURST_GAP steps before."""
        if step - self.last[r] > BURST_GAP:
            self.count[r] += 1
            self.loss_from[r] = loss_before
            self.peak[r] = loss
            self.start[r] = step
            if self.log is not None:
                self.log.add(r, step, "burst", loss_before, loss)
        else:
            self.peak[r] = max(self.peak[r], loss)
            if self.log is not None:
                self.log.raise_burst_peak(r, loss)
        self.last[r] = step
