"""The view model: what the simulator screen shows of a session, and how.

The session (engine.watch.session) is the simulation being watched; this is the viewer's
side of it: the selected run, the hidden runs, the analysed point with its arrows, the
plotted plane (tui/view/plane.py) and the drawing data read off the session (trajectories
in the plane, loss and learning-rate curves). It follows the session (a scripted `focus`
selects, a scripted `show` analyses; a removed run leaves the selection and the hidden set
consistent) and tells its own watchers of every change: each observed attribute notifies
when it is assigned, and so does every change of the session. The screen watches it and
pushes the data into its passive widgets; the headless player and the tests drive the same
object. No Textual here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, NamedTuple

import numpy as np

from ...engine.analysis.critical import PointReport, analyze_point
from ...engine.scenario.load import EventSpec
from ...engine.text_format import short
from ...engine.watch.session import Change, Session
from ..render.curve_grid import CurveSeries
from ...engine.analysis import curvature as cv
from .curvature import (CurvatureNow, RateCurvatureCurves, curvature_now, eigen_vectors, error_curves,
                        hessians_now)
from ...engine.analysis.prediction import DataPicture, picture
from .curves import LrCurves, loss_curves
from .data import data_curves
from .mechanism import (MECHANISM_VIEWS, VIEW_OF_SHOW, gradient_norm_curves, sigma_coordinates, sigma_curves, sigma_now,
                        step_arrows)
from .memo import PerState
from .plane import SLICE_KINDS, PlotPlane

if TYPE_CHECKING:
    from ...engine.analysis.clock import Clocks


class Arrow(NamedTuple):
    """An arrow in the plotted plane: `kind` is "gradient" (the descent direction), "escape",
    "momentum", "raw" (the step -lr g) or "step" (the step the optimizer takes)."""

    origin: tuple[float, float]
    direction: tuple[float, float]
    kind: str
    label: str
    scale: float = 1.0  # < 1: drawn shorter, in proportion to a longer arrow beside it


class AnalysedPoint(NamedTuple):
    """A run's point analysed (engine.analysis.critical) and the arrows drawn from it."""

    report: PointReport
    run: str  # the run's name
    step: int  # the run's step when it was analysed
    arrows: tuple[Arrow, ...]


class GuideRequest(NamedTuple):
    """A scripted `show = "guide"`: open the general guide on this run, at this step only."""

    run: int
    tick: int


class _Observed:
    """An attribute of the view model whose every assignment tells the model's watchers."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, model: Any, owner: type | None = None) -> Any:
        return self if model is None else getattr(model, self.slot)

    def __set__(self, model: Any, value: Any) -> None:
        setattr(model, self.slot, value)
        model._notify()


class ViewModel:
    """The viewer's state of one session, shared by the app, the headless player and the tests."""

    SLICE_KINDS = SLICE_KINDS
    selected = _Observed()  # index of the selected run
    hidden = _Observed()  # frozenset of the names of the runs not drawn
    analysed = _Observed()  # AnalysedPoint | None
    plane = _Observed()  # PlotPlane
    views = _Observed()  # frozenset of the mechanism views shown (mechanism.MECHANISM_VIEWS)

    def __init__(self, session: Session) -> None:
        self.session = session
        self.revision = 0  # counts changes (see _notify)
        self._watchers: list[Callable[[], None]] = []
        self.selected = 0
        self.hidden = frozenset()
        self.analysed = None
        self.views = frozenset()
        self.guide_request: GuideRequest | None = None  # taken by the screen (take_guide_request)
        self.plane = PlotPlane.of(session.objective, session.scenario.surface)
        self._lr = LrCurves(session)
        self._memo = PerState(self._state)  # the views' numbers, once per state
        self._rate_curvature = RateCurvatureCurves(session)
        self._quadratic: tuple[cv.Quadratic | None] | None = None  # found once: the surface never changes
        self._data: tuple[DataPicture | None] | None = None  # found once: so is the data
        self.update_plane()
        for event in session.played:  # what the script has shown so far (not its guides: moments, not views)
            self._show_event(event, replay=True)
        self._unfollow = session.watch(self._follow)

    # ------------------------------------------------------------------ watching

    def _state(self) -> tuple[int, int, int]:
        """What the views' numbers depend on: every change of the view and the session (the
        revision) and, should the simulation be stepped behind the session's back, its tick."""
        return (self.revision, self.session.sim.tick, self.session.sim.n_runs)

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` after every change from now on; returns the function that stops it."""
        self._watchers.append(callback)
        return lambda: self._watchers.remove(callback) if callback in self._watchers else None

    def _notify(self) -> None:
        """The one place a change is counted and told (observed attributes and the session call it)."""
        self.revision += 1
        for callback in list(self._watchers):
            callback()

    def close(self) -> None:
        """Stop following the session."""
        self._unfollow()

    def _follow(self, change: Change) -> None:
        """Keep the view consistent with a session change, then tell the watchers."""
        if change.kind == "removed":
            self._forget_run(change.run, change.name)
        elif change.kind == "edited":
            self._renamed(change.name, self.session.sim.names[change.run])
        elif change.kind == "restarted" and self.analysed is not None and self.analysed.run == change.name:
            self.analysed = None
        elif change.kind == "added":
            self.selected = change.run
        elif change.kind == "reset":
            self.analysed = None
            self._rate_curvature.forget()
            self.update_plane()
        for event in change.events:
            self._show_event(event)
        self._notify()

    def _show_event(self, event: EventSpec, replay: bool = False) -> None:
        """A scripted event's part for the viewer: `focus` selects its run, `show` analyses it."""
        names = self.session.sim.names
        if event.run is None or event.run not in names:
            return  # no run, or the run was removed in the app
        i = names.index(event.run)
        if event.focus:
            self.selected = i
        kind = VIEW_OF_SHOW.get(event.show or "", event.show)
        if kind == "guide":
            self.guide_request = None if replay else GuideRequest(i, event.at)
            self.selected = i
        elif kind in MECHANISM_VIEWS:
            self.selected = i  # the sigma curves and the arrows are the selected run's
            self.views = self.views | {kind}
        elif event.show is not None:
            self.analyse_point(i, event.show)

    def take_guide_request(self) -> GuideRequest | None:
        """The scripted guide to open now, once: None if there is none or the session has moved
        past its step (the guide must read the numbers of the step the script named)."""
        request, self.guide_request = self.guide_request, None
        if request is None or request.tick != self.session.sim.tick or request.run >= self.session.n_runs:
            return None
        return request

    def _forget_run(self, run: int, name: str) -> None:
        self._lr.forget()
        self._rate_curvature.forget()
        self.hidden = self.hidden - {name}
        if self.analysed is not None and self.analysed.run == name:
            self.analysed = None
        if self.selected >= self.session.n_runs or self.selected > run:
            self.selected = max(0, self.selected - 1)

    def _renamed(self, old: str, new: str) -> None:
        if old != new and old in self.hidden:
            self.hidden = (self.hidden - {old}) | {new}

    # ------------------------------------------------------------------ selection and visibility

    def select(self, run: int) -> None:
        self.selected = int(run) % self.session.n_runs

    def toggle_hidden(self, run: int) -> bool:
        """Hide or show a run on the plots; returns True if it is now visible."""
        name = self.session.sim.names[run]
        self.hidden = self.hidden ^ {name}
        return name not in self.hidden

    def unhide_all(self) -> None:
        self.hidden = frozenset()

    def visible(self, run: int) -> bool:
        return self.session.sim.names[run] not in self.hidden

    # ------------------------------------------------------------------ the analysed point

    @property
    def arrows(self) -> list[Arrow]:
        """The analysed point's arrows, then the mechanism arrows at the selected run."""
        shown = [] if self.analysed is None else list(self.analysed.arrows)
        return shown + self.mechanism_arrows()

    # ------------------------------------------------------------------ the mechanism views

    def toggle_view(self, kind: str) -> bool:
        """Show or hide a mechanism view (mechanism.MECHANISM_VIEWS); True if shown."""
        if kind not in MECHANISM_VIEWS:
            raise ValueError(f"unknown view {kind!r}")
        self.views = self.views ^ {kind}
        return kind in self.views

    def mechanism_arrows(self) -> list[Arrow]:
        """The selected run's step arrows (mechanism.step_arrows) in the plotted plane, and with
        the curvature view the Hessian's eigenvectors there (kind "eigen"); once per state."""
        if not self.views & {"sigma", "momentum", "curvature"}:
            return []
        return list(self._memo.get("arrows", self._mechanism_arrows))

    def _mechanism_arrows(self) -> list[Arrow]:
        run = self.selected
        ox, oy = self.plane.plotted(self.session.sim.params[run][None])
        origin = (float(ox[0]), float(oy[0]))
        out = [Arrow(origin, self.plane.direction(a.vector), a.kind, a.label, a.scale)
               for a in step_arrows(self.session, run, self.views)]
        if "curvature" in self.views:
            out += [Arrow(origin, self.plane.direction(v), "eigen", label)
                    for v, label in eigen_vectors(self.session, run, found=self._spectrum())]
        return out

    def _hessians(self) -> np.ndarray:
        """The Hessian at every run's point, once per state (the legend and the arrows read it)."""
        return self._memo.get("hessians", lambda: hessians_now(self.session))

    def _spectrum(self) -> cv.Spectrum:
        """The eigenpairs of the selected run's Hessian, once per state (the legend and the
        eigenvector arrows read them)."""
        return self._memo.get("spectrum", lambda: cv.spectrum(self._hessians()[self.selected:self.selected + 1]))

    def quadratic(self) -> cv.Quadratic | None:
        """The surface as a quadratic (one Hessian everywhere), or None; found once."""
        if self._quadratic is None:
            starts = np.array([c.start for c in self.session.sim.configs], dtype=float)
            self._quadratic = (cv.quadratic(self.session.objective, starts),)
        return self._quadratic[0]

    def curvature_curves(self) -> list[CurveSeries]:
        """On a quadratic: the selected run's error along each eigenvector (Distill's picture);
        otherwise every visible run's lr x lambda_max over its steps, with the limit 2."""
        model = self.quadratic()
        if model is not None:
            return list(self._memo.get("curvature", lambda: error_curves(self.session, self.selected, model)))
        return list(self._memo.get("curvature", lambda: self._rate_curvature.curves(self.visible)))

    def data_picture(self) -> DataPicture | None:
        """The data as a picture (one input, one target, a squared error), or None; found once."""
        if self._data is None:
            self._data = (picture(self.session.objective),)
        return self._data[0]

    def data_curves(self) -> list[CurveSeries]:
        """Training and test points and every visible run's prediction (empty without data)."""
        found = self.data_picture()
        if found is None:
            return []
        return list(self._memo.get("data", lambda: data_curves(self.session, found, self.visible)))

    def clocks(self) -> Clocks | None:
        """Every run's batch and cost (engine.analysis.clock), or None off a batch-size scenario;
        read afresh for each state (an edit may change a batch size)."""
        from ...engine.analysis.clock import run_clocks  # with the batch lab: not needed to play

        return self._memo.get("clocks", lambda: run_clocks(self.session.scenario, self.session.sim.configs))

    def clock_curves(self, axis: str) -> tuple[list[CurveSeries], tuple[float, float], bool]:
        """Every visible run's loss against "epochs" or "time", the x range and whether it is log."""
        clocks = self.clocks()
        if clocks is None:
            return [], (0.0, 1.0), False

        def compute() -> tuple[list[CurveSeries], tuple[float, float], bool]:
            from .clock import clock_curves, clock_range

            x_range, x_log = clock_range(self.session, clocks, axis)
            return clock_curves(self.session, clocks, axis, self.visible), x_range, x_log

        series, x_range, x_log = self._memo.get(f"clock {axis}", compute)
        return list(series), x_range, x_log

    def curvature_now(self) -> CurvatureNow:
        return self._memo.get("curvature now", lambda: curvature_now(self.session, self.selected, self.quadratic(),
                                                                     self._hessians(), self._spectrum()))

    def gradient_norm_curves(self) -> list[CurveSeries]:
        return list(self._memo.get("gradient norm", lambda: gradient_norm_curves(self.session, self.visible)))

    def sigma_curves(self) -> list[CurveSeries]:
        """The selected run's sigma and lr/sigma per coordinate (empty if it divides by nothing)."""
        def compute() -> list[CurveSeries]:
            coords = sigma_coordinates(self.plane, self.session.objective.n_params)
            return [c for c in sigma_curves(self.session, self.selected, coords) if np.isfinite(c.ys).any()]

        return list(self._memo.get("sigma", compute))

    def sigma_now(self) -> list[tuple[str, float, float]]:
        """(coordinate, sigma, lr/sigma) of the selected run now, in the sigma plot's order."""
        coords = sigma_coordinates(self.plane, self.session.objective.n_params)
        return list(self._memo.get("sigma now", lambda: sigma_now(self.session, self.selected, coords)))

    def analyse_point(self, run: int, kind: str = "hessian") -> PointReport:
        """Analyse the run's current point and draw arrows for `kind`: "hessian" (both),
        "gradient" (the descent direction) or "escape" (the Hessian's escape direction)."""
        sim = self.session.sim
        point = sim.params[run].copy()
        report = analyze_point(self.session.objective, point)
        ox, oy = self.plane.plotted(point[None])
        origin = (float(ox[0]), float(oy[0]))
        arrows = []
        # No -grad arrow where the gradient is zero by the report's own rule: drawn at a fixed
        # length it would show rounding noise as a direction. The label carries |g|.
        if kind in ("hessian", "gradient") and not report.gradient_zero:
            arrows.append(Arrow(origin, self.plane.direction(-report.grad), "gradient",
                                f"-grad |g| {short(report.grad_norm)}"))
        if kind in ("hessian", "escape") and report.escape_direction is not None:
            arrows.append(Arrow(origin, self.plane.direction(report.escape_direction), "escape", "escape"))
        self.analysed = AnalysedPoint(report, sim.names[run], int(sim.step_count[run]), tuple(arrows))
        return report

    def clear_report(self) -> None:
        self.analysed = None

    # ------------------------------------------------------------------ the plotted plane

    def set_slice_kind(self, kind: str) -> None:
        """How a surface of more than two parameters is cut (see PlotPlane)."""
        self.plane = self.plane.with_kind(kind)
        self.update_plane()

    def update_plane(self) -> None:
        """Cut the surface again through the selected run's current point."""
        if self.session.objective.n_params == 2 and self.plane.slice is None:
            return
        sim = self.session.sim
        p = self.session.objective.n_params
        path = self.session.recorder.rows(self.selected)[:, 1:1 + p] if self.plane.slice_kind == "pca" else None
        self.plane = self.plane.cut(sim.params[self.selected].copy(), path, sim.seed)

    def place_start(self, run: int, xy: tuple[float, float]) -> None:
        """Start a run again from (x, y) of the plotted plane (the other parameters keep their
        start values)."""
        self.session.set_start(run, self.plane.full_point(xy, self.session.sim.configs[run].start))

    def surface_function(self) -> Callable[[np.ndarray], np.ndarray]:
        return self.plane.surface_function()

    @property
    def plane_labels(self) -> tuple[str, str]:
        return self.plane.labels

    def held_values(self) -> dict[str, float]:
        """For a params slice: the parameters not plotted and the values the slice drawn holds
        them at (the selected run's when it was cut: the app cuts it again only once the run
        has moved by more than a plot cell, so these are the numbers of the picture)."""
        if self.plane.slice is None:
            return {}
        return self.plane.held_values(self.plane.slice.origin)

    def moved_off_slice(self, cell: float) -> bool:
        """True when the selected run has moved off the slice drawn by more than `cell`
        (PlotPlane.moved_off); always False with two parameters (no slice)."""
        if self.session.objective.n_params == 2:
            return False
        return self.plane.moved_off(self.session.sim.params[self.selected], cell)

    def plane_title(self) -> str:
        """The plot's title: which slice, through which run, and what the axes measure."""
        return self.plane.title(self.session.sim.names[self.selected])

    def plane_note(self) -> str:
        return self.plane.note()

    def home_window(self) -> tuple[float, float, float, float]:
        sim = self.session.sim
        starts = np.array([c.start for c in sim.configs], dtype=float)
        p = self.session.objective.n_params
        paths = [self.session.recorder.rows(r)[:, 1:1 + p] for r in range(sim.n_runs)] if self.plane.projected else []
        return self.plane.home_window(starts, paths)

    def minima_xy(self) -> list[tuple[float, float]]:
        return self.plane.minima_xy()

    # ------------------------------------------------------------------ drawing data

    def trajectories(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(xs, ys) of every run in the plotted plane: the decimated history from the start,
        the newest ticks at full resolution, and the current point last."""
        sim = self.session.sim
        h = sim.history
        ticks = h.tick[: h.size]
        recent_ticks, recent_params, _, _ = h.recent.window()
        first_recent = recent_ticks[0] if recent_ticks.size else np.iinfo(np.int64).max
        older = ticks < first_recent
        if not self.plane.projected:  # two of the parameters: every run's in one pass, the same values
            i, j = self.plane.axes
            points = np.concatenate([h.params[: h.size][older][..., [i, j]], recent_params[..., [i, j]],
                                     sim.params[None][..., [i, j]]])
            xy = np.ascontiguousarray(points.transpose(1, 2, 0))  # (runs, 2, points)
            return [(xy[r, 0], xy[r, 1]) for r in range(sim.n_runs)]
        out = []
        for r in range(sim.n_runs):
            old = h.params[: h.size][older, r]
            new = recent_params[:, r]
            cur = sim.params[r][None]
            out.append(self.plane.plotted(np.concatenate([old, new, cur])))
        return out

    def current_points(self) -> list[tuple[float, float]]:
        xs, ys = self.plane.plotted(self.session.sim.params)
        return [(float(x), float(y)) for x, y in zip(xs, ys)]

    def x_range(self) -> tuple[float, float]:
        """The step axis of the curves: from 0 to the last planned step of any run."""
        return 0.0, float(self.session.last_planned_step())

    def loss_curves(self) -> list[CurveSeries]:
        return loss_curves(self.session, self.visible)

    def lr_curves(self) -> list[CurveSeries]:
        return self._lr.curves(self.visible)
