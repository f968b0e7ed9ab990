"""43-why-momentum-works: on a quadratic the error along each eigenvector is multiplied by
1 - lr lambda every step (gradient descent), stable only while lr lambda_max < 2; the heavy
ball at Distill's optimal rate and momentum shrinks both errors by about 0.818 a step."""
from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.analysis import curvature as cv

from scenario_play import play

STEM = "43-why-momentum-works"


@pytest.fixture(scope="module")
def trace():
    return play(STEM)


@pytest.fixture(scope="module")
def model(trace):
    found = cv.quadratic(trace.sim.objective, np.array([r.start for r in trace.scenario.runs]))
    assert found is not None
    return found


def _errors(trace, model, run: str) -> np.ndarray:
    """(ticks, 2): the run's error along the eigenvectors for lambda 1 (x) and 100 (y)."""
    return cv.eigen_errors(model, trace.params[:, trace.run(run)])


def test_the_surface_is_the_quadratic_described(model):
    np.testing.assert_allclose(model.eigenvalues, [1.0, 100.0])
    np.testing.assert_allclose(np.abs(model.eigenvectors), np.eye(2), atol=1e-12)
    np.testing.assert_allclose(model.minimum, [0.0, 0.0], atol=1e-12)
    assert cv.spectrum(model.eigenvectors[None] * 0 + np.diag([1.0, 100.0])[None]).condition[0] == 100.0


def test_the_rates_against_their_limits(trace):
    snap = trace.at_event("Three runs from (-4, 1) on a quadratic with eigenvalues 1 and 100")
    assert snap.tick == 0
    hessians = trace.sim.objective.hessian(snap.params)
    rates = np.array([[r.hyper["lr"]] * 2 for r in trace.scenario.runs])
    products = cv.rate_times_curvature(hessians, rates)
    assert [round(float(p), 2) for p in products] == [1.0, 2.02, 3.31]
    limits = [cv.stability_limit(r.optimizer, r.hyper) for r in trace.scenario.runs]
    assert limits[:2] == [2.0, 2.0] and round(limits[2], 2) == 3.34
    momentum = trace.scenario.runs[2].hyper
    assert np.isclose(momentum["lr"], (2 / (np.sqrt(100) + 1)) ** 2)
    assert np.isclose(momentum["momentum"], ((10 - 1) / (10 + 1)) ** 2)


def test_gd_multiplies_each_error_by_one_minus_lr_lambda(trace, model):
    e = _errors(trace, model, "gd")
    t = np.arange(len(e))
    np.testing.assert_allclose(e[:, 0], -4.0 * 0.99 ** t, rtol=1e-9)
    assert e[0, 1] == 1.0 and np.all(np.abs(e[1:, 1]) < 1e-12)  # (1 - 0.01 x 100) = 0: gone in one step
    snap = trace.at_event("gd's error along x is still 2.19")
    assert snap.tick == 60 and round(abs(float(e[60, 0])), 2) == 2.19
    assert trace.at_event("After 300 steps gd's error along x is 0.196").tick == 300
    assert round(abs(float(e[300, 0])), 3) == 0.196


def test_past_the_limit_only_the_steep_error_grows(trace, model):
    e = _errors(trace, model, "too-fast")
    assert trace.at_event("too-fast is past the limit").tick == 30
    np.testing.assert_allclose(e[:, 1], (1 - 2.02) ** np.arange(len(e)), rtol=1e-9)  # flips sign, grows 1.02
    assert round(float(abs(e[30, 1])), 2) == 1.81 and round(float(abs(e[30, 0])), 2) == 2.17
    assert round(float(abs(e[300, 1]))) == 380 and abs(e[300, 0]) < 0.01


def test_momentum_shrinks_both_errors_about_0818_a_step(trace, model):
    e = _errors(trace, model, "momentum")
    assert trace.at_event("momentum's errors along both eigenvectors are below 0.001 at step 60").tick == 60
    assert np.all(np.abs(e[60]) < 1e-3)
    rate = (np.abs(e[80:120]).max(axis=0) / np.abs(e[40:80]).max(axis=0)) ** (1 / 40)
    np.testing.assert_allclose(rate, 9 / 11, rtol=0.02)  # sqrt(beta) = (sqrt(kappa) - 1) / (sqrt(kappa) + 1)
    gd = _errors(trace, model, "gd")
    assert np.all(np.abs(e[60]) * 1000 < abs(gd[60, 0]))
    assert trace.at_event("momentum has converged").params[trace.run("momentum")] @ np.ones(2) < 1e-12
