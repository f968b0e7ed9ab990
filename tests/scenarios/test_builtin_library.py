"""The built-in library: every file loads, compiles, runs headless, and `optsim list` shows it in lecture order."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from optsim.engine.scenario.build import build_objective, build_simulation
from optsim.engine.scenario.catalog import catalog
from optsim.engine.watch.script import play_to_end
from optsim.engine.scenario.load import load_scenario
from optsim.tui.cli import main as cli_main

from scenario_play import SCENARIOS

FILES = sorted(SCENARIOS.glob("*.toml"))
NAME = re.compile(r"^(\d\d)-[a-z0-9]+(-[a-z0-9]+)*\.toml$")
# The lecture's sections, in order, and the file numbers reserved for each.
SECTIONS = [(1, 9, "general guide"), (10, 19, "critical points"), (20, 29, "batch size"),
            (30, 39, "learning rate"), (40, 49, "adaptive methods"), (50, 59, "scheduling"),
            (60, 69, "classic gallery")]
# Files whose every caption is checked by a test in this folder through Trace.at_event (see below).
CAPTIONS_CHECKED = ["01", "02", "03", "04", "10", "11", "12", "20", "21", "22", "30", "40", "41", "42", "43", "50", "51", "52", "53", "54", "60", "61", "62", "63", "64"]
TESTS = Path(__file__).parent


def test_the_library_is_there():
    numbers = {p.name[:2] for p in FILES}
    assert set(CAPTIONS_CHECKED) <= numbers
    assert len(FILES) >= len(CAPTIONS_CHECKED)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_name_and_number(path):
    assert NAME.match(path.name), "name files NN-short-name.toml"
    nn = int(path.name[:2])
    assert any(lo <= nn <= hi for lo, hi, _ in SECTIONS), f"{nn} is in no lecture section"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_loads_compiles_and_runs_headless(path):
    """Load, compile, step every run to its end with the events applied (as `optsim run` does)."""
    scenario = load_scenario(path)
    assert scenario.title and scenario.description.strip()
    assert any(e.say for e in scenario.events), "a scenario tells what to watch"
    last = max(r.steps for r in scenario.runs)
    assert all(e.at <= last for e in scenario.events), "an event after the last step would never play"
    objective = build_objective(scenario)
    start = np.array([r.start for r in scenario.runs])
    assert np.all(np.isfinite(objective.loss(start))) and np.all(np.isfinite(objective.gradient(start)))
    for name, (lo, hi) in scenario.surface.view.items():
        assert name in scenario.surface.params and lo < hi
    sim = build_simulation(scenario)
    script = play_to_end(sim, scenario.events)
    assert sim.tick == last and script.position == len(script.events)  # every event played
    assert np.all(np.isfinite(sim.loss))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_optsim_check_accepts_it(path, capsys):
    assert cli_main(["check", str(path)]) == 0


def test_optsim_run_headless_writes_every_row(tmp_path, capsys):
    """`optsim run NAME --out F.csv` on a built-in by its short name: rows 0..steps for every run."""
    out = tmp_path / "saddle.csv"
    assert cli_main(["run", "saddle-w1w2", "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "run,step,w1,w2,loss,lr,grad_norm"
    assert len(lines) == 1 + 3 * 161
    summary = capsys.readouterr().out
    assert "on-line" in summary and "finished" in summary


@pytest.mark.parametrize("path", FILES[::4], ids=lambda p: p.stem)
def test_optsim_run_by_path(path, capsys):
    assert cli_main(["run", str(path)]) == 0
    assert "steps x" in capsys.readouterr().out


def test_optsim_list_shows_the_library_in_lecture_order(capsys):
    assert cli_main(["list"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    names = [line.split()[0] for line in lines]
    expected = [re.sub(r"^\d\d-", "", p.stem) for p in FILES]
    assert names == expected
    for line, path in zip(lines, FILES):
        assert load_scenario(path).title in line
    numbers = [int(p.name[:2]) for p in FILES]
    assert numbers == sorted(numbers)
    assert [e.path.name for e in catalog()] == [p.name for p in FILES]


def test_short_names_are_unique():
    names = [re.sub(r"^\d\d-", "", p.stem) for p in FILES]
    assert len(names) == len(set(names))


def _checked_substrings() -> list[str]:
    """Caption keys the tests look up: literal arguments of ``Trace.at_event(...)``, and the ``caption``
    column of ``pytest.mark.parametrize`` tables whose rows are passed to it."""
    found: list[str] = []
    for test in TESTS.glob("test_*.py"):
        for node in ast.walk(ast.parse(test.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if name == "at_event" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append(first.value)
            elif (name == "parametrize" and isinstance(first, ast.Constant) and len(node.args) > 1
                  and "caption" in [a.strip() for a in str(first.value).split(",")]):
                col = [a.strip() for a in str(first.value).split(",")].index("caption")
                for row in getattr(node.args[1], "elts", []):
                    cell = row.elts[col] if isinstance(row, ast.Tuple) else None
                    if isinstance(cell, ast.Constant) and isinstance(cell.value, str):
                        found.append(cell.value)
    return found


@pytest.mark.parametrize("number", CAPTIONS_CHECKED)
def test_every_caption_is_checked_by_a_test(number):
    """A caption no test backs is a defect: each `say` must be looked up by some test via Trace.at_event."""
    (path,) = [p for p in FILES if p.name.startswith(number + "-")]
    keys = _checked_substrings()
    missing = [e.say for e in load_scenario(path).events if e.say and not any(k in e.say for k in keys)]
    assert not missing, f"captions no test looks up: {missing}"
