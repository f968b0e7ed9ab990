"""The Hessian report at a run's point, as a modal screen (h). The plot keeps the arrows."""

from __future__ import annotations

from typing import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ...engine.analysis.critical import PointReport
from ..widgets.report_view import report_text
from .keys import closing_bindings


class ReportScreen(ModalScreen):
    """Point, loss, gradient, Hessian, eigenvalues, the verdict and why."""

    CSS_PATH = "report.tcss"
    BINDINGS = closing_bindings("h", "enter")

    def __init__(self, report: PointReport, params: Sequence[str], run: str, step: int) -> None:
        super().__init__()
        self.report = report
        self.text = report_text(report, params, run, step)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            with VerticalScroll(id="body"):
                yield Static(self.text, id="report")
            yield Static("esc closes · the arrows stay on the plot (c clears them)", id="hint")

    def action_close(self) -> None:
        self.dismiss(None)
