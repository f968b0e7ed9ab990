"""The optsim app: a scenario picker, the simulator screen, and the modal screens on top.

Screens are the modes (picker, simulator; help, run editor and Hessian report as modals);
each has its own keys, shown in the footer, listed by `?` and offered by the command
palette (ctrl+p). Files the app writes (screenshots, edited scenarios, trajectories) go to
`save_dir` (the current directory), or to the browser as downloads under `optsim serve`.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Iterable

from textual.app import App, SystemCommand
from textual.screen import Screen

from ..engine.scenario.catalog import CatalogEntry, catalog
from ..engine.errors import ScenarioError
from ..engine.safe_io import create_unique
from ..engine.scenario.load import Scenario


class OptsimApp(App):
    """Watch optimizers move across a loss surface."""

    CSS_PATH = ["app.tcss", "screens/simulator.tcss", "screens/picker.tcss"]
    """The two full screens' files (each screen names its own too) are read with the app's: a
    screen bringing a file Textual has not read yet makes it parse every rule of the app afresh
    (about 10 ms before the simulator's first frame). No rule of one of them selects a widget
    of the other, so reading them in another order changes nothing."""
    TITLE = "optsim"

    def __init__(self, scenario: Scenario | None = None, *, session=None, folder: Path | None = None,
                 low_bandwidth: bool = False, play: bool = False, save_dir: Path | None = None,
                 builtins: list[CatalogEntry] | None = None) -> None:
        super().__init__()
        self.initial_scenario = scenario if session is None else session.scenario
        self.initial_session = session
        self.folder = folder
        self.low_bandwidth = low_bandwidth
        self.play = play
        self.save_dir = Path.cwd() if save_dir is None else Path(save_dir)
        self._builtins = builtins

    def get_driver_class(self):
        """Textual's driver, but on a real Linux terminal the one that sends only the cells that
        changed (tui/terminal; OPTSIM_RAW_OUTPUT=1 turns it off)."""
        textual_choice = super().get_driver_class()
        if sys.platform == "win32":
            return textual_choice
        from .terminal.driver import choose_driver

        return choose_driver(textual_choice)

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        # The first screen is pushed once the start-up batch is over: pushed inside it, it was
        # rendered once for nothing (Textual shows no frame until the batch ends) before its first frame.
        if self.initial_session is not None:
            self.call_later(self.show_session, self.initial_session, self.play)
        elif self.initial_scenario is not None:
            self.call_later(self.open_scenario, self.initial_scenario, self.play)
        else:
            self.push_screen(self.make_picker())

    # ------------------------------------------------------------------ screens

    def make_picker(self) -> Screen:
        from .screens.picker import PickerScreen

        builtins = catalog() if self._builtins is None else self._builtins
        folder_entries = catalog(self.folder) if self.folder is not None else None
        return PickerScreen(builtins, self.folder, folder_entries)

    def open_scenario(self, scenario: Scenario, autoplay: bool = False) -> bool:
        """Build the scenario's session and show it; a problem is a notification, not a crash."""
        from ..engine.watch.session import Session

        try:
            session = Session(scenario)
        except (ScenarioError, ValueError, ArithmeticError) as exc:
            self.notify(f"{scenario.path}: {exc}", severity="error", timeout=6)
            return False
        self.show_session(session, autoplay=autoplay)
        return True

    def show_session(self, session, autoplay: bool = False) -> None:
        from .screens.simulator import SimulatorScreen

        self.push_screen(SimulatorScreen(session, autoplay=autoplay, play_mode=self.play))

    async def action_quit(self) -> None:
        """ctrl+q: on the simulator as q there (it asks first about unsaved runs); elsewhere, and
        pressed again in that question, it quits at once."""
        from .screens.simulator import SimulatorScreen

        if isinstance(self.screen, SimulatorScreen):
            self.screen.action_quit()
        else:
            self.exit()

    def back_to_picker(self) -> None:
        """Escape from the simulator: the picker it came from, or a new one."""
        from .screens.picker import PickerScreen

        below = self.screen_stack[-2] if len(self.screen_stack) >= 2 else None
        if isinstance(below, PickerScreen):
            self.pop_screen()
        else:
            self.switch_screen(self.make_picker())

    # ------------------------------------------------------------------ files

    def save_output(self, filename: str, text: str) -> str | None:
        """Write `text` to save_dir/filename (made unique), or hand it to the browser under
        `optsim serve`. Returns where it went, or None after telling the user why not."""
        if self.is_web:
            self.deliver_text(io.StringIO(text), save_filename=filename)
            return f"download {filename}"
        try:  # a new file, never through a symlink planted under the name (errors: the screen says where)
            path = create_unique(self.save_dir / filename, text)
        except OSError as exc:
            self.screen.notify(f"Cannot write {self.save_dir / filename}: {exc.strerror or exc}", severity="error")
            return None
        return str(path)

    # ------------------------------------------------------------------ palette

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own commands that optsim does not already offer (quit and screenshot it does)."""
        for command in super().get_system_commands(screen):
            if command.title not in ("Quit", "Screenshot"):
                yield command
