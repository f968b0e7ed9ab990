"""A modal screen that computes its content in a worker thread (the guide, the batch lab).

The engine's analysis can take a second or more, so it runs in a thread while the screen
says "Computing…"; the result (or the one-line reason it failed) replaces that text.
The simulator pauses before opening such a screen, so the thread reads a simulation that
holds still. Subclasses name the worker, give the work and show the result.
"""

from __future__ import annotations

from typing import Any, Callable

from rich.text import Text
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from ...engine.errors import ScenarioError


class ComputingModal(ModalScreen):
    """Runs ``work()`` once in a thread on mount; ``show_result`` draws what it returns."""

    WORKER_NAME = "computing"
    WHAT = "The analysis"  # subject of the failure line: "<WHAT> could not run: ..."
    BODY_ID = "body-text"  # the Static that says "Computing…" and then the failure

    def work(self) -> Callable[[], Any]:
        raise NotImplementedError

    def show_result(self, result: Any) -> None:
        raise NotImplementedError

    def start_work(self) -> None:
        self.run_worker(self.work(), name=self.WORKER_NAME, thread=True, exclusive=True, exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != self.WORKER_NAME:
            return
        if event.state == WorkerState.SUCCESS:
            self.show_result(event.worker.result)
        elif event.state == WorkerState.ERROR:
            error = event.worker.error
            message = (f"{error.key}: {error.message}" if isinstance(error, ScenarioError)
                       else f"{type(error).__name__}: {error}")
            body = self.query_one(f"#{self.BODY_ID}", Static)
            body.update(Text(f"{self.WHAT} could not run: {message}", style="bold red"))

    def action_close(self) -> None:
        self.dismiss(None)
