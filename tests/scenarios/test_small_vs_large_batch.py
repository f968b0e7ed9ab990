"""20-small-vs-large-batch: the full batch stops at a saddle of the training loss that mini-batches pass."""
from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.scenario.build import build_simulation, run_config
from optsim.engine.analysis.critical import analyze_point
from optsim.engine.core.simulation import Simulation

from scenario_play import play

STEM = "20-small-vs-large-batch"
MIN = np.sqrt(3) / 2


@pytest.fixture(scope="module")
def trace():
    return play(STEM)


def test_description_surface_facts(trace):
    obj = trace.sim.objective
    r = analyze_point(obj, [0.0, 0.0])
    assert r.kind == "saddle point" and r.loss == 1.0625
    np.testing.assert_allclose(r.eigenvalues, [-1.5, 2.5], atol=1e-12)
    for m in ([MIN, MIN], [-MIN, -MIN]):
        r = analyze_point(obj, m)
        assert r.kind == "local minimum" and r.loss == pytest.approx(0.5, abs=1e-12)
    np.testing.assert_allclose(trace.scenario.surface.minima, [[MIN, MIN], [-MIN, -MIN]], rtol=1e-15)
    assert trace.scenario.data.n_train == 4


def test_setup_caption(trace):
    assert trace.at_event("only the batch size differs: 4 (the full batch), 2 and 1").tick == 0
    runs = trace.scenario.runs
    assert len({r.start for r in runs}) == 1 and runs[0].start[0] == -runs[0].start[1]
    assert [r.hyper["lr"] for r in runs] == [0.1] * 3
    assert [trace.sim.configs[i].batch_size or 4 for i in range(3)] == [4, 2, 1]


def test_full_batch_stays_on_the_line_and_stalls(trace):
    i = trace.run("full-batch")
    w = trace.params[:, i]
    assert np.all(w[:, 0] == -w[:, 1])
    snap = trace.at_event("The full batch is stuck at (0, 0)")
    assert snap.grad_norm[i] < 1e-6 and np.linalg.norm(snap.params[i]) < 1e-6
    assert snap.loss[i] == pytest.approx(1.0625, abs=1e-9)
    r = analyze_point(trace.sim.objective, snap.params[i])
    assert r.kind == "saddle point"
    np.testing.assert_allclose(r.eigenvalues, [-1.5, 2.5], atol=1e-6)


def test_no_single_sample_is_stuck_at_the_saddle(trace):
    obj = trace.sim.objective
    zero = np.zeros((1, 2))
    norms = [np.linalg.norm(obj.batch_gradient(zero, np.array([[k]]), np.ones((1, 1)))[0]) for k in range(4)]
    assert sorted(round(float(n), 2) for n in norms) == [1.06, 1.06, 1.77, 1.77]


def test_mini_batches_pass_early(trace):
    snap = trace.at_event("Both mini-batch runs have already left the line")
    for name in ("batch-2", "batch-1"):
        i = trace.run(name)
        assert snap.loss[i] < 0.9
        assert abs(snap.params[i].sum()) > 0.5  # off the line w1 = -w2
        assert snap.params[i, 0] * snap.params[i, 1] > 0  # on the far side of the saddle: w1 w2 > 0


def test_after_300_updates(trace):
    snap = trace.at_event("After 300 updates")
    assert snap.tick == 300
    assert snap.loss[trace.run("full-batch")] == pytest.approx(1.0625, abs=1e-12)
    for name in ("batch-2", "batch-1"):
        i = trace.run(name)
        assert 0.5 <= snap.loss[i] < 0.7
        assert snap.params[i, 0] * snap.params[i, 1] > 0.25  # past the saddle, in a minimum's valley
    j = trace.run("batch-1")
    assert np.all(trace.grad_norm[200:, j] > 0.01)  # keeps jittering


def test_mini_batches_pass_for_many_seeds():
    """Not luck of the seed: 20 seeds x (batch 2, batch 1) all end below 0.7; the full batch never moves off 1.0625."""
    from scenario_play import load

    scenario = load(STEM)
    cfgs = [run_config(r) for r in scenario.runs]
    sim = Simulation(build_simulation(scenario).objective, [cfgs[0]] + cfgs[1:] * 20, seed=scenario.seed)
    sim.step(300)
    assert sim.loss[0] == pytest.approx(1.0625)
    assert np.all(sim.loss[1:] < 0.7)


def test_description_try_switch_the_full_batch_to_batch_1_and_back(trace):
    sim = build_simulation(trace.scenario)
    i, j = sim.index_of("full-batch"), sim.index_of("batch-1")
    sim.step(100)
    assert sim.loss[i] == pytest.approx(1.0625)
    sim.set_hyperparameters(i, batch_size=1)
    left = None
    for k in range(100):
        sim.step()
        if left is None and sim.loss[i] < 0.9:
            left = k + 1
    assert left is not None and left <= 100  # within 100 updates it has left the saddle
    sim.set_hyperparameters(i, batch_size=4)
    sim.set_hyperparameters(i, steps=600)
    sim.set_hyperparameters(j, steps=600)
    sim.step(300)
    assert sim.grad_norm[i] < 1e-6 and sim.loss[i] == pytest.approx(0.5, abs=1e-9)  # settles exactly
    assert sim.grad_norm[j] > 0.01  # batch 1 keeps jittering
