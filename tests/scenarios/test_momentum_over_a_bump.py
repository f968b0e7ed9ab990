"""41-momentum-over-a-bump: gradient descent stops in a local minimum; momentum rolls over the bump."""
from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.scenario.build import build_simulation
from optsim.engine.analysis.critical import analyze_point

from scenario_play import load, play

STEM = "41-momentum-over-a-bump"
DEEP, LOCAL = -1.0355787140888537, 0.9601495555191055


@pytest.fixture(scope="module")
def trace():
    return play(STEM)


def test_the_surface(trace):
    obj = trace.sim.objective
    deep, local = analyze_point(obj, [DEEP, 0]), analyze_point(obj, [LOCAL, 0])
    assert deep.kind == local.kind == "local minimum"
    assert round(deep.loss, 3) == -0.305 and round(local.loss, 3) == 0.294
    roots = np.sort(np.roots([4, 0, -4, 0.3]).real)  # dL/dx = 4x^3 - 4x + 0.3 on y = 0
    np.testing.assert_allclose(roots[[0, 2]], [DEEP, LOCAL], rtol=1e-12)
    saddle = analyze_point(obj, [roots[1], 0])
    assert saddle.kind == "saddle point" and round(float(roots[1]), 3) == 0.075 and round(saddle.loss, 3) == 1.011
    assert round(LOCAL, 3) == 0.960 and round(DEEP, 3) == -1.036


def test_setup(trace):
    assert trace.at_event("The first valley, at x = 0.960, is not the deepest").tick == 0
    runs = trace.scenario.runs
    assert {r.start for r in runs} == {(2.0, 1.0)} and {r.hyper["lr"] for r in runs} == {0.02}
    assert [(r.optimizer, r.hyper.get("momentum")) for r in runs] == [
        ("sgd", None), ("momentum_lecture", 0.5), ("momentum_lecture", 0.9)]


def test_gd_only_goes_downhill_and_stops_in_the_first_valley(trace):
    i = trace.run("gd")
    assert np.all(np.diff(trace.loss[:, i]) < 0)
    assert np.all(trace.params[:, i, 0] > 0.9)  # never near the bump
    snap = trace.at_event("gd stopped in the first valley")
    assert snap.grad_norm[i] < 1e-6
    r = analyze_point(trace.sim.objective, snap.params[i])
    assert r.kind == "local minimum" and round(r.loss, 3) == 0.294
    assert [round(float(v), 2) for v in r.eigenvalues] == [2.0, 7.06]


def test_momentum_rolls_over(trace):
    i = trace.run("momentum-0.9")
    snap = trace.at_event("momentum-0.9 is already over the bump")
    assert snap.params[i, 0] < 0.075
    assert np.any(np.diff(trace.loss[:6, i]) > 0)  # it climbed: the loss went up on the way over
    end = trace.at_event("momentum-0.9 ended in the deeper valley")
    assert abs(end.params[i, 0] - DEEP) < 1e-6 and round(float(end.loss[i]), 3) == -0.305
    j = trace.run("momentum-0.5")
    assert np.all(trace.params[:, j, 0] > 0.075)  # never got over
    assert abs(end.params[j, 0] - LOCAL) < 1e-6


def test_description_try_a_bigger_gd_step_is_not_momentum():
    sim = build_simulation(load(STEM))
    sim.set_hyperparameters("gd", lr=0.05)
    sim.step(400)
    assert abs(sim.params[sim.index_of("gd"), 0] - LOCAL) < 1e-6
