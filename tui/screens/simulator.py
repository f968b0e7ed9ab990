"""The simulator screen: the contour plot, the loss and learning-rate curves, the run table and
the scenario's text, with the controls to play, step, edit and analyze.

Stepping never blocks input: a timer fires at most `fps` times a second (30, or 8 in the
low-bandwidth mode); each firing steps as many ticks as the speed asks for (steps per
second / fps, carried over when fractional), cut short if the stepping overruns its share
of the frame, then pushes the new state to the widgets. Every widget repaints only the
lines that changed, and nothing is pushed when nothing changed. The screen watches its view
model (tui/view): any change of it, or of the session under it, schedules one redraw.
"""

from __future__ import annotations

import time
from typing import Callable

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer

from ...engine.analysis.diagnosis.events import steps_line
from ...engine.errors import ScenarioError
from ...engine.core.run_settings import RunSettings
from ...engine.watch.session import Session
from .. import startup_gc
from ..render import palette
from .keys import SIMULATOR_COMMANDS, Command, ScreenCommands, bindings
from ..widgets.cell_canvas import widget_color_system
from ..widgets.contour_plot import ContourPlot
from ..widgets.curve_plot import CurvePlot
from ..widgets.info_panel import InfoPanel
from ..widgets.report_view import report_summary
from ..widgets.run_table import RunRow, RunTable, fmt_num
from ..widgets.sim_plot import SimPlot
from ..widgets.status_line import StatusLine
from ..widgets.too_small import TooSmall
from ..view.mechanism import MECHANISM_VIEWS
from ..view.model import ViewModel

SPEEDS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 3000, 6000, 12000, 30000)
"""Playing speeds, in steps per second."""

FPS = 30
LOW_BANDWIDTH_FPS = 8
STEP_BUDGET = 0.5
"""Share of a frame's time that stepping may take before the frame is drawn anyway."""

PANEL_SECONDS = 0.2
LOW_BANDWIDTH_PANEL_SECONDS = 1.0
"""While playing, the curves, the run table and the text are redrawn at most this often
(numbers changing 30 times a second cannot be read, and every redrawn line costs bytes);
the contour plot follows every frame. Paused, everything is redrawn at once."""

MIN_SIZE = (60, 18)
SLICE_EVERY = 15
"""With more than two parameters the plotted slice follows the selected run; while playing
it is recomputed at most every this many frames (it is a full contour background)."""

ARROW_COLORS = {"gradient": palette.GRADIENT_ARROW_COLOR, "escape": palette.ESCAPE_ARROW_COLOR,
                "momentum": palette.MOMENTUM_ARROW_COLOR, "raw": palette.RAW_STEP_ARROW_COLOR,
                "step": palette.STEP_ARROW_COLOR, "eigen": palette.EIGEN_ARROW_COLOR}
VIEW_TITLES = {"gradient_norm": "gradient norm", "sigma": "sigma and lr/sigma", "momentum": "momentum arrows",
               "curvature": "curvature", "data": "data and predictions",
               "clock": "loss against epochs and time"}
CURVE_PLOTS = ("#loss", "#lr", "#gnorm", "#sigma", "#curv", "#data", "#epochs", "#clock-time")


def default_speed(session: Session) -> int:
    """About ten seconds for the longest run, from the speed ladder."""
    longest = max(c.steps for c in session.sim.configs)
    want = longest / 10.0
    return min(SPEEDS, key=lambda s: abs(s - want) / s)


class SimulatorScreen(Screen):
    """One scenario, playing."""

    CSS_PATH = "simulator.tcss"
    PALETTE: tuple[Command, ...] = SIMULATOR_COMMANDS
    BINDINGS = bindings(SIMULATOR_COMMANDS)
    COMMANDS = {ScreenCommands}

    def __init__(self, session: Session, *, autoplay: bool = False, play_mode: bool = False) -> None:
        super().__init__()
        self.session = session
        self.view = ViewModel(session)
        self.playing = False
        self.play_mode = play_mode
        self.speed = default_speed(session)
        self._autoplay = autoplay
        self._carry = 0.0
        self._timer: Timer | None = None
        self._drawn_revision = -1
        self._redraw_pending = False
        self._unwatch = lambda: None
        self._frames = 0
        self._panel_frame = 0
        self._slice_key: tuple | None = None
        self._announced_end = False

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        # The size classes before the children exist: set after mounting, each class that
        # changed restyled every widget again (a third of the time to the first frame).
        self._size_classes(self.app.size.width, self.app.size.height)
        yield StatusLine(id="status")
        with Horizontal(id="main"):
            yield SimPlot(id="plot")
            with Vertical(id="side"):
                with Horizontal(id="loss-row", classes="curve-row"):
                    yield CurvePlot("loss", id="loss")
                    yield CurvePlot("gradient norm |g|", id="gnorm")
                with Horizontal(id="lr-row", classes="curve-row"):
                    yield CurvePlot("learning rate", id="lr")
                    yield CurvePlot("sigma", id="sigma")
                with Horizontal(id="more-row", classes="curve-row"):
                    yield CurvePlot("curvature", id="curv")
                    yield CurvePlot("data", id="data")
                with Horizontal(id="clock-row", classes="curve-row"):
                    yield CurvePlot("loss against epochs", id="epochs")
                    yield CurvePlot("loss against time", id="clock-time")
                yield InfoPanel(self.session.scenario.description, title=self.session.scenario.title, id="info")
        yield RunTable(id="runs")
        yield TooSmall(id="too-small")
        yield Footer(compact=self.app.size.width < 120)  # as _layout_classes keeps it (set after, it restyled)

    @property
    def plot(self) -> ContourPlot:
        return self.query_one("#plot", ContourPlot)

    @property
    def low_bandwidth(self) -> bool:
        return bool(getattr(self.app, "low_bandwidth", False))

    @property
    def fps(self) -> int:
        return LOW_BANDWIDTH_FPS if self.low_bandwidth else FPS

    def on_mount(self) -> None:
        v = self.view
        self._unwatch = v.watch(self._view_changed)
        plot = self.plot
        plot.low_bandwidth = self.low_bandwidth
        plot.set_surface(v.surface_function(), v.home_window(), v.plane_labels, v.minima_xy())
        plot.set_title(v.plane_title())
        self._slice_key = self._current_slice_key()
        self._start_timer()
        self._layout_classes(self.app.size.width, self.app.size.height)
        plot.focus()
        self.refresh_views(force=True)
        if self._autoplay:
            self.play()
        self.call_after_refresh(startup_gc.resume)  # the collector, paused by the command line

    def _start_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_interval(1 / self.fps, self._frame, pause=not self.playing)

    def on_resize(self, event: events.Resize) -> None:
        self._layout_classes(event.size.width, event.size.height)

    def _layout_classes(self, width: int, height: int) -> None:
        small = self._size_classes(width, height)
        if self.is_mounted:
            self.query_one(Footer).compact = width < 120
        if small:
            self.query_one(TooSmall).show_size(width, height, MIN_SIZE)

    def _size_classes(self, width: int, height: int) -> bool:
        """Set the classes the .tcss lays the screen out by; True when it is too small."""
        small = width < MIN_SIZE[0] or height < MIN_SIZE[1]
        self.set_class(small, "-too-small")
        self.set_class(height < 30, "-short")
        self._view_classes()
        self.set_class(width >= 140, "-wide")
        return small

    def on_unmount(self) -> None:
        self._unwatch()
        self.view.close()

    def _view_changed(self) -> None:
        """The view model changed: redraw once, after whatever changed it has finished."""
        if not self._redraw_pending:
            self._redraw_pending = True
            self.call_later(self._redraw)

    def _redraw(self) -> None:
        self._redraw_pending = False
        self._open_scripted_guide()  # a script stepped by someone else (headless play, tests)
        self.refresh_views()

    def on_screen_resume(self) -> None:
        self.refresh_views(force=True)

    # ------------------------------------------------------------------ playing

    def play(self) -> None:
        if self.session.finished:
            self.notify("Every run is done: r resets.", timeout=3)
            return
        self.playing = True
        self._carry = 0.0
        if self._timer is not None:
            self._timer.resume()
        self.refresh_views(force=True)

    def pause(self) -> None:
        self.playing = False
        if self._timer is not None:
            self._timer.pause()
        self._update_slice(force=False, exact=True)
        self.refresh_views(force=True)

    def _frame(self) -> None:
        """One timer firing: step what the speed asks for, then draw."""
        if not self.playing:
            return
        self._frames += 1
        want = self._carry + self.speed / self.fps
        n = int(want)
        self._carry = want - n
        if n:
            deadline = time.perf_counter() + STEP_BUDGET / self.fps
            self.advance(n, deadline)

    def advance(self, ticks: int, deadline: float | None = None) -> None:
        """Step the session (the timer, the `n` key and tests come here) and draw."""
        result = self.session.advance(ticks, deadline)
        if result.paused:
            self.pause()
        self._open_scripted_guide()  # now, before the next frame steps past its step
        if result.finished and not self._announced_end:
            self._announced_end = True
            self.playing = False
            if self._timer is not None:
                self._timer.pause()
            self.notify("Playback finished: r replays, q quits." if self.play_mode
                        else "Every run is done: r resets.", timeout=4)
        if self._frames % SLICE_EVERY == 0 or not self.playing:
            self._update_slice(force=False)
        self.refresh_views()

    # ------------------------------------------------------------------ drawing

    def refresh_views(self, force: bool = False) -> None:
        """Push the view model's state to every widget (each repaints only what changed)."""
        v = self.view
        s = self.session
        if not force and v.revision == self._drawn_revision:
            return
        if not self.is_mounted:
            return
        self._drawn_revision = v.revision
        seconds = LOW_BANDWIDTH_PANEL_SECONDS if self.low_bandwidth else PANEL_SECONDS
        panels = force or not self.playing or self._frames - self._panel_frame >= round(seconds * self.fps)
        sim = s.sim
        n = sim.n_runs
        system = widget_color_system(self.plot)
        true_colors = [palette.run_color(i) for i in range(n)]
        colors = [palette.run_color(i, system) for i in range(n)]
        order = [i for i in range(n) if i != v.selected] + [v.selected]

        trajectories = v.trajectories()
        currents = v.current_points()
        self.plot.set_overlay([(sim.names[i], true_colors[i], *trajectories[i], currents[i], palette.run_glyph(i))
                               for i in order if v.visible(i)],
                              [(a.origin, a.direction, ARROW_COLORS[a.kind], a.label, a.scale) for a in v.arrows])
        self._view_classes()
        if not panels:
            return
        self._panel_frame = self._frames

        x_range = v.x_range()
        rank = {i: k for k, i in enumerate(order)}
        loss_series = sorted(v.loss_curves(), key=lambda c: (rank[c.run], not c.dashed))
        note = "╌ test" if s.objective.has_test else ""
        self.query_one("#loss", CurvePlot).set_curves(loss_series, colors, x_range, note)
        lr_plot = self.query_one("#lr", CurvePlot)
        if not self.has_class("-short"):
            lr_series = sorted(v.lr_curves(), key=lambda c: (rank[c.run], not c.dashed))
            lr_plot.set_curves(lr_series, colors, x_range, "╌ planned")
        self._draw_mechanism(colors, x_range, rank)

        statuses = s.statuses()
        if self.size.width >= 140:
            statuses = [self._wide_status(k, status) for k, status in enumerate(statuses)]
        test = sim.test_loss()
        rates = s.next_lr()
        rows = [RunRow(name=sim.names[i], color=colors[i], optimizer=cfg.optimizer,
                       step=int(sim.step_count[i]), steps=cfg.steps, loss=float(sim.loss[i]),
                       test_loss=None if test is None else float(test[i]),
                       grad_norm=float(sim.grad_norm[i]), lr=float(rates[i]),
                       status=statuses[i], visible=v.visible(i), glyph=palette.run_glyph(i))
                for i, cfg in enumerate(sim.configs)]
        self.query_one(RunTable).set_rows(rows, v.selected, show_test=test is not None)

        last = s.last_planned_step()
        self.query_one(StatusLine).show(s.scenario.title, sim.tick, last, self.playing, s.finished,
                                        self.speed, self.low_bandwidth, self.size.width)
        info = self.query_one(InfoPanel)
        info.set_caption(s.caption)
        info.set_status(self._status_text(colors, statuses, float(rates[v.selected])))
        shown = v.analysed
        info.set_report(None if shown is None else report_summary(shown.report, shown.run, shown.step))

    def _view_classes(self) -> None:
        """One class per mechanism view shown (the .tcss shows its plot); the learning-rate row
        goes when it holds nothing (a short screen hides the learning rate)."""
        views = self.view.views
        for kind in MECHANISM_VIEWS:
            self.set_class(kind in views, f"-show-{kind}")
        self.set_class(self.has_class("-short") and "sigma" not in views, "-no-lr-row")
        self.set_class(not views & {"curvature", "data"}, "-no-more-row")

    def _draw_mechanism(self, colors: list[str], x_range: tuple[float, float], rank: dict[int, int]) -> None:
        """The gradient-norm and sigma plots, when shown (tui/view/mechanism.py has the data)."""
        v = self.view
        if "gradient_norm" in v.views:
            series = sorted(v.gradient_norm_curves(), key=lambda c: rank[c.run])
            self.query_one("#gnorm", CurvePlot).set_curves(series, colors, x_range)
        if "sigma" in v.views:
            sigma_plot = self.query_one("#sigma", CurvePlot)
            sigma_plot.title = "sigma ─ lr/sigma ╌"  # whose, and which colour is which: the panel's legend
            sigma_plot.set_curves(v.sigma_curves(), palette.COORDINATE_COLORS, x_range)
        if "curvature" in v.views:
            self._draw_curvature(colors, x_range, rank)
        if "data" in v.views:
            self._draw_data(colors, rank)
        if "clock" in v.views:
            self._draw_clock(colors, rank)

    def _draw_clock(self, colors: list[str], rank: dict[int, int]) -> None:
        """Every visible run's loss against epochs and against simulated time (tui/view/clock.py)."""
        clocks = self.view.clocks()
        for plot_id, axis in (("#epochs", "epochs"), ("#clock-time", "time")):
            series, x_range, x_log = self.view.clock_curves(axis)
            series.sort(key=lambda c: rank.get(c.run, -1))
            plot = self.query_one(plot_id, CurvePlot)
            if axis == "time" and clocks is not None:
                plot.title = f"loss against time ({clocks.unit})"
            plot.set_curves(series, colors, x_range, x_log=x_log)

    def _clock_legend(self, out: Text, colors: list[str]) -> None:
        """Each run's batch and time per update: what turns its updates into epochs and time."""
        clocks = self.view.clocks()
        if clocks is None:
            out.append("\nno clock: not a batch-size scenario", style="dim")
            return
        out.append("\nbatch, time/update ", style="dim")
        for k, (name, clock) in enumerate(zip(self.session.sim.names, clocks.runs)):
            out.append(f"{name} {clock.batch} {fmt_num(clock.time_per_update, 3)}{clocks.unit} ", style=colors[k])

    def _draw_data(self, colors: list[str], rank: dict[int, int]) -> None:
        """The points and every visible run's prediction against the input (tui/view/data.py)."""
        v = self.view
        found = v.data_picture()
        if found is None:
            return
        plot = self.query_one("#data", CurvePlot)
        plot.title = f"{found.y} against {found.x}"
        top = len(rank) + 2  # the points over the curves (train on top), the selected run's curve over the others
        series = sorted(v.data_curves(), key=lambda c: rank.get(c.run, top - (c.name == "test")))
        x_range = (float(found.grid[0]), float(found.grid[-1]) if len(found.grid) > 1 else float(found.grid[0]) + 1)
        plot.set_curves(series, [*colors, palette.TRAIN_POINT_COLOR, palette.TEST_POINT_COLOR], x_range, follow=True)

    def _data_legend(self, out: Text) -> None:
        """Which dots are which in the data plot; the curves are the runs' predictions."""
        found = self.view.data_picture()
        if found is None:
            out.append("\nno data to draw: the data view needs one input column, a target and a squared error",
                       style="dim")
            return
        out.append("\ndata ", style="dim")
        out.append(f"• train {len(found.train[0])} ", style=palette.TRAIN_POINT_COLOR)
        if found.test is not None:
            out.append(f"• test {len(found.test[0])} ", style=palette.TEST_POINT_COLOR)
        out.append("─ each run's prediction", style="dim")

    def _draw_curvature(self, colors: list[str], x_range: tuple[float, float], rank: dict[int, int]) -> None:
        """On a quadratic the selected run's error along each eigenvector (coloured like the
        eigenvector arrows' labels in the legend); otherwise every run's lr·λmax and the limit."""
        v = self.view
        plot = self.query_one("#curv", CurvePlot)
        series = v.curvature_curves()
        if v.quadratic() is not None:
            plot.title = "|error| along eigenvectors"  # whose: the legend's run; which colour: its λ
            plot.set_curves(series, palette.COORDINATE_COLORS, x_range)
        else:
            plot.title = "lr·λmax ╌ limit 2"
            series.sort(key=lambda c: rank.get(c.run, -1))
            plot.set_curves(series, [*colors, palette.LIMIT_COLOR], x_range)

    def _curvature_legend(self, out: Text, colors: list[str]) -> None:
        """The curvature legend: eigenvalues and condition number at the selected run, then
        every run's lr·λmax over its limit (✗ above it)."""
        now = self.view.curvature_now()
        out.append("\nλ ", style="dim")
        for k, value in enumerate(now.eigenvalues[::-1].tolist()):  # steepest first, as the error curves
            out.append(f"{fmt_num(value, 3)} ", style=palette.COORDINATE_COLORS[k % 4] if now.quadratic else "dim")
        out.append(f" κ {fmt_num(now.condition, 3)}  lr·λmax/limit ", style="dim")
        for k, run in enumerate(now.runs):
            mark = "✗" if run.rate_curvature > run.limit else ""
            out.append(f"{run.name} {fmt_num(run.rate_curvature, 3)}/{fmt_num(run.limit, 3)}{mark} ",
                       style=colors[k])

    def _sigma_legend(self, out: Text) -> None:
        """The sigma plot's legend under the selected run: each coordinate in its colour with
        its sigma and lr/sigma now (or why there is none)."""
        now = self.view.sigma_now()
        if not now:
            out.append(f"\n{self.session.sim.configs[self.view.selected].optimizer} divides by no sigma", style="dim")
            return
        out.append("\nsigma ", style="dim")
        for k, (name, sigma, _) in enumerate(now):
            out.append(f"{name} {fmt_num(sigma, 2)} ", style=palette.COORDINATE_COLORS[k])
        out.append("lr/sigma ", style="dim")
        for k, (name, _, rate) in enumerate(now):
            out.append(f"{name} {fmt_num(rate, 2)} ", style=palette.COORDINATE_COLORS[k])

    def _wide_status(self, run: int, status: str) -> str:
        """The status with the diagnosis' headline, for wide terminals."""
        diagnosis = self.session.diagnosis(run)
        if diagnosis is None or not diagnosis.headline:
            return status
        evidence = _evidence(diagnosis.headline)
        return f"{status}: {evidence}" if evidence else status

    def _status_text(self, colors: list[str], statuses: list[str], lr_now: float) -> Text:
        s = self.session
        v = self.view
        i = v.selected
        sim = s.sim
        cfg = sim.configs[i]
        out = Text()
        out.append("● ", style=colors[i])
        out.append(cfg.name, style=f"bold {colors[i]}")
        out.append(f"  {cfg.optimizer}, base lr {fmt_num(cfg.lr, 3)}", style="dim")
        if cfg.schedule:
            out.append(f", {cfg.schedule.get('kind', 'constant')} schedule", style="dim")
        if fmt_num(lr_now, 3) != fmt_num(cfg.lr, 3):
            out.append(f", lr now {fmt_num(lr_now, 3)}", style="dim")
        if "sigma" in v.views:  # first: the status below may fill the lines the panel gives it
            self._sigma_legend(out)
        if "curvature" in v.views:
            self._curvature_legend(out, colors)
        if "data" in v.views:
            self._data_legend(out)
        if "clock" in v.views:
            self._clock_legend(out, colors)
        out.append("\n")
        diagnosis = s.diagnosis(i)
        if diagnosis is not None:
            out.append(diagnosis.status, style="bold")
            evidence = _evidence(diagnosis.headline or "")
            if evidence:
                out.append(f": {evidence}")
            if diagnosis.remedy:
                out.append(f"\n→ {diagnosis.remedy}", style="italic")
            if diagnosis.events:  # the run's notable moments so far (the status reads only the last steps)
                out.append(f"\nevents: {steps_line(diagnosis.events)}", style="dim")
        else:
            out.append(statuses[i], style="bold")
            out.append(f"  loss {fmt_num(float(sim.loss[i]))}, |g| {fmt_num(float(sim.grad_norm[i]), 3)}")
        held = v.held_values()
        if held:
            values = ", ".join(f"{k} = {x:.3g}" for k, x in held.items())
            names = v.plane.axis_names
            out.append(f"\nplane {names[0]}, {names[1]}; {values} (held at {cfg.name})", style="dim")
        elif v.plane.slice is not None:
            out.append(f"\n{v.plane_note()} ({cfg.name}); p changes it", style="dim")
        return out

    def _current_slice_key(self) -> tuple | None:
        v = self.view
        s = self.session
        if s.objective.n_params == 2:
            return None
        kind = v.plane.slice_kind
        growth = s.tick // 50 if kind == "pca" else 0  # a PCA plane follows the growing path
        return (kind, v.selected, growth)

    def _update_slice(self, force: bool, exact: bool = False) -> None:
        """With more than two parameters, cut the surface again through the selected run's
        point (engine.slicing) once it has moved off the slice drawn by more than a plot cell
        (a new contour costs more than a frame; the panel names the values the slice holds),
        or by anything at all if `exact` (on pausing). A params slice keeps the zoom; random
        and PCA planes move with their origin, so their window is computed afresh."""
        key = self._current_slice_key()
        if key is None:
            return
        if key == self._slice_key and not force:
            cell = self.plot.drawn_cell_size
            if cell is not None and not self.view.moved_off_slice(0.0 if exact else min(cell)):
                return
        self._slice_key = key
        v = self.view
        v.update_plane()
        plot = self.plot
        keep = plot.window if v.plane.slice_kind == "params" else None
        plot.set_surface(v.surface_function(), v.home_window(), v.plane_labels, v.minima_xy(), view=keep)
        plot.set_title(v.plane_title())

    # ------------------------------------------------------------------ messages

    def notify(self, message: str, *, title: str = "", severity: str = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every message of this screen goes to the status line (a toast would cover the run
        table's columns for seconds); `markup` is ignored: messages are shown as written."""
        self.query_one(StatusLine).say(f"{title}: {message}" if title else message, severity, timeout)


    def on_run_table_selected(self, message: RunTable.Selected) -> None:
        self.view.select(message.index)
        self._update_slice(force=False)
        self.refresh_views()

    def on_contour_plot_clicked(self, message: ContourPlot.Clicked) -> None:
        v = self.view
        v.place_start(v.selected, (message.x, message.y))
        self._announced_end = False
        self.notify(f"{self.session.sim.names[v.selected]} starts at ({message.x:.3g}, {message.y:.3g})", timeout=2)
        self._update_slice(force=False)
        self.refresh_views()

    # ------------------------------------------------------------------ actions

    def run_palette_command(self, command: Command) -> None:
        """Run a command chosen in the palette (on the plot if it is the plot's)."""
        target = self.plot if command.target == "plot" else self
        self.call_later(target.run_action, command.action)

    def action_toggle_play(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def action_step_once(self) -> None:
        if self.playing:
            self.pause()
        if self.session.finished:
            self.notify("Every run is done: r resets.", timeout=2)
            return
        self.advance(1)

    def action_faster(self) -> None:
        k = SPEEDS.index(self.speed) if self.speed in SPEEDS else 0
        self.speed = SPEEDS[min(len(SPEEDS) - 1, k + 1)]
        self.refresh_views(force=True)

    def action_slower(self) -> None:
        k = SPEEDS.index(self.speed) if self.speed in SPEEDS else 0
        self.speed = SPEEDS[max(0, k - 1)]
        self.refresh_views(force=True)

    def action_reset(self) -> None:
        self.session.reset()
        self._announced_end = False
        for plot_id in CURVE_PLOTS:
            self.query_one(plot_id, CurvePlot).reset_range()
        self._update_slice(force=True)
        self.refresh_views(force=True)

    def action_select(self, delta: int) -> None:
        v = self.view
        v.select(v.selected + delta)
        self._update_slice(force=False)
        self.refresh_views()

    def action_edit_run(self) -> None:
        from .edit_run import EditRunScreen

        s = self.session
        run = self.view.selected
        name = s.sim.names[run]

        def done(changes: dict | None) -> None:
            if not changes:
                return
            try:
                s.edit_run(s.sim.names.index(name), changes)
            except (ScenarioError, ValueError) as exc:  # validated in the form; never crash here
                self.notify(str(exc), severity="error")
                return
            self._announced_end = False
            self.notify(f"{name}: " + ", ".join(f"{k} = {_short(v)}" for k, v in changes.items()), timeout=3)
            self.refresh_views(force=True)

        self.app.push_screen(EditRunScreen(s, run, template=run), done)

    def action_add_run(self) -> None:
        from .edit_run import EditRunScreen

        s = self.session

        def done(cfg: RunSettings | None) -> None:
            if cfg is None:
                return
            try:
                s.add_run(cfg)
            except (ScenarioError, ValueError) as exc:
                self.notify(str(exc), severity="error")
                return
            self._announced_end = False
            self.notify(f"Added {cfg.name}", timeout=2)
            self.refresh_views(force=True)

        self.app.push_screen(EditRunScreen(s, None, template=self.view.selected), done)

    def action_remove_run(self) -> None:
        s = self.session
        run = self.view.selected
        name = s.sim.names[run]
        try:
            s.remove_run(run)
        except ValueError as exc:
            self.notify(f"Cannot remove {name}: {exc}.", severity="warning")
            return
        self.notify(f"Removed {name}", timeout=2)
        self.refresh_views(force=True)

    def action_toggle_visible(self) -> None:
        v = self.view
        shown = v.toggle_hidden(v.selected)
        self.notify(f"{self.session.sim.names[v.selected]} {'shown' if shown else 'hidden'}", timeout=1.5)
        self.refresh_views()

    def action_show_all(self) -> None:
        self.view.unhide_all()
        self.refresh_views()

    def action_focus_runs(self) -> None:
        self.query_one(RunTable).focus()

    def action_focus_plot(self) -> None:
        self.plot.focus()

    def action_place_start(self) -> None:
        self.notify("Click the plot where the selected run should start.", timeout=3)

    def action_hessian(self) -> None:
        from .report import ReportScreen

        s = self.session
        run = self.view.selected
        report = self.view.analyse_point(run, "hessian")
        self.refresh_views(force=True)
        self.app.push_screen(ReportScreen(report, s.objective.params, s.sim.names[run],
                                          int(s.sim.step_count[run])))

    def action_general_guide(self) -> None:
        from .guide import GuideScreen

        if self.playing:
            self.pause()  # the guide reads the simulation from a worker thread: hold it still
        self.app.push_screen(GuideScreen(self.session))

    def _open_scripted_guide(self) -> None:
        """A scripted `show = "guide"` fell due: the session stopped on its step; open the guide
        on its run, holding playback while it is open and playing on when it closes."""
        from .guide import GuideScreen

        if self.view.guide_request is None:
            return
        request = self.view.take_guide_request()
        if request is None:
            return
        was_playing = self.playing
        if self.playing:
            self.pause()

        def closed(_: object = None) -> None:
            if was_playing and not self.session.finished:
                self.play()

        self.app.push_screen(GuideScreen(self.session, run=request.run), closed)

    def action_batch_lab(self) -> None:
        from .batch_lab import BatchLabScreen

        if "batch_lab" not in self.session.scenario.extra:
            self.notify("This scenario has no [batch_lab] table: no batch-size lab to run.", severity="warning",
                        timeout=4)
            return
        if self.playing:
            self.pause()
        self.app.push_screen(BatchLabScreen(self.session))

    def action_next_slice(self) -> None:
        v = self.view
        if self.session.objective.n_params == 2:
            self.notify("Two parameters: the plot is the whole surface, no slice to change.", timeout=3)
            return
        kinds = v.SLICE_KINDS
        v.set_slice_kind(kinds[(kinds.index(v.plane.slice_kind) + 1) % len(kinds)])
        v.clear_report()  # its arrows were drawn in the old plane
        self._update_slice(force=True)
        self.notify(v.plane_note(), timeout=3)
        self.refresh_views(force=True)

    def action_toggle_view(self, kind: str) -> None:
        v = self.view
        if kind == "data" and "data" not in v.views and v.data_picture() is None:
            self.notify("No data to draw: the data view needs a [data] table with one input column, a target "
                        "and a squared error.", severity="warning", timeout=4)
            return
        if kind == "clock" and "clock" not in v.views and v.clocks() is None:
            self.notify("No clock: not a batch-size scenario (no [batch_lab] table, no run with a batch_size).",
                        severity="warning", timeout=4)
            return
        shown = v.toggle_view(kind)
        if shown and kind == "momentum" and not self.session.sim.has_momentum(v.selected):
            name = self.session.sim.names[v.selected]
            self.notify(f"{name}'s optimizer keeps no momentum: only -g is drawn.", timeout=3)
        else:
            self.notify(f"{VIEW_TITLES[kind]} {'shown' if shown else 'hidden'}", timeout=1.5)
        self.refresh_views(force=True)

    def action_clear_arrows(self) -> None:
        self.view.clear_report()
        self.refresh_views()

    def action_toggle_low_bandwidth(self) -> None:
        app = self.app
        app.low_bandwidth = not self.low_bandwidth
        self.plot.low_bandwidth = app.low_bandwidth
        self._start_timer()
        self.notify(f"Low bandwidth {'on' if app.low_bandwidth else 'off'}: {self.fps} frames/s", timeout=2)
        self.refresh_views(force=True)

    def _file_stem(self) -> str:
        return f"{self.session.scenario.name}-step{self.session.tick}"

    def action_screenshot(self) -> None:
        path = self.app.save_output(f"{self._file_stem()}.svg", self.app.export_screenshot())
        if path:
            self.notify(f"Screenshot: {path}", timeout=4)

    def action_save_scenario(self) -> bool:
        """Write the runs as they are as a scenario file; True when it was written."""
        from ...engine.scenario.write import dropped_events

        s = self.session
        text = s.to_toml()
        path = self.app.save_output(f"{s.scenario.name}-edited.toml", text)
        dropped = dropped_events(s.scenario, s.sim.configs)
        extra = f" ({len(dropped)} event(s) of removed runs left out)" if dropped else ""
        if path:
            s.mark_saved()
            self.notify(f"Scenario: {path}{extra}", timeout=4)
        return bool(path)

    def action_save_csv(self) -> None:
        import io

        buffer = io.StringIO()
        rows = self.session.write_csv(buffer)
        path = self.app.save_output(f"{self._file_stem()}.csv", buffer.getvalue())
        if path:
            self.notify(f"Trajectories ({rows} rows): {path}", timeout=4)

    def action_help(self) -> None:
        from .help import HelpScreen

        self.app.push_screen(HelpScreen(SIMULATOR_COMMANDS, "Simulator keys"))

    def action_back(self) -> None:
        """Back to the picker; with unsaved added, edited or removed runs, ask first."""
        self._leave(self.app.back_to_picker, quitting=False)

    def action_quit(self) -> None:
        """Quit; with unsaved added, edited or removed runs, ask first (as escape does)."""
        self._leave(self.app.exit, quitting=True)

    def _leave(self, go: Callable[[], object], quitting: bool) -> None:
        from .confirm_leave import LEAVE, SAVE_AND_LEAVE, ConfirmLeaveScreen

        changes = self.session.unsaved_summary()
        if not changes:
            go()
            return

        def answered(choice: str | None) -> None:
            if choice == LEAVE or (choice == SAVE_AND_LEAVE and self.action_save_scenario()):
                go()

        if self.playing:
            self.pause()
        self.app.push_screen(ConfirmLeaveScreen(changes, quitting), answered)

    def action_command_palette(self) -> None:
        self.app.action_command_palette()


def _evidence(headline: str) -> str:
    """The numbers of a diagnosis headline ("stuck near a saddle: |g| 0.0036, ..." ->
    "|g| 0.0036, ..."): the status word is already shown next to it."""
    return headline.split(": ", 1)[1] if ": " in headline else headline


def _short(value: object) -> str:
    if isinstance(value, float):
        return fmt_num(value, 4)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    return str(value)
