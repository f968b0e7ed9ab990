"""Tests of the headless text frames: the screen as text, from Textual's public API only."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static
from tui_helpers import ROSENBROCK, make_app, run_async

from optsim.tui.screen_text import screen_lines, screen_text


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
@run_async
async def test_screen_text_matches_what_textual_composes(size):
    """The reference is Textual's own compositor (private, so read only here, in a test)."""
    app = make_app(ROSENBROCK)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app.screen.advance(200)
        app.screen.refresh_views(force=True)
        await pilot.pause()
        composed = [strip.text for strip in app.screen._compositor.render_strips()]
        lines = screen_lines(app.screen)
        assert lines == composed
        assert len(lines) == size[1] and any("●" in line for line in lines)


class Layers(App):
    CSS = """
    #under { height: 5; }
    #over { dock: top; height: 1; width: 10; layer: above; }
    Screen { layers: below above; }
    #scroll { height: 4; }
    """

    def compose(self) -> ComposeResult:
        yield Static("u" * 30 + "\n" + "second line", id="under")
        yield Static("OVER", id="over")
        with VerticalScroll(id="scroll"):
            yield Static("\n".join(f"row {i}" for i in range(20)))


@run_async
async def test_what_is_on_top_wins_and_scrolled_content_is_clipped():
    app = Layers()
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        lines = screen_lines(app.screen)
        assert lines[0].startswith("OVER      " + "u" * 20)
        assert lines[1].startswith("second line")
        assert [line.rstrip()[:6] for line in lines[5:9]] == ["row 0", "row 1", "row 2", "row 3"]
        assert not any("row 4" in line for line in lines)
        assert screen_text(app.screen).splitlines()[0] == lines[0].rstrip()
        assert lines == [strip.text for strip in app.screen._compositor.render_strips()]
