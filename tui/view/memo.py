"""Values computed once per state of a view: the views' numbers (Hessians, predictions, curves)
are read by the plot, the charts and the panel's legend of one frame, and again by every
redraw that changes nothing they depend on; each is computed once until the state moves."""

from __future__ import annotations

from typing import Any, Callable, Hashable


class PerState:
    """A cache that empties itself whenever `state()` differs from the last time it was read.

    The view model's state is its revision (every change of the session and of the view
    counts) with the simulation's tick and run count, so a cached number can never outlive
    the run, the step, the selection or the edit it was computed for."""

    def __init__(self, state: Callable[[], Hashable]) -> None:
        self._state = state
        self._key: Hashable = None
        self._values: dict[str, Any] = {}
        self.computed = 0  # how many values were computed (tests: a cached read computes none)

    def get(self, name: str, compute: Callable[[], Any]) -> Any:
        """The value `name` of the current state: kept, or computed now and kept."""
        key = self._state()
        if key != self._key:
            self._key, self._values = key, {}
        if name not in self._values:
            self._values[name] = compute()
            self.computed += 1
        return self._values[name]
