"""52-transformer-noam: the Transformer's schedule at d_model 512 and 4000 warm-up steps, on a trench 1000x narrower."""
from __future__ import annotations

import math

import numpy as np
import pytest

from optsim.engine.analysis.critical import analyze_point
from optsim.engine.optim.schedules import schedule_curve

from scenario_play import play

STEM = "52-transformer-noam"
PEAK = 1 / math.sqrt(512 * 4000)


@pytest.fixture(scope="module")
def trace():
    return play(STEM)


def first_below(trace, name: str, level: float = -0.69) -> int:
    return int(np.argmax(trace.loss[:, trace.run(name)] < level))


def test_the_surface_and_the_runs(trace):
    assert trace.at_event("Three Adam runs (betas 0.9, 0.98; eps 1e-9) from (-2, 0.00002)").tick == 0
    runs = {r.name: r for r in trace.scenario.runs}
    assert {r.start for r in runs.values()} == {(-2.0, 0.00002)}
    assert all(r.optimizer == "adam" and r.hyper["betas"] == (0.9, 0.98) and r.hyper["eps"] == 1e-9
               for r in runs.values())
    assert runs["noam"].schedule == {"kind": "noam", "d_model": 512, "warmup_steps": 4000}
    assert runs["constant"].hyper["lr"] == runs["short-warmup"].hyper["lr"] == pytest.approx(PEAK, rel=1e-5)
    obj = trace.sim.objective
    best = analyze_point(obj, [3, 0])
    assert best.kind == "local minimum" and best.loss == pytest.approx(-0.7)
    for side in ([3, 0.001], [3, -0.001]):
        r = analyze_point(obj, side)
        assert r.kind == "local minimum" and abs(r.loss) < 1e-12
    ys = np.linspace(0, 0.001, 10001)
    prof = obj.loss(np.column_stack([np.full_like(ys, 3.0), ys]))
    assert 0.00025 <= ys[np.argmax(prof)] <= 0.00035  # the ridge, about 0.0003 away
    half = ys[np.argmax(prof > prof[0] / 2)]  # the trench is about 0.0001 wide
    assert 0.00005 < 2 * half < 0.00025


def test_the_schedule_with_its_real_numbers(trace):
    lr = schedule_curve({"kind": "noam", "d_model": 512, "warmup_steps": 4000}, 1.0, 20000)
    assert int(np.argmax(lr)) == 3999 and lr[3999] == pytest.approx(PEAK) and round(PEAK, 6) == 0.000699
    assert np.all(np.diff(lr[:4000]) > 0) and np.all(np.diff(lr[4000:]) < 0)
    assert lr[15999] == pytest.approx(PEAK / 2)  # decays like 1/sqrt(s): half the peak at 4 x 4000
    np.testing.assert_allclose(trace.lr[1:, trace.run("noam")], lr[:12000], rtol=1e-12)


def test_update_1(trace):
    trace.at_event("Update 1: constant stepped its full rate, 0.000699, in every coordinate")
    step = np.abs(trace.params[1] - trace.params[0])
    np.testing.assert_allclose(step[trace.run("constant")], PEAK, rtol=1e-3)
    assert round(float(trace.params[1, trace.run("constant"), 1]), 5) == -0.00068
    ys = np.linspace(0, 0.001, 10001)
    prof = trace.sim.objective.loss(np.column_stack([np.full_like(ys, -2.0), ys]))
    assert abs(trace.params[1, trace.run("constant"), 1]) > ys[np.argmax(prof)]  # over the ridge
    assert trace.lr[1, trace.run("noam")] == pytest.approx(PEAK / 4000)
    assert f"{step[trace.run('noam'), 1]:.1e}" == "1.7e-07" and f"{step[trace.run('short-warmup'), 1]:.1e}" == "7.0e-06"


def test_update_101(trace):
    trace.at_event("Update 101: short-warmup runs at its full rate 0.000699, still in the trench")
    assert trace.lr[101, trace.run("short-warmup")] == pytest.approx(PEAK, rel=1e-5)
    assert np.abs(trace.params[:102, trace.run("short-warmup"), 1]).max() < 0.0001
    noam = trace.lr[101, trace.run("noam")]
    assert f"{noam:.2e}" == "1.76e-05" and round(noam / PEAK * 100, 1) == 2.5


def test_update_4000(trace):
    trace.at_event("Update 4000: noam reaches its peak, 0.000699, at x = -0.61")
    assert trace.lr[4000, trace.run("noam")] == pytest.approx(PEAK)
    assert round(float(trace.params[4000, trace.run("noam"), 0]), 2) == -0.61
    assert round(float(trace.params[4000, trace.run("short-warmup"), 0]), 2) == 0.74


def test_arrivals_and_the_end(trace):
    snap = trace.at_event("short-warmup gets below loss -0.69, the bottom of the trench at (3, 0)")
    assert snap.tick == first_below(trace, "short-warmup") == 7218
    assert round(float(snap.params[trace.run("noam"), 0]), 2) == 1.29
    snap = trace.at_event("noam got below -0.69 at update 10760")
    assert first_below(trace, "noam") == 10760
    assert f"{trace.lr[12000, trace.run('noam')]:.6f}" == "0.000403"
    assert round(float(snap.loss[trace.run("noam")]), 3) == -0.695
    assert round(float(snap.loss[trace.run("short-warmup")]), 3) == -0.680
    i = trace.run("constant")
    assert np.linalg.norm(snap.params[i] - [3, -0.001]) < 0.0001 and round(float(snap.loss[i]), 2) == 0.0
    assert np.all(trace.params[1:, i, 1] < -0.0003)  # never back over the ridge
    for name in ("noam", "short-warmup"):  # both stayed in the trench all the way
        assert np.abs(trace.params[:, trace.run(name), 1]).max() < 0.0001


def test_description_sigma_memory_and_the_decay(trace):
    """beta2 = 0.98 averages about the last 1/(1 - 0.98) = 50 gradients; the decay lets noam settle lower:
    over the last 1000 updates noam's loss stays below short-warmup's mean."""
    assert round(1 / (1 - 0.98)) == 50
    tail = slice(11000, 12001)
    noam, short = trace.loss[tail, trace.run("noam")], trace.loss[tail, trace.run("short-warmup")]
    assert noam.mean() < short.mean() and trace.lr[12000, trace.run("noam")] < PEAK
    assert first_below(trace, "short-warmup") < first_below(trace, "noam")  # the long warm-up only cost time


def test_the_end_noam_rattles_less_than_short_warmup(trace):
    """noam does not rest: its rate is still 0.000403 and it bounces across the trench, only less far."""
    snap = trace.at_event("at a rate of 0.000403 it still rattles across the trench floor, but less than short-warmup")
    off = {}
    for name in ("noam", "short-warmup"):
        y = trace.params[11000:12001, trace.run(name), 1]
        assert np.mean(np.sign(y[1:]) != np.sign(y[:-1])) > 0.85  # across the floor, nearly every update
        off[name] = float(np.abs(y).max())
    assert f"{off['noam']:.1e}" == "1.6e-05" and f"{off['short-warmup']:.1e}" == "2.8e-05"
    assert round(float(snap.grad_norm[trace.run("noam")])) == 975
