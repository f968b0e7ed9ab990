"""50-adagrad-bursts: the lecture's Adagrad bursts at a constant rate; a decaying rate damps the bursts."""
from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.scenario.build import build_simulation

from scenario_play import load, play

STEM = "50-adagrad-bursts"


@pytest.fixture(scope="module")
def trace():
    return play(STEM)


def bursts(loss: np.ndarray, steps: np.ndarray, after: int = 20) -> list[int]:
    """Updates k > after where the loss jumps above 100x its lowest so far (and above 1e-3) while the step
    size leaps over 1: a sudden jump in step size and loss. Returns the first update of each burst."""
    low = np.minimum.accumulate(loss)
    hot = (loss[1:] > 100 * low[:-1]) & (loss[1:] > 1e-3) & (steps > 1.0)
    ks = [k + 1 for k in np.flatnonzero(hot) if k + 1 > after]
    return [k for i, k in enumerate(ks) if i == 0 or k - ks[i - 1] > 20]


def test_setup(trace):
    assert trace.at_event("and the same with lr decaying as 0.3 x 0.995^t").tick == 0
    runs = trace.scenario.runs
    assert [r.optimizer for r in runs] == ["adagrad_lecture"] * 2 and [r.hyper["lr"] for r in runs] == [0.3, 0.3]
    j = trace.run("decayed")
    np.testing.assert_allclose(trace.lr[1:, j], 0.3 * 0.995 ** np.arange(800), rtol=1e-12)
    assert np.all(trace.lr[:, trace.run("constant")] == 0.3)


def test_both_rest_at_the_minimum_by_100(trace):
    snap = trace.at_event("Both have walked down the floor")
    assert np.all(snap.loss < 1e-12)


def test_burst_without_decay_and_not_with_it(trace):
    i, j = trace.run("constant"), trace.run("decayed")
    b_const = bursts(trace.loss[:, i], trace.step_sizes(i))
    b_decay = bursts(trace.loss[:, j], trace.step_sizes(j))
    assert len(b_const) == 2 and b_decay == []
    assert trace.step_sizes(j)[20:].max() < 0.1
    assert trace.loss[100:, j].max() < 1e-12


def test_first_burst(trace):
    i, j = trace.run("constant"), trace.run("decayed")
    snap = trace.at_event("Burst! constant's sigma")
    k = snap.tick
    assert round(float(snap.params[i, 1]), 2) == -1.66 and round(float(snap.loss[i])) == 69
    assert trace.loss[k - 10, i] < 0.001  # "in 10 updates": from rest to the peak
    assert trace.loss[k, i] == trace.loss[100:400, i].max()  # the peak of this burst
    assert round(float(trace.lr[k, j]), 3) == 0.094  # the rate of the update that led here
    assert trace.loss[k, j] < 1e-12 and trace.step_sizes(j)[100:k].max() < 1e-5  # decayed stays at the minimum


def test_settles_back(trace):
    i = trace.run("constant")
    snap = trace.at_event("constant has settled back")
    assert snap.loss[i] < 1e-3


def test_second_burst(trace):
    i, j = trace.run("constant"), trace.run("decayed")
    snap = trace.at_event("And again: constant bursts")
    k = snap.tick
    assert round(float(snap.params[i, 1]), 2) == 1.39 and round(float(snap.loss[i]), 1) == 48.0
    assert trace.loss[k, i] == trace.loss[400:, i].max()
    assert round(float(trace.lr[k, j]), 3) == 0.013
    assert bursts(trace.loss[: k + 1, j], trace.step_sizes(j)[:k]) == []  # "decayed has had no burst at all"


def test_description_try_torch_adagrad_has_no_bursts():
    sim = build_simulation(load(STEM))
    sim.set_hyperparameters("constant", optimizer="adagrad")
    params, loss = [sim.params[0].copy()], [sim.loss[0]]
    for _ in range(800):
        sim.step()
        params.append(sim.params[0].copy())
        loss.append(sim.loss[0])
    steps = np.linalg.norm(np.diff(np.array(params), axis=0), axis=1)
    assert bursts(np.array(loss), steps) == []
    assert np.all(np.diff(loss[20:]) <= 0)


def test_the_mechanism_sigma_shrinks_then_is_rebuilt(trace):
    """'sigma across the ravine shrank until lr/sigma was too big for the walls' (curvature 50: stable below
    lr/sigma = 2/50), and 'the large gradients out there rebuilt sigma'."""
    i = trace.run("constant")
    gy = 50.0 * trace.params[:-1, i, 1]  # the gradient across the ravine before each update
    sigma = np.sqrt(np.cumsum(gy ** 2) / np.arange(1, gy.size + 1))  # root mean square so far
    rate = 0.3 / sigma
    k = trace.at_event("Burst! constant's sigma").tick
    crossed = int(np.argmax(rate > 2 / 50))  # from here on the walls are unstable; the burst grows
    assert 50 < crossed < k - 10  # from a displacement of ~1e-30, so it shows only much later
    assert np.all(rate[crossed:k - 5] > 2 / 50)
    assert np.all(np.diff(sigma[30 : k - 10]) < 0)  # because sigma kept shrinking
    assert rate[k + 5] < 2 / 50 and sigma[k + 5] > 1.5 * sigma[k - 10]  # rebuilt: stable again
