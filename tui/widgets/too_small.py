"""TooSmall: the message a screen shows instead of its content when the terminal is too small."""

from __future__ import annotations

from textual.widgets import Static


class TooSmall(Static):
    """'Terminal too small: W x H; optsim needs at least ...'. Shown by the screen's CSS
    (class -too-small on the screen), hidden otherwise."""

    DEFAULT_CSS = """
    TooSmall {
        display: none;
        width: 1fr;
        height: 1fr;
        content-align: center middle;
        text-align: center;
        color: $warning;
        text-style: bold;
    }
    """

    def show_size(self, width: int, height: int, need: tuple[int, int]) -> None:
        self.update(f"Terminal too small: {width}x{height}.\n"
                    f"optsim needs at least {need[0]}x{need[1]}.\n\n"
                    "Enlarge the window, or press q to quit.")
