"""Every built-in scenario plays to its end in the app (headless driver), frames and CSV written."""
from __future__ import annotations

import pytest

from optsim.engine.scenario.catalog import catalog
from optsim.tui.cli import main

BUILTINS = [e.name for e in catalog()]


@pytest.mark.parametrize("name", BUILTINS)
def test_plays_to_the_end_in_the_app(name, tmp_path, capsys):
    out = tmp_path / "play"
    assert main(["play", "--headless", name, "--frames", "end", "--out-dir", str(out), "--size", "80x24"]) == 0
    texts = sorted(out.glob("frame-*.txt"))
    assert len(texts) == 1 and sorted(out.glob("frame-*.svg"))
    first_line = texts[0].read_text(encoding="utf-8").splitlines()[0]
    assert "done" in first_line  # the status line of the last frame: every run finished
    assert (out / "trajectories.csv").read_text().startswith("run,step,")
