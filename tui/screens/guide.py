"""The lecture's general guide on the session's own numbers, as a modal screen (g).

The guide's coarse global search can take a second, so it runs in a worker thread and the
screen says "Computing…" meanwhile. The simulator pauses before opening this screen, so the
thread reads a simulation that holds still.
"""

from __future__ import annotations

from functools import partial

from ...engine.analysis.guide import GuideReport, general_guide
from ...engine.watch.session import Session
from ..widgets.guide_view import guide_body
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from .computing_modal import ComputingModal
from .keys import closing_bindings

COMPUTING = "Computing… (walking the decision tree; the coarse global search can take a second)"


class GuideScreen(ComputingModal):
    """Training loss large? -> model bias / optimization; small -> test loss large? -> ..."""

    CSS_PATH = "guide.tcss"
    WORKER_NAME = "general-guide"
    WHAT = "The guide"
    BODY_ID = "guide"
    BINDINGS = [
        *closing_bindings("g"),
        Binding("left_square_bracket", "run(-1)", "Previous run", show=False),
        Binding("right_square_bracket", "run(1)", "Next run", show=False),
    ]

    def __init__(self, session: Session, run: int | None = None) -> None:
        """``run``: whose verdict to show first (a scripted guide names it); default the best run."""
        super().__init__()
        self.session = session
        self.step = int(session.tick)
        self.report: GuideReport | None = None
        self.index = 0
        self.run = run

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(f"General guide · {self.session.scenario.title} · step {self.step}", id="title")
            with VerticalScroll(id="body"):
                yield Static(Text(COMPUTING, style="italic"), id="guide")
            yield Static("esc closes · [ ] other runs · the lecture's §1: look at the training loss first",
                         id="hint")

    def on_mount(self) -> None:
        self.query_one("#body").focus()
        self.start_work()

    def work(self):
        return partial(general_guide, self.session.scenario, self.session.sim)

    def show_result(self, result: GuideReport) -> None:
        self.report = result
        self.index = result.best if self.run is None or self.run >= len(result.verdicts) else self.run
        self._show()

    def _show(self) -> None:
        if self.report is not None:
            self.query_one("#guide", Static).update(guide_body(self.report, self.index))

    def action_run(self, delta: int) -> None:
        if self.report is None or len(self.report.verdicts) < 2:
            return
        self.index = (self.index + delta) % len(self.report.verdicts)
        self._show()
