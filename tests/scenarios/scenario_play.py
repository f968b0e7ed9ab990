"""Play a scenario the way `optsim run` does and keep every step's numbers, for the scenario tests.

`optsim run` applies each event's ``set`` once the simulation has made ``at``
ticks, then steps; :func:`play` does the same and also records, at full
resolution, what the tests assert on: parameters, loss, gradient norm, the
rate used, the test loss, and a snapshot of the simulation at every event.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from optsim.engine.scenario.build import build_simulation
from optsim.engine.scenario.catalog import builtin_dir
from optsim.engine.watch.script import play_to_end
from optsim.engine.scenario.load import EventSpec, Scenario, load_scenario
from optsim.engine.core.simulation import Simulation

SCENARIOS = builtin_dir()


def scenario_path(stem: str) -> Path:
    """The built-in file whose name is ``stem`` + '.toml' (e.g. '10-saddle-w1w2')."""
    path = SCENARIOS / f"{stem}.toml"
    assert path.is_file(), f"missing built-in scenario {path}"
    return path


@dataclass
class Snapshot:
    """The simulation's numbers when an event fires (after ``at`` ticks, before its changes)."""

    event: EventSpec
    tick: int
    params: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    grad_norm: np.ndarray


@dataclass
class Trace:
    """Every tick of a played scenario: arrays of shape (ticks + 1, runs, ...)."""

    scenario: Scenario
    sim: Simulation
    params: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    lr: np.ndarray
    test_loss: np.ndarray | None
    snapshots: list[Snapshot] = field(default_factory=list)

    def run(self, name: str) -> int:
        return self.sim.names.index(name)

    def at_event(self, contains: str) -> Snapshot:
        """The snapshot of the one event whose caption contains ``contains``."""
        found = [s for s in self.snapshots if s.event.say and contains in s.event.say]
        assert len(found) == 1, f"{len(found)} events say {contains!r}"
        return found[0]

    def step_sizes(self, run: int) -> np.ndarray:
        """|theta_k - theta_(k-1)| for k = 1..ticks."""
        return np.linalg.norm(np.diff(self.params[:, run], axis=0), axis=1)


def load(stem: str) -> Scenario:
    return load_scenario(scenario_path(stem))


def play(scenario: Scenario | str, sim: Simulation | None = None, seed: int | None = None,
         steps: int | None = None) -> Trace:
    """Step ``sim`` (default: the scenario's own) to the end with the scenario's events applied."""
    if isinstance(scenario, str):
        scenario = load(scenario)
    if sim is None:
        sim = build_simulation(scenario, seed=seed, steps=steps)
    params, loss, gnorm, lr, test = [], [], [], [], []
    snaps: list[Snapshot] = []

    def record() -> None:
        params.append(sim.params.copy())
        loss.append(sim.loss.copy())
        gnorm.append(sim.grad_norm.copy())
        lr.append(sim.last_lr.copy())
        t = sim.test_loss()
        if t is not None:
            test.append(t.copy())

    def snapshot(event) -> None:
        snaps.append(Snapshot(event, sim.tick, sim.params.copy(), sim.loss.copy(), sim.grad.copy(),
                              sim.grad_norm.copy()))

    record()
    play_to_end(sim, scenario.events, after_tick=record, before_event=snapshot)
    return Trace(scenario, sim, np.array(params), np.array(loss), np.array(gnorm), np.array(lr),
                 np.array(test) if test else None, snaps)


def captions(scenario: Scenario) -> list[str]:
    return [e.say for e in scenario.events if e.say]
