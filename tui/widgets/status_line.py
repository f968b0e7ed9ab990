"""StatusLine: the top line of the simulator (scenario, step, playing or paused, speed, mode),
and the place where the screen's messages appear ("Every run is done: r resets.").

Messages live here rather than in Textual's toasts: a toast sits on the bottom right for
seconds, over the run table's loss and status columns. Here a message takes the title's
place for a few seconds; a message too long for the line takes the whole line, and wraps
onto a second one only when even that is too short, so nothing it says is cut and nothing
else is covered.
"""

from __future__ import annotations

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static

MESSAGE_STYLES = {"information": "bold", "warning": "bold yellow", "error": "bold red"}
MESSAGE_SECONDS = 3.0


class StatusLine(Static):
    """One line (two while a long message is shown); update() is skipped when nothing changed
    so that it costs no bytes."""

    DEFAULT_CSS = """
    StatusLine {
        height: auto;
        max-height: 3;
        width: 1fr;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        # No links on the status line: Textual need not look for them on every new frame's line.
        self.set_reactive(StatusLine.auto_links, False)
        self._key: tuple | None = None
        self._state: tuple | None = None
        self.message: tuple[str, str] | None = None
        """The message shown now and its severity (None: the scenario's title is shown)."""
        self._message_timer: Timer | None = None

    def show(self, title: str, tick: int, last: int, playing: bool, finished: bool,
             speed: float, low_bandwidth: bool, width: int) -> None:
        self._state = (title, tick, last, playing, finished, speed, low_bandwidth, width)
        self._draw()

    def say(self, message: str, severity: str = "information", timeout: float | None = None) -> None:
        """Show `message` in the title's place for `timeout` seconds (the last message wins)."""
        self.message = (message, severity)
        if self._message_timer is not None:
            self._message_timer.stop()
        self._message_timer = self.set_timer(timeout or MESSAGE_SECONDS, self.clear_message)
        self._draw()

    def clear_message(self) -> None:
        """Show the title again (what the message's timer does when it runs out)."""
        if self._message_timer is not None:
            self._message_timer.stop()
        self.message = None
        self._message_timer = None
        self._draw()

    def _draw(self) -> None:
        if self._state is None:
            return
        key = (self._state, self.message)
        if key == self._key:
            return
        grows = self._key is None or self._key[1] != self.message
        self._key = key
        text = self._line(*self._state)
        # one line, fixed size: no layout pass (and no extra frame) unless a message came or went
        self.update(text, layout=grows)

    def _line(self, title: str, tick: int, last: int, playing: bool, finished: bool,
              speed: float, low_bandwidth: bool, width: int) -> Text:
        text = Text(no_wrap=self.message is None, overflow="ellipsis")
        if finished:
            text.append("■ done ", style="bold green")
        elif playing:
            text.append("▶ playing ", style="bold green")
        else:
            text.append("❚❚ paused ", style="bold yellow")
        text.append(f" step {tick}/{last} ", style="bold")
        text.append(f" {speed:g} steps/s ", style="dim")
        if low_bandwidth:
            text.append(" low bandwidth ", style="reverse")
        text.append("  ")
        room = width - text.cell_len - 2
        if self.message is not None:
            message, severity = self.message
            style = MESSAGE_STYLES.get(severity, "bold")
            if len(message) > room:  # the whole line for it, never cut
                return Text(message, style=style)
            text.append(message, style=style)
        elif room > 8:
            text.append(title if len(title) <= room else title[: room - 1] + "…", style="italic")
        return text
