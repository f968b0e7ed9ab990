"""The first screen of `optsim NAME` or `optsim` finds its .tcss already read with the app's, so
Textual does not parse every rule again when it is pushed (tui/app.py, OptsimApp.CSS_PATH)."""
from __future__ import annotations

import asyncio

import pytest
from textual.css.stylesheet import Stylesheet

from optsim.tui.launch import build_app


@pytest.mark.parametrize("target, screen", [("saddle-w1w2", "SimulatorScreen"), (None, "PickerScreen")])
def test_pushing_the_first_screen_parses_no_stylesheet_again(monkeypatch, target, screen) -> None:
    reparsed: list[object] = []
    reparse = Stylesheet.reparse
    monkeypatch.setattr(Stylesheet, "reparse", lambda self: reparsed.append(self) or reparse(self))

    async def first_frame() -> str:
        app = build_app(target)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            return type(app.screen).__name__

    assert asyncio.run(first_frame()) == screen
    assert reparsed == []


def test_a_screen_with_a_file_the_app_has_not_read_is_still_styled() -> None:
    """The check above could pass with the screen's rules lost: the help screen's file is read
    when it is pushed (and the stylesheet parsed again), and its rules apply."""
    from optsim.tui.screens.help import HelpScreen
    from optsim.tui.screens.keys import SIMULATOR_COMMANDS

    async def pushed() -> tuple[str, str]:
        app = build_app("saddle-w1w2")
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            plot = app.screen.query_one("#plot")
            before = str(plot.styles.width)
            app.push_screen(HelpScreen(SIMULATOR_COMMANDS, "Simulator keys"))
            await pilot.pause()
            return before, str(app.screen.query_one("#dialog").styles.width)

    plot_width, dialog_width = asyncio.run(pushed())
    assert plot_width == "3fr"  # simulator.tcss, read with the app's files
    assert dialog_width == "84"  # help.tcss
