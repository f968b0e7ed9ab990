"""Scenario files: good ones load into plain data; bad ones name the file and the key."""
from __future__ import annotations

import pytest

from optsim.engine.errors import ScenarioError
from optsim.engine.scenario.load import load_scenario

GOOD = """
title = "The saddle of y = w1 * w2 * x"
description = "One sample, x = 1, target 1."
seed = 3

[surface]
expr = "(y_true - w1*w2*x)**2"
params = ["w1", "w2"]
view = { w1 = [-2, 2], w2 = [-2, 2] }

[data]
columns = ["x", "y_true"]
rows = [[1.0, 1.0]]

[[runs]]
name = "gd"
optimizer = "sgd"
lr = 0.1
momentum = 0.5
start = [0.5, -0.5]
steps = 40
schedule = { kind = "cosine", T_max = 40, eta_min = 0.0 }

[[runs]]
name = "adam"
optimizer = "adam"
lr = 0.05
betas = [0.9, 0.99]
start = [-1, 1.5]

[[events]]
at = 10
say = "Look."
pause = true

[[events]]
at = 5
run = "gd"
set = { lr = 0.2 }
"""


def test_good_file_loads(scenario_file):
    s = load_scenario(scenario_file(GOOD))
    assert s.title.startswith("The saddle") and s.seed == 3
    assert s.surface.params == ("w1", "w2") and s.surface.view["w1"] == (-2.0, 2.0)
    assert s.data is not None and s.data.n_train == 1
    assert [r.name for r in s.runs] == ["gd", "adam"]
    assert s.runs[0].hyper == {"lr": 0.1, "momentum": 0.5}
    assert s.runs[1].hyper["betas"] == (0.9, 0.99) and s.runs[1].steps == 100
    assert s.runs[0].schedule == {"kind": "cosine", "T_max": 40, "eta_min": 0.0}
    assert [e.at for e in s.events] == [5, 10]  # sorted by step
    assert s.events[0].set == {"lr": 0.2} and s.events[1].pause


def test_builtin_surface_with_overridden_constant(scenario_file):
    s = load_scenario(scenario_file("""
        title = "r"
        [surface]
        builtin = "rosenbrock"
        constants = { b = 10 }
        [[runs]]
        start = [-1, 1]
    """))
    assert s.surface.builtin == "rosenbrock" and s.surface.constants["b"] == 10.0
    assert s.surface.minima  # the builtin's known minima come along


def test_generated_data_is_seeded_and_has_test_rows(scenario_file):
    text = """
        title = "fit"
        [surface]
        expr = "(y - (a*x + b))**2"
        params = ["a", "b"]
        [data]
        columns = ["x", "y"]
        generate = { n = 30, x = [-1, 1], y = "2*x + 1", noise = 0.1, test_n = 20, test_x = [1, 2] }
        [[runs]]
        start = [0, 0]
    """
    a, b = load_scenario(scenario_file(text, "a.toml")), load_scenario(scenario_file(text, "b.toml"))
    assert a.data.n_train == 30 and a.data.n_test == 20
    assert (a.data.train["y"] == b.data.train["y"]).all()
    assert a.data.test["x"].min() >= 1.0
    assert abs((a.data.train["y"] - (2 * a.data.train["x"] + 1)).std() - 0.1) < 0.05


def test_csv_data_relative_to_the_file(scenario_file, tmp_path):
    (tmp_path / "pts.csv").write_text("x,y,ignored\n1,2,0\n3,4,0\n")
    s = load_scenario(scenario_file("""
        title = "csv"
        [surface]
        expr = "(y - a*x)**2 + b**2"
        params = ["a", "b"]
        [data]
        columns = ["x", "y"]
        file = "pts.csv"
        [[runs]]
        start = [0, 0]
        batch_size = 1
    """))
    assert s.data.train["y"].tolist() == [2.0, 4.0] and s.runs[0].batch_size == 1


BASE = """
title = "t"
[surface]
expr = "x**2 + y**2"
[[runs]]
start = [1, 1]
"""

BAD = [
    # (TOML text, the key path the message must name, a fragment of the message)
    ("title = 1\n[surface]\nexpr='x'\n[[runs]]\nstart=[1,1]", "title", "must be a string"),
    ("[surface]\nexpr='x'\n[[runs]]\nstart=[1,1]", "title", "is missing"),
    ("titel = 'x'\n" + BASE, "titel", "did you mean 'title'"),
    (BASE.replace("expr", "exrp"), "surface.exrp", "did you mean 'expr'"),
    (BASE.replace("x**2", "x**2 + zz"), "surface.expr", "zz"),
    (BASE.replace("x**2", "__import__('os')"), "surface.expr", ""),
    (BASE + "optimzer = 'sgd'\n", "runs[0].optimzer", "did you mean 'optimizer'"),
    (BASE + "optimizer = 'adamm'\n", "runs[0].optimizer", "did you mean 'adam'"),
    (BASE + "lr = -1\n", "runs[0].lr", ""),
    (BASE + "lr = 'fast'\n", "runs[0].lr", ""),
    (BASE + "steps = 0\n", "runs[0].steps", "between"),
    (BASE + "steps = 100000000000\n", "runs[0].steps", "between"),
    (BASE.replace("[1, 1]", "[1, 1, 1]"), "runs[0].start", "2 numbers"),
    (BASE + "batch_size = 4\n", "runs[0].batch_size", "needs a [data] table"),
    (BASE + "schedule = { kind = 'cosinus' }\n", "runs[0].schedule.kind", "cosine"),
    (BASE + "[[events]]\nat = 3\nrun = 'nobody'\n", "events[0].run", "no run named"),
    (BASE + "[[events]]\nat = 3\nshow = 'hessain'\nrun = 'sgd-1'\n", "events[0].show", "hessian"),
    (BASE + "[[events]]\nsay = 'hi'\n", "events[0].at", "is missing"),
    (BASE.replace("expr = \"x**2 + y**2\"", "builtin = 'rosenbrok'"), "surface.builtin", "rosenbrock"),
    (BASE + "[surface.view]\nx = [2, 1]\n", "surface.view.x", "low < high"),
    ("title = 't'\nthis is not toml", "", "not valid TOML"),
]


@pytest.mark.parametrize("text,key,fragment", BAD)
def test_bad_files_name_the_file_and_key(scenario_file, text, key, fragment):
    path = scenario_file(text, "bad.toml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert err.file == str(path)
    assert err.key == key
    assert fragment in str(err)
    assert "\n" not in str(err)  # one line


def test_missing_file():
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario("/nonexistent/nothing.toml")


def test_event_changes_are_checked_against_their_run(scenario_file):
    base = BASE + "name = 'gd'\nmomentum = 0.9\n[[events]]\nat = 3\nrun = 'gd'\n"
    load_scenario(scenario_file(base + "set = { nesterov = true }\n", "ok.toml"))  # momentum is set: fine
    with pytest.raises(ScenarioError) as info:
        load_scenario(scenario_file(base + "set = { betas = [0.9, 0.9] }\n", "bad.toml"))
    assert info.value.key == "events[0].set.betas" and "not a hyperparameter of sgd" in str(info.value)


def test_a_change_is_judged_merged_over_the_current_values():
    from optsim.engine.scenario.reader import Reader
    from optsim.engine.scenario.run_rules import SET_KEYS, RunContext, check_run

    def check(changes, optimizer, current=None):
        check_run(Reader("(edit)"), dict(changes), optimizer, "set", RunContext(2, None), current=current,
                  keys=SET_KEYS)

    check({"nesterov": True}, "sgd", current={"lr": 0.1, "momentum": 0.9})
    with pytest.raises(ScenarioError, match="set.nesterov"):
        check({"nesterov": True}, "sgd", current={"lr": 0.1})
    with pytest.raises(ScenarioError, match="set.lr"):
        check({"lr": -1.0}, "adam")
