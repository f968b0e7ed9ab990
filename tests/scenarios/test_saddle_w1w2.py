"""10-saddle-w1w2: the lecture's saddle of L = (1 - w1 w2)^2, every caption checked on the engine's numbers."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from optsim.engine.scenario.build import build_simulation
from optsim.engine.analysis.critical import analyze_point
from optsim.tui.cli import main as cli_main

from scenario_play import load, play, scenario_path

STEM = "10-saddle-w1w2"
ESCAPE = np.array([1.0, 1.0]) / math.sqrt(2.0)


@pytest.fixture(scope="module")
def trace():
    return play(STEM)


def test_on_line_stays_on_the_line_and_stalls_at_the_saddle(trace):
    i = trace.run("on-line")
    w = trace.params[:, i]
    assert np.all(w[:, 0] == -w[:, 1])  # the gradient keeps it exactly on w1 = -w2
    snap = trace.at_event("on-line has stalled at (0, 0)")
    assert snap.tick == 70
    assert snap.grad_norm[i] < 1e-6
    assert np.linalg.norm(snap.params[i]) < 1e-6
    assert snap.loss[i] == pytest.approx(1.0, abs=1e-9)  # "loss 1"
    report = analyze_point(trace.sim.objective, snap.params[i])
    assert report.kind == "saddle point"
    np.testing.assert_allclose(report.hessian, [[0, -2], [-2, 0]], atol=1e-6)
    np.testing.assert_allclose(report.eigenvalues, [-2, 2], atol=1e-6)
    np.testing.assert_allclose(report.escape_direction, ESCAPE, atol=1e-9)


def test_on_line_never_leaves_the_saddle(trace):
    i = trace.run("on-line")
    assert trace.at_event("on-line never left").tick == 160
    assert np.all(trace.grad_norm[70:, i] < 1e-6)
    assert np.all(np.abs(trace.loss[70:, i] - 1.0) < 1e-9)


def test_escape_waits_then_slides_into_the_valley(trace):
    i = trace.run("escape")
    start = np.asarray(trace.scenario.runs[i].start)
    np.testing.assert_allclose(start, 0.01 * ESCAPE, rtol=1e-15)  # "0.01 from the saddle along (1, 1)/sqrt(2)"
    assert np.all(trace.params[:71, i] == start)  # lr 0 until the release at step 70
    release = trace.at_event("Now it steps at lr 0.1")
    assert release.tick == 70 and trace.lr[71, i] == 0.1
    assert np.all(np.diff(trace.loss[70:, i]) <= 1e-15)  # downhill from the release on
    end = trace.at_event("escape reached (1, 1)")
    assert end.tick == 160
    np.testing.assert_allclose(end.params[i], [1.0, 1.0], atol=1e-12)
    assert end.loss[i] < 1e-12
    report = analyze_point(trace.sim.objective, end.params[i])
    assert report.kind == "degenerate"
    np.testing.assert_allclose(report.hessian, [[2, 2], [2, 2]], atol=1e-9)
    np.testing.assert_allclose(report.eigenvalues, [0, 4], atol=1e-9)


def test_off_line_reaches_the_valley_within_30_steps(trace):
    i = trace.run("off-line")
    w = trace.params[:, i]
    assert w[0, 0] != -w[0, 1]
    assert trace.at_event("off-line is already in the valley").tick == 30
    assert trace.loss[30, i] < 1e-12
    assert abs(w[30, 0] * w[30, 1] - 1.0) < 1e-6
    assert np.linalg.norm(w, axis=1).min() > 0.5  # never near the saddle


def test_first_caption_states_the_setup(trace):
    assert trace.at_event("Three runs of gradient descent at lr 0.1").tick == 0
    s = trace.scenario
    assert [r.hyper["lr"] for r in s.runs if r.name != "escape"] == [0.1, 0.1]
    assert all(r.optimizer == "sgd" for r in s.runs)
    start = np.asarray(s.runs[0].start)
    assert start[0] == -start[1]
    g = trace.sim.objective.gradient(start[None])[0]
    assert abs(g @ np.array([1.0, 1.0])) < 1e-12  # the gradient points along the line w1 = -w2
    assert g @ start > 0  # ... and descent moves toward (0, 0)


def test_description_try_a_start_slightly_off_the_line():
    """'[-1.2, 1.2001]: creeps to within 0.01 of the saddle, lingers at loss 1, escapes much later'."""
    sim = build_simulation(load(STEM), steps=400)
    sim.set_start("on-line", [-1.2, 1.2001])
    i, j = sim.index_of("on-line"), sim.index_of("off-line")
    dist, loss = [], []
    for _ in range(400):
        sim.step()
        dist.append(np.linalg.norm(sim.params[i]))
        loss.append(sim.loss[[i, j]].copy())
    loss = np.array(loss)
    assert min(dist) < 0.01  # creeps to within 0.01 of the saddle
    near = int(np.argmin(dist))
    assert loss[near, 0] > 0.99 and np.sum(loss[:, 0] > 0.99) >= 20  # lingers at loss about 1
    solved = np.flatnonzero(loss[:, 0] < 1e-12)
    off_solved = np.flatnonzero(loss[:, 1] < 1e-12)
    assert solved.size and solved[0] > near and solved[0] > 2 * off_solved[0]  # escapes, much later


def test_cli_analyze_reports_the_saddle(capsys):
    assert cli_main(["analyze", str(scenario_path(STEM)), "--at", "0,0", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "saddle point"
    assert report["eigenvalues"] == pytest.approx([-2.0, 2.0])
    assert report["escape_direction"] == pytest.approx(list(ESCAPE))


def test_the_diagnosis_calls_the_waiting_run_idle_until_its_rate_is_set():
    """escape has lr 0 until the event at tick 70: not 'descending' (it has not moved), and not started at 0."""
    from optsim.engine.analysis.diagnosis import Diagnoser

    scenario = load(STEM)
    sim = build_simulation(scenario)
    d = Diagnoser(sim)
    assert {r.status for r in d.report()} == {"not started"}
    i = sim.names.index("escape")
    start = sim.params[i].copy()
    for _ in range(60):
        sim.step()
        d.observe()
    rep = d.report()[i]
    assert np.array_equal(sim.params[i], start) and rep.status == "idle (lr 0)" and rep.evidence["lr"] == 0.0
