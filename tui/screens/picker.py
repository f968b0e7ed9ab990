"""The scenario picker: the built-in scenarios and the *.toml files of a folder, with a preview.

enter opens the highlighted scenario. A file that does not load shows its error in the
preview (and in a notification on enter) instead of opening.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from ...engine.scenario.catalog import CatalogEntry
from ...engine.errors import ScenarioError
from ...engine.scenario.load import Scenario, load_scenario
from .. import startup_gc
from .keys import PICKER_COMMANDS, Command, ScreenCommands, bindings
from ..widgets.too_small import TooSmall

MIN_SIZE = (40, 12)


def scenario_markdown(scenario: Scenario, entry: CatalogEntry, builtin: bool) -> str:
    """The preview: title, where it comes from, its description, surface, runs and script."""
    s = scenario.surface
    lines = [f"# {scenario.title}", ""]
    where = f"built-in `{entry.name}`" if builtin else f"`{entry.path}`"
    lines += [f"*{where}*", "", scenario.description.strip() or "*No description.*", "", "---", ""]
    surface = f"built-in **{s.builtin}**: `{s.expr}`" if s.builtin else f"`{s.expr}`"
    lines.append(f"**Surface** {surface} over {', '.join(s.params)}")
    if scenario.data is not None:
        test = f", {scenario.data.n_test} test rows" if scenario.data.test is not None else ""
        lines.append(f"  \n**Data** {scenario.data.n_train} rows{test}")
    lines.append("")
    lines.append("**Runs**")
    lines.append("")
    for run in scenario.runs:
        lr = run.hyper.get("lr")
        rate = f", lr {lr:g}" if isinstance(lr, (int, float)) else ""
        sched = f", {run.schedule.get('kind', 'constant')} schedule" if run.schedule else ""
        lines.append(f"- **{run.name}**: {run.optimizer}{rate}{sched}, {run.steps} steps")
    if scenario.events:
        said = sum(1 for e in scenario.events if e.say)
        lines += ["", f"**Script** {len(scenario.events)} events, {said} captions"]
    return "\n".join(lines)


class PickerScreen(Screen):
    """Choose a scenario."""

    CSS_PATH = "picker.tcss"
    PALETTE: tuple[Command, ...] = PICKER_COMMANDS
    BINDINGS = bindings(PICKER_COMMANDS)
    COMMANDS = {ScreenCommands}

    def __init__(self, builtins: list[CatalogEntry], folder: Path | None = None,
                 folder_entries: list[CatalogEntry] | None = None) -> None:
        super().__init__()
        self.folder = folder
        self.entries: list[tuple[CatalogEntry, bool]] = [(e, False) for e in folder_entries or []]
        self.entries += [(e, True) for e in builtins]
        self._cache: dict[Path, Scenario | str] = {}
        self._shown: int | None = None

    def compose(self) -> ComposeResult:
        yield Static("optsim · pick a scenario", id="picker-title")
        with Horizontal(id="picker-main"):
            yield OptionList(*self._options(), id="scenarios")
            with VerticalScroll(id="preview", can_focus=False):
                yield Markdown("", id="preview-md")
        yield TooSmall(id="too-small")
        yield Footer()

    def _options(self) -> list[Option]:
        options: list[Option] = []
        section = None
        for k, (entry, builtin) in enumerate(self.entries):
            head = "Built-in scenarios" if builtin else f"In {self.folder}"
            if head != section:
                section = head
                options.append(Option(Text(head, style="bold"), disabled=True, id=f"head-{len(options)}"))
            label = Text()
            label.append(entry.name, style="bold")
            label.append("\n")
            label.append(entry.title, style="dim")
            options.append(Option(label, id=f"s-{k}"))
        if not self.entries:
            options.append(Option(Text("No scenarios found.", style="italic"), disabled=True, id="none"))
        return options

    def on_mount(self) -> None:
        listing = self.query_one("#scenarios", OptionList)
        listing.focus()
        for index, option in enumerate(listing.options):
            if not option.disabled:
                listing.highlighted = index
                break
        self._layout_classes(self.app.size.width, self.app.size.height)
        self.call_after_refresh(startup_gc.resume)  # the collector, paused by the command line

    def on_resize(self, event) -> None:
        self._layout_classes(event.size.width, event.size.height)

    def _layout_classes(self, width: int, height: int) -> None:
        small = width < MIN_SIZE[0] or height < MIN_SIZE[1]
        self.set_class(small, "-too-small")
        self.set_class(width < 90, "-narrow")
        if small:
            self.query_one(TooSmall).show_size(width, height, MIN_SIZE)

    # ------------------------------------------------------------------ preview

    def _highlighted(self) -> int | None:
        listing = self.query_one("#scenarios", OptionList)
        if listing.highlighted is None:
            return None
        option = listing.get_option_at_index(listing.highlighted)
        if option.id is None or not option.id.startswith("s-"):
            return None
        return int(option.id[2:])

    def _load(self, entry: CatalogEntry) -> Scenario | str:
        cached = self._cache.get(entry.path)
        if cached is None:
            try:
                cached = load_scenario(entry.path)
            except ScenarioError as exc:
                cached = str(exc)
            self._cache[entry.path] = cached
        return cached

    @on(OptionList.OptionHighlighted, "#scenarios")
    async def _highlight(self, event: OptionList.OptionHighlighted) -> None:
        index = self._highlighted()
        if index is None or index == self._shown:
            return
        self._shown = index
        entry, builtin = self.entries[index]
        loaded = self._load(entry)
        if isinstance(loaded, str):
            text = f"# {entry.title}\n\n**This file does not load:**\n\n`{loaded}`"
        else:
            text = scenario_markdown(loaded, entry, builtin)
        await self.query_one("#preview-md", Markdown).update(text)
        self.query_one("#preview", VerticalScroll).scroll_home(animate=False)

    # ------------------------------------------------------------------ actions

    @on(OptionList.OptionSelected, "#scenarios")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        index = self._highlighted()
        if index is None:
            return
        entry, _ = self.entries[index]
        loaded = self._load(entry)
        if isinstance(loaded, str):
            self.notify(loaded, severity="error", timeout=6)
            return
        self.app.open_scenario(loaded)

    def action_cursor(self, delta: int) -> None:
        listing = self.query_one("#scenarios", OptionList)
        listing.action_cursor_down() if delta > 0 else listing.action_cursor_up()

    def run_palette_command(self, command: Command) -> None:
        self.call_later(self.run_action, command.action)

    def action_help(self) -> None:
        from .help import HelpScreen

        self.app.push_screen(HelpScreen(PICKER_COMMANDS, "Picker keys"))

    def action_quit(self) -> None:
        self.app.exit()
