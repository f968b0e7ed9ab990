"""51-warmup: unwarmed Adam's first lr-sized step throws it out of the trench; warm-up and noam do not."""
from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.scenario.build import build_simulation
from optsim.engine.analysis.critical import analyze_point
from optsim.engine.analysis.diagnosis import Diagnoser

from scenario_play import load, play

STEM = "51-warmup"


@pytest.fixture(scope="module")
def trace():
    return play(STEM)


def test_the_surface(trace):
    assert trace.at_event("Four Adam runs from (-2, 0.02), 0.02 off the floor of a narrow trench").tick == 0
    assert {r.start for r in trace.scenario.runs} == {(-2.0, 0.02)} and len(trace.scenario.runs) == 4
    obj = trace.sim.objective
    best = analyze_point(obj, [3, 0])
    assert best.kind == "local minimum" and best.loss == pytest.approx(-0.7)
    assert round(float(best.eigenvalues[1]), 1) == 98.8
    for side in ([3, 1], [3, -1]):
        r = analyze_point(obj, side)
        assert r.kind == "local minimum" and abs(r.loss) < 1e-12
    ys = np.linspace(0, 1, 1001)
    prof = obj.loss(np.column_stack([np.full_like(ys, 3.0), ys]))
    ridge = ys[np.argmax(prof)]
    assert 0.25 <= ridge <= 0.35  # "a ridge about 0.3 away"
    width = ys[np.argmax(prof > prof[0] / 2)]  # where the trench's loss is half its depth... roughly 0.1 wide
    assert 0.05 < 2 * width < 0.25


def test_schedules(trace):
    lr = {n: trace.lr[:, trace.run(n)] for n in trace.sim.names}
    assert lr["adam-warmup"][1] == pytest.approx(0.005) and lr["adam-warmup"][101] == pytest.approx(0.5)
    assert lr["noam"][1] == pytest.approx(0.005) and lr["noam"][100] == pytest.approx(0.5)
    assert lr["noam"][400] == pytest.approx(5.0 * 400 ** -0.5)  # decays like 1/sqrt(s)
    assert lr["adam-warmup"][400] < 1e-4  # the cosine has brought it back to about 0
    assert np.all(lr["adam"][1:] == 0.5) and np.all(lr["adam-small"][1:] == 0.05)
    noam = trace.scenario.runs[trace.run("noam")]
    assert noam.hyper["betas"] == (0.9, 0.98) and noam.hyper["eps"] == 1e-9


def test_first_update(trace):
    trace.at_event("Update 1: with sigma gathered from one gradient")
    step = np.abs(trace.params[1] - trace.params[0])
    np.testing.assert_allclose(step[trace.run("adam")], [0.5, 0.5], rtol=1e-7)
    assert round(float(trace.params[1, trace.run("adam"), 1]), 2) == -0.48
    for name, size in (("adam-warmup", 0.005), ("noam", 0.005), ("adam-small", 0.05)):
        assert step[trace.run(name), 1] == pytest.approx(size, rel=1e-6)
    ys = np.linspace(0, 1, 1001)
    ridge = ys[np.argmax(trace.sim.objective.loss(np.column_stack([np.full_like(ys, -1.5), ys])))]
    assert abs(trace.params[1, trace.run("adam"), 1]) > ridge  # over the ridge


def test_at_50(trace):
    snap = trace.at_event("are at the bottom of the trench")
    for name in ("adam-warmup", "noam"):
        i = trace.run(name)
        assert snap.loss[i] < -0.69 and round(float(trace.lr[50, i]), 2) == 0.25
        assert trace.lr[51, i] > trace.lr[50, i]  # still climbing
    assert round(float(snap.params[trace.run("adam-small"), 0]), 2) == 0.32


def test_end(trace):
    snap = trace.at_event("adam-warmup sits on the best minimum (3, 0), loss -0.70: its cosine took the rate to 0")
    i = trace.run("adam-warmup")
    assert np.linalg.norm(snap.params[i] - [3, 0]) < 1e-6 and round(float(snap.loss[i]), 2) == -0.70
    assert trace.lr[400, i] < 1e-4 and snap.grad_norm[i] < 1e-6  # sits still
    i = trace.run("adam")
    assert np.linalg.norm(snap.params[i] - [3, -1]) < 1e-6 and round(float(snap.loss[i]), 2) == 0.0
    assert np.all(trace.params[1:, i, 1] < -0.3)  # never came back over the ridge
    j = trace.run("adam-small")
    assert np.linalg.norm(snap.params[j] - [3, 0]) < 1e-4
    first = {n: int(np.argmax(trace.loss[:, trace.run(n)] < -0.69)) for n in ("adam-small", "adam-warmup")}
    assert first == {"adam-small": 141, "adam-warmup": 49}


def test_description_try_warm_up_adam():
    sim = build_simulation(load(STEM))
    sim.set_hyperparameters("adam", schedule={"kind": "constant", "warmup": {"steps": 100, "start_factor": 0.01}})
    sim.reset_run("adam")
    i = sim.index_of("adam")
    ys = []
    for _ in range(400):
        sim.step()
        ys.append(sim.params[i, 1])
    assert np.max(np.abs(ys)) < 0.1  # it stays in the trench
    assert abs(sim.params[i, 0] - 3) < 0.01


def test_end_noam_rattles_across_the_floor(trace):
    """noam's rate decays like 1/sqrt(s) but never to 0: at the end it bounces across the trench, not still."""
    snap = trace.at_event("noam does not sit still: its rate, decaying like 1/sqrt(s), is still 0.25")
    i = trace.run("noam")
    assert trace.lr[400, i] == pytest.approx(0.25)
    y = trace.params[300:401, i, 1]
    assert np.mean(np.sign(y[1:]) != np.sign(y[:-1])) >= 0.9  # across the floor, nearly every update
    assert round(float(np.abs(y).max()), 2) == 0.01 and np.all(np.abs(trace.params[300:401, i, 0] - 3) < 1e-4)
    window = trace.loss[300:401, i]
    assert round(float(window.max()), 3) == -0.695 and round(float(window.min()), 2) == -0.70
    assert round(float(snap.grad_norm[i]), 2) == 0.88


def test_diagnose_agrees_that_noam_bounces():
    """`optsim diagnose warmup` reads the same run as bouncing, adam-warmup as settled."""
    sim = build_simulation(load(STEM))
    diag = Diagnoser(sim)
    while sim.step():
        diag.observe()
    status = {n: r.status for n, r in zip(sim.names, diag.report())}
    assert status["noam"] == "oscillating" and status["adam-warmup"] == "converged"
