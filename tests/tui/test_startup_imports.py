"""What `optsim NAME` loads before its first frame, with the formula cache filled: only what
that frame needs (start-up time is issue 12's goal; these are the modules found loaded
that it did not need)."""
from __future__ import annotations

import os
import subprocess
import sys

FIRST_FRAME = """
import asyncio, sys
from optsim.tui.launch import build_app

async def main():
    app = build_app("model-bias")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert "step 0/" in str(app.screen.query_one("#status").render())
asyncio.run(main())
print(sorted(m for m in NOT_NEEDED if m in sys.modules))
"""
NOT_NEEDED = (
    "sympy", "numba", "scipy", "pandas", "plotext", "zipfile", "importlib.readers",
    # the CSV writer (saving trajectories) and its orjson
    "optsim.engine.scenario.trajectory_io", "orjson",
    # the batch lab and the clock view
    "optsim.engine.analysis.batch_lab", "optsim.engine.analysis.clock", "optsim.tui.view.clock",
    # slices of more than two parameters (model-bias has two)
    "optsim.engine.analysis.slicing",
)


def test_the_first_frame_of_a_scenario_loads_neither_sympy_nor_numba_nor_zipfile(tmp_path):
    """sympy only compiles formulas (the cache holds them), numba only large batches, and
    zipfile came with importlib.resources, which found the built-in scenarios' folder; the
    others are imported where they are used, after the first frame (NOT_NEEDED)."""
    env = dict(os.environ, OPTSIM_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("OPTSIM_NO_CACHE", None)
    run = lambda: subprocess.run([sys.executable, "-c", f"NOT_NEEDED = {NOT_NEEDED!r}" + FIRST_FRAME],  # noqa: E731
                                 capture_output=True, text=True, env=env, timeout=120)
    first = run()  # fills the formula cache
    assert first.returncode == 0, first.stderr[-2000:]
    warm = run()
    assert warm.returncode == 0, warm.stderr[-2000:]
    assert warm.stdout.strip().splitlines()[-1] == "[]", warm.stdout


def test_the_simulator_screen_imports_no_markdown_parser_before_its_first_frame():
    """The scenario's description (Textual's Markdown, markdown-it) is mounted after the first
    frame (InfoPanel._show_description): importing the screen must not load the parser."""
    code = ("import sys; import optsim.tui.screens.simulator, optsim.tui.app; "
            "print('markdown_it' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"
