"""The run's notable events over its whole life, beside its current status: bursts, stalls, divergence.

The status speaks about the window (the last 64 observations); a burst at
step 233 of an 800-step run has left it by the end. The Diagnoser records
such moments here as it observes, in a small bounded log per run (the
latest ``EVENTS_MAX``; how many older ones fell out is counted).

A stall is logged when it ends: the best loss stopped improving (a block of
observations improved it by at most ``STALL_SHARE`` of the progress so far)
for at least ``STALL_MIN`` steps, and then fell again by more than
``RESUME_SHARE`` of max(progress, |loss|). A run that converged never falls
again, so the log is not cluttered by every finished descent; a stall still
going on is what the current status describes.
"""
from __future__ import annotations

from collections import deque
from typing import NamedTuple

import numpy as np

from ...text_format import short

EVENTS_MAX = 16
STALL_SHARE = 1e-3
RESUME_SHARE = 1e-2
STALL_MIN = 64


class Event(NamedTuple):
    step: int  # where it began
    kind: str  # "burst", "stall" or "diverged"
    text: str
    end: int = -1  # a stall: the step it ended


def summary(events: tuple[Event, ...]) -> str:
    """'2 bursts, 1 stall' (kinds in order of first appearance), or '' without events."""
    counts: dict[str, int] = {}
    for e in events:
        counts[e.kind] = counts.get(e.kind, 0) + 1
    return ", ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in counts.items())


def steps_line(events: tuple[Event, ...]) -> str:
    """One short line for a narrow panel: 'bursts at 231, 627; stall 544-1856' (kinds by first appearance)."""
    by_kind: dict[str, list[str]] = {}
    for e in events:
        at = f"{e.step}-{e.end}" if e.kind == "stall" else str(e.step)
        by_kind.setdefault(e.kind, []).append(at)
    return "; ".join(f"{kind}{'s' if len(at) > 1 else ''} at {', '.join(at)}" for kind, at in by_kind.items())


class _Entry(NamedTuple):
    step: int
    kind: str
    end: int  # stall: the step it ended; else -1
    loss_from: float
    loss_to: float


def describe(e: _Entry) -> Event:
    if e.kind == "burst":
        return Event(e.step, e.kind, f"burst at step {e.step}: loss {short(e.loss_from)} -> {short(e.loss_to)}")
    if e.kind == "stall":
        return Event(e.step, e.kind, f"stalled at loss {short(e.loss_from)} from step {e.step} to {e.end}, "
                                     f"then fell to {short(e.loss_to)}", e.end)
    return Event(e.step, e.kind, f"diverged at step {e.step} (last loss {short(e.loss_from)})")


class EventLog:
    """Per run: the latest EVENTS_MAX events, oldest first, and how many older ones were dropped."""

    def __init__(self, n_runs: int) -> None:
        self._runs: list[deque[_Entry]] = [deque(maxlen=EVENTS_MAX) for _ in range(n_runs)]
        self.dropped = np.zeros(n_runs, dtype=np.int64)
        # the stall watch: since which step (-1: none) and at which best loss each run is stalled
        self.stall_step = np.full(n_runs, -1, dtype=np.int64)
        self.stall_loss = np.full(n_runs, np.nan)
        self.stall_scale = np.full(n_runs, np.nan)

    def add(self, r: int, step: int, kind: str, loss_from: float, loss_to: float = np.nan, end: int = -1) -> None:
        log = self._runs[r]
        if len(log) == log.maxlen:
            self.dropped[r] += 1
        log.append(_Entry(step, kind, end, loss_from, loss_to))

    def raise_burst_peak(self, r: int, peak: float) -> None:
        """The latest burst climbed higher: its entry shows the new peak."""
        log = self._runs[r]
        for i in range(len(log) - 1, -1, -1):
            if log[i].kind == "burst":
                log[i] = log[i]._replace(loss_to=max(log[i].loss_to, peak))
                return

    def forget(self, r: int) -> None:
        """Run r was reset: its events no longer count."""
        self._runs[r].clear()
        self.dropped[r] = 0
        self.stall_step[r] = -1

    def events(self, r: int) -> tuple[Event, ...]:
        """Run r's events by the step they began (a stall is written down when it ends)."""
        return tuple(describe(e) for e in sorted(self._runs[r], key=lambda e: e.step))

    def watch_stalls(self, first_step: np.ndarray, last_step: np.ndarray, best_before: np.ndarray,
                     best: np.ndarray, start: np.ndarray, live: np.ndarray) -> None:
        """After a block: mark runs whose best loss stopped improving, and log stalls that ended.

        ``first_step``/``last_step`` are each run's steps at the block's first and last observation,
        ``best_before``/``best`` its best loss before and after the block, ``start`` its start loss,
        ``live`` the runs still moving (stopped and diverged runs are left alone).
        """
        with np.errstate(all="ignore"):
            progress = np.maximum(np.where(np.isfinite(start - best), start - best, 0.0), 0.0)
            improved = best_before - best  # inf on the first block: not a stall
            watching = self.stall_step >= 0
            begins = live & ~watching & (improved <= STALL_SHARE * progress)
            fell = self.stall_loss - best
            ends = live & watching & (fell > RESUME_SHARE * self.stall_scale)
        for r in np.flatnonzero(ends).tolist():
            if last_step[r] - self.stall_step[r] >= STALL_MIN:
                self.add(r, int(self.stall_step[r]), "stall", float(self.stall_loss[r]), float(best[r]),
                         end=int(first_step[r]))
            self.stall_step[r] = -1
        if begins.any():
            self.stall_step[begins] = first_step[begins]
            self.stall_loss[begins] = best[begins]
            self.stall_scale[begins] = np.maximum(progress[begins], np.abs(best[begins]))
