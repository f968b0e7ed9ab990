"""Scripted events: what happens at which step of a scenario's playback.

An event at step k happens once the simulation has made k ticks, before the
next one. Changes (``set``) are applied to the simulation here, so the headless
run, the headless playback and the app all see the same numbers; captions,
pauses, focus and reports are for whoever shows them.
"""
from __future__ import annotations

from typing import Iterator, Sequence

from optsim.engine.scenario import EventSpec
from optsim.engine.simulation import Simulation


class Script:
    """Walks a scenario's events in step order alongside a simulation."""

    def __init__(self, events: Sequence[EventSpec]) -> None:
        self.events = sorted(events, key=lambda e: e.at)
        self.position = 0

    def due(self, tick: int) -> Iterator[EventSpec]:
        """Events at or before ``tick`` not yet played, in order."""
        while self.position < len(self.events) and self.events[self.position].at <= tick:
            self.position += 1
            yield self.events[self.position - 1]

    def rewind(self) -> None:
        self.position = 0

    @property
    def last_step(self) -> int:
        return self.events[-1].at if self.events else 0


def apply_event(sim: Simulation, event: EventSpec) -> None:
    """Apply an event's hyperparameter changes to its run (captions are the viewer's job)."""
    if event.set and event.run is not None:
        sim.set_hyperparameters(event.run, **dict(event.set))
