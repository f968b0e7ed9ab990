"""The cyclic garbage collector is off from the command line to the app's first frame, then on
again with start-up's objects frozen (tui/startup_gc.py)."""
from __future__ import annotations

import ast
import gc
import os
import subprocess
import sys

from optsim.tui import startup_gc


def test_the_app_path_of_the_command_line_pauses_the_collector_and_turns_it_back_on(monkeypatch) -> None:
    from optsim.tui import cli, launch

    seen: list[bool] = []
    monkeypatch.setattr(launch, "launch_app", lambda target, low_bandwidth=False: seen.append(gc.isenabled()) or 0)
    assert gc.isenabled()
    assert cli.main(["saddle"]) == 0
    assert seen == [False]  # off while the app starts
    assert gc.isenabled() and not startup_gc.paused()  # on again when the app has ended, never started or failed


def test_a_headless_command_leaves_the_collector_alone(monkeypatch) -> None:
    from optsim.tui import cli

    seen: list[bool] = []
    monkeypatch.setattr(cli._command("list"), "run", lambda args: seen.append(gc.isenabled()) or 0)
    assert cli.main(["list"]) == 0
    assert seen == [True]


def test_resume_only_undoes_a_pause() -> None:
    gc.disable()
    try:
        startup_gc.resume(freeze=False)  # someone else turned it off: not ours to turn on
        assert not gc.isenabled()
    finally:
        gc.enable()
    startup_gc.pause()
    assert not gc.isenabled() and startup_gc.paused()
    startup_gc.resume(freeze=False)
    assert gc.isenabled() and not startup_gc.paused()


FIRST_FRAME = """
import asyncio, gc
from optsim.tui import startup_gc
from optsim.tui.launch import build_app
from optsim.tui.screens.simulator import SimulatorScreen

seen = []
mount = SimulatorScreen.on_mount
def on_mount(self):
    seen.append((gc.isenabled(), gc.get_freeze_count()))
    mount(self)
SimulatorScreen.on_mount = on_mount

async def main():
    startup_gc.pause()  # as the command line does
    app = build_app("saddle-w1w2")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "step 0/" in str(app.screen.query_one("#status").render())
        seen.append((gc.isenabled(), gc.get_freeze_count()))
asyncio.run(main())
print(seen)
"""


def test_the_first_frame_turns_the_collector_back_on_with_start_ups_objects_frozen() -> None:
    out = subprocess.run([sys.executable, "-c", FIRST_FRAME], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, OPTSIM_NO_CACHE="1"))
    assert out.returncode == 0, out.stderr[-2000:]
    (mounting_on, mounting_frozen), (drawn_on, drawn_frozen) = ast.literal_eval(out.stdout.strip().splitlines()[-1])
    assert not mounting_on and mounting_frozen == 0
    assert drawn_on and drawn_frozen > 10_000
