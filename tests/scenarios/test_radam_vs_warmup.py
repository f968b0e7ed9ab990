"""54-radam-vs-warmup: RAdam's built-in warm-up (momentum steps, then a rectifier) against Adam with and without one."""
from __future__ import annotations

import math

import numpy as np
import pytest

from optsim.engine.analysis.critical import analyze_point
from optsim.engine.optim.registry import get_optimizer
from optsim.engine.scenario.build import build_simulation

from scenario_play import load, play

STEM = "54-radam-vs-warmup"
B2 = 0.999
RHO_INF = 2 / (1 - B2) - 1


@pytest.fixture(scope="module")
def trace():
    return play(STEM)


def rho(t: int) -> float:
    return RHO_INF - 2 * t * B2 ** t / (1 - B2 ** t)


def rectifier(trace, t: int) -> float:
    """RAdam's update t divided by Adam's for the gradients radam itself saw (the engine's optimizers)."""
    i = trace.run("radam")
    grads = trace.sim.objective.gradient(trace.params[:t, i])
    ratios = []
    for name in ("radam", "adam"):
        spec = get_optimizer(name)
        p = trace.params[:1, i].copy()
        state, hyper = spec.init(p), spec.make_hyper([{}])
        for g in grads:
            upd, state = spec.update(g[None], state, p, np.array([[0.5]]), hyper)
        ratios.append(upd[0, 0])
    return ratios[0] / ratios[1]


def ridge(trace, x: float) -> float:
    ys = np.linspace(0, 1, 1001)
    return float(ys[np.argmax(trace.sim.objective.loss(np.column_stack([np.full_like(ys, x), ys])))])


def test_the_surface_and_the_start(trace):
    snap = trace.at_event("Three runs at lr 0.5 from (-2, 0.02), on the floor of a narrow trench")
    assert snap.tick == 0 and {r.hyper["lr"] for r in trace.scenario.runs} == {0.5}
    np.testing.assert_allclose(snap.grad[0], [-0.05, 0.19], atol=0.005)
    obj = trace.sim.objective
    best = analyze_point(obj, [3, 0])
    assert best.kind == "local minimum" and best.loss == pytest.approx(-0.07)
    for side in ([3, 1], [3, -1]):
        r = analyze_point(obj, side)
        assert r.kind == "local minimum" and abs(r.loss) < 1e-12
    assert max(t for t in range(1, 20) if rho(t) <= 5) == 5  # updates 1 to 5 take momentum steps


def test_update_1(trace):
    trace.at_event("Update 1: adam stepped lr = 0.5 in every coordinate, over the ridge to y = -0.48")
    step = np.abs(trace.params[1] - trace.params[0])
    np.testing.assert_allclose(step[trace.run("adam")], 0.5, rtol=1e-6)
    assert round(float(trace.params[1, trace.run("adam"), 1]), 2) == -0.48
    assert abs(trace.params[1, trace.run("adam"), 1]) > ridge(trace, -1.5)
    np.testing.assert_allclose(step[trace.run("adam-warmup")], 0.005, rtol=1e-6)
    g0 = trace.sim.objective.gradient(trace.params[:1, trace.run("radam")])[0]
    np.testing.assert_allclose(step[trace.run("radam")], 0.5 * np.abs(g0), rtol=1e-12)  # lr x gradient
    assert round(float(step[trace.run("radam"), 0]), 3) == 0.025 and round(float(step[trace.run("radam"), 1]), 3) == 0.097


def test_update_6_the_rectifier_starts(trace):
    trace.at_event("Update 6: radam starts dividing by sigma, times its rectifier r = 0.026")
    r6 = rectifier(trace, 6)
    assert round(r6, 3) == 0.026
    assert r6 == pytest.approx(math.sqrt((rho(6) - 4) * (rho(6) - 2) * RHO_INF
                                         / ((RHO_INF - 4) * (RHO_INF - 2) * rho(6))), rel=1e-5)  # eps sits elsewhere
    steps = np.abs(np.diff(trace.params[:7, trace.run("radam"), 0]))
    assert round(float(steps[4]), 3) == 0.025 and round(float(steps[5]), 3) == 0.013


def test_update_100_and_the_arrivals(trace):
    trace.at_event("Update 100: radam's rectifier has reached only 0.22 (0.52 by update 600)")
    assert round(rectifier(trace, 100), 2) == 0.22 and round(rectifier(trace, 600), 2) == 0.52
    assert trace.lr[100, trace.run("adam-warmup")] == pytest.approx(0.5 * (0.01 + 0.99 * 99 / 100))  # nearly full
    first = {n: int(np.argmax(trace.loss[:, trace.run(n)] < -0.069)) for n in ("adam-warmup", "radam")}
    assert first == {"adam-warmup": 49, "radam": 100}


def test_the_end(trace):
    snap = trace.at_event("adam-warmup and radam stayed in the trench and reached the best minimum (3, 0), loss -0.07")
    for name in ("adam-warmup", "radam"):
        i = trace.run(name)
        assert np.abs(trace.params[:, i, 1]).max() < ridge(trace, 0.0)  # never over the ridge
        assert np.linalg.norm(snap.params[i] - [3, 0]) < 0.02 and round(float(snap.loss[i]), 2) == -0.07
    i = trace.run("adam")
    assert np.linalg.norm(snap.params[i] - [3, -1]) < 1e-6 and round(float(snap.loss[i]), 2) == 0.0


def test_description_radam_on_the_steeper_trench():
    """On the warm-up scenario's own trench (gradient 1.94 across) RAdam's first momentum step throws it out."""
    sim = build_simulation(load("51-warmup"))
    assert round(float(sim.objective.gradient(np.array([[-2.0, 0.02]]))[0, 1]), 2) == 1.94
    sim.set_hyperparameters("adam", optimizer="radam")
    sim.reset_run("adam")
    i = sim.index_of("adam")
    sim.step()
    assert sim.params[i, 1] < -0.5  # over the ridge (about 0.3 away) at the first update
    sim.step(399)
    assert np.linalg.norm(sim.params[i] - [3, -1]) < 1e-3  # and into the side valley


def test_the_end_neither_sits_still(trace):
    """At a constant lr 0.5 both runs in the trench bounce across its floor; `optsim diagnose` sees no standstill."""
    trace.at_event("but at lr 0.5 neither sits still: both rattle across the trench floor, up to 0.03 off it")
    off, gmax = [], []
    for name in ("adam-warmup", "radam"):
        i = trace.run(name)
        y = trace.params[500:601, i, 1]
        assert np.mean(np.sign(y[1:]) != np.sign(y[:-1])) > 0.85 and trace.lr[600, i] == 0.5
        off.append(float(np.abs(y).max()))
        gmax.append(float(trace.grad_norm[501:601, i].max()))
    assert round(max(off), 2) == 0.03 and round(max(gmax), 2) == 0.26
