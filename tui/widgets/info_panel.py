"""InfoPanel: the caption of the moment, the selected run's status, the report, the description.

The caption (from the scenario's script) changes while the scenario plays and stays at the
top, at most 8 rows (fewer on a short screen); a longer one scrolls there, with its own
scrollbar, so a cut caption shows that it goes on. Under it one scrolling column holds the selected run's status and advice, the report
and the scenario's description (Markdown, set once), each whole: nothing is cut at a fixed
height, so a long remedy is never stopped mid-sentence; the scrollbar shows when there is
more. The description has its own heading, so it does not read as part of the advice; the
heading carries the scenario's title, which the status line cuts on narrow screens.
Each part is updated only when its text changes.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from ..render.text_shape import text_key
from .paragraphs import Paragraphs


class InfoPanel(Vertical):
    """Caption, status, report summary and the scenario's description."""

    DEFAULT_CSS = """
    InfoPanel {
        width: 1fr;
        height: 1fr;
    }
    InfoPanel > #caption {
        display: none;
        height: auto;
        max-height: 8;
        border-left: thick $accent;
        background: $accent 15%;
        margin-bottom: 1;
        scrollbar-size-vertical: 1;
    }
    InfoPanel #caption-text {
        padding: 0 1;
        text-style: bold;
    }
    InfoPanel > #caption.-shown {
        display: block;
    }
    InfoPanel > #panel-text {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    InfoPanel #run-status {
        height: auto;
        padding: 0 1;
    }
    InfoPanel #report {
        display: none;
        height: auto;
        padding: 0 1;
        margin-top: 1;
        border-left: thick $warning;
    }
    InfoPanel #report.-shown {
        display: block;
    }
    InfoPanel #about {
        height: auto;
        margin-top: 1;
        padding: 0 1;
        border-top: hkey $panel-lighten-2;
        color: $text-muted;
        text-style: bold;
    }
    InfoPanel #description {
        height: auto;
        padding: 0 1;
    }
    InfoPanel Markdown {
        margin: 0;
        padding: 0;
    }
    """

    def __init__(self, description: str, *, title: str = "", id: str | None = None) -> None:
        super().__init__(id=id)
        self._description = description
        self._title = title
        self._caption: str | None = None
        self._report: object = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="caption"):
            yield Static("", id="caption-text")
        with VerticalScroll(id="panel-text"):
            yield Paragraphs(id="run-status")  # repainted a paragraph at a time (its numbers change)
            yield Static("", id="report")
            about = Text("About this scenario")
            if self._title:
                about.append(f": {self._title}", style="not bold")
            yield Static(about, id="about")

    def on_mount(self) -> None:
        self.call_after_refresh(self._show_description)

    def _show_description(self) -> None:
        """The description is mounted after the first frame: Textual's Markdown (markdown-it,
        its parse and a widget per block) is a tenth of the time to the first frame, and the
        description sits at the bottom of the panel, read after the plot and the caption."""
        from textual.widgets import Markdown

        self.query_one("#panel-text", VerticalScroll).mount(
            Markdown(self._description or "*No description.*", id="description"))

    def set_caption(self, caption: str | None) -> None:
        if caption == self._caption:
            return
        self._caption = caption
        self.query_one("#caption-text", Static).update(caption or "")
        box = self.query_one("#caption", VerticalScroll)
        box.set_class(bool(caption), "-shown")
        box.scroll_home(animate=False)

    def set_status(self, status: Text) -> None:
        """The selected run's status and the views' legends (their numbers change every time
        the panels are redrawn while playing): only the paragraphs that changed are repainted,
        and the screen's layout only when the status's height changes (Paragraphs)."""
        self.query_one("#run-status", Paragraphs).show(status)

    def set_report(self, report: Text | None) -> None:
        key = None if report is None else text_key(report)
        if key == self._report:
            return
        self._report = key
        widget = self.query_one("#report", Static)
        widget.update(report or "")
        widget.set_class(report is not None, "-shown")
