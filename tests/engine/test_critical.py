"""Critical-point reports: the lecture's numbers, the lower-bound rule, probes and the minimum ratio."""
from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.analysis.critical import (
    LowerBound, analyze_point, classify, formula_lower_bound, known_lower_bound, minimum_ratio,
)
from optsim.engine.formula.compile import compile_formula
from optsim.engine.core.objective import Objective
from optsim.engine.scenario.load import parse_scenario

W1W2 = "(1 - w1*w2)^2"


def objective(expr: str, params=("w1", "w2"), constants=None) -> Objective:
    return Objective(compile_formula(expr, params, constants or {}))


@pytest.fixture(scope="module")
def lecture():
    return objective(W1W2), formula_lower_bound(W1W2, ("w1", "w2"))


def test_saddle_at_origin_has_the_lecture_numbers(lecture):
    obj, bound = lecture
    r = analyze_point(obj, [0, 0], bound)
    assert r.grad.tolist() == [0.0, 0.0]
    np.testing.assert_allclose(r.hessian, [[0, -2], [-2, 0]])
    np.testing.assert_allclose(r.eigenvalues, [-2, 2])
    assert r.kind == "saddle point" and r.verdict == "saddle point"
    np.testing.assert_allclose(r.escape_direction, np.array([1, 1]) / np.sqrt(2))
    assert r.minimum_ratio == 0.5


def test_taylor_prediction_next_to_true_drop(lecture):
    """Along u = (1,1)/sqrt2 by s: model -s^2 (1/2 lambda s^2, lambda = -2); true (1 - s^2/2)^2 - 1."""
    obj, bound = lecture
    r = analyze_point(obj, [0, 0], bound, escape_steps=(0.1, 0.5, 1.0))
    for t in r.escape:
        assert t.predicted == pytest.approx(-t.step ** 2, abs=1e-12)
        assert t.true == pytest.approx((1 - t.step ** 2 / 2) ** 2 - 1, abs=1e-12)
    assert [t.step for t in r.escape] == [0.1, 0.5, 1.0]
    assert r.escape[1].predicted == pytest.approx(-0.25) and r.escape[1].true == pytest.approx(-0.234375)
    # the model is good for small steps and too optimistic for large ones
    assert abs(r.escape[0].true - r.escape[0].predicted) < 1e-4 < abs(r.escape[2].true - r.escape[2].predicted)


def test_degenerate_global_minimum_explained(lecture):
    obj, bound = lecture
    r = analyze_point(obj, [1, 1], bound)
    np.testing.assert_allclose(r.eigenvalues, [0, 4], atol=1e-12)
    assert r.kind == "degenerate" and r.escape_direction is None and r.escape == ()
    assert r.at_lower_bound and r.verdict == "global minimum (degenerate)"
    assert "lower bound 0" in r.explanation and "cannot tell" in r.explanation
    (probe,) = r.probes
    np.testing.assert_allclose(abs(probe.direction), np.array([1, 1]) / np.sqrt(2))
    assert probe.shape == "rises" and probe.plus == pytest.approx(0.25)  # (1 - (1 - 1/2))^2 at step 1


def test_degenerate_without_bound_is_not_called_global(lecture):
    obj, _ = lecture
    r = analyze_point(obj, [1, 1], None)
    assert r.kind == "degenerate" and not r.at_lower_bound and r.verdict == "degenerate"
    assert "global minimum" not in r.explanation


def test_monkey_saddle_is_a_higher_order_saddle():
    r = analyze_point(objective("x^3 - 3*x*y^2", ("x", "y")), [0, 0])
    assert r.kind == "degenerate" and r.verdict == "higher-order saddle (degenerate)"
    assert any(p.shape == "falls" for p in r.probes)


def test_local_minimum_above_the_bound_says_so():
    obj = objective("(x^2 - 1)^2 + (y^2 - 1)^2 + 0.3*(x + 1)^2", ("x", "y"))
    bound = formula_lower_bound("(x^2 - 1)^2 + (y^2 - 1)^2 + 0.3*(x + 1)^2", ("x", "y"))
    sim_min = _descend(obj, [1.0, 1.0])
    r = analyze_point(obj, sim_min, bound)
    assert r.kind == "local minimum" and r.verdict == "local minimum" and not r.at_lower_bound
    assert "above the known lower bound" in r.explanation


def _descend(obj: Objective, start, lr=0.05, steps=4000):
    x = np.array([start], dtype=float)
    for _ in range(steps):
        x = x - lr * obj.gradient(x)
    return x[0]


def test_not_critical_point(lecture):
    obj, bound = lecture
    r = analyze_point(obj, [-1.5, 2.0], bound)
    assert r.kind == "not critical" and "not zero" in r.explanation


def test_minimum_ratio_with_three_parameters():
    obj = objective("x^2 + y^2 - z^2", ("x", "y", "z"))
    r = analyze_point(obj, [0, 0, 0])
    assert r.kind == "saddle point" and r.minimum_ratio == pytest.approx(2 / 3)
    assert "Minimum ratio 0.67 (2 of 3" in r.explanation
    assert minimum_ratio(np.array([1.0, 2.0, 3.0]), 1e-8) == 1.0


def test_classify_tolerances():
    assert classify(1e-3, np.array([1.0, 2.0]), 1e-6, 1e-8) == "not critical"
    assert classify(0.0, np.array([-1e-9, 2.0]), 1e-6, 1e-8) == "degenerate"
    assert classify(0.0, np.array([-1.0, -2.0])[::-1], 1e-6, 1e-8) == "local maximum"


@pytest.mark.parametrize("expr,nonneg", [
    ("(1 - w1*w2)^2", True), ("(x^2+y-11)^2 + (x+y^2-7)^2", True), ("abs(x) + 2*exp(y)", True),
    ("(x-1)^4 + 3*y^2", True), ("sqrt(x^2 + 1) * sigmoid(y)", True), ("max(x, y^2)", True),
    ("x^2 - y^2", False), ("x^3 - 3*x*y^2", False), ("-(x^2)", False), ("k*(x^2+y^2) - exp(x)", False),
    ("min(x^2, y)", False), ("tanh(x)^2 + x", False),
])
def test_formula_lower_bound_rule(expr, nonneg):
    params = ("w1", "w2") if "w1" in expr else ("x", "y")
    bound = formula_lower_bound(expr, params, {"k": 0.05})
    assert (bound is not None) == nonneg
    if bound is not None:
        assert bound.value == 0.0


def test_known_lower_bound_of_a_builtin_surface_uses_its_listed_minima():
    sc = parse_scenario({"title": "t", "surface": {"builtin": "sharp_and_flat"},
                         "runs": [{"start": [0, 0]}]}, "t.toml")
    from optsim.engine.scenario.build import build_objective

    obj = build_objective(sc)
    bound = known_lower_bound(sc, obj)
    assert bound is not None and bound.value == pytest.approx(-1.082, abs=1e-3)
    assert "sharp_and_flat" in bound.reason
    guided = parse_scenario({"title": "t", "surface": {"expr": "x^2 - y", "params": ["x", "y"]},
                             "runs": [{"start": [0, 0]}], "guide": {"lower_bound": -3.0}}, "t.toml")
    assert known_lower_bound(guided) == LowerBound(-3.0, "stated by the scenario's [guide] lower_bound")


def test_to_json_keeps_design_keys(lecture):
    obj, bound = lecture
    j = analyze_point(obj, [0, 0], bound).to_json()
    for key in ("point", "loss", "grad", "hessian", "eigenvalues", "kind", "escape_direction"):
        assert key in j
    assert j["escape_taylor"][0]["predicted_change"] == pytest.approx(-0.01)
    assert j["minimum_ratio"] == 0.5 and j["lower_bound"] == 0.0


def test_a_point_just_off_the_valley_of_minima_is_not_a_saddle():
    """1e-7 from the lecture's global minima the gradient counts as zero; the -4e-7 eigenvalue is noise."""
    from optsim.engine.analysis.critical import analyze_point
    from optsim.engine.formula.compile import compile_formula
    from optsim.engine.core.objective import Objective

    obj = Objective(compile_formula("(1 - w1*w2)^2", ["w1", "w2"]))
    r = analyze_point(obj, [1 + 1e-7, 1 + 1e-7])
    assert r.eigenvalues[0] < 0  # the raw number is negative...
    assert r.kind == "degenerate" and r.escape_direction is None  # ...but its sign is not trusted
    near_saddle = analyze_point(obj, [1e-9, -1e-9])
    assert near_saddle.kind == "saddle point"  # a real negative eigenvalue still counts
