"""Every key of the app in one table: the screens' bindings, the footer, the help screen and
the command palette are all made from it, so they cannot disagree.

A command with an empty `keys` has no key of its own and lives in the palette (and the help
screen) only. `target` "plot" means the action belongs to the contour plot (its own
bindings: z, Z, arrows, 0, active when the plot has focus); the palette runs it there.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider


def closing_bindings(*keys: str) -> list[Binding]:
    """A modal screen's ways out: escape (shown in the footer), q, and ``keys`` (the key that
    opened it, enter...)."""
    return [Binding("escape", "close", "Close"),
            *(Binding(key, "close", "Close", show=False) for key in (*keys, "q"))]


class Command(NamedTuple):
    keys: str  # Textual key names, comma-separated ("" = palette only)
    action: str  # action string run on the screen (or on the plot)
    title: str  # footer label and palette title
    help: str  # one line for the help screen and the palette
    group: str
    footer: bool = False
    display: str = ""  # how the help screen spells the key (default: Textual's own)
    target: str = "screen"


SIMULATOR_COMMANDS: tuple[Command, ...] = (
    Command("space", "toggle_play", "Play", "Play or pause the scenario", "Playback", True, "space"),
    Command("n", "step_once", "Step", "One step of every run (pauses first)", "Playback", True),
    Command("plus,equals_sign", "faster", "Faster", "Play faster (more steps per second)", "Playback", False, "+"),
    Command("minus", "slower", "Slower", "Play slower", "Playback", False, "-"),
    Command("r", "reset", "Reset", "Every run back to its start; the script starts again", "Playback", True),
    Command("e", "edit_run", "Edit", "Edit the selected run: optimizer, learning rate, hyperparameters, "
            "schedule, steps, start", "Runs", True),
    Command("a", "add_run", "Add run", "Add a run (a copy of the selected one, to edit)", "Runs"),
    Command("d,delete", "remove_run", "Remove run", "Remove the selected run", "Runs", False, "d / del"),
    Command("v", "toggle_visible", "Hide/show run", "Hide or show the selected run on the plots", "Runs"),
    Command("V", "show_all", "Show all runs", "Show every hidden run again", "Runs", False, "V"),
    Command("left_square_bracket", "select(-1)", "Previous run", "Select the previous run", "Runs", False, "["),
    Command("right_square_bracket", "select(1)", "Next run", "Select the next run", "Runs", False, "]"),
    Command("", "focus_runs", "Focus run table", "Move the keyboard to the run table (tab also does)", "Runs"),
    Command("h", "hessian", "Hessian", "Hessian report at the selected run's point, with the gradient "
            "and escape arrows on the plot", "Analysis", True),
    Command("G", "toggle_view('gradient_norm')", "Gradient norm", "Show or hide the gradient norm |g| of "
            "every run beside the loss (log scale when it spans more than a decade)", "Analysis", False, "G"),
    Command("S", "toggle_view('sigma')", "Sigma", "Show or hide the selected run's sigma and lr/sigma per "
            "coordinate, and on the plot its raw step -lr·g beside the step it takes", "Analysis", False, "S"),
    Command("M", "toggle_view('momentum')", "Momentum", "Show or hide the selected run's momentum beside -g "
            "on the plot", "Analysis", False, "M"),
    Command("C", "toggle_view('curvature')", "Curvature", "Show or hide the curvature: every run's lr·λmax "
            "(lr/sigma for adaptive methods) against the stability limit, the condition number, the Hessian's "
            "eigenvectors at the selected run; on a quadratic its error along each eigenvector", "Analysis",
            False, "C"),
    Command("D", "toggle_view('data')", "Data", "Show or hide the data: training and test points and every "
            "run's current prediction against the input (data-driven scenarios)", "Analysis", False, "D"),
    Command("T", "toggle_view('clock')", "Clock", "Show or hide every run's loss against epochs and against "
            "simulated time, from the batch lab's cost model (batch-size scenarios)", "Analysis", False, "T"),
    Command("c", "clear_arrows", "Clear arrows", "Remove the report's arrows from the plot", "Analysis"),
    Command("g", "general_guide", "General guide", "The general guide on the runs' numbers: verdict, remedies",
            "Analysis"),
    Command("L", "batch_lab", "Batch lab", "Batch-size lab: time per epoch, loss, sharpness",
            "Analysis", False, "L"),
    Command("z", "zoom_in", "Zoom in", "Zoom the plot in (plot focused; also the mouse wheel)", "View",
            False, "z", "plot"),
    Command("Z", "zoom_out", "Zoom out", "Zoom the plot out", "View", False, "Z", "plot"),
    Command("", "pan(0, 1)", "Pan", "Move the view: arrow keys (plot focused), or drag with the mouse", "View", False, "arrows", "plot"),
    Command("0", "reset_view", "Reset view", "Back to the scenario's window", "View", False, "0", "plot"),
    Command("p", "next_slice", "Slice kind", "More than two parameters: cut the surface along the plotted "
            "parameters, two random directions or the run's principal directions", "View"),
    Command("", "focus_plot", "Focus plot", "Move the keyboard to the plot (tab also does)", "View"),
    Command("", "place_start", "Place start (click)", "Click the plot to start the selected run there",
            "View", False, "click"),
    Command("b", "toggle_low_bandwidth", "Low bandwidth", "Fewer frames, no filled bands (slow links)", "View"),
    Command("s", "screenshot", "Screenshot", "Save an SVG screenshot of the screen", "Files"),
    Command("w", "save_scenario", "Save scenario", "Save the scenario with the runs as they are now (TOML)",
            "Files"),
    Command("t", "save_csv", "Save CSV", "Save every run's trajectory as CSV", "Files"),
    Command("question_mark", "help", "Help", "This list of keys", "App", True, "?"),
    Command("escape", "back", "Back", "Back to the scenario picker (asks first if runs were added, edited or removed)",
            "App", False, "esc"),
    Command("q", "quit", "Quit", "Leave optsim", "App", True),
    Command("", "command_palette", "Command palette", "Every action by name (ctrl+p)", "App", False, "ctrl+p"),
)

PICKER_COMMANDS: tuple[Command, ...] = (
    Command("enter", "open", "Open", "Open the highlighted scenario", "Scenarios", True, "enter"),
    Command("", "cursor(-1)", "Up", "Highlight the previous scenario (or up arrow)", "Scenarios", False, "↑"),
    Command("", "cursor(1)", "Down", "Highlight the next scenario (or down arrow)", "Scenarios", False, "↓"),
    Command("question_mark", "help", "Help", "The list of keys", "App", True, "?"),
    Command("q", "quit", "Quit", "Leave optsim", "App", True),
)


def bindings(commands: tuple[Command, ...]) -> list[Binding]:
    """Screen bindings for the commands that have keys and belong to the screen."""
    return [Binding(c.keys, c.action, c.title, show=c.footer)
            for c in commands if c.keys and c.target == "screen"]


class ScreenCommands(Provider):
    """The command palette's list: every command of the active screen, by name."""

    def _commands(self) -> tuple[Command, ...]:
        return tuple(getattr(self.screen, "PALETTE", ()))

    def _runner(self, command: Command):
        screen = self.screen
        return partial(screen.run_palette_command, command)

    async def discover(self) -> Hits:
        for command in self._commands():
            if command.action == "command_palette":
                continue
            yield DiscoveryHit(command.title, self._runner(command), help=_help(command))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            if command.action == "command_palette":
                continue
            score = max(matcher.match(command.title), 0.5 * matcher.match(command.help))
            if score > 0:
                yield Hit(score, matcher.highlight(command.title), self._runner(command), help=_help(command))


def _help(command: Command) -> str:
    key = command.display or command.keys.split(",")[0]
    return f"{command.help}  [{key}]" if key else command.help
