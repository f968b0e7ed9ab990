"""30-stuck-not-small-gradient: in the ravine a bouncing run's loss is flat while its gradient stays large,
and the bounce is a steady cycle that survives nearby rates and starts (not a knife-edge lr = 2/lambda_max)."""
from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.analysis.diagnosis import Diagnoser
from optsim.engine.scenario.build import build_simulation
from optsim.engine.scenario.load import load_scenario

from scenario_play import load, play

STEM = "30-stuck-not-small-gradient"


@pytest.fixture(scope="module")
def trace():
    return play(STEM)


def bounce_ys(lr: float, start: tuple[float, float], steps: int = 300) -> np.ndarray:
    """bounce's y over its last 100 updates, run at ``lr`` from ``start``."""
    sim = build_simulation(load(STEM), steps=steps)
    sim.set_hyperparameters("bounce", lr=lr)
    sim.set_start("bounce", start)
    sim.reset_run("bounce")
    ys = []
    while sim.step():
        ys.append(sim.params[sim.index_of("bounce"), 1])
    return np.array(ys[-100:])


def test_the_ravine(trace):
    assert trace.at_event("at the floor the walls are 500 times steeper than the floor. bounce uses lr 0.05").tick == 0
    obj = trace.sim.objective
    np.testing.assert_allclose(obj.hessian(np.zeros((1, 2)))[0], [[0.1, 0], [0, 50]])
    far = obj.gradient(np.array([[0.0, 1e4]]))[0, 1]
    assert 49.99 < far < 50  # the walls' slope levels off at 50
    assert [r.hyper["lr"] for r in trace.scenario.runs] == [0.05, 0.002]


def test_bounce_is_stuck_with_a_large_gradient(trace):
    i = trace.run("bounce")
    snap = trace.at_event("Over the last 100 updates bounce's loss changed by less than 1%")
    assert snap.tick == 300
    window = trace.loss[200:301, i]
    assert (window.max() - window.min()) / window.min() < 0.01
    assert round(float(trace.loss[200, i]), 2) == 12.64 and round(float(trace.loss[300, i]), 2) == 12.55
    assert np.all(np.round(trace.grad_norm[200:301, i]) == 30)
    y = trace.params[10:301, i, 1]
    assert np.all(np.abs(np.abs(y) - 0.75) < 1e-6) and np.all(y[1:] * y[:-1] < 0)  # wall to wall


def test_diagnose_calls_it_a_bounce_at_300():
    sim = build_simulation(load(STEM), steps=300)
    diag = Diagnoser(sim)
    while sim.step():
        diag.observe()
    assert diag.report()[sim.index_of("bounce")].status == "oscillating"


@pytest.mark.parametrize("lr", [0.0475, 0.05, 0.0525])
@pytest.mark.parametrize("start", [(-4.5, 1.0), (-4.3, 0.6), (-4.7, 1.4), (4.0, -0.2)])
def test_the_bounce_survives_nearby_rates_and_starts(lr, start):
    """The description's claim: y settles at +-sqrt((25 lr)^2 - 1) for lr 5% either side and other starts."""
    ys = bounce_ys(lr, start)
    assert np.all(ys[1:] * ys[:-1] < 0)  # still wall to wall, every update
    np.testing.assert_allclose(np.abs(ys), np.sqrt((25 * lr) ** 2 - 1), rtol=1e-6)
    assert {0.0475: 0.64, 0.05: 0.75, 0.0525: 0.85}[lr] == round(float(np.abs(ys[-1])), 2)


def test_lowering_the_rate_lands_on_the_floor(trace):
    i = trace.run("bounce")
    trace.at_event("Now bounce's lr drops to 0.02: within three steps it is on the floor")
    assert trace.lr[301, i] == 0.02
    assert abs(trace.params[302, i, 1]) > 1e-3 and abs(trace.params[303, i, 1]) < 1e-6
    assert round(float(trace.loss[303, i]), 2) == 0.05


def test_floor_progress(trace):
    i, j = trace.run("bounce"), trace.run("crawl")
    snap = trace.at_event("One learning rate cannot suit both directions")
    assert snap.tick == 400
    x = trace.params[:, :, 0]
    per_step = 1 - x[1:] / x[:-1]  # fraction of the remaining way covered per update
    assert np.allclose(per_step[:300, i], 0.005) and np.allclose(per_step[301:, i], 0.002)
    assert np.allclose(per_step[:, j], 0.0002)
    assert round(float(1 - x[400, j] / x[0, j]), 2) == 0.08
    assert np.all(trace.grad_norm[:, j] > 0)
    assert np.all(np.diff(trace.loss[:, j]) < 0)  # crawl never bounces back up


def test_description_try_raising_then_lowering_the_rate():
    ys = bounce_ys(0.06, (-4.5, 1.0), steps=400)
    assert np.all(ys[1:] * ys[:-1] < 0) and round(float(np.abs(ys).max()), 2) == 1.12  # higher, not diverging
    ys = bounce_ys(0.039, (-4.5, 1.0), steps=400)
    assert np.all(np.abs(ys) < 1e-5) and np.all(np.abs(ys[1:]) < np.abs(ys[:-1]))  # settles on the floor


def test_a_quadratic_ravine_bounces_only_at_exactly_two_over_lambda(tmp_path):
    """Why the walls straighten: on 0.5 (0.1 x^2 + 50 y^2) a 5% change of lr ends the bounce either way."""
    runs = "".join(f'[[runs]]\nname = "lr-{lr}"\noptimizer = "sgd"\nlr = {lr}\nstart = [-4.5, 1.0]\nsteps = 300\n\n'
                   for lr in (0.038, 0.04, 0.042))
    path = tmp_path / "quadratic.toml"
    path.write_text('title = "q"\ndescription = "q"\n\n[surface]\nbuiltin = "ravine"\n'
                    'constants = { a = 0.1, b = 50.0 }\n\n' + runs)
    t = play(load_scenario(path))
    y = np.abs(t.params[-1, :, 1])
    assert y[0] < 1e-5 and y[1] == pytest.approx(1.0) and y[2] > 1e4  # settles, bounces, diverges
