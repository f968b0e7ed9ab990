"""The batch-size lab of the scenario's [batch_lab] table, as a modal screen (L).

run_batch_lab steps every batch size in its own simulation (a second or so), in a worker
thread; the screen says "Computing…" meanwhile. The lab copies the scenario file's runs, not
live edits. Below the tables, the loss of every batch size against updates, epochs or
simulated time (keys u, p, t): the engine's records (batch_lab.loss_curves) on the axis
curve_grid.x_scale_for picks (log x where the runs end decades apart). Under the plot, every
batch size read at equal updates, equal epochs and equal simulated time (the engine's
result.comparisons, as `optsim diagnose` prints them).
"""

from __future__ import annotations

from functools import partial

from ...engine.analysis.batch_lab import AXES, BatchLabResult, loss_curves, run_batch_lab
from ..render.curve_grid import CurveSeries, x_scale_for
from ...engine.watch.session import Session
from ..render import palette
from ..widgets.batch_lab_view import axis_hint, batch_lab_body, comparisons, legend, plot_title
from ..widgets.cell_canvas import widget_color_system
from ..widgets.curve_plot import CurvePlot
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from .computing_modal import ComputingModal
from .keys import closing_bindings

COMPUTING = "Computing… (running the scenario at every batch size)"


class BatchLabScreen(ComputingModal):
    """Cost per update and per epoch by batch size; loss, test loss and sharpness where each ended;
    the loss curves of every batch size against updates, epochs or simulated time."""

    CSS_PATH = "batch_lab.tcss"
    WORKER_NAME = "batch-lab"
    WHAT = "The batch lab"
    BODY_ID = "lab"
    BINDINGS = [
        *closing_bindings("L"),
        Binding("u", "axis('updates')", "Loss vs updates"),
        Binding("p", "axis('epochs')", "Loss vs epochs"),
        Binding("t", "axis('time')", "Loss vs simulated time"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.result: BatchLabResult | None = None
        self.axis = "time"  # the lecture's point first: per unit of device time

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(f"Batch lab · {self.session.scenario.title}", id="title")
            with VerticalScroll(id="body"):
                yield Static(Text(COMPUTING, style="italic"), id="lab")
                yield CurvePlot("loss", id="curves")
                yield Static("", id="legend")
                yield Static("", id="compare")
            yield Static(axis_hint(self.axis), id="hint")

    def on_mount(self) -> None:
        self.query_one("#body").focus()
        self.query_one("#curves").display = False
        self.query_one("#legend").display = False
        self.query_one("#compare").display = False
        self.start_work()

    def work(self):
        return partial(run_batch_lab, self.session.scenario, self.session.objective)

    def show_result(self, result: BatchLabResult) -> None:
        self.result = result
        self.query_one("#lab", Static).update(batch_lab_body(result))
        self.query_one("#curves").display = True
        self.query_one("#legend").display = True
        compare = self.query_one("#compare", Static)
        compare.update(comparisons(result))
        compare.display = True
        self.add_class("-plotted")  # the dialog takes the height; the hint stays in view
        self._draw_curves()

    def _draw_curves(self) -> None:
        """Push the engine's (x, loss) records on the current axis to the plot."""
        result = self.result
        if result is None:
            return
        plot = self.query_one("#curves", CurvePlot)
        curves = loss_curves(result, self.axis)
        x_range, x_log = x_scale_for([x for x, _ in curves])
        system = widget_color_system(plot)
        colors = [palette.run_color(i, system) for i in range(len(curves))]
        series = [CurveSeries(run.name, i, xs, ys) for i, (run, (xs, ys)) in enumerate(zip(result.runs, curves))]
        plot.title = plot_title(result, self.axis)
        plot.set_curves(series, colors, x_range, x_log=x_log)
        self.query_one("#legend", Static).update(legend(result, [palette.run_color(i) for i in range(len(curves))]))

    def action_axis(self, axis: str) -> None:
        """Show the loss against another x axis (updates, epochs or simulated time)."""
        if axis not in AXES:
            return
        self.axis = axis
        self.query_one("#hint", Static).update(axis_hint(axis))
        self._draw_curves()
