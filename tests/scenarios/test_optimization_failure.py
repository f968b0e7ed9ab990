"""02-optimization-failure: every caption on the engine's numbers, and random-init's bursts said as they happen."""
from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.analysis.critical import analyze_point
from optsim.engine.analysis.diagnosis import Diagnoser
from optsim.engine.analysis.guide import general_guide
from optsim.engine.scenario.build import build_simulation

from scenario_play import load, play

STEM = "02-optimization-failure"


@pytest.fixture(scope="module")
def trace():
    return play(STEM)


def test_the_two_starts(trace):
    assert trace.at_event("Two copies of the same network: one starts with every weight at 0").tick == 0
    assert np.all(trace.params[0, trace.run("zero-init")] == 0)
    assert np.all(np.abs(trace.params[0, trace.run("random-init")]) <= 0.4)


def test_zero_init_at_a_saddle(trace):
    snap = trace.at_event("zero-init has stopped: every gradient except the bias's is exactly 0")
    i = trace.run("zero-init")
    assert np.count_nonzero(snap.grad[i][:6]) == 0 and snap.grad_norm[i] < 1e-6
    assert analyze_point(trace.sim.objective, snap.params[i]).kind == "saddle point"


def test_random_init_fits_then_bursts(trace):
    i = trace.run("random-init")
    loss = trace.loss[:, i]
    assert np.argmax(loss < 0.02) < 300  # "below 0.02 by update 300"
    assert int(np.argmin(loss)) == 1969 and round(float(loss.min()), 4) == 0.0047
    x, y = trace.scenario.data.train["x"], trace.scenario.data.train["y"]
    assert round(float(np.mean((y - np.sin(2 * x)) ** 2)), 3) == 0.003  # "near the noise's 0.003"
    snap = trace.at_event("random-init has burst again: its loss was 0.0047 at update 1969")
    assert snap.tick == 1984 and round(float(snap.loss[i]), 3) == 0.078
    assert snap.loss[i] == pytest.approx(loss[1960:2001].max())  # the peak of the last burst
    rises = np.flatnonzero(loss[600:] > 3 * np.minimum.accumulate(loss)[600:])
    assert np.count_nonzero(np.diff(rises) > 50) >= 4  # up and back down again and again, not once


def test_diagnose_counts_the_bursts_as_the_caption_says():
    sim = build_simulation(load(STEM))
    diag = Diagnoser(sim)
    starts, losses = [], []
    while sim.step():
        diag.observe()
        facts = diag.burst.facts(sim.index_of("random-init"))
        if facts.count > len(starts):
            starts.append(facts.start)
            losses.append(facts.loss_from)
    assert len(starts) == 5 and starts[0] == 1137  # "five bursts since update 1137"
    assert np.all(np.diff(losses) < 0)  # "each from a lower loss"
    assert diag.report()[sim.index_of("random-init")].status == "burst"


def test_the_end(trace):
    snap = trace.at_event("After 2000 updates zero-init is still at the saddle, loss 0.52")
    assert snap.tick == 2000
    i, j = trace.run("zero-init"), trace.run("random-init")
    assert round(float(snap.loss[i]), 2) == 0.52
    guide = general_guide(trace.scenario, trace.sim)
    models = {m.name: m for m in guide.models}
    assert round(models["line"].train_loss, 2) == 0.19
    verdicts = {v.run: v.verdict for v in guide.verdicts}
    assert verdicts == {"zero-init": "optimization", "random-init": "good"}
    assert round(float(snap.loss[j]), 3) == 0.013 and round(models["random-init"].test_loss, 3) == 0.013
    assert trace.loss[2000, j] < trace.loss[1984, j]  # falling back after the burst


def test_description_try_a_decay():
    sim = build_simulation(load(STEM))
    sim.set_hyperparameters("random-init", schedule={"kind": "cosine", "T_max": 2000})
    sim.reset_run("random-init")
    j = sim.index_of("random-init")
    loss = []
    while sim.step():
        loss.append(sim.loss[j])
    loss = np.array(loss)
    assert np.all(loss[600:] < 2 * np.minimum.accumulate(loss)[600:])  # the bursts fade
    assert round(float(loss[-1]), 4) == 0.0054 and round(float(sim.test_loss()[j]), 4) == 0.0052
