"""The general-guide (g) and batch-lab (L) screens: they show the engine's own numbers."""

from __future__ import annotations

from optsim.engine.batch_lab import run_batch_lab
from optsim.engine.catalog import resolve
from optsim.engine.guide import general_guide
from optsim.engine.scenario import load_scenario
from optsim.engine.session import Session
from optsim.tui.screens.batch_lab import BatchLabScreen
from optsim.tui.screens.guide import COMPUTING, GuideScreen
from optsim.tui.screens.help import HelpScreen
from optsim.tui.screens.keys import SIMULATOR_COMMANDS
from optsim.tui.screens.simulator import SimulatorScreen
from tui_helpers import ROSENBROCK, SCENARIOS, catalog, run_async, screen_lines

SIZE = (100, 32)


def _app(name_or_path, steps: int = 0):
    from optsim.tui.app import OptsimApp

    path = name_or_path if not isinstance(name_or_path, str) else resolve(name_or_path)
    session = Session(load_scenario(path))
    session.advance(steps)
    return OptsimApp(session=session, builtins=catalog(SCENARIOS)), session


async def _open(pilot, key: str) -> str:
    """Press key on the simulator, wait for the screen's worker, return the screen's text."""
    await pilot.pause()
    assert isinstance(pilot.app.screen, SimulatorScreen)
    await pilot.press(key)
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()
    return "\n".join(screen_lines(pilot.app))


def _flat(text: str) -> str:
    """Screen text with the dialog's borders and line breaks removed (wrapped sentences rejoin)."""
    rows = [line.strip().strip("│").strip() for line in text.splitlines()]
    return " ".join(rows)


@run_async
async def test_guide_screen_shows_the_engines_verdict_and_remedy():
    for name in ("overfitting", "mismatch", "model-bias"):
        app, session = _app(name, steps=100_000)  # to the end of every run
        async with app.run_test(size=SIZE) as pilot:
            text = await _open(pilot, "g")
            assert isinstance(app.screen, GuideScreen)
            expected = general_guide(session.scenario, session.sim)
            main = expected.main
            shown = _flat(text)
            assert COMPUTING not in text
            assert app.screen.report.main.verdict == main.verdict
            assert f"Run {main.run} (best run): {main.verdict.upper()}" in shown, name
            assert f"{main.verdict.upper()}" in shown
            assert "Remedy: " + main.remedy[:60] in shown, name
            # the tree's first question carries the engine's numbers
            assert f"train {main.evidence['train_loss']:.4g} vs target {main.evidence['train_target']:.4g}" in shown
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, SimulatorScreen)


@run_async
async def test_guide_walks_the_test_branch_with_its_numbers():
    app, session = _app("overfitting", steps=100_000)
    async with app.run_test(size=SIZE) as pilot:
        shown = _flat(await _open(pilot, "g"))
        main = general_guide(session.scenario, session.sim).main
        assert main.verdict == "overfitting"
        assert f"test {main.evidence['test_loss']:.4g} vs target {main.evidence['test_target']:.4g}" in shown
        assert "▶ no, same kind of data → OVERFITTING" in shown  # the path taken is marked
        assert "▶ yes, they differ" not in shown


@run_async
async def test_guide_without_test_loss_stops_at_the_training_loss():
    app, session = _app(ROSENBROCK)
    async with app.run_test(size=SIZE) as pilot:
        shown = _flat(await _open(pilot, "g"))
        assert session.objective.test_loss(session.sim.params) is None
        assert "no test loss in this scenario" in shown
        assert "Testing loss large?  test" not in shown
        main = general_guide(session.scenario, session.sim).main
        assert main.verdict.upper() in shown


@run_async
async def test_guide_pauses_playback_and_runs_in_a_worker():
    app, session = _app("overfitting")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        sim_screen = app.screen
        await pilot.press("space")
        assert sim_screen.playing
        await pilot.press("g")
        assert not sim_screen.playing  # the worker thread reads a simulation that holds still
        tick = session.tick
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, GuideScreen) and app.screen.report is not None
        assert app.screen.step == tick and session.tick == tick


@run_async
async def test_batch_lab_shows_the_engines_table():
    app, session = _app("batch-size-cost")
    async with app.run_test(size=SIZE) as pilot:
        text = await _open(pilot, "L")
        assert isinstance(app.screen, BatchLabScreen)
        lab = run_batch_lab(session.scenario)
        rows = {r.batch: r for r in lab.runs}
        lines = [line.strip("│ ") for line in text.splitlines()]
        row1 = next(line for line in lines if line.split()[:2] == ["1", str(int(rows[1].updates[-1]))])
        row1000 = next(line for line in lines if line.split()[:2] == ["1000", str(int(rows[1000].updates[-1]))])
        assert f"{rows[1].sharpness:.4g}" in row1.split()
        assert f"{rows[1000].sharpness:.4g}" in row1000.split()
        assert f"{rows[1].final_loss:.4g}" in row1.split()
        costs = {c.batch: c for c in lab.costs}
        cost1000 = next(line for line in lines if line.split()[:2] == ["1000", str(costs[1000].updates_per_epoch)])
        assert f"{costs[1000].time_per_epoch:.4g}" in cost1000
        shown = _flat(text)
        assert "Batch 1 ended in the flat minimum" in shown  # the lowest sharpness, named
        assert rows[1].sharpness < rows[1000].sharpness
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SimulatorScreen)


@run_async
async def test_batch_lab_without_table_notifies():
    app, session = _app(ROSENBROCK)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "batch_lab" not in session.scenario.extra
        await pilot.press("L")
        await pilot.pause()
        assert isinstance(app.screen, SimulatorScreen)
        assert any("no [batch_lab] table" in n.message for n in app._notifications)


@run_async
async def test_keys_reach_help_and_palette():
    actions = {c.action: c for c in SIMULATOR_COMMANDS}
    assert actions["general_guide"].keys == "g" and actions["batch_lab"].keys == "L"
    app, _ = _app(ROSENBROCK)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(screen_lines(app))
        assert "General guide" in text or "general guide" in text
        await pilot.press("escape")
        await pilot.pause()
        app.screen.run_palette_command(actions["general_guide"])  # what the palette runs
        await pilot.pause()
        assert isinstance(app.screen, GuideScreen)
