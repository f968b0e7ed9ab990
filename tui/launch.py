"""Start the Textual app (imported only when the app is wanted).

`target` is a scenario file, a built-in scenario's name, a folder of *.toml files (shown
in the picker next to the built-ins), or None (the picker with the built-ins). A scenario
is loaded and compiled before the app starts, so a bad file is one line on stderr and
exit code 2 (ScenarioError, handled by the command line), not a broken screen.
"""
from __future__ import annotations

from pathlib import Path


def launch_app(target: str | None, low_bandwidth: bool = False, play: bool = False) -> int:
    """Run the app until the person quits; returns the exit code."""
    from .app import OptsimApp

    app = build_app(target, low_bandwidth=low_bandwidth, play=play)
    assert isinstance(app, OptsimApp)
    app.run()
    return int(app.return_code or 0)


def build_app(target: str | None, low_bandwidth: bool = False, play: bool = False):
    """The app for a command-line target, without running it (tests use this too)."""
    from ..engine.scenario.catalog import resolve
    from ..engine.errors import ScenarioError
    from ..engine.scenario.load import load_scenario
    from ..engine.watch.session import Session
    from .app import OptsimApp

    folder = None
    session = None
    if target is not None:
        path = Path(target)
        if path.is_dir():
            if not any(path.glob("*.toml")):
                raise ScenarioError(target, "", "the folder holds no *.toml scenario files")
            folder = path
        else:
            session = Session(load_scenario(resolve(target)))
    return OptsimApp(session=session, folder=folder, low_bandwidth=low_bandwidth, play=play)
