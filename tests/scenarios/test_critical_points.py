"""11-critical-points: minimum, maximum and saddle on (x^2 - 1)^2 + (y^2 - 1)^2, kinds from analyze_point."""
from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.analysis.critical import analyze_point

from scenario_play import play

STEM = "11-critical-points"


@pytest.fixture(scope="module")
def trace():
    return play(STEM)


def kind_at(trace, point):
    return analyze_point(trace.sim.objective, np.asarray(point, dtype=float))


@pytest.mark.parametrize("point, eigenvalues, kind, loss", [
    ((1, 1), (8, 8), "local minimum", 0.0), ((-1, 1), (8, 8), "local minimum", 0.0),
    ((0, 0), (-4, -4), "local maximum", 2.0),
    ((1, 0), (-4, 8), "saddle point", 1.0), ((0, -1), (-4, 8), "saddle point", 1.0),
])
def test_description_table(trace, point, eigenvalues, kind, loss):
    r = kind_at(trace, point)
    assert r.kind == kind and r.loss == pytest.approx(loss, abs=1e-12)
    np.testing.assert_allclose(r.eigenvalues, eigenvalues, atol=1e-12)


def test_declared_minima_are_minima(trace):
    for m in trace.scenario.surface.minima:
        assert kind_at(trace, m).kind == "local minimum"


def test_on_maximum_never_moves(trace):
    i = trace.run("on-maximum")
    snap = trace.at_event("on-maximum sits exactly on the hilltop")
    assert snap.tick == 0 and snap.grad_norm[i] == 0.0
    r = kind_at(trace, snap.params[i])
    assert r.kind == "local maximum"
    np.testing.assert_allclose(r.eigenvalues, [-4, -4], atol=1e-12)
    assert np.all(trace.params[:, i] == 0.0)


def test_to_minimum_is_a_local_minimum(trace):
    i = trace.run("to-minimum")
    snap = trace.at_event("to-minimum has arrived at (1, 1)")
    assert snap.grad_norm[i] < 1e-6 and snap.loss[i] < 1e-12
    np.testing.assert_allclose(snap.params[i], [1, 1], atol=1e-6)
    r = kind_at(trace, snap.params[i])
    assert r.kind == "local minimum"
    np.testing.assert_allclose(r.eigenvalues, [8, 8], atol=1e-5)


def test_near_maximum_slides_into_minus_one_one(trace):
    i = trace.run("near-maximum")
    start = np.asarray(trace.scenario.runs[i].start)
    assert round(float(np.linalg.norm(start)), 2) == 0.06  # "0.06 from the hilltop"
    snap = trace.at_event("near-maximum started 0.06")
    np.testing.assert_allclose(snap.params[i], [-1, 1], atol=1e-6)
    assert np.all(np.diff(trace.loss[:, i]) <= 1e-15)


def test_to_saddle_stops_on_the_saddle(trace):
    i = trace.run("to-saddle")
    snap = trace.at_event("to-saddle has stopped at (1, 0)")
    assert snap.grad_norm[i] < 1e-6 and snap.loss[i] == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(snap.params[i], [1, 0], atol=1e-6)
    r = kind_at(trace, snap.params[i])
    assert r.kind == "saddle point"
    np.testing.assert_allclose(r.eigenvalues, [-4, 8], atol=1e-5)
    np.testing.assert_allclose(r.escape_direction, [0, 1], atol=1e-12)
    assert np.all(trace.params[:, i, 1] == 0.0)


def test_near_saddle_lingers_then_escapes(trace):
    i, j = trace.run("near-saddle"), trace.run("to-saddle")
    start = np.asarray(trace.scenario.runs[i].start) - np.asarray(trace.scenario.runs[j].start)
    np.testing.assert_array_equal(start, [0, 1e-6])  # "one millionth above to-saddle"
    lingering = trace.at_event("is still within 0.001 of the saddle")
    assert np.linalg.norm(lingering.params[i] - [1, 0]) < 1e-3
    gone = trace.at_event("now it has left along (0, 1)")
    np.testing.assert_allclose(gone.params[i], [1, 1], atol=1e-6)
    assert gone.loss[i] < 1e-6
    assert gone.loss[j] == pytest.approx(1.0, abs=1e-9)  # to-saddle still stuck at loss 1
    assert lingering.tick < gone.tick


def test_nine_critical_points(trace):
    """'nine points where the gradient is zero: four minima (loss 0), a maximum (loss 2), four saddles (loss 1)'."""
    kinds = {}
    for x in (-1, 0, 1):
        for y in (-1, 0, 1):
            r = kind_at(trace, (x, y))
            assert np.linalg.norm(r.grad) == 0.0
            kinds.setdefault(r.kind, []).append(r.loss)
    assert sorted((k, len(v), set(v)) for k, v in kinds.items()) == [
        ("local maximum", 1, {2.0}), ("local minimum", 4, {0.0}), ("saddle point", 4, {1.0})]
    grid = np.linspace(-2, 2, 401)
    X, Y = np.meshgrid(grid, grid)
    g = trace.sim.objective.gradient(np.column_stack([X.ravel(), Y.ravel()]))
    assert np.sum(np.linalg.norm(g, axis=1) < 1e-9) == 9  # no others on the plotted window's grid


def test_description_points_to_the_monkey_saddle():
    from optsim.engine.scenario.catalog import resolve

    assert resolve("monkey-saddle").name == "12-monkey-saddle.toml"
