"""The general guide: every verdict produced by a small scenario and asserted on its numbers."""
from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.scenario.analysis_tables import parse_guide
from optsim.engine.scenario.build import build_simulation
from optsim.engine.errors import ScenarioError
from optsim.engine.analysis.guide import coarse_search, general_guide, shift_evidence
from optsim.engine.scenario.load import load_scenario

LINE_DATA = """
title = "t"
seed = 0
[surface]
expr = "(y - (a*x + b))^2"
params = ["a", "b"]
view = {{ a = [-3, 3], b = [-3, 3] }}
[data]
columns = ["x", "y"]
generate = {{ n = 30, x = [-1, 1], y = "{truth}", noise = {noise}, test_n = 60{test} }}
[[runs]]
name = "adam"
optimizer = "adam"
lr = 0.05
start = [0.0, 0.0]
steps = {steps}
{guide}
"""


def guided(scenario_file, truth="2*x + 1", noise=0.05, test="", steps=600, guide="", name="s.toml"):
    path = scenario_file(LINE_DATA.format(truth=truth, noise=noise, test=test, steps=steps, guide=guide), name)
    sc = load_scenario(path)
    sim = build_simulation(sc)
    sim.step(sc.runs[0].steps)
    return sc, sim, general_guide(sc, sim)


def test_good_when_both_losses_are_small(scenario_file):
    sc, sim, g = guided(scenario_file, guide="[guide]\ntrain_target = 0.01\ntest_target = 0.01")
    v = g.main
    assert v.verdict == "good" and v.evidence["train_loss"] < 0.004 and v.evidence["test_loss"] < 0.004
    assert g.base == 0.0 and "non-negative" in g.base_reason


def test_model_bias_when_no_point_fits(scenario_file):
    sc, sim, g = guided(scenario_file, truth="sin(3*x)", guide="[guide]\ntrain_target = 0.02")
    v = g.main
    assert v.verdict == "model bias"
    assert g.search.best_loss > 0.15 and v.evidence["train_loss"] == pytest.approx(g.search.best_loss, rel=1e-3)
    assert "nothing clearly lower" in " ".join(v.steps)


def test_optimization_when_the_search_finds_better(scenario_file):
    """Two steps of a tiny rate leave the run far from the best line, which the search finds."""
    sc, sim, g = guided(scenario_file, steps=2, guide="[guide]\ntrain_target = 0.01")
    v = g.main
    assert v.verdict == "optimization" and v.evidence["train_loss"] > 1.0
    assert v.evidence["best_reachable"] < 0.004
    np.testing.assert_allclose(g.search.best_point, [2, 1], atol=0.05)


def test_optimization_when_a_smaller_model_does_better(scenario_file):
    variant = """
[guide]
train_target = 0.01
search = { steps = 0, points = 3 }
[[guide.variants]]
name = "constant"
expr = "(y - c)^2"
params = ["c"]
start = [0.0]
optimizer = "sgd"
lr = 0.3
steps = 200
"""
    # the run makes 2 steps of Adam at lr 0.05: its loss stays above the best constant's (the variance of y)
    sc, sim, g = guided(scenario_file, steps=2, guide=variant)
    v = g.main
    assert v.verdict == "optimization" and "smaller model 'constant'" in v.steps[1]
    const = [m for m in g.models if m.name == "constant"][0]
    assert const.n_params == 1 and const.train_loss < v.evidence["train_loss"] * 0.9


def test_overfitting_and_mismatch_differ_by_the_test_distribution(scenario_file):
    gd = "[guide]\ntrain_target = 0.01\ntest_target = 0.01"
    # same range, but noisy training targets and a tiny set: the test is off only by the fit's error
    same = guided(scenario_file, truth="2*x + 1", noise=0.05, test=", test_noise = 0.3", guide=gd, name="a.toml")[2]
    assert same.main.verdict == "overfitting" and same.shift == ()
    shifted = guided(scenario_file, truth="2*x + 1 + 0.3*x^2", noise=0.05, test=", test_x = [2, 3]", guide=gd,
                     name="b.toml")[2]
    assert shifted.main.verdict == "mismatch"
    assert any("100% of the test values of 'x'" in s for s in shifted.shift)


def test_test_shift_on_a_surface_is_a_mismatch(scenario_file):
    path = scenario_file("""
title = "shifted"
[surface]
expr = "(x - 1)^2 + (y - 2)^2"
test_shift = [1.0, 0.0]
[[runs]]
optimizer = "sgd"
lr = 0.2
start = [0.0, 0.0]
steps = 200
[guide]
train_target = 0.01
test_target = 0.1
""")
    sc = load_scenario(path)
    sim = build_simulation(sc)
    sim.step(200)
    g = general_guide(sc, sim)
    assert g.main.verdict == "mismatch" and g.main.evidence["test_loss"] == pytest.approx(1.0)
    assert shift_evidence(sc) == ("the test surface is the training surface shifted by (1, 0)",)


def test_default_targets_follow_the_typical_loss(scenario_file):
    sc, sim, g = guided(scenario_file)
    assert g.delta == pytest.approx(0.01 * (g.search.typical_loss - g.base))
    assert g.train_target == pytest.approx(g.base + g.delta) and g.test_target == pytest.approx(g.base + 2 * g.delta)


def test_no_test_loss_stops_at_training(scenario_file):
    path = scenario_file("""
title = "w"
[surface]
expr = "(1 - w1*w2)^2"
params = ["w1", "w2"]
[[runs]]
optimizer = "sgd"
lr = 0.1
start = [0.5, 0.2]
steps = 300
""")
    sc = load_scenario(path)
    sim = build_simulation(sc)
    sim.step(300)
    g = general_guide(sc, sim)
    assert g.main.verdict == "good" and "no test loss" in g.main.steps[-1] and g.notes


def test_coarse_search_finds_himmelblau_zero():
    sc_objective = _himmelblau()
    from optsim.engine.scenario.analysis_tables import SearchSpec

    res = coarse_search(sc_objective, np.array([[-5.0, 5.0], [-5.0, 5.0]]), SearchSpec(points=21, refine=8, steps=200))
    assert res.best_loss < 1e-8 and res.n_points == 441


def _himmelblau():
    from optsim.engine.formula.compile import compile_formula
    from optsim.engine.core.objective import Objective
    from optsim.engine.core.surfaces import BUILTIN_SURFACES

    s = BUILTIN_SURFACES["himmelblau"]
    return Objective(compile_formula(s.expr, s.params, s.constants))


@pytest.mark.parametrize("guide,key", [
    ({"train_taget": 1}, "guide.train_taget"),
    ({"search": {"box": {"q": [0, 1]}}}, "guide.search.box.q"),
    ({"search": {"box": {"a": [1, 0]}}}, "guide.search.box.a"),
    ({"variants": [{"name": "v", "expr": "(y - c*)^2", "params": ["c"], "start": [0]}]}, "guide.variants[0].expr"),
    ({"variants": [{"name": "v", "expr": "(y - c)^2", "params": ["c"], "start": [0, 1]}]}, "guide.variants[0].start"),
    ({"variants": [{"name": "v", "expr": "(y - c)^2", "params": ["c"], "start": [0], "lr": -1}]},
     "guide.variants[0].lr"),
    ({"variants": [{"name": "v", "expr": "(y - c)^2", "params": ["c"], "start": [0], "optimizer": "adamm"}]},
     "guide.variants[0].optimizer"),
])
def test_bad_guide_tables_name_the_key(guide, key):
    with pytest.raises(ScenarioError) as exc:
        parse_guide(guide, "g.toml", ("a", "b"), ("x", "y"))
    assert exc.value.key == key


def test_bad_guide_fails_at_load_time(scenario_file):
    path = scenario_file(LINE_DATA.format(truth="x", noise=0.0, test="", steps=10, guide="[guide]\nbogus = 1"))
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    assert exc.value.key == "guide.bogus"
