"""12-monkey-saddle: a degenerate critical point (gradient and Hessian zero) and the crawl toward it."""
from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.analysis.critical import analyze_point

from scenario_play import play

STEM = "12-monkey-saddle"
MIN_LOSS = -27 / 256  # r^4 - r^3 at r = 3/4


@pytest.fixture(scope="module")
def trace():
    return play(STEM)


def test_origin_is_degenerate_and_at_origin_never_moves(trace):
    i = trace.run("at-origin")
    snap = trace.at_event("at-origin sits on the monkey saddle")
    assert snap.tick == 0
    r = analyze_point(trace.sim.objective, snap.params[i])
    assert r.kind == "degenerate" and np.linalg.norm(r.grad) == 0.0
    np.testing.assert_array_equal(r.hessian, np.zeros((2, 2)))
    np.testing.assert_array_equal(r.eigenvalues, [0.0, 0.0])
    assert np.all(trace.params[:, i] == 0.0)


def test_three_valleys_down_three_ridges_up(trace):
    obj = trace.sim.objective
    angles = np.radians(np.arange(0, 360, 60))
    pts = 0.1 * np.column_stack([np.cos(angles), np.sin(angles)])
    loss = obj.loss(pts)
    assert np.all(loss[1::2] < 0) and np.all(loss[0::2] > 0)  # valleys at 60, 180, 300 degrees


def test_declared_minima(trace):
    for m in trace.scenario.surface.minima:
        r = analyze_point(trace.sim.objective, m)
        assert r.kind == "local minimum" and r.loss == pytest.approx(MIN_LOSS, abs=1e-12)
        assert round(r.loss, 4) == -0.1055


def test_off_ridge_turns_into_a_valley(trace):
    i = trace.run("off-ridge")
    assert trace.scenario.runs[i].start == (1.0, 0.05)
    snap = trace.at_event("off-ridge, started 0.05 off the ridge")
    np.testing.assert_allclose(snap.params[i], [0.375, 0.6495], atol=5e-5)
    assert round(float(snap.loss[i]), 4) == -0.1055


def test_below_creeps_then_falls_into_the_lower_valley(trace):
    i, j = trace.run("below"), trace.run("on-ridge")
    early = trace.at_event("still creeping toward the saddle next to on-ridge")
    assert np.linalg.norm(early.params[i]) < 0.07 and np.linalg.norm(early.params[j]) < 0.07
    late = trace.at_event("now it has fallen into the lower valley")
    np.testing.assert_allclose(late.params[i], [0.375, -0.6495], atol=5e-5)
    assert round(float(late.loss[i]), 4) == -0.1055


def test_on_ridge_creeps_ever_slower_and_never_arrives(trace):
    i = trace.run("on-ridge")
    assert np.all(trace.params[:, i, 1] == 0.0)
    x = trace.params[:, i, 0]
    steps = -np.diff(x)
    assert np.all(steps > 0) and np.all(np.diff(steps[5:]) < 0)  # always toward 0, every step smaller
    snap = trace.at_event("on-ridge is still creeping")
    assert snap.tick == 400
    assert round(float(snap.params[i, 0]), 4) == 0.0078
    assert round(float(snap.grad_norm[i]), 5) == 0.00018
    r = analyze_point(trace.sim.objective, snap.params[i])
    assert [round(float(v), 3) for v in r.eigenvalues] == [-0.046, 0.047]
    # the gradient shrinks like x^2: 3x^2 + 4x^3
    assert snap.grad_norm[i] == pytest.approx(3 * x[-1] ** 2 + 4 * x[-1] ** 3, rel=1e-12)


def test_description_try_h_on_on_ridge(trace):
    """'press h on on-ridge at any time: both eigenvalues shrink toward 0 as it creeps'."""
    i = trace.run("on-ridge")
    eig = np.array([analyze_point(trace.sim.objective, p).eigenvalues for p in trace.params[::20, i]])
    mags = np.abs(eig)
    assert np.all(np.diff(mags[:, 0]) < 0) and np.all(np.diff(mags[:, 1]) < 0)
    assert mags[-1].max() < 0.05


def test_description_try_a_tiny_push(trace):
    """'give on-ridge a start of [1, 0.0001]': it creeps too, and reaches a minimum only after some 370 steps."""
    from optsim.engine.scenario.build import build_simulation

    sim = build_simulation(trace.scenario)
    sim.set_start("on-ridge", [1.0, 0.0001])
    i = sim.index_of("on-ridge")
    loss, dist = [], []
    for _ in range(400):
        sim.step()
        loss.append(sim.loss[i])
        dist.append(np.linalg.norm(sim.params[i]))
    loss = np.array(loss)
    assert min(dist) < 0.05  # creeps toward the saddle
    arrived = int(np.argmax(loss < MIN_LOSS + 1e-3)) + 1
    assert loss[-1] < MIN_LOSS + 1e-6 and 350 <= arrived <= 390
