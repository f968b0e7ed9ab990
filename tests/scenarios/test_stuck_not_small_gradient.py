"""30-stuck-not-small-gradient: in the ravine a bouncing run's loss is flat while its gradient stays large."""
from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.scenario.build import build_simulation

from scenario_play import load, play

STEM = "30-stuck-not-small-gradient"


@pytest.fixture(scope="module")
def trace():
    return play(STEM)


def test_the_ravine(trace):
    assert trace.at_event("the walls are 500 times steeper than the floor. bounce uses lr 0.04, crawl lr 0.002").tick == 0
    obj = trace.sim.objective
    h = obj.hessian(np.zeros((1, 2)))[0]
    np.testing.assert_allclose(h, [[0.1, 0], [0, 50]])  # walls 500 times steeper than the floor
    assert [r.hyper["lr"] for r in trace.scenario.runs] == [0.04, 0.002]


def test_bounce_is_stuck_with_a_large_gradient(trace):
    i = trace.run("bounce")
    snap = trace.at_event("Over the last 100 updates bounce's loss changed by less than 1%")
    assert snap.tick == 300
    window = trace.loss[200:301, i]
    assert (window.max() - window.min()) / window.min() < 0.01
    assert round(float(trace.loss[200, i]), 2) == 25.20 and round(float(trace.loss[300, i]), 2) == 25.09
    assert np.all(trace.grad_norm[200:301, i] > 1)
    assert np.all(np.round(trace.grad_norm[200:301, i]) == 50)
    y = trace.params[1:301, i, 1]
    assert np.all(np.abs(np.abs(y) - 1.0) < 1e-9) and np.all(y[1:] * y[:-1] < 0)  # wall to wall


def test_lowering_the_rate_lands_on_the_floor(trace):
    i = trace.run("bounce")
    trace.at_event("Now bounce's lr drops to 0.02")
    assert trace.lr[301, i] == 0.02
    assert abs(trace.params[301, i, 1]) < 1e-12
    assert round(float(trace.loss[301, i]), 2) == 0.09


def test_floor_progress(trace):
    i, j = trace.run("bounce"), trace.run("crawl")
    snap = trace.at_event("One learning rate cannot suit both directions")
    assert snap.tick == 400
    x = trace.params[:, :, 0]
    per_step = 1 - x[1:] / x[:-1]  # fraction of the remaining way covered per update
    assert np.allclose(per_step[100:300, i], 0.004) and np.allclose(per_step[301:, i], 0.002)
    assert np.allclose(per_step[:, j], 0.0002)
    covered = 1 - x[400, j] / x[0, j]
    assert round(float(covered), 2) == 0.08
    assert np.all(trace.grad_norm[:, j] > 0)
    assert np.all(np.diff(trace.loss[:, j]) < 0)  # crawl never bounces back up


def test_description_try_raising_the_rate_diverges():
    sim = build_simulation(load(STEM))
    sim.set_hyperparameters("bounce", lr=0.041)
    ys = []
    for _ in range(200):
        sim.step()
        ys.append(abs(sim.params[0, 1]))
    ratio = np.array(ys[1:]) / np.array(ys[:-1])
    assert np.allclose(ratio, 1.05)  # every bounce 5% higher
    assert ys[-1] > 1e4
