"""Shared helpers of the app tests: the test scenarios, an app factory, async runner."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

from optsim.engine.scenario.catalog import catalog
from optsim.engine.scenario.load import load_scenario
from optsim.engine.watch.session import Session
from optsim.tui.screen_text import screen_lines as screen_lines_of

SCENARIOS = Path(__file__).parent / "scenarios"
SADDLE = SCENARIOS / "01-saddle.toml"
ROSENBROCK = SCENARIOS / "02-rosenbrock.toml"
THREE = SCENARIOS / "03-three-params.toml"
DATA = SCENARIOS / "04-data-test.toml"
MECHANISM = Path(__file__).parent / "mechanism" / "ravine.toml"  # not in SCENARIOS: the picker snapshot keeps its list


def run_async(test):
    """Run an async test with asyncio (the project has no pytest async plugin)."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return wrapper


def session(path: Path = SADDLE, seed: int | None = None) -> Session:
    return Session(load_scenario(path), seed=seed)


def make_app(path: Path | None = SADDLE, *, save_dir: Path | None = None, low_bandwidth: bool = False,
             play: bool = False):
    """The app on one scenario (or, with None, on the picker of the test scenarios, so that
    snapshots do not change when the built-in library grows)."""
    from optsim.tui.app import OptsimApp

    builtins = catalog(SCENARIOS)
    if path is None:
        return OptsimApp(save_dir=save_dir, low_bandwidth=low_bandwidth, builtins=builtins)
    return OptsimApp(session=session(path), save_dir=save_dir, low_bandwidth=low_bandwidth, play=play,
                     builtins=builtins)


def screen_lines(app) -> list[str]:
    """What the screen shows, one string per row."""
    return screen_lines_of(app.screen)


async def stepped_screen(pilot, ticks: int):
    """The app's screen after `ticks` steps (paused: the tests step it themselves)."""
    await pilot.pause()
    screen = pilot.app.screen
    screen.advance(ticks)
    await pilot.pause()
    return screen
