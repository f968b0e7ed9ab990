"""Scripted events: what happens at which step of a scenario's playback.

An event at step k happens once the simulation has made k ticks, before the
next one. Changes (``set``) are applied to the simulation here, so the headless
run, the headless playback and the app all see the same numbers; captions,
pauses, focus and reports are for whoever shows them.
"""
from __future__ import annotations

from typing import Callable, Iterator, Sequence

from ..scenario.load import EventSpec
from ..core.simulation import Simulation


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


def apply_event(sim: Simulation, event: EventSpec) -> None:
    """Apply an event's hyperparameter changes to its run (captions are the viewer's job)."""
    if event.set and event.run is not None:
        sim.set_hyperparameters(event.run, **dict(event.set))


def play_to_end(sim: Simulation, events: Sequence[EventSpec],
                after_tick: Callable[[], None] | None = None,
                before_event: Callable[[EventSpec], None] | None = None) -> Script:
    """Step until every run is done, applying each event at its step (as `optsim run` does).

    ``before_event`` sees each event just before it is applied, ``after_tick`` runs after
    every tick (recorders, the diagnosis). Returns the script, played to its end.
    """
    script = Script(events)
    while True:
        for event in script.due(sim.tick):
            if before_event is not None:
                before_event(event)
            apply_event(sim, event)
        if not sim.step():
            return script
        if after_tick is not None:
            after_tick()
