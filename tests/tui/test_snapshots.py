"""SVG snapshots of the main screens at fixed sizes (pytest-textual-snapshot).

Deterministic: the test scenarios (not the growing built-in library), fixed seeds, no
clocks: the frame timer is paused and the tests step the session themselves.
Update after an intended change: pytest tests/tui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import Input

from tui_helpers import DATA, MECHANISM, ROSENBROCK, SADDLE, make_app
from optsim.tui.widgets.status_line import StatusLine


def _steps(n: int):
    async def run_before(pilot) -> None:
        await pilot.pause()
        pilot.app.screen.advance(n)
        await pilot.pause()

    return run_before


def test_picker_80x24(snap_compare):
    assert snap_compare(make_app(None), terminal_size=(80, 24))


def test_simulator_rosenbrock_80x24(snap_compare):
    assert snap_compare(make_app(ROSENBROCK), terminal_size=(80, 24), run_before=_steps(400))


def test_simulator_saddle_paused_at_its_event_160x48(snap_compare):
    """The scripted pause at step 60: caption, diagnosis, report summary and arrows."""

    async def run_before(pilot) -> None:
        await pilot.pause()
        screen = pilot.app.screen
        screen.play()
        screen.advance(500)
        await pilot.pause()

    assert snap_compare(make_app(SADDLE), terminal_size=(160, 48), run_before=run_before)


def test_simulator_data_low_bandwidth_120x36(snap_compare):
    """Train and test loss; low-bandwidth mode draws iso-lines without filled bands."""
    assert snap_compare(make_app(DATA, low_bandwidth=True), terminal_size=(120, 36), run_before=_steps(60))


def test_help_80x24(snap_compare):
    assert snap_compare(make_app(SADDLE), terminal_size=(80, 24), press=["question_mark"])


def test_edit_form_80x24(snap_compare):
    async def run_before(pilot) -> None:
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False  # the cursor shows steadily: a slow machine caught it mid-blink
        pilot.app.screen.query_one("#h-lr", Input).value = "-1"
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(make_app(SADDLE), terminal_size=(80, 24), run_before=run_before)


def test_hessian_report_80x24(snap_compare):
    async def run_before(pilot) -> None:
        await pilot.pause()
        pilot.app.screen.advance(59)
        await pilot.press("h")
        await pilot.pause()

    assert snap_compare(make_app(SADDLE), terminal_size=(80, 24), run_before=run_before)


def test_too_small_40x12(snap_compare):
    assert snap_compare(make_app(SADDLE), terminal_size=(40, 12))


def _views(ticks: int, views: tuple[str, ...]):
    """Step, select adagrad and turn the views on through the view model (the keys are tested
    in test_mechanism_views.py; their notifications would cover the screen here)."""

    async def run_before(pilot) -> None:
        await pilot.pause()
        screen = pilot.app.screen
        screen.advance(ticks)
        screen.view.select(0)
        for kind in views:
            screen.view.toggle_view(kind)
        await pilot.pause()

    return run_before


def test_mechanism_views_80x24(snap_compare):
    """The gradient norm under the loss, adagrad's sigma and lr/sigma, and on the plot its raw
    step -lr·g beside the step it takes, and its (absent) momentum's -g."""
    assert snap_compare(make_app(MECHANISM), terminal_size=(80, 24),
                        run_before=_views(240, ("gradient_norm", "sigma")))


def test_mechanism_views_160x48(snap_compare):
    """Wide: the gradient norm beside the loss, the sigma plot beside the learning rate."""
    assert snap_compare(make_app(MECHANISM), terminal_size=(160, 48),
                        run_before=_views(240, ("gradient_norm", "sigma")))


def _leave_with_an_added_run():
    """A run added (a copy of the selected one), then escape: the question to leave."""

    async def run_before(pilot) -> None:
        await pilot.pause()
        screen = pilot.app.screen
        session = screen.session
        session.add_run(replace(session.sim.configs[0], name=session.new_run_name(session.sim.names[0])))
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()

    return run_before


def test_leave_with_unsaved_runs_80x24(snap_compare):
    assert snap_compare(make_app(SADDLE), terminal_size=(80, 24), run_before=_leave_with_an_added_run())


def test_leave_with_unsaved_runs_160x48(snap_compare):
    assert snap_compare(make_app(SADDLE), terminal_size=(160, 48), run_before=_leave_with_an_added_run())


def _past_pause(tick: int):
    """Step to `tick` through the script's pauses (each stops an advance at its event)."""

    async def run_before(pilot) -> None:
        await pilot.pause()
        screen = pilot.app.screen
        while screen.session.tick < tick:
            screen.advance(tick - screen.session.tick)
        await pilot.pause()

    return run_before


def test_curvature_view_80x24(snap_compare):
    """43-why-momentum-works at step 60: momentum's error along each eigenvector, the
    eigenvectors at its point, every run's lr·λmax against its limit."""
    from optsim.engine.scenario.catalog import resolve

    assert snap_compare(make_app(resolve("why-momentum-works")), terminal_size=(80, 24), run_before=_past_pause(60))


def test_curvature_view_160x48(snap_compare):
    from optsim.engine.scenario.catalog import resolve

    assert snap_compare(make_app(resolve("why-momentum-works")), terminal_size=(160, 48), run_before=_past_pause(60))


def test_data_view_80x24(snap_compare):
    """03-overfitting at step 300: the eight training points, the 200 noise-free test points
    (the true line) and adam's degree-7 polynomial as it trains."""
    from optsim.engine.scenario.catalog import resolve

    assert snap_compare(make_app(resolve("overfitting")), terminal_size=(80, 24), run_before=_steps(300))


def test_data_view_160x48(snap_compare):
    from optsim.engine.scenario.catalog import resolve

    assert snap_compare(make_app(resolve("overfitting")), terminal_size=(160, 48), run_before=_steps(300))


def test_clock_view_80x24(snap_compare):
    """21-batch-size-cost at step 400: loss against epochs (log x) and against simulated time."""
    from optsim.engine.scenario.catalog import resolve

    assert snap_compare(make_app(resolve("batch-size-cost")), terminal_size=(80, 24), run_before=_steps(400))


def test_clock_view_160x48(snap_compare):
    from optsim.engine.scenario.catalog import resolve

    assert snap_compare(make_app(resolve("batch-size-cost")), terminal_size=(160, 48), run_before=_steps(400))


def _played_to_the_guide():
    async def run_before(pilot) -> None:
        await pilot.pause()
        screen = pilot.app.screen
        screen.play()
        screen.advance(10_000)  # the session stops on the scripted guide's step
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        # "Every run is done" lasts 4 s, the guide's search may take longer on a loaded machine:
        # the frame shows the title either way
        screen.query_one(StatusLine).clear_message()
        await pilot.pause()

    return run_before


def test_scripted_guide_80x24(snap_compare):
    """01-model-bias at step 400: `show = "guide"` opened the general guide on gd."""
    from optsim.engine.scenario.catalog import resolve

    assert snap_compare(make_app(resolve("model-bias")), terminal_size=(80, 24), run_before=_played_to_the_guide())


def test_scripted_guide_160x48(snap_compare):
    from optsim.engine.scenario.catalog import resolve

    assert snap_compare(make_app(resolve("model-bias")), terminal_size=(160, 48), run_before=_played_to_the_guide())
