"""42-adam-bias-correction: 1 - beta^t keeps Adam's steps at lr; the notes' printed 1 - beta does not."""
from __future__ import annotations

import math

import numpy as np
import pytest

from optsim.engine.analysis.critical import analyze_point
from optsim.engine.scenario.build import build_simulation

from scenario_play import load, play

STEM = "42-adam-bias-correction"
B1, B2 = 0.9, 0.999


@pytest.fixture(scope="module")
def trace():
    return play(STEM)


def x_step(trace, name: str, t: int) -> float:
    i = trace.run(name)
    return float(abs(trace.params[t, i, 0] - trace.params[t - 1, i, 0]))


def test_the_setup(trace):
    snap = trace.at_event("Three Adams from (-4, 0.4) on a long slope down to the minimum (6, 0)")
    assert snap.tick == 0
    runs = {r.name: r for r in trace.scenario.runs}
    assert [(r.optimizer, r.hyper.get("bias_correction")) for r in runs.values()] == [
        ("adam", None), ("adam_lecture", True), ("adam_lecture", False)]
    assert {r.start for r in runs.values()} == {(-4.0, 0.4)} and {r.hyper["lr"] for r in runs.values()} == {0.01}
    best = analyze_point(trace.sim.objective, [6, 0])
    assert best.kind == "local minimum" and best.loss == pytest.approx(1.0)
    xs = np.linspace(-4, 3, 71)  # "gradient about -1 for most of the way"
    gx = trace.sim.objective.gradient(np.column_stack([xs, np.zeros_like(xs)]))[:, 0]
    assert np.all(gx < -0.94)


def test_update_1_is_lr_for_all(trace):
    trace.at_event("Update 1: all three moved exactly lr = 0.01 in each coordinate")
    step = np.abs(trace.params[1] - trace.params[0])
    np.testing.assert_allclose(step, 0.01, rtol=1e-6)
    assert 1 - B1 ** 1 == 1 - B1 and 1 - B2 ** 1 == 1 - B2


def test_update_12_notes_steps_twice_lr(trace):
    trace.at_event("Update 12: notes steps 0.0208 along x, 2.08 lr")
    assert round(x_step(trace, "notes", 12), 4) == 0.0208
    assert round(x_step(trace, "notes", 12) / 0.01, 2) == 2.08
    assert round(x_step(trace, "corrected", 12), 4) == round(x_step(trace, "adam", 12), 4) == 0.0100
    # m-hat and sigma-hat of notes, from the gradients along its own path, relative to the latest gradient
    i = trace.run("notes")
    g = trace.sim.objective.gradient(trace.params[:12, i])[:, 0]  # the gradients of updates 1..12
    w = (1 - B1) * B1 ** np.arange(11, -1, -1)
    w2 = (1 - B2) * B2 ** np.arange(11, -1, -1)
    m_hat, s_hat = (w @ g) / (1 - B1), math.sqrt((w2 @ g ** 2) / (1 - B2))
    assert round(m_hat / g[-1], 2) == 7.18 and round(s_hat / abs(g[-1]), 2) == 3.45
    assert x_step(trace, "notes", 12) == pytest.approx(0.01 * abs(m_hat) / s_hat, rel=1e-6)


def test_notes_is_ahead_then_level_then_behind(trace):
    trace.at_event("After 100 updates notes is ahead, at x = -2.53")
    x = {n: trace.params[:, trace.run(n), 0] for n in trace.sim.names}
    assert round(float(x["notes"][100]), 2) == -2.53 and round(float(x["corrected"][100]), 2) == -3.00
    trace.at_event("Update 300: level, both near x = -1.00")
    assert round(float(x["notes"][300]), 2) == round(float(x["corrected"][300]), 2) == -1.00
    assert round(x_step(trace, "notes", 300), 4) == 0.0062 and round(x_step(trace, "corrected", 300), 4) == 0.0100
    ahead = x["notes"][2:] > x["corrected"][2:]  # from update 2 (update 1 is the same step)
    first_behind = int(np.argmin(ahead)) + 2
    assert ahead[: first_behind - 2].all() and not ahead[first_behind - 2:].any()  # one crossing, near 300
    assert 280 <= first_behind <= 320
    trace.at_event("Update 1000: corrected and adam are at x = 5.50, near the minimum")
    assert round(float(x["corrected"][1000]), 2) == round(float(x["adam"][1000]), 2) == 5.50
    assert round(float(x["notes"][1000]), 2) == 2.29
    assert round(x_step(trace, "notes", 1000), 4) == 0.0039
    assert round(math.sqrt(1 - B2) / (1 - B1), 2) == 0.32  # the limit of notes' step / lr on a steady slope


def test_steps_grow_then_shrink(trace):
    """The description: notes' steps grow to 2.08 lr by update 12 and then shrink; corrected steps lr."""
    notes = np.array([x_step(trace, "notes", t) for t in range(1, 801)])
    assert int(np.argmax(notes)) + 1 == 12 and np.all(np.diff(notes[11:]) < 0)
    corrected = np.array([x_step(trace, "corrected", t) for t in range(1, 301)])
    np.testing.assert_allclose(corrected, 0.01, rtol=3e-3)


def test_corrected_is_torch_adam(trace):
    trace.at_event("corrected and adam have been the same point at every step")
    diff = np.abs(trace.params[:, trace.run("corrected")] - trace.params[:, trace.run("adam")])
    assert diff.max() < 1e-9


def test_description_try_switch_bias_correction_on():
    sim = build_simulation(load(STEM))
    sim.set_hyperparameters("notes", bias_correction=True)
    sim.reset_run("notes")
    sim.step(400)
    np.testing.assert_allclose(sim.params[sim.index_of("notes")], sim.params[sim.index_of("corrected")],
                               rtol=0, atol=1e-12)
