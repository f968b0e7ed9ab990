"""The batch-size lab of the scenario's [batch_lab] table, as a modal screen (L).

run_batch_lab steps every batch size in its own simulation (a second or so), in a worker
thread; the screen says "Computing…" meanwhile. The lab copies the scenario file's runs, not
live edits.
"""

from __future__ import annotations

from functools import partial

from optsim.engine.batch_lab import BatchLabResult, run_batch_lab
from optsim.engine.errors import ScenarioError
from optsim.engine.session import Session
from optsim.tui.widgets.batch_lab_view import batch_lab_body
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import Worker, WorkerState

COMPUTING = "Computing… (running the scenario at every batch size)"


class BatchLabScreen(ModalScreen):
    """Cost per update and per epoch by batch size; loss, test loss and sharpness where each ended."""

    CSS_PATH = "batch_lab.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("L", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.result: BatchLabResult | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(f"Batch lab · {self.session.scenario.title}", id="title")
            with VerticalScroll(id="body"):
                yield Static(Text(COMPUTING, style="italic"), id="lab")
            yield Static("esc closes · the lecture's §3: large batches are faster per epoch, small ones find "
                         "flat minima", id="hint")

    def on_mount(self) -> None:
        self.query_one("#body").focus()
        s = self.session
        self.run_worker(partial(run_batch_lab, s.scenario, s.objective), name="batch-lab", thread=True,
                        exclusive=True, exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "batch-lab":
            return
        lab = self.query_one("#lab", Static)
        if event.state == WorkerState.SUCCESS:
            self.result = event.worker.result
            lab.update(batch_lab_body(self.result))
        elif event.state == WorkerState.ERROR:
            error = event.worker.error
            message = f"{error.key}: {error.message}" if isinstance(error, ScenarioError) else \
                f"{type(error).__name__}: {error}"
            lab.update(Text(f"The batch lab could not run: {message}", style="bold red"))

    def action_close(self) -> None:
        self.dismiss(None)
