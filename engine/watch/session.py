"""One scenario being watched: the simulation with its script, selection, records and reports.

The app, `optsim play --headless` and the tests all drive a Session, so they see the same
numbers: it steps the simulation tick by tick up to the next scripted event and applies
events when they are due (captions, pauses, hyperparameter changes, focus, reports); it
keeps the selected run, the hidden runs, the CSV recorder and the diagnosis in step when
runs are edited, added, removed, moved or reset; and it hands the views plain arrays
(trajectories in the plotted plane, loss and learning-rate curves, arrows). No Textual here.

Conventions: a tick is one update of every active run; an event at step k fires once the
simulation has made k ticks (events at 0 fire on start and on reset).
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Mapping, NamedTuple

import numpy as np

from ..scenario.build import build_objective, build_simulation
from ..analysis.critical import PointReport, analyze_point
from ...tui.render.curve_grid import CurveSeries
from ..errors import ScenarioError
from .recorder import LiveRecorder
from ..optim.registry import OPTIMIZERS
from .script import Script, apply_event
from ..scenario.load import MAX_STEPS, EventSpec, Scenario, check_run_changes
from ..optim.schedules import make_schedule
from ..core.simulation import RunConfig

LR_CURVE_POINTS = 256
"""Samples of a run's planned learning-rate schedule (the curve needs no more)."""


class Arrow(NamedTuple):
    """An arrow in the plotted plane: `kind` is "gradient" (the descent direction) or "escape"."""

    origin: tuple[float, float]
    direction: tuple[float, float]
    kind: str
    label: str


class Advance(NamedTuple):
    """What one call of Session.advance did."""

    ticks: int
    events: list[EventSpec]
    paused: bool  # a scripted pause fired: the player should stop
    finished: bool  # every run is done


class Session:
    """A scenario's live state, shared by the app, the headless player and the tests."""

    def __init__(self, scenario: Scenario, seed: int | None = None) -> None:
        self.scenario = scenario
        self.objective = build_objective(scenario)
        self.sim = build_simulation(scenario, seed=seed, objective=self.objective)
        self.script = Script(scenario.events)
        params = list(scenario.surface.params)
        plot = scenario.surface.plot or (params[0], params[1])
        self.axes: tuple[int, int] = (params.index(plot[0]), params.index(plot[1]))
        self.axis_names: tuple[str, str] = (plot[0], plot[1])
        self.selected = 0
        self.hidden: set[str] = set()
        self.caption: str | None = None
        self.captions: list[tuple[int, str]] = []
        self.report: PointReport | None = None
        self.report_run: str | None = None
        self.arrows: list[Arrow] = []
        self.version = 0  # bumped by every change a view may need to redraw
        self.started_at = np.zeros(self.sim.n_runs, dtype=np.int64)
        self.changed_at = np.zeros(self.sim.n_runs, dtype=np.int64)  # run's step of its last edit
        self.report_step: int | None = None
        self.slice_kind = "params"  # with more than two parameters: params, random or pca
        self.plane = None  # the engine.slicing.Slice drawn (None: the loss itself, two parameters)
        self.recorder = LiveRecorder(self.sim)
        self.diagnoser = _make_diagnoser(self.sim)
        self._lr_cache: dict[int, tuple] = {}
        self.update_plane()
        self._fire_due()

    # ------------------------------------------------------------------ playing

    @property
    def tick(self) -> int:
        return self.sim.tick

    @property
    def finished(self) -> bool:
        return self.sim.done

    def advance(self, max_ticks: int, deadline: float | None = None) -> Advance:
        """Step up to `max_ticks` ticks, firing events as they fall due; stop early at a
        scripted pause, when every run is done, or (after at least one tick) once
        time.perf_counter() passes `deadline` so that a frame never overruns its budget."""
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
        if made:
            self.version += 1
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
        if self.diagnoser is not None:
            self.diagnoser.observe()

    def _fire_due(self) -> list[EventSpec]:
        events = list(self.script.due(self.sim.tick))
        for event in events:
            self.apply(event)
        return events

    def apply(self, event: EventSpec) -> None:
        """Play one event: caption, change, focus and report (pauses are the player's)."""
        if event.say is not None:
            self.caption = event.say
            self.captions.append((self.sim.tick, event.say))
        names = self.sim.names
        if event.run is not None and event.run not in names:
            return  # the run was removed in the app: its changes have nowhere to go
        if event.set:
            apply_event(self.sim, event)
            i = names.index(event.run)
            self.changed_at[i] = self.sim.step_count[i]
        if event.run is not None:
            i = names.index(event.run)
            if event.focus:
                self.selected = i
            if event.show is not None:
                self.show(i, event.show)
        self.version += 1

    def reset(self) -> None:
        """Every run back to its start; the script starts again."""
        self.sim.reset()
        self.script.rewind()
        self.caption = None
        self.captions.clear()
        self.clear_report()
        self.started_at = np.zeros(self.sim.n_runs, dtype=np.int64)
        self.changed_at = np.zeros(self.sim.n_runs, dtype=np.int64)
        self.recorder.restart_all()
        self.diagnoser = _make_diagnoser(self.sim)
        self.update_plane()
        self._fire_due()
        self.version += 1

    # ------------------------------------------------------------------ reports

    def show(self, run: int, kind: str = "hessian") -> PointReport:
        """Analyze the run's current point; arrows for `kind`: "hessian" (both), "gradient",
        "escape". Returns the report (also kept in self.report)."""
        point = self.sim.params[run].copy()
        report = analyze_point(self.objective, point)
        self.report, self.report_run = report, self.sim.names[run]
        self.report_step = int(self.sim.step_count[run])
        ox, oy = self.plotted(point[None])
        origin = (float(ox[0]), float(oy[0]))
        arrows = []
        if kind in ("hessian", "gradient"):
            arrows.append(Arrow(origin, self._plane_direction(point, -report.grad), "gradient", "-grad"))
        if kind in ("hessian", "escape") and report.escape_direction is not None:
            arrows.append(Arrow(origin, self._plane_direction(point, report.escape_direction), "escape", "escape"))
        self.arrows = arrows
        self.version += 1
        return report

    def _plane_direction(self, point: np.ndarray, v: np.ndarray) -> tuple[float, float]:
        """A direction of parameter space as seen in the plotted plane."""
        if self.plane is not None and self.plane.kind != "params":
            basis = np.stack([self.plane.d1, self.plane.d2], axis=1)
            coef, *_ = np.linalg.lstsq(basis, np.asarray(v, dtype=float), rcond=None)
            return float(coef[0]), float(coef[1])
        i, j = self.axes
        return float(v[i]), float(v[j])

    def clear_report(self) -> None:
        self.report, self.report_run, self.report_step, self.arrows = None, None, None, []
        self.version += 1

    # ------------------------------------------------------------------ runs

    @property
    def n_runs(self) -> int:
        return self.sim.n_runs

    def select(self, run: int) -> None:
        self.selected = int(run) % self.sim.n_runs
        self.version += 1

    def toggle_hidden(self, run: int) -> bool:
        """Hide or show a run on the plots; returns True if it is now visible."""
        name = self.sim.names[run]
        if name in self.hidden:
            self.hidden.discard(name)
        else:
            self.hidden.add(name)
        self.version += 1
        return name not in self.hidden

    def show_all(self) -> None:
        self.hidden.clear()
        self.version += 1

    def visible(self, run: int) -> bool:
        return self.sim.names[run] not in self.hidden

    def check_edit(self, run: int | None, changes: Mapping[str, Any], optimizer: str) -> dict[str, Any]:
        """Validate a live edit as a scenario file's `set` table is validated, plus the keys
        only the app edits (steps, start, name). Raises ScenarioError naming the key."""
        changes = dict(changes)
        plain = {k: v for k, v in changes.items() if k not in ("steps", "start", "name")}
        # Validate the run as it will be, not the change alone: a coupled rule such as
        # nesterov's (needs momentum > 0) must see the run's momentum too.
        if run is not None:
            cfg = self.sim.configs[run]
            kept = dict(cfg.hyper) if optimizer == cfg.optimizer else {"lr": cfg.lr}
            plain = {**kept, **plain}
        check_run_changes(plain, optimizer, file="(edit)", key="run")
        if "steps" in changes:
            steps = changes["steps"]
            if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
                raise ScenarioError("(edit)", "run.steps", f"must be a whole number from 1 to {MAX_STEPS}")
        if "batch_size" in changes:
            data = self.objective.data
            if data is None:
                raise ScenarioError("(edit)", "run.batch_size", "needs a scenario with [data]")
            if not 1 <= changes["batch_size"] <= data.n_train:
                raise ScenarioError("(edit)", "run.batch_size", f"must be between 1 and {data.n_train}")
        if "start" in changes:
            start = changes["start"]
            if len(start) != self.objective.n_params or not np.all(np.isfinite(start)):
                raise ScenarioError("(edit)", "run.start",
                                    f"needs {self.objective.n_params} finite numbers")
            changes["start"] = tuple(float(v) for v in start)
        if "name" in changes:
            name = changes["name"]
            others = [n for k, n in enumerate(self.sim.names) if k != run]
            if not isinstance(name, str) or not name.strip() or len(name) > 40:
                raise ScenarioError("(edit)", "run.name", "must be 1 to 40 characters")
            if name in others:
                raise ScenarioError("(edit)", "run.name", f"{name!r} is already the name of another run")
        return changes

    def edit_run(self, run: int, changes: Mapping[str, Any]) -> None:
        """Apply a validated edit mid-run: the run keeps its state and step count unless the
        optimizer changes (fresh state) or the start moves (the run starts again there)."""
        cfg = self.sim.configs[run]
        changes = self.check_edit(run, changes, changes.get("optimizer", cfg.optimizer))
        start = changes.pop("start", None)
        name = changes.get("name")
        if name is not None and name != cfg.name:
            if cfg.name in self.hidden:
                self.hidden.discard(cfg.name)
                self.hidden.add(name)
        if changes:
            self.sim.set_hyperparameters(run, **changes)
            self.changed_at[run] = self.sim.step_count[run]
        if start is not None and tuple(start) != tuple(cfg.start):
            self.set_start(run, start)
        self.version += 1

    def set_start(self, run: int, point: Any) -> None:
        """Move a run's start (a full point, or an (x, y) in the plotted plane; the other
        parameters keep their start values) and start that run again from there."""
        point = np.asarray(point, dtype=float).ravel()
        if point.size == 2 and self.plane is not None and self.plane.kind != "params":
            point = self.plane.points(point)[0]
        elif point.size == 2 and self.objective.n_params != 2:
            full = np.array(self.sim.configs[run].start, dtype=float)
            full[list(self.axes)] = point
            point = full
        elif point.size == 2 and self.axes != (0, 1):
            full = np.empty(2)
            full[list(self.axes)] = point
            point = full
        self.sim.set_start(run, point)
        self.started_at[run] = self.sim.tick
        self.changed_at[run] = 0
        self.recorder.restart_run(run)
        self.diagnoser = _make_diagnoser(self.sim)
        if self.report_run == self.sim.names[run]:
            self.clear_report()
        self.version += 1

    def add_run(self, cfg: RunConfig) -> int:
        """Append a run (validated like an edit; its name must be new); it starts now."""
        changes = {k: v for k, v in cfg.hyper.items()}
        changes.update(steps=cfg.steps, name=cfg.name, start=cfg.start)
        if cfg.batch_size is not None:
            changes["batch_size"] = cfg.batch_size
        if cfg.schedule:
            changes["schedule"] = dict(cfg.schedule)
        if cfg.noise:
            changes["noise"] = cfg.noise
        if cfg.optimizer not in OPTIMIZERS:
            raise ScenarioError("(edit)", "run.optimizer", f"unknown optimizer {cfg.optimizer!r}")
        self.check_edit(None, changes, cfg.optimizer)
        i = self.sim.add_run(cfg)
        self.started_at = np.append(self.started_at, self.sim.tick)
        self.changed_at = np.append(self.changed_at, 0)
        self.recorder.add_run()
        self.diagnoser = _make_diagnoser(self.sim)
        self.selected = i
        self.version += 1
        return i

    def remove_run(self, run: int) -> None:
        """Drop a run (not the last one: a scenario needs at least one)."""
        if self.sim.n_runs <= 1:
            raise ValueError("cannot remove the last run")
        name = self.sim.names[run]
        self.sim.remove_run(run)
        self._lr_cache.clear()
        self.started_at = np.delete(self.started_at, run)
        self.changed_at = np.delete(self.changed_at, run)
        self.recorder.remove_run(run)
        self.hidden.discard(name)
        self.diagnoser = _make_diagnoser(self.sim)
        if self.report_run == name:
            self.clear_report()
        if self.selected >= self.sim.n_runs or self.selected > run:
            self.selected = max(0, self.selected - 1)
        self.version += 1

    def new_run_name(self, base: str) -> str:
        """`base`, or `base-2`, `base-3`... whichever is not taken."""
        names = set(self.sim.names)
        stem = base.rsplit("-", 1)[0] if base.rsplit("-", 1)[-1].isdigit() else base
        if base not in names:
            return base
        k = 2
        while f"{stem}-{k}" in names:
            k += 1
        return f"{stem}-{k}"

    # ------------------------------------------------------------------ status

    def statuses(self) -> list[str]:
        """One word or phrase per run: the diagnosis where it exists, else the run's state."""
        if self.diagnoser is not None:
            return [d.status for d in self.diagnoser.report()]
        return [self.basic_status(i) for i in range(self.sim.n_runs)]

    def diagnosis(self, run: int) -> Any | None:
        """The diagnosis of one run (headline, evidence, remedy), or None without one."""
        if self.diagnoser is None:
            return None
        report = self.diagnoser.report()
        return report[run] if run < len(report) else None

    def next_lr(self) -> np.ndarray:
        """The rate each run's next update will use (after an edit: the new one); a run
        that has stopped keeps the rate of its last update."""
        sim = self.sim
        out = sim.last_lr.copy()
        active = sim.active
        for r in np.flatnonzero(active).tolist():
            cfg = sim.configs[r]
            step = np.array([[sim.step_count[r]]])
            out[r] = make_schedule(cfg.schedule or {})(step, np.array([[cfg.lr]]))[0, 0]
        return out

    def basic_status(self, run: int) -> str:
        sim = self.sim
        if sim.diverged_at[run] >= 0:
            return f"diverged at {int(sim.diverged_at[run])}"
        if sim.step_count[run] >= sim.configs[run].steps:
            return "finished"
        return "ready" if sim.step_count[run] == 0 else "running"

    # ------------------------------------------------------------------ what the views draw

    def plotted(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates in the plotted plane of points (..., p): the two parameters' values, or
        (for a random or PCA slice) the least-squares coordinates in that plane."""
        if self.plane is not None and self.plane.kind != "params":
            flat = np.asarray(points, dtype=float).reshape(-1, self.objective.n_params)
            ab = self.plane.project(flat)
            return ab[:, 0], ab[:, 1]
        i, j = self.axes
        return points[..., i], points[..., j]

    def trajectories(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(xs, ys) of every run in the plotted plane: the decimated history from the start,
        the newest ticks at full resolution, and the current point last."""
        h = self.sim.history
        ticks = h.tick[: h.size]
        recent_ticks, recent_params, _, _ = h.recent.window()
        first_recent = recent_ticks[0] if recent_ticks.size else np.iinfo(np.int64).max
        older = ticks < first_recent
        out = []
        for r in range(self.sim.n_runs):
            old = h.params[: h.size][older, r]
            new = recent_params[:, r]
            cur = self.sim.params[r][None]
            out.append(self.plotted(np.concatenate([old, new, cur])))
        return out

    def current_points(self) -> list[tuple[float, float]]:
        xs, ys = self.plotted(self.sim.params)
        return [(float(x), float(y)) for x, y in zip(xs, ys)]

    def x_range(self) -> tuple[float, float]:
        """The step axis of the curves: from 0 to the last planned step of any run."""
        ends = self.started_at + np.array([c.steps for c in self.sim.configs], dtype=np.int64)
        return 0.0, float(max(int(ends.max()), self.sim.tick, 1))

    def loss_curves(self) -> list[CurveSeries]:
        """Training loss of every visible run (and the test loss, dashed, where there is one)."""
        h = self.sim.history
        ticks, loss = h.series("loss")
        test = h.series("test_loss")[1] if self.objective.has_test else None
        current_test = self.sim.test_loss() if test is not None else None
        active = self.sim.active
        out = []
        for r in range(self.sim.n_runs):
            if not self.visible(r):
                continue
            now = self.sim.tick if active[r] else None
            xs, ys = _with_now(ticks, loss[:, r], now, self.sim.loss[r])
            out.append(CurveSeries(self.sim.names[r], r, xs, ys))
            if test is not None:
                xs, ys = _with_now(ticks, test[:, r], now, current_test[r])
                out.append(CurveSeries(self.sim.names[r] + " (test)", r, xs, ys, dashed=True))
        return out

    def lr_curves(self) -> list[CurveSeries]:
        """Learning rate of every visible run: its schedule as it stands now, from the run's
        last edit (or its start) to its end (dashed, from the schedule function itself), and
        the rates used so far (solid, drawn over it). The planned curve changes only when
        the run is edited, so a playing frame redraws only where the solid curve grows."""
        h = self.sim.history
        ticks, lr = h.series("lr")
        out = []
        for r in range(self.sim.n_runs):
            if not self.visible(r):
                continue
            cfg = self.sim.configs[r]
            out.append(CurveSeries(cfg.name + " (planned)", r, *self._planned_lr(r), dashed=True))
            out.append(CurveSeries(cfg.name, r, ticks, lr[:, r]))
        return out

    def _planned_lr(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.sim.configs[r]
        first = int(min(self.changed_at[r], max(cfg.steps - 1, 0)))
        key = (json.dumps(cfg.schedule or {}, sort_keys=True, default=str), cfg.lr, cfg.steps,
               int(self.started_at[r]), first)
        cached = self._lr_cache.get(r)
        if cached is not None and cached[0] == key:
            return cached[1]
        steps = np.unique(np.linspace(first, cfg.steps - 1, LR_CURVE_POINTS).astype(np.int64))
        rates = make_schedule(cfg.schedule or {})(steps[:, None], np.full((steps.size, 1), cfg.lr))[:, 0]
        value = ((self.started_at[r] + steps).astype(float), rates)
        self._lr_cache[r] = (key, value)
        return value

    # ------------------------------------------------------------------ the surface

    SLICE_KINDS = ("params", "random", "pca")

    def set_slice_kind(self, kind: str) -> None:
        """How a surface of more than two parameters is cut (see engine.slicing): the two
        plotted parameters ("params"), two random filter-normalized directions ("random"), or
        the selected run's two principal directions ("pca")."""
        if kind not in self.SLICE_KINDS:
            raise ValueError(f"unknown slice kind {kind!r}")
        self.slice_kind = kind
        self.update_plane()
        self.version += 1

    def update_plane(self) -> None:
        """Cut the surface again through the selected run's current point (engine.slicing).
        A PCA slice needs three points of the run's path; until then it is the params slice."""
        if self.objective.n_params == 2:
            self.plane = None
            return
        from ..analysis import slicing

        origin = self.sim.params[self.selected].copy()
        names = self.objective.params
        plane = None
        if self.slice_kind == "random":
            plane = slicing.random_slice(self.objective.loss, origin, seed=self.sim.seed)
        elif self.slice_kind == "pca":
            path = self.recorder.rows(self.selected)[:, 1:1 + self.objective.n_params]
            try:
                plane = slicing.pca_slice(self.objective.loss, path)
            except ValueError:
                plane = None
        if plane is None:
            plane = slicing.param_slice(self.objective.loss, names, origin, *self.axis_names)
        self.plane = plane

    @property
    def plane_labels(self) -> tuple[str, str]:
        return self.plane.labels if self.plane is not None else self.axis_names

    def surface_function(self) -> Callable[[np.ndarray], np.ndarray]:
        """Loss over the plotted plane, (n, 2) -> (n,). With more than two parameters, the
        current slice (engine.slicing) through the selected run's point."""
        if self.plane is not None:
            return self.plane.func
        i, j = self.axes
        loss = self.objective.loss
        if (i, j) == (0, 1):
            return loss

        def swapped(points: np.ndarray) -> np.ndarray:
            return loss(points[:, ::-1])

        return swapped

    def held_values(self) -> dict[str, float]:
        """For a params slice: the parameters not plotted and the values they are held at."""
        if self.plane is None or self.plane.kind != "params":
            return {}
        i, j = self.axes
        p = self.sim.params[self.selected]
        return {name: float(p[k]) for k, name in enumerate(self.objective.params) if k not in (i, j)}

    def plane_note(self) -> str:
        """One line on what the plot shows (empty with two parameters)."""
        return "" if self.plane is None else self.plane.describe()

    def home_window(self) -> tuple[float, float, float, float]:
        """The plotted window: the scenario's view where it gives one, else around the runs'
        starts and the minima with a margin; for a random or PCA slice, around the paths."""
        if self.plane is not None and self.plane.kind != "params":
            return self.plane.window(self._full_paths(), default=1.0)
        view = self.scenario.surface.view
        spans = []
        starts = np.array([c.start for c in self.sim.configs], dtype=float)
        minima = np.array(self.scenario.surface.minima, dtype=float).reshape(-1, self.objective.n_params)
        for k, name in zip(self.axes, self.axis_names):
            if name in view:
                spans.append(view[name])
                continue
            values = np.concatenate([starts[:, k], minima[:, k]])
            lo, hi = float(values.min()), float(values.max())
            pad = max(0.5 * (hi - lo), 1.0)
            spans.append((lo - pad, hi + pad))
        return (spans[0][0], spans[0][1], spans[1][0], spans[1][1])

    def _full_paths(self) -> list[np.ndarray]:
        """Every run's path so far in parameter space (recorded rows), for windows."""
        p = self.objective.n_params
        return [self.recorder.rows(r)[:, 1:1 + p] for r in range(self.sim.n_runs)]

    def minima_xy(self) -> list[tuple[float, float]]:
        """Known minima in the plotted plane (only when the plane is the whole space)."""
        if self.objective.n_params != 2:
            return []
        i, j = self.axes
        return [(m[i], m[j]) for m in self.scenario.surface.minima]

    # ------------------------------------------------------------------ saving

    def to_toml(self) -> str:
        from ..scenario.write import scenario_to_toml

        return scenario_to_toml(self.scenario, self.sim.configs, seed=self.sim.seed)

    def write_csv(self, out) -> int:
        return self.recorder.write_csv(out)


def _with_now(ticks: np.ndarray, values: np.ndarray, tick: int | None,
              now: float) -> tuple[np.ndarray, np.ndarray]:
    """A history series with the current value appended if the history has not stored it
    (it keeps one tick in `stride`); `tick` None (a stopped run) appends nothing."""
    if tick is None or (ticks.size and ticks[-1] == tick):
        return ticks, values
    return np.append(ticks, tick).astype(float), np.append(values, now)


def _make_diagnoser(sim) -> Any | None:
    """The analysis helper's Diagnoser where that module exists (else statuses are basic)."""
    try:
        from ..analysis.diagnosis import Diagnoser
    except ImportError:
        return None
    return Diagnoser(sim)
