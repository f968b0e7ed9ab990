"""The Diagnoser: watches every run of a Simulation and keeps the numbers the status rules read.

Use: ``d = Diagnoser(sim)``; call ``d.observe()`` after every ``sim.step()``;
``d.report()`` gives one :class:`RunDiagnosis` per run (status, a short
headline with numbers, the evidence, and the lecture's remedy).

Cost: ``observe()`` only copies the newest state into ring buffers of the
last ``WINDOW`` observations (a handful of array writes for all runs at once)
and counts the runs whose step count did not grow (stopped or reset).
Every ``BLOCK`` observations the block is folded into per-run running
statistics (largest gradient, start and best loss, step lengths, bursts),
vectorized over runs, reading the ring in place and writing into reused
scratch arrays (fresh large temporaries cost page faults on every fold); a
block in which every run stepped forward skips the reset and standstill
masks. benchmarks/analysis.py measures the overhead on stepping (target: under
20% at 5, 100 and 1,000 runs). ``report()`` reads the window; it computes
Hessians (one batched call) only for the runs whose status needs one, at most
once per ``HESSIAN_EVERY`` steps of that run, and caches its answer until the
next observation.
A caller that steps k ticks between observe() calls gets every k-th state in
the window: rates stay per step, but a 2-cycle bounce is invisible when k is
even. Runs added, removed or reset are followed (a reset run's past is
forgotten; adding or removing runs starts the statistics afresh).

The rules that turn the window into a status are in engine.analysis.diagnosis.rules.
"""
from __future__ import annotations

import numpy as np

from ...core.simulation import Simulation
from .bursts import NEVER, BurstTracker
from .events import EventLog
from .facts import ADAPTIVE, BLOCK, HESSIAN_EVERY, WINDOW, Progress, Ring, RunDiagnosis
from .measure import gather
from .rules import diagnose


class Diagnoser:
    """Incremental, vectorized diagnosis of every run of a Simulation."""

    def __init__(self, sim: Simulation, window: int = WINDOW) -> None:
        if window < 2 * BLOCK:
            raise ValueError(f"window must be at least {2 * BLOCK}")
        self.sim = sim
        self.window = window
        self._alloc()
        self.observe()

    # ----- bookkeeping ----------------------------------------------------------------
    def _alloc(self) -> None:
        sim, W = self.sim, self.window
        R, p = sim.n_runs, sim.objective.n_params
        self.R = R
        self.count = 0  # observations written
        self.done = 0  # observations folded into the running statistics
        self._tick = sim.tick
        self._p = np.full((W, R, p), np.nan)
        self._g = np.full((W, R, p), np.nan)
        self._l = np.full((W, R), np.nan)
        self._gn = np.full((W, R), np.nan)
        self._lr = np.full((W, R), np.nan)
        self._s = np.full((W, R), -1, dtype=np.int64)
        self.first = np.zeros(R, dtype=np.int64)  # first observation that belongs to the run's current life
        self.gmax = np.zeros(R)
        self.loss_start = np.full(R, np.nan)
        self.loss_best = np.full(R, np.inf)
        self.best_step = np.zeros(R, dtype=np.int64)
        self.events = EventLog(R)
        self.burst = BurstTracker(R, self.events)
        # squared step length into each observation (inf: the run did not move); the burst test takes
        # square roots of the few numbers it compares (sqrt is monotone: the same minima and maxima)
        self._len2 = np.full((W, R), np.inf)
        self._ring_view = Ring(self._p, self._g, self._l, self._gn, self._lr, self._s, self._len2)
        self._progress = Progress(self.first, self.gmax, self.loss_start, self.loss_best, self.best_step)
        self._odd = -1  # the last observation at which some run's step count did not grow (stopped, reset)
        # scratch for _fold, reused: fresh large temporaries cost page faults on every fold
        self._ds = np.empty((BLOCK, R), dtype=np.int64)
        self._still = np.empty((BLOCK, R), dtype=bool)
        self._dp = np.empty((BLOCK, R, p))
        self._dn = np.empty((BLOCK, R))
        self._dn2 = np.empty((BLOCK, R)) if 4 <= p < 8 else None
        self._adaptive = np.array([c.optimizer in ADAPTIVE for c in sim.configs], dtype=bool)
        self._hess_step = np.full(R, NEVER, dtype=np.int64)
        self._evals = np.full((R, p), np.nan)
        self._evecs = np.full((R, p, p), np.nan)
        self._cache: list[RunDiagnosis] | None = None
        self._frozen: dict[int, dict[str, np.ndarray]] = {}  # stopped runs: their last live window
        self._is_frozen = np.zeros(R, dtype=bool)

    def observe(self) -> None:
        """Record the simulation's newest state (call after every step; cheap)."""
        sim = self.sim
        if sim.n_runs != self.R or sim.tick < self._tick:
            self._alloc()  # runs added or removed, or a full reset: start afresh
        self._tick = sim.tick
        count, W = self.count, self.window
        i = count % W
        if count:
            steps, before = sim.step_count, self._s[(count - 1) % W]
            moved = None  # None: every run stepped forward (the usual case, told by one count)
            if np.count_nonzero(steps <= before):
                moved = steps != before
                new = ~moved & ~self._is_frozen
                if new.any():
                    self._freeze(new)
                self._odd = count
            if self._frozen:
                back = self._is_frozen.copy() if moved is None else moved & self._is_frozen
                if back.any():  # they move again: back to the live window
                    for r in np.flatnonzero(back).tolist():
                        del self._frozen[r]
                    self._is_frozen[back] = False
        self._p[i] = sim.params
        self._g[i] = sim.grad
        self._gn[i] = sim.grad_norm
        self._l[i] = sim.loss
        self._lr[i] = sim.last_lr
        self._s[i] = sim.step_count
        self.count = count + 1
        self._cache = None
        if count + 1 - self.done >= BLOCK:
            self._fold()

    def _freeze(self, stopped: np.ndarray) -> None:
        """Keep the window of runs that stopped moving, before repeats of their last state fill the ring."""
        new = np.flatnonzero(stopped).tolist()
        self._is_frozen[stopped] = True
        self._fold()
        rows = self.window_rows()
        for r in new:
            if self.sim.diverged_at[r] >= 0:
                finite = self._l[rows, r][np.isfinite(self._l[rows, r])]
                last = float(finite[-1]) if finite.size else np.nan
                self.events.add(r, int(self.sim.diverged_at[r]), "diverged", last)
            self._frozen[r] = {"s": self._s[rows, r].copy(), "p": self._p[rows, r].copy(),
                               "g": self._g[rows, r].copy(), "l": self._l[rows, r].copy(),
                               "lr": self._lr[rows, r].copy(), "obs": np.arange(self.count - rows.size, self.count)}

    def window_arrays(self) -> dict[str, np.ndarray]:
        """The window, oldest first, per run: steps (w, R), params and grads (w, R, p), loss and lr (w, R),
        and ``valid`` (w, R): the observation belongs to the run's current life. Runs that stopped
        moving show the window they had when they stopped."""
        rows = self.window_rows()
        obs = np.arange(self.count - rows.size, self.count)
        out = {"s": self._s[rows], "p": self._p[rows], "g": self._g[rows], "l": self._l[rows],
               "lr": self._lr[rows]}
        valid = obs[:, None] >= self.first[None, :]
        for r, snap in self._frozen.items():
            k = snap["s"].size
            for key in out:
                out[key][-k:, r] = snap[key]
                out[key][:-k, r] = np.nan if key != "s" else -1
            valid[:, r] = False
            valid[-k:, r] = snap["obs"] >= self.first[r]
        out["valid"] = valid
        return out

    def _rows(self, start: int, stop: int) -> np.ndarray:
        return np.arange(start, stop) % self.window

    def _ring(self, start: int, stop: int) -> slice | np.ndarray:
        """Ring rows of observations start..stop-1: a slice when they do not wrap (a view, no gather)."""
        c0 = start % self.window
        if stop - start <= self.window - c0:
            return slice(c0, c0 + stop - start)
        return self._rows(start, stop)

    def _ring_diff(self, a: np.ndarray, lo: int, stop: int, out: np.ndarray) -> np.ndarray:
        """a at observations lo..stop-1 minus a at the observation before each (lo >= 1), into out[:n]."""
        W, n = self.window, stop - lo
        if n > min(W, out.shape[0]):  # folds take at most a block; kept general
            obs = np.arange(lo, stop)
            return a[obs % W] - a[(obs - 1) % W]
        out = out[:n]
        k = 0
        while k < n:  # one or two stretches of consecutive ring rows
            r0 = (lo + k) % W
            m = min(n - k, W - r0)
            if r0:
                np.subtract(a[r0 : r0 + m], a[r0 - 1 : r0 - 1 + m], out=out[k : k + m])
            else:  # row 0 follows the ring's last row
                np.subtract(a[0], a[W - 1], out=out[k])
                np.subtract(a[1:m], a[: m - 1], out=out[k + 1 : k + m])
            k += m
        return out

    def _fold(self) -> None:
        """Fold observations done..count-1 into the running statistics (vectorized over runs).

        Blocks that do not wrap around the ring are read as views, and scratch
        arrays are reused. Unless observe() saw a run stop or go back in the block,
        every run stepped forward at every observation: no resets to look for and
        no standstills to mask.
        """
        start, stop = self.done, self.count
        if stop <= start:
            return
        self.done = stop
        if self.R == 0:
            return
        rows = self._ring(start, stop)
        steps = self._s[rows]
        lo = max(start, 1)
        ds = None  # step-count change into each observation lo..stop-1, where some run did not step forward
        if stop > lo and self._odd >= lo:
            ds = self._ring_diff(self._s, lo, stop, self._ds)
            if start > 0 and ds.min() < 0:
                for b, r in zip(*np.nonzero(ds < 0)):
                    self._forget(int(r), start + int(b))
        np.fmax(self.gmax, np.fmax.reduce(self._gn[rows], axis=0), out=self.gmax)
        loss = self._l[rows]
        head = None  # each run's lowest loss before the block's last observation
        if loss.shape[0] > 1:
            head = loss[:-1].min(axis=0)
            low = np.minimum(head, loss[-1])
        else:
            low = loss.min(axis=0)
        clean = not np.isnan(low).any()  # min propagates NaN: NaN anywhere in a column shows here
        if not clean:
            loss = np.where(np.isnan(loss), np.inf, loss)
            low, head = loss.min(axis=0), None
        fresh = np.isnan(self.loss_start)
        if fresh.any():
            cols = np.arange(self.R)
            live = (np.arange(start, stop)[:, None] >= self.first[None, :]) & np.isfinite(loss)
            row = np.argmax(live, axis=0)
            take = fresh & live.any(axis=0)
            self.loss_start[take] = loss[row[take], cols[take]]
        self._fold_best(loss, low, head, steps)
        if stop > lo:
            self._fold_lengths(lo, stop, ds, low if clean and lo == start else None)

    def _fold_best(self, loss: np.ndarray, low: np.ndarray, head: np.ndarray | None, steps: np.ndarray) -> None:
        """Each run's best loss and its step after a block (loss, steps: the block's rows), then the stall watch."""
        before = self.loss_best.copy()
        better = low < self.loss_best
        if better.any():
            runs = np.flatnonzero(better)
            self.loss_best[runs] = low[runs]
            if head is not None and (loss[-1, runs] < head[runs]).all():  # (descending runs)
                self.best_step[runs] = steps[-1, runs]  # their lowest loss is the last, and only there
            else:
                at = np.argmin(loss, axis=0)  # the first lowest: low is loss[at]
                self.best_step[runs] = steps[at[runs], runs]
        self.events.watch_stalls(steps[0], steps[-1], before, self.loss_best, self.loss_start, ~self._is_frozen)

    def _fold_lengths(self, lo: int, stop: int, ds: np.ndarray | None, loss_low: np.ndarray | None) -> None:
        """Squared step lengths into observations lo..stop-1 (inf where a run did not move), then bursts."""
        n = stop - lo
        fits = n <= BLOCK  # always, as folds take at most a block; the scratch is that size
        cur = self._ring(lo, stop)
        direct = isinstance(cur, slice)  # write into the ring itself
        out = self._len2[cur] if direct else self._dn[:n] if fits else np.empty((n, self.R))
        sq = _row_sq(self._ring_diff(self._p, lo, stop, self._dp), out,
                     self._dn2[:n] if self._dn2 is not None and fits else None)
        still = None
        if ds is not None:
            still = np.equal(ds, 0, out=self._still[:n]) if fits else ds == 0
            if not still.any():
                still = None
        if still is None:
            len2_max = sq.max(axis=0)
        else:
            np.copyto(sq, 0.0, where=still)  # the burst test's largest step: 0 where the run did not move
            len2_max = sq.max(axis=0)
            np.copyto(sq, np.inf, where=still)
        if not direct:
            self._len2[cur] = sq
        if self._adaptive.any():
            self.burst.detect(self._ring_view, self._progress, self._adaptive, lo, stop, cur,
                              np.sqrt(sq.min(axis=0)), np.sqrt(len2_max), loss_low)

    def _forget(self, r: int, obs: int) -> None:
        """Run r was reset at observation obs: its past no longer counts."""
        self.first[r] = obs
        self.gmax[r] = 0.0
        with np.errstate(all="ignore"):  # the run restarted from its start: that is its start loss
            start = np.asarray(self.sim.configs[r].start, dtype=np.float64)[None, :]
            self.loss_start[r] = float(self.sim.objective.loss(start)[0])
        self.loss_best[r] = np.inf
        self.burst.forget(r)
        self.events.forget(r)
        self.best_step[r] = 0
        self._hess_step[r] = NEVER
        old = np.arange(max(0, self.count - self.window), obs) % self.window  # ring rows before the reset
        self._len2[old, r] = np.inf
        self._l[old, r] = np.nan

    # ----- the report ---------------------------------------------------------------------
    def report(self) -> list[RunDiagnosis]:
        """One diagnosis per run, for the state after the last observe()."""
        if self.sim.n_runs != self.R:  # runs were added or removed since: start afresh from now
            self.observe()
        if self._cache is not None:
            return self._cache
        self._adaptive = np.array([c.optimizer in ADAPTIVE for c in self.sim.configs], dtype=bool)
        self._fold()
        runs = np.arange(self.R)
        evals, evecs = self.hessian_eigen(runs)
        facts = gather(self.sim, self.window_arrays(), evals, evecs, self._progress,
                       [self.burst.facts(r) for r in range(self.R)])
        self._cache = [self._with_events(r, diagnose(f)) for r, f in enumerate(facts)]
        return self._cache

    def _with_events(self, r: int, found: RunDiagnosis) -> RunDiagnosis:
        events = self.events.events(r)
        return found._replace(events=events) if events else found

    @property
    def bursts(self) -> np.ndarray:
        """How many bursts each run has had (since its last reset)."""
        return self.burst.count

    def window_rows(self) -> np.ndarray:
        """Ring rows of the observations in the window, oldest first."""
        n = min(self.count, self.window)
        return self._rows(self.count - n, self.count)

    def hessian_eigen(self, runs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Eigenvalues (k, p) ascending and eigenvectors (k, p, p) at each run's current point.

        Cached per run; recomputed in one batched call for runs whose cache is
        HESSIAN_EVERY or more steps old (or from before a reset).
        """
        runs = np.asarray(runs, dtype=np.int64)
        if runs.size:
            steps = self.sim.step_count[runs]
            stale = runs[np.abs(steps - self._hess_step[runs]) >= HESSIAN_EVERY]
            if stale.size:
                with np.errstate(all="ignore"):
                    h = self.sim.objective.hessian(self.sim.params[stale])
                h = 0.5 * (h + np.swapaxes(h, 1, 2))
                ok = np.isfinite(h).all(axis=(1, 2))
                vals = np.full((stale.size, h.shape[1]), np.nan)
                vecs = np.full(h.shape, np.nan)
                if ok.any():
                    vals[ok], vecs[ok] = np.linalg.eigh(h[ok])
                self._evals[stale], self._evecs[stale] = vals, vecs
                self._hess_step[stale] = self.sim.step_count[stale]
        return self._evals[runs], self._evecs[runs]


def _row_sq(d: np.ndarray, out: np.ndarray, odd: np.ndarray | None = None) -> np.ndarray:
    """Squared Euclidean norms over the last axis of d, into out (shape d.shape[:-1]); d is overwritten.

    For few parameters einsum spends most of its time per row, so the squared
    columns are added instead (several times faster for two): the even and the odd
    columns apart, then together, the order of NumPy's einsum loop for short rows,
    so the numbers stay those einsum gave. ``odd`` is scratch like out (used for 4
    to 7 parameters).
    """
    p = d.shape[-1]
    if p == 0 or p >= 8:
        return np.einsum("...p,...p->...", d, d, out=out)
    sq = np.multiply(d, d, out=d)
    if p == 1:
        np.copyto(out, sq[..., 0])
    elif p == 2:
        np.add(sq[..., 0], sq[..., 1], out=out)
    else:
        np.add(sq[..., 0], sq[..., 2], out=out)  # the even columns
        for k in range(4, p, 2):
            np.add(out, sq[..., k], out=out)
        if p == 3:
            np.add(out, sq[..., 1], out=out)
        else:
            if odd is None or odd.shape != out.shape:
                odd = np.empty(out.shape)
            np.add(sq[..., 1], sq[..., 3], out=odd)  # the odd columns
            for k in range(5, p, 2):
                np.add(odd, sq[..., k], out=odd)
            np.add(out, odd, out=out)
    return out


__all__ = ["Diagnoser"]
