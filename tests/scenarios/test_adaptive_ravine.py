"""40-adaptive-ravine: per-parameter rates (Adagrad, RMSProp, Adam) and momentum beat one rate in the ravine."""
from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.scenario.build import build_simulation

from scenario_play import load, play

STEM = "40-adaptive-ravine"


@pytest.fixture(scope="module")
def trace():
    return play(STEM)


def test_runs_match_the_description(trace):
    got = {r.name: (r.optimizer, r.hyper) for r in trace.scenario.runs}
    assert got == {
        "gd": ("sgd", {"lr": 0.039}), "adagrad": ("adagrad_lecture", {"lr": 0.1}),
        "rmsprop": ("rmsprop_lecture", {"lr": 0.05, "alpha": 0.9}),
        "momentum": ("momentum_lecture", {"lr": 0.02, "momentum": 0.9}), "adam": ("adam", {"lr": 0.1}),
    }
    assert 0.039 < 2 / 50 < 0.041  # gd: the fastest rate below the bouncing one


def test_start_gradient(trace):
    assert trace.at_event("The gradient there is (-0.45, 50)").tick == 0
    assert {r.start for r in trace.scenario.runs} == {(-4.5, 1.0)}
    g = trace.sim.objective.gradient(np.array([[-4.5, 1.0]]))[0]
    np.testing.assert_allclose(g, [-0.45, 50.0])
    assert abs(g[1] / g[0]) > 100


def test_first_update(trace):
    trace.at_event("First update")
    step = np.abs(trace.params[1] - trace.params[0])
    for name, lr in (("adagrad", 0.1), ("rmsprop", 0.05), ("adam", 0.1)):
        np.testing.assert_allclose(step[trace.run(name)], [lr, lr], rtol=1e-7)  # adam: eps 1e-8
    gd = step[trace.run("gd")]
    assert round(float(gd[0]), 3) == 0.018 and round(float(gd[1]), 2) == 1.95


def test_after_100(trace):
    snap = trace.at_event("After 100 updates")
    loss = {n: float(snap.loss[trace.run(n)]) for n in trace.sim.names}
    assert round(loss["adam"], 4) == 0.0003 and round(loss["adagrad"], 4) == 0.0006
    assert round(loss["rmsprop"], 3) == 0.008 and round(loss["momentum"], 3) == 0.011
    assert round(loss["gd"], 2) == 0.46
    assert round(float(snap.params[trace.run("gd"), 0]), 2) == -3.04


def test_after_300(trace):
    snap = trace.at_event("After 300")
    loss = {n: float(snap.loss[trace.run(n)]) for n in trace.sim.names}
    assert loss["adagrad"] < 1e-12 and loss["adam"] < 1e-12
    assert f"{loss['momentum']:.0e}" == "2e-07"
    i = trace.run("gd")
    assert round(1 - float(snap.params[i, 0]) / -4.5, 2) == 0.69
    j = trace.run("rmsprop")
    assert round(loss["rmsprop"], 3) == 0.016
    assert np.linalg.norm(trace.params[100:, j], axis=1).max() < 0.5  # got near early ...
    across = np.diff(trace.params[200:, j, 1])
    np.testing.assert_allclose(np.abs(across), 0.05, rtol=0.05)  # ... and hops across with steps of lr
    assert np.all(across[1:] * across[:-1] < 0)
    assert loss["rmsprop"] > 1e3 * loss["momentum"]


def test_description_try_cosine_rmsprop_lands():
    sim = build_simulation(load(STEM))
    sim.set_hyperparameters("rmsprop", schedule={"kind": "cosine", "T_max": 300})
    sim.step(300)
    assert sim.loss[sim.index_of("rmsprop")] < 1e-12
