"""One set of rules for a run's settings: the same bad value gets the same message from a
scenario file's [[runs]] table, a scripted `set`, the edit form and a run added in the app."""

from __future__ import annotations

import re
import tomllib
from dataclasses import replace

import pytest
from textual.widgets import Input

from optsim.engine.errors import ScenarioError
from optsim.engine.scenario.load import parse_scenario
from optsim.tui.screens.edit_run import EditRunScreen
from optsim.tui.screens.simulator import SimulatorScreen
from tui_helpers import DATA, make_app, run_async, session

# (key, bad value) that all four ways of giving a run's settings accept as keys
BAD = [
    ("lr", -1.0),
    ("momentum", -0.1),
    ("noise", -0.5),
    ("batch_size", 0),
    ("batch_size", 41),  # the data set has 40 training rows
    ("schedule", {"kind": "cosinus"}),
    ("schedule", {"kind": "step"}),  # step_size is missing
]


def _message(call) -> tuple[str, str]:
    """(key without its context prefix, message) of the ScenarioError `call` raises."""
    with pytest.raises(ScenarioError) as info:
        call()
    err = info.value
    return re.sub(r"^(runs\[\d+\]|events\[\d+\]\.set|run)\.", "", err.key), err.message


def _from_file(key: str, value) -> tuple[str, str]:
    raw = tomllib.loads(DATA.read_text())
    raw["runs"][0][key] = value
    raw["events"] = []
    return _message(lambda: parse_scenario(raw, "bad.toml"))


def _from_set(key: str, value) -> tuple[str, str]:
    raw = tomllib.loads(DATA.read_text())
    raw["events"] = [{"at": 5, "run": "full-batch", "set": {key: value}}]
    return _message(lambda: parse_scenario(raw, "bad.toml"))


@pytest.mark.parametrize("key,value", BAD, ids=lambda x: str(x))
def test_the_same_bad_setting_reads_the_same_everywhere(key, value):
    s = session(DATA)
    file = _from_file(key, value)
    scripted = _from_set(key, value)
    edited = _message(lambda: s.edit_run(0, {key: value}))
    added = _message(lambda: s.add_run(replace(s.sim.configs[0], name="new", **_as_field(key, value))))
    assert file == scripted == edited == added
    assert file[0] == key or file[0].startswith(key + ".")


def _as_field(key: str, value) -> dict:
    """A setting as RunSettings holds it: hyperparameters in `hyper`, the rest as fields."""
    if key in ("noise", "batch_size", "schedule", "steps", "start", "name"):
        return {key: value}
    return {"hyper": {"lr": 0.1, key: value}}


@run_async
async def test_the_edit_form_shows_the_file_message():
    expected = _from_file("lr", -1.0)
    app = make_app(DATA)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SimulatorScreen)
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, EditRunScreen)
        form.query_one("#h-lr", Input).value = "-1.0"
        form.action_apply()
        await pilot.pause()
        assert app.screen is form
        assert str(form.query_one("#error").render()) == f"{expected[0]}: {expected[1]}"


BIG = """
title = "ten long runs"
[surface]
builtin = "rosenbrock"
""" + "".join(f"""
[[runs]]
name = "r{i}"
optimizer = "sgd"
lr = 0.0001
start = [-1, 1]
steps = 10000000
""" for i in range(10))


def test_runs_added_or_lengthened_in_the_app_count_against_the_files_work_limit(tmp_path):
    """Ten runs of 10^7 steps are exactly the budget of a file (10^8 steps in all): an eleventh run,
    or one run made longer, is refused with the message a file gets, before anything changes."""
    from optsim.engine.core.budget import MAX_RUN_STEPS
    from optsim.engine.scenario.load import load_scenario
    from optsim.engine.watch.session import Session

    path = tmp_path / "big.toml"
    path.write_text(BIG)
    s = Session(load_scenario(path))
    assert sum(c.steps for c in s.sim.configs) == MAX_RUN_STEPS
    extra = replace(s.sim.configs[0], name="extra", steps=1)
    with pytest.raises(ScenarioError) as err:
        s.add_run(extra)
    assert err.value.key == "run.steps" and "more than 100000000" in str(err.value)
    assert s.sim.n_runs == 10  # nothing added
    s.edit_run(0, {"steps": 9_000_000})  # shorter: fine, and it makes room
    s.add_run(extra)
    with pytest.raises(ScenarioError, match="more than 100000000"):
        s.edit_run(10, {"steps": 2_000_000})  # 9e6 + 9 x 1e7 + 2e6 steps
    assert s.sim.configs[10].steps == 1
