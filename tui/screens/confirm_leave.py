"""Leaving a scenario (escape) or quitting (q) with unsaved runs: a modal that says what would
be lost and asks, so that added and edited runs are never dropped by one key."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

LEAVE = "leave"
SAVE_AND_LEAVE = "save"


class ConfirmLeaveScreen(ModalScreen[str | None]):
    """Dismisses with LEAVE, SAVE_AND_LEAVE, or None (stay)."""

    CSS_PATH = "confirm_leave.tcss"
    BINDINGS = [
        Binding("y", "leave", "Leave, drop changes"),
        Binding("w", "save_and_leave", "Save, then leave"),
        Binding("n", "stay", "Stay"),
        Binding("escape", "stay", "Stay", show=False),
    ]

    def __init__(self, changes: str, quitting: bool = False) -> None:
        """``quitting``: the question is quitting optsim (q), not going back to the picker (escape)."""
        super().__init__()
        self.changes = changes
        self.quitting = quitting

    def compose(self) -> ComposeResult:
        where = "Once optsim quits" if self.quitting else "Back at the picker"
        verb = "quit" if self.quitting else "leave"
        with Vertical(id="dialog"):
            yield Static("Quit optsim?" if self.quitting else "Leave this scenario?", id="title")
            yield Static(f"Unsaved changes of the runs: {self.changes}.\n"
                         f"{where} they are gone unless saved (w writes the edited scenario).",
                         id="changes")
            yield Static(f"y {verb} and drop them · w save, then {verb} · n or esc stay", id="hint")
        yield Footer()

    def action_leave(self) -> None:
        self.dismiss(LEAVE)

    def action_save_and_leave(self) -> None:
        self.dismiss(SAVE_AND_LEAVE)

    def action_stay(self) -> None:
        self.dismiss(None)
