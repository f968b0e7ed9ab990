"""Every built-in scenario plays to its end in the app (headless driver), frames and CSV written."""
from __future__ import annotations

import pytest

from optsim.engine.scenario.catalog import catalog, resolve
from optsim.engine.scenario.load import load_scenario
from optsim.tui.cli import main

BUILTINS = [e.name for e in catalog()]


@pytest.mark.parametrize("name", BUILTINS)
def test_plays_to_the_end_in_the_app(name, tmp_path, capsys):
    out = tmp_path / "play"
    assert main(["play", "--headless", name, "--frames", "end", "--out-dir", str(out), "--size", "80x24"]) == 0
    texts = sorted(out.glob("frame-*.txt"))
    assert len(texts) == 1 and sorted(out.glob("frame-*.svg"))
    text = texts[0].read_text(encoding="utf-8")
    scenario = load_scenario(resolve(name))
    last = max(r.steps for r in scenario.runs)
    if any(e.show == "guide" and e.at == last for e in scenario.events):
        assert "General guide" in text.splitlines()[1]  # the scripted guide opens on the last step
    else:
        assert "done" in text.splitlines()[0]  # the status line of the last frame: every run finished
    assert (out / "trajectories.csv").read_text().startswith("run,step,")
