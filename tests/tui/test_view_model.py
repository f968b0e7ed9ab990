"""The view model tells its watchers of every change, its own and the session's, and the
simulator screen redraws from it without being asked."""

from __future__ import annotations

from optsim.tui.screens.simulator import SimulatorScreen
from optsim.tui.view.model import ViewModel
from optsim.tui.widgets.run_table import RunTable
from tui_helpers import ROSENBROCK, SADDLE, make_app, run_async, session


def test_watchers_hear_of_view_and_session_changes_until_they_stop():
    v = ViewModel(session(SADDLE))
    heard = []
    stop = v.watch(lambda: heard.append(v.revision))
    v.toggle_hidden(1)
    assert len(heard) == 1 and not v.visible(1)
    v.session.advance(1)  # a session change reaches the view's watchers too
    assert len(heard) == 2
    v.session.remove_run(1)  # and the view stays consistent with it
    assert v.hidden == frozenset() and len(heard) > 2
    assert heard == sorted(heard) and len(set(heard)) == len(heard)  # each one a new revision
    stop()
    v.select(1)
    v.session.advance(1)
    assert len(heard) == len(set(heard)) and heard[-1] < v.revision


def test_a_closed_view_no_longer_follows_its_session():
    s = session(SADDLE)
    v = ViewModel(s)
    before = v.revision
    v.close()
    s.advance(1)
    assert v.revision == before


def test_script_focus_before_the_view_existed_is_shown():
    s = session(SADDLE)
    s.advance(100)  # through the event at 60: focus on gd and its Hessian report
    v = ViewModel(s)
    assert v.selected == 0 and v.analysed is not None and v.analysed.run == "gd"


@run_async
async def test_the_screen_redraws_when_the_model_changes_behind_its_back():
    app = make_app(ROSENBROCK)
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SimulatorScreen)
        table = screen.query_one(RunTable)
        assert table.text_lines()[1].startswith("●")
        screen.view.toggle_hidden(0)  # no refresh_views call: the screen watches the model
        await pilot.pause()
        assert table.text_lines()[1].startswith("○")
        screen.session.advance(7)  # the session, driven directly, reaches the screen too
        await pilot.pause()
        assert " 7/3000 " in table.text_lines()[1]
