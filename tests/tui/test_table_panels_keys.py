"""Issue 9, "Table, panels, keys": the run table, the side panel, notifications and keys
tell the truth about the runs (names, rates, which rows exist, what is unsaved)."""

from __future__ import annotations

import math

import pytest

from optsim.engine.scenario.catalog import resolve
from optsim.engine.scenario.load import load_scenario
from optsim.engine.text_format import column as fmt_num
from optsim.engine.watch.session import Session
from optsim.tui.render.contour_cells import MINIMUM_GLYPH
from optsim.tui.render.palette import COORDINATE_COLORS, RUN_COLORS, run_color, run_glyph
from optsim.tui.screens.help import HelpScreen
from optsim.tui.screens.keys import SIMULATOR_COMMANDS
from optsim.tui.screens.simulator import SimulatorScreen
from optsim.tui.widgets.run_table import RunTable
from tui_helpers import SCENARIOS, catalog, run_async, screen_lines


def _app(name: str, steps: int = 0):
    from optsim.tui.app import OptsimApp

    session = Session(load_scenario(resolve(name)))
    session.advance(steps)
    return OptsimApp(session=session, builtins=catalog(SCENARIOS)), session


async def _sim(pilot) -> SimulatorScreen:
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, SimulatorScreen)
    return screen


async def _add_runs(pilot, n: int) -> None:
    """Press `a` n times, accepting the form each time (a copy of the selected run)."""
    for _ in range(n):
        await pilot.press("a")
        await pilot.pause()
        pilot.app.screen.action_apply()
        await pilot.pause()


@run_async
async def test_a_copy_is_named_as_a_copy_not_as_another_batch_size():
    app, session = _app("batch-size-cost")
    async with app.run_test(size=(120, 40)) as pilot:
        await _sim(pilot)
        first = session.sim.names[0]
        before = list(session.sim.names)
        await _add_runs(pilot, 3)
        added = session.sim.names[len(before):]
        assert added == [f"{first} copy", f"{first} copy 2", f"{first} copy 3"]
        assert all(session.sim.configs[k].batch_size == session.sim.configs[0].batch_size
                   for k in range(len(before), len(session.sim.names)))
        assert not any(n.startswith("batch-") and n[6:].isdigit() and n not in before for n in session.sim.names)


def test_run_glyphs_are_distinct_for_sixteen_runs_and_tell_apart_repeated_colours():
    glyphs = [run_glyph(i) for i in range(16)]
    assert len(set(glyphs)) == 16 and "○" not in glyphs  # ○ marks a hidden run
    assert MINIMUM_GLYPH not in glyphs  # a run is never mistaken for a minimum
    repeat = len(RUN_COLORS)  # the first run whose colour repeats
    assert run_color(repeat) == run_color(0) and run_glyph(repeat) != run_glyph(0)


def test_coordinate_colours_are_far_from_every_run_colour():
    """The sigma plot's x, y, ... curves are all the selected run's: none may look like another run."""
    import math

    def rgb(c: str) -> tuple[int, ...]:
        return tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))

    for c in COORDINATE_COLORS:
        assert min(math.dist(rgb(c), rgb(r)) for r in RUN_COLORS) > 60, c
    assert len(set(COORDINATE_COLORS)) == len(COORDINATE_COLORS)


@run_async
async def test_help_shows_the_palette_key_not_the_word_palette():
    app, _ = _app("saddle-w1w2")
    async with app.run_test(size=(100, 60)) as pilot:
        await _sim(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(screen_lines(app))
        assert "palette  " not in text.replace("│", " ")
        focus = next(c for c in SIMULATOR_COMMANDS if c.action == "focus_runs")
        line = next(line for line in screen_lines(app) if focus.help[:25] in line)
        assert "ctrl+p" in line


@run_async
async def test_table_and_panel_say_which_rate_is_scheduled_and_which_is_base():
    app, session = _app("warmup", steps=5)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _sim(pilot)
        sim = session.sim
        run = next(i for i, c in enumerate(sim.configs) if c.schedule)
        screen.view.select(run)
        screen.refresh_views(force=True)
        await pilot.pause()
        now = float(session.next_lr()[run])
        base = sim.configs[run].lr
        assert fmt_num(now, 3) != fmt_num(base, 3)
        table = screen.query_one(RunTable)
        assert "lr now" in table.text_lines()[0]
        row = next(line for line in table.text_lines()[1:] if sim.names[run] in line)
        assert fmt_num(now, 3) in row.split()
        text = " ".join(screen_lines(app))
        assert f"base lr {fmt_num(base, 3)}" in text and f"lr now {fmt_num(now, 3)}" in text


@run_async
async def test_twelve_runs_scroll_to_keep_the_selected_run_in_view_and_say_what_is_hidden():
    app, session = _app("batch-size-cost")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _sim(pilot)
        await _add_runs(pilot, 12 - session.sim.n_runs)
        await pilot.pause()
        sim = session.sim
        table = screen.query_one(RunTable)
        assert sim.n_runs == 12 and screen.view.selected == 11
        lines = table.text_lines()
        rows = lines[1:]
        shown = table.shown_runs
        assert len(rows) == len(shown) < 12 and 11 in shown  # the last run, just added, is in view
        assert f"↑ {shown.start} above" in lines[0] and f"↓ {12 - shown.stop} below" in lines[0]
        assert any(sim.names[11] in row for row in rows)
        for _ in range(11):
            await pilot.press("left_square_bracket")
        await pilot.pause()
        assert screen.view.selected == 0 and table.shown_runs.start == 0
        lines = table.text_lines()
        assert lines[1].split()[1] == sim.names[0]
        assert "↑ 0 above" in lines[0] and f"↓ {12 - table.shown_runs.stop} below" in lines[0]
        # Runs whose colours repeat still differ: each row's marker is the run's own glyph.
        markers = [row.split()[0] for row in table.text_lines()[1:]]
        assert markers == [run_glyph(i) for i in table.shown_runs]
        rows = table.rows
        same = [(i, j) for i in range(12) for j in range(i + 1, 12) if rows[i].color == rows[j].color]
        assert same and all(rows[i].glyph != rows[j].glyph for i, j in same)


def _widget_text(widget) -> str:
    """Every line the widget renders (its whole height, scrolled into view or not), joined."""
    from textual.geometry import Region

    lines = widget.render_lines(Region(0, 0, *widget.outer_size))
    return " ".join(" ".join(strip.text.split()) for strip in lines)


@run_async
async def test_the_remedy_is_shown_whole_and_the_description_is_a_separate_section():
    from textual.widgets import Markdown, Static

    for name in ("saddle-w1w2", "optimization-failure", "batch-size-cost"):
        app, session = _app(name, steps=60)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await _sim(pilot)
            await pilot.pause()
            remedies = [d.remedy for d in (session.diagnosis(i) for i in range(session.sim.n_runs))
                        if d is not None and d.remedy]
            run = max(range(session.sim.n_runs), key=lambda i: len(getattr(session.diagnosis(i), "remedy", "") or ""))
            screen.view.select(run)
            screen.refresh_views(force=True)
            await pilot.pause()
            remedy = session.diagnosis(run).remedy
            assert remedies and remedy
            status = screen.query_one("#run-status")
            shown = _widget_text(status)
            assert " ".join(remedy.split()) in shown, name  # every word, to the last
            about = screen.query_one("#about", Static)
            description = screen.query_one("#description", Markdown)
            assert "About this scenario" in _widget_text(about)
            assert status.region.bottom < about.region.y < description.region.y  # a gap, then a heading


async def _table_covered(pilot, screen) -> list[str]:
    """The run table's rows as they are on the screen, checked against what the table drew:
    the rows a toast or anything else paints over differ."""
    await pilot.pause()
    table = screen.query_one(RunTable)
    drawn = table.text_lines()
    box = table.content_region
    on_screen = screen_lines(pilot.app)[box.y: box.y + len(drawn)]
    x, width = box.x, box.width
    return [line for line, shown in zip(drawn, on_screen) if shown[x: x + width].rstrip() != line.rstrip()]


@pytest.fixture
def messages_stay(monkeypatch):
    """Status-line messages last 2-4 s; on a slow machine an assertion could come after that.
    Here they stay until replaced or cleared, so the tests check where they go, not the clock."""
    from optsim.tui.widgets.status_line import StatusLine

    say = StatusLine.say
    monkeypatch.setattr(StatusLine, "say", lambda self, message, severity="information", timeout=None:
                        say(self, message, severity, 3600.0))


@run_async
async def test_messages_go_to_the_status_line_and_cover_none_of_the_run_table(messages_stay):
    from optsim.tui.widgets.status_line import StatusLine

    for size in ((80, 24), (160, 48)):
        app, session = _app("rosenbrock")
        async with app.run_test(size=size, notifications=True) as pilot:  # toasts drawn, as in use
            screen = await _sim(pilot)
            screen.advance(max(c.steps for c in session.sim.configs))
            assert session.finished
            await pilot.pause()
            assert not await _table_covered(pilot, screen), size
            status = screen.query_one(StatusLine)
            assert status.message is not None and "Every run is done" in status.message[0]
            assert "Every run is done" in screen_lines(app)[0]
            await pilot.press("space")  # playing a finished scenario says so, in the same place
            assert not await _table_covered(pilot, screen)
            await pilot.press("v")  # hide the selected run: a message again
            assert not await _table_covered(pilot, screen)
            assert "hidden" in status.message[0]
            assert not list(app._notifications)  # no toast at all


@run_async
async def test_a_long_message_is_shown_whole_on_the_status_line(messages_stay):
    from optsim.tui.widgets.status_line import StatusLine

    app, session = _app("rosenbrock")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = await _sim(pilot)
        long = "Scenario: /a/rather/long/folder/name/that/goes/on/rosenbrock-edited.toml (2 event(s) left out)"
        screen.notify(long, severity="warning")
        await pilot.pause()
        top = " ".join(" ".join(line.split()) for line in screen_lines(app)[:3])
        assert " ".join(long.split()) in top
        assert not await _table_covered(pilot, screen)
        status = screen.query_one(StatusLine)
        status.clear_message()  # what the timer does after a few seconds
        await pilot.pause()
        assert status.region.height == 1 and "step" in screen_lines(app)[0]


def _picker_app():
    """The app as a user meets it: the picker, then a scenario opened from it."""
    from optsim.tui.app import OptsimApp

    return OptsimApp(builtins=catalog(SCENARIOS))


async def _open_from_picker(pilot, path) -> SimulatorScreen:
    from optsim.tui.screens.picker import PickerScreen

    await pilot.pause()
    assert isinstance(pilot.app.screen, PickerScreen)
    pilot.app.open_scenario(load_scenario(path))
    return await _sim(pilot)


@run_async
async def test_escape_with_added_runs_asks_and_n_stays_y_leaves():
    from optsim.tui.screens.confirm_leave import ConfirmLeaveScreen
    from optsim.tui.screens.picker import PickerScreen
    from tui_helpers import ROSENBROCK

    for size in ((80, 24), (160, 48)):
        app = _picker_app()
        async with app.run_test(size=size) as pilot:
            screen = await _open_from_picker(pilot, ROSENBROCK)
            session = screen.session
            await _add_runs(pilot, 1)
            added = session.sim.names[-1]
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmLeaveScreen), size
            text = "\n".join(screen_lines(app))
            assert "Leave this scenario?" in text and f"added {added}" in text
            assert "y" in text and "esc stay" in text  # its keys are on screen
            await pilot.press("n")
            await pilot.pause()
            assert app.screen is screen and added in session.sim.names  # nothing dropped
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("escape")  # escape in the question stays too
            await pilot.pause()
            assert app.screen is screen
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("y")
            await pilot.pause()
            assert isinstance(app.screen, PickerScreen)


@run_async
async def test_escape_asks_after_an_edit_and_not_without_changes(tmp_path):
    from optsim.tui.app import OptsimApp
    from optsim.tui.screens.confirm_leave import ConfirmLeaveScreen
    from optsim.tui.screens.picker import PickerScreen
    from tui_helpers import ROSENBROCK

    app = OptsimApp(builtins=catalog(SCENARIOS), save_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_from_picker(pilot, ROSENBROCK)
        await pilot.press("escape")  # nothing changed: straight back
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        screen = await _open_from_picker(pilot, ROSENBROCK)
        session = screen.session
        session.edit_run(0, {"lr": 0.002})  # what the edit form's apply does
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmLeaveScreen)
        assert f"edited {session.sim.names[0]}" in "\n".join(screen_lines(app))
        await pilot.press("w")  # save, then leave: the edit is in the file
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        saved = list(tmp_path.glob("*-edited.toml"))
        assert len(saved) == 1 and "0.002" in saved[0].read_text()


@run_async
async def test_q_with_unsaved_runs_asks_before_quitting_and_quits_without_them():
    from optsim.tui.screens.confirm_leave import ConfirmLeaveScreen
    from tui_helpers import ROSENBROCK

    app = _picker_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_from_picker(pilot, ROSENBROCK)
        await _add_runs(pilot, 1)
        added = screen.session.sim.names[-1]
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmLeaveScreen) and app.is_running
        text = "\n".join(screen_lines(app))
        assert "Quit optsim?" in text and f"added {added}" in text and "y quit and drop them" in text
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is screen and app.is_running  # stays, nothing dropped
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app.return_code == 0 and not app.is_running
    app = _picker_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_from_picker(pilot, ROSENBROCK)
        await _add_runs(pilot, 1)
        await pilot.press("ctrl+q")  # Textual's own quit key asks too...
        await pilot.pause()
        assert isinstance(app.screen, ConfirmLeaveScreen) and app.is_running
        await pilot.press("ctrl+q")  # ...and pressed again in the question, quits at once
        await pilot.pause()
        assert not app.is_running
    app = _picker_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_from_picker(pilot, ROSENBROCK)
        await pilot.press("q")  # nothing changed: quits at once
        await pilot.pause()
        assert not app.is_running


@run_async
async def test_a_run_added_mid_scenario_is_not_called_diverged_by_the_charts():
    """The history stored the tick before the run existed (NaN there): the charts must show
    its current loss and rate, not read the NaN as divergence."""
    from optsim.tui.widgets.curve_plot import CurvePlot

    for steps in (0, 37):
        app, session = _app("rosenbrock", steps=steps)
        async with app.run_test(size=(160, 48)) as pilot:
            screen = await _sim(pilot)
            await _add_runs(pilot, 1)
            run = session.sim.n_runs - 1
            name = session.sim.names[run]
            for series in (screen.view.loss_curves(), screen.view.lr_curves()):
                solid = next(c for c in series if c.run == run and not c.dashed)
                assert solid.ys.size and all(map(math.isfinite, solid.ys[-1:])), (steps, solid)
            for plot_id in ("#loss", "#lr"):
                title = " ".join(screen.query_one(plot_id, CurvePlot).render_line(0).text.split())
                assert f"{name} diverged" not in title, (steps, title)


@run_async
async def test_a_title_the_status_line_cuts_is_whole_in_the_panel():
    """At 80 columns the status line cuts long titles ("... stops…"); the panel's 'About this
    scenario' heading carries the whole title."""
    for name in ("transformer-noam", "small-vs-large-batch"):
        app, session = _app(name)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _sim(pilot)
            title = session.scenario.title
            top = screen_lines(app)[0]
            assert title not in top and "…" in top  # cut there
            about = " ".join(_widget_text(screen.query_one("#about")).split())
            assert about.endswith(" ".join(f"About this scenario: {title}".split()))


@run_async
async def test_a_caption_longer_than_its_box_scrolls_there_to_its_last_word():
    """optimization-failure at update 1984 at 80x24: the caption is nine lines in a five-row box.
    It was cut after "optsim" with nothing to say so; now its box scrolls, with a scrollbar."""
    from textual.containers import VerticalScroll

    app, session = _app("optimization-failure", steps=1984)
    async with app.run_test(size=(80, 24)) as pilot:
        await _sim(pilot)
        box = app.screen.query_one("#caption", VerticalScroll)
        assert session.caption.endswith("each from a lower loss.")
        assert box.max_scroll_y > 0 and box.scrollbars_enabled[0]  # more than it shows, and a bar says so
        assert "1137, each from a lower" not in "\n".join(screen_lines(app))
        box.scroll_end(animate=False)
        await pilot.pause()
        assert "1137, each from a lower" in "\n".join(screen_lines(app))  # its last lines
