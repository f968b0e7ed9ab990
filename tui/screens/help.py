"""The help screen (?): every key of the screen it was opened from, by group."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.keys import format_key
from textual.screen import ModalScreen
from textual.widgets import Static

from .keys import Command, closing_bindings


def key_label(command: Command) -> str:
    if command.display:
        return command.display
    if not command.keys:
        return "ctrl+p"  # no key of its own: the command palette finds it by name
    return " / ".join(format_key(k) for k in command.keys.split(","))


def keys_table(commands: tuple[Command, ...]) -> Table:
    """A two-column table of keys and what they do, with a heading per group."""
    table = Table.grid(padding=(0, 2))
    table.add_column(justify="right", style="bold", no_wrap=True)
    table.add_column()
    group = None
    for command in commands:
        if command.group != group:
            if group is not None:
                table.add_row("", "")
            group = command.group
            table.add_row(Text(group, style="bold underline"), "")
        table.add_row(Text(key_label(command), style="bold cyan"),
                      Text(command.help))
    return table


class HelpScreen(ModalScreen):
    """Keys of one screen; escape, ? or q closes it."""

    CSS_PATH = "help.tcss"
    BINDINGS = closing_bindings("question_mark")

    def __init__(self, commands: tuple[Command, ...], title: str = "Keys") -> None:
        super().__init__()
        self.commands = commands
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, id="title")
            with VerticalScroll(id="body"):
                yield Static(keys_table(self.commands), id="keys")
            yield Static("Every action is also in the command palette (ctrl+p). esc closes.", id="hint")

    def on_mount(self) -> None:
        self.query_one("#body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
