"""StatusLine: the top line of the simulator (scenario, step, playing or paused, speed, mode)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class StatusLine(Static):
    """One line; update() is skipped when nothing changed so that it costs no bytes."""

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._key: tuple | None = None

    def show(self, title: str, tick: int, last: int, playing: bool, finished: bool,
             speed: float, low_bandwidth: bool, width: int) -> None:
        key = (title, tick, last, playing, finished, speed, low_bandwidth, width)
        if key == self._key:
            return
        self._key = key
        text = Text(no_wrap=True, overflow="ellipsis")
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
        if room > 8:
            text.append(title if len(title) <= room else title[: room - 1] + "…", style="italic")
        self.update(text, layout=False)  # one line, fixed size: no layout pass (and no extra frame)
