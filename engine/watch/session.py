"""A scenario being watched: the simulation with its script, its edits, records and diagnosis.

The app, `optsim play --headless` and the tests all drive a Session, so they see the same
numbers: it steps the simulation tick by tick up to the next scripted event and plays events
when they are due (captions, hyperparameter changes); it edits, adds, removes and restarts
runs (checked by engine.scenario.run_rules, as a file is) and keeps the CSV recorder and the
diagnosis in step. What is shown and how (selection, hidden runs, the plotted plane, arrows,
curves) is the viewer's: tui/view keeps it and follows the session through `watch()`, which
tells every watcher what each change did. No Textual here.

Conventions: a tick is one update of every active run; an event at step k fires once the
simulation has made k ticks (events at 0 fire on start and on reset).
"""

from __future__ import annotations

import re
import time
from typing import Any, Callable, Mapping, NamedTuple

import numpy as np

from ..analysis.diagnosis import Diagnoser
from ..core.budget import work_problem
from ..core.run_settings import RunSettings
from ..core.simulation import Simulation
from ..scenario.build import build_objective, build_simulation
from ..errors import ScenarioError
from ..scenario.load import MAX_RUNS, EventSpec, Scenario
from ..scenario.reader import Reader
from ..scenario.run_rules import RunContext, check_run
from .recorder import LiveRecorder
from .script import Script, apply_event

_COPY_SUFFIX = re.compile(r" copy( \d+)?$")
"""What new_run_name adds: a copy of a copy is named after the original."""

EDIT_FILE = "(edit)"
"""The file name of errors in values typed in the app (the key is `run.<name>`)."""


class Advance(NamedTuple):
    """What one call of Session.advance did."""

    ticks: int
    events: list[EventSpec]
    paused: bool  # a scripted pause fired: the player should stop
    finished: bool  # every run is done


class Change(NamedTuple):
    """One change of a session, as its watchers hear of it.

    kind: "advanced" (ticks made, `events` fired), "reset" (every run back at its start,
    `events` at 0 fired), "edited" (run `run` changed; `name` is its name before), "restarted"
    (run `run` starts again from a new point), "added" (run `run` is new), "removed" (run
    `run`, called `name`, is gone)."""

    kind: str
    run: int | None = None
    name: str | None = None
    events: tuple[EventSpec, ...] = ()


class Session:
    """A scenario's live simulation, shared by the app, the headless player and the tests."""

    def __init__(self, scenario: Scenario, seed: int | None = None) -> None:
        self.scenario = scenario
        self.objective = build_objective(scenario)
        self.sim = build_simulation(scenario, seed=seed, objective=self.objective)
        self.script = Script(scenario.events)
        self.caption: str | None = None
        self.captions: list[tuple[int, str]] = []
        self.played: list[EventSpec] = []  # events played since the start (or the last reset)
        self.revision = 0  # counts changes (see _announce)
        self.started_at = np.zeros(self.sim.n_runs, dtype=np.int64)
        self.changed_at = np.zeros(self.sim.n_runs, dtype=np.int64)  # run's step of its last edit
        self.recorder = LiveRecorder(self.sim)
        self.diagnoser = _make_diagnoser(self.sim)
        self.unsaved: list[tuple[str, str]] = []
        """The user's changes of the runs since the file was loaded or last saved, as (kind, run
        name): "added", "edited" (settings or start), "removed". Scripted events are the file's
        own and are not listed. A player leaving the scenario asks before dropping them."""
        self._watchers: list[Callable[[Change], None]] = []
        self._fire_due()

    # ------------------------------------------------------------------ watching

    def watch(self, callback: Callable[[Change], None]) -> Callable[[], None]:
        """Call `callback` with every Change from now on; returns the function that stops it."""
        self._watchers.append(callback)
        return lambda: self._watchers.remove(callback) if callback in self._watchers else None

    def _announce(self, change: Change) -> None:
        """The one place a change is counted and told."""
        self.revision += 1
        for callback in list(self._watchers):
            callback(change)

    # ------------------------------------------------------------------ playing

    @property
    def tick(self) -> int:
        return self.sim.tick

    @property
    def finished(self) -> bool:
        return self.sim.done

    @property
    def n_runs(self) -> int:
        return self.sim.n_runs

    def advance(self, max_ticks: int, deadline: float | None = None) -> Advance:
        """Step up to `max_ticks` ticks, firing events as they fall due; stop early at a
        scripted pause or a scripted guide (which reads the numbers of its own step), when
        every run is done, or (after at least one tick) once time.perf_counter() passes
        `deadline` so that a frame never overruns its budget."""
        made = 0
        fired: list[EventSpec] = []
        paused = False
        while made < max_ticks and not self.sim.done:
            if deadline is not None and made and time.perf_counter() > deadline:
                break
            if not self.sim.step(1):
                break
            made += 1
            self._observe()
            events = self._fire_due()
            fired += events
            if any(e.pause for e in events):
                paused = True
                break
            if any(e.show == "guide" for e in events):
                break
        if made:
            self._announce(Change("advanced", events=tuple(fired)))
        return Advance(made, fired, paused, self.sim.done)

    def advance_to(self, tick: int) -> Advance:
        """Step until the simulation has made `tick` ticks (or is done), through pauses."""
        fired: list[EventSpec] = []
        made = 0
        while self.sim.tick < tick and not self.sim.done:
            step = self.advance(tick - self.sim.tick)
            made += step.ticks
            fired += step.events
            if step.ticks == 0:
                break
        return Advance(made, fired, False, self.sim.done)

    def _observe(self) -> None:
        self.recorder.observe()
        self.diagnoser.observe()

    def _fire_due(self) -> list[EventSpec]:
        events = list(self.script.due(self.sim.tick))
        for event in events:
            self._play(event)
        return events

    def _play(self, event: EventSpec) -> None:
        """Play an event's caption and changes (focus and reports are the viewer's, pauses the player's)."""
        self.played.append(event)
        if event.say is not None:
            self.caption = event.say
            self.captions.append((self.sim.tick, event.say))
        if event.set and event.run in self.sim.names:  # a run removed in the app takes no changes
            apply_event(self.sim, event)
            i = self.sim.names.index(event.run)
            self.changed_at[i] = self.sim.step_count[i]

    def reset(self) -> None:
        """Every run back to its start; the script starts again."""
        self.sim.reset()
        self.script.rewind()
        self.caption = None
        self.captions.clear()
        self.played.clear()
        self.started_at = np.zeros(self.sim.n_runs, dtype=np.int64)
        self.changed_at = np.zeros(self.sim.n_runs, dtype=np.int64)
        self.recorder.restart_all()
        self.diagnoser = _make_diagnoser(self.sim)
        events = self._fire_due()
        self._announce(Change("reset", events=tuple(events)))

    # ------------------------------------------------------------------ runs

    def check_settings(self, run: int | None, values: Mapping[str, Any], optimizer: str) -> dict[str, Any]:
        """Check settings typed in the app for run `run` (None: a new run) by the rules a file's
        [[runs]] table and a scripted `set` follow (engine.scenario.run_rules), merged over the
        run's hyperparameters. Returns them normalized; ScenarioError names `run.<key>`."""
        data = self.objective.data
        taken = frozenset(n for k, n in enumerate(self.sim.names) if k != run)
        ctx = RunContext(self.objective.n_params, data.n_train if data is not None else None, taken)
        current = self.sim.configs[run].hyper if run is not None else None
        checked = check_run(Reader(EDIT_FILE), values, optimizer, "run", ctx, current=current)
        self._check_work(run, checked)
        return checked

    def _check_work(self, run: int | None, checked: Mapping[str, Any]) -> None:
        """A run added or lengthened in the app counts against the same limits as a file's runs
        (core.budget): the number of runs, and runs x steps (x rows with data) in all."""
        configs = self.sim.configs
        if run is None and len(configs) >= MAX_RUNS:
            raise ScenarioError(EDIT_FILE, "run", f"a scenario has at most {MAX_RUNS} runs")
        steps = int(checked.get("steps", configs[run].steps if run is not None else 0))
        total = sum(c.steps for k, c in enumerate(configs) if k != run) + steps
        data = self.objective.data
        problem = work_problem(len(configs) + (run is None), total, data.n_train if data is not None else None)
        if problem:
            raise ScenarioError(EDIT_FILE, "run.steps", problem + ": use fewer steps, or remove a run")

    def edit_run(self, run: int, changes: Mapping[str, Any]) -> None:
        """Apply an edit mid-run (checked first): the run keeps its state and step count unless
        the optimizer changes (fresh state) or the start moves (the run starts again there)."""
        cfg = self.sim.configs[run]
        changes = self.check_settings(run, changes, cfg.optimizer)
        start = changes.pop("start", None)
        if changes:
            self.sim.set_hyperparameters(run, **changes)
            self.changed_at[run] = self.sim.step_count[run]
        if start is not None and tuple(start) != tuple(cfg.start):
            self.set_start(run, start)
        self._remember("edited", cfg.name)
        self._announce(Change("edited", run, cfg.name))

    def set_start(self, run: int, point: Any) -> None:
        """Move a run's start (a full point of parameter space) and start that run again there."""
        point = np.asarray(point, dtype=float).ravel()
        if point.size != self.objective.n_params:
            raise ValueError(f"a start needs {self.objective.n_params} numbers, not {point.size}")
        self.sim.set_start(run, point)
        self.started_at[run] = self.sim.tick
        self.changed_at[run] = 0
        self.recorder.restart_run(run)
        self.diagnoser = _make_diagnoser(self.sim)
        self._remember("edited", self.sim.names[run])
        self._announce(Change("restarted", run, self.sim.names[run]))

    def add_run(self, settings: RunSettings) -> int:
        """Append a run (checked like an edit; its name must be new); it starts now."""
        values = settings.values()
        self.check_settings(None, values, values.pop("optimizer"))
        i = self.sim.add_run(settings)
        self.started_at = np.append(self.started_at, self.sim.tick)
        self.changed_at = np.append(self.changed_at, 0)
        self.recorder.add_run()
        self.diagnoser = _make_diagnoser(self.sim)
        self._remember("added", settings.name)
        self._announce(Change("added", i, settings.name))
        return i

    def remove_run(self, run: int) -> None:
        """Drop a run (not the last one: a scenario needs at least one)."""
        if self.sim.n_runs <= 1:
            raise ValueError("cannot remove the last run")
        name = self.sim.names[run]
        self.sim.remove_run(run)
        self.started_at = np.delete(self.started_at, run)
        self.changed_at = np.delete(self.changed_at, run)
        self.recorder.remove_run(run)
        self.diagnoser = _make_diagnoser(self.sim)
        self._remember("removed", name)
        self._announce(Change("removed", run, name))

    def _remember(self, kind: str, name: str) -> None:
        if (kind, name) not in self.unsaved:
            self.unsaved.append((kind, name))

    def mark_saved(self) -> None:
        """The runs as they are were written to a file (to_toml): nothing is unsaved now."""
        self.unsaved.clear()

    def unsaved_summary(self) -> str:
        """The unsaved changes in one line: "added a copy, b copy; edited sgd" ('' if none)."""
        parts = []
        for kind in ("added", "edited", "removed"):
            names = [name for k, name in self.unsaved if k == kind]
            if names:
                parts.append(f"{kind} {', '.join(names)}")
        return "; ".join(parts)

    def new_run_name(self, base: str) -> str:
        """A name for a copy of the run `base`: "base copy", "base copy 2"... whichever is
        free. Not "batch-2" for a copy of "batch-1": a name must not claim settings
        (a batch size, a rate) that the copy does not have."""
        names = set(self.sim.names)
        stem = _COPY_SUFFIX.sub("", base)
        if f"{stem} copy" not in names:
            return f"{stem} copy"
        k = 2
        while f"{stem} copy {k}" in names:
            k += 1
        return f"{stem} copy {k}"

    # ------------------------------------------------------------------ status

    def statuses(self) -> list[str]:
        """One word or phrase per run, from the diagnosis."""
        return [d.status for d in self.diagnoser.report()]

    def diagnosis(self, run: int) -> Any | None:
        """The diagnosis of one run (headline, evidence, remedy), or None for a run it has not seen."""
        report = self.diagnoser.report()
        return report[run] if run < len(report) else None

    def next_lr(self) -> np.ndarray:
        """The rate each run's next update will use (after an edit: the new one); a run
        that has stopped keeps the rate of its last update."""
        sim = self.sim
        return np.where(sim.active, sim.next_lr(), sim.last_lr)

    def last_planned_step(self) -> int:
        """The tick at which the last run that is planned to finish does (at least 1)."""
        ends = self.started_at + np.array([c.steps for c in self.sim.configs], dtype=np.int64)
        return max(int(ends.max()), self.sim.tick, 1)

    # ------------------------------------------------------------------ saving

    def to_toml(self) -> str:
        from ..scenario.write import scenario_to_toml

        return scenario_to_toml(self.scenario, self.sim.configs, seed=self.sim.seed)

    def write_csv(self, out) -> int:
        return self.recorder.write_csv(out)


def _make_diagnoser(sim: Simulation) -> Diagnoser:
    """The diagnosis of every run, made afresh when runs come, go or start again."""
    return Diagnoser(sim)
