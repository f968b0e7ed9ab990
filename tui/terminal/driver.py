"""Textual's Linux terminal driver, sending each write through the shadow terminal.

Plugged in with Textual's public driver API (`App.get_driver_class`, a `LinuxDriver`
subclass overriding `write`), so nothing of Textual's internals is touched: the app's output
is rewritten after Textual has made it. Only a real terminal gets it: the headless driver of
tests, the web driver of `optsim serve` and a driver named in TEXTUAL_DRIVER are left alone,
and OPTSIM_RAW_OUTPUT=1 turns it off (Textual's own bytes, for comparing or in doubt).
"""

from __future__ import annotations

import os
import sys

from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver

from .shadow import ShadowTerminal

OFF_VARIABLE = "OPTSIM_RAW_OUTPUT"


def terminal_size() -> tuple[int, int] | None:
    """(columns, rows) of the terminal the driver writes to (LinuxDriver writes to the
    process's original stderr), or None when that is not a terminal."""
    for stream in (sys.__stderr__, sys.__stdout__):
        try:
            size = os.get_terminal_size(stream.fileno())
        except (AttributeError, OSError, ValueError):
            continue
        return size.columns, size.lines
    return None


class ShadowLinuxDriver(LinuxDriver):
    """LinuxDriver whose writes send only the cells that changed (see shadow.py)."""

    shadow: ShadowTerminal | None = None

    def write(self, data: str) -> None:
        """Write what the terminal needs to show what `data` would show. The size is read on
        every write (one ioctl), so a resize is seen even before Textual's Resize event."""
        if self.shadow is None:
            self.shadow = ShadowTerminal()
        size = terminal_size()
        if size is None:
            self.shadow.invalidate((0, 0))
        else:
            data = self.shadow.rewrite(data, size)
        if data:
            super().write(data)


def choose_driver(textual_choice: type[Driver]) -> type[Driver]:
    """The driver for the app: the shadowing one where Textual would use its Linux driver
    and OPTSIM_RAW_OUTPUT is not set; Textual's choice otherwise."""
    if textual_choice is LinuxDriver and os.environ.get(OFF_VARIABLE, "") in ("", "0"):
        return ShadowLinuxDriver
    return textual_choice
