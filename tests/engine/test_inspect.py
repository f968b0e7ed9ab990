"""Reading the optimizers' state (engine.optim.inspect): sigma, lr/sigma and momentum, checked
against the update equations recomputed by hand from the gradients the runs saw."""
from __future__ import annotations

import numpy as np

from optsim.engine.core.objective import Objective
from optsim.engine.core.run_settings import RunSettings
from optsim.engine.core.simulation import Simulation
from optsim.engine.formula.compile import compile_formula
from optsim.engine.optim import inspect


def ravine() -> Objective:
    return Objective(compile_formula("0.5*(0.1*x**2 + 50*y**2)", ("x", "y")))


def run(name: str, optimizer: str, lr: float, **hyper) -> RunSettings:
    return RunSettings(name=name, optimizer=optimizer, hyper={"lr": lr, **hyper}, start=(-4.5, 1.0), steps=60)


def _grads_seen(sim_runs, steps: int) -> tuple[Simulation, list[np.ndarray]]:
    """Step a simulation and keep the gradient each update used (exact gradients)."""
    sim = Simulation(ravine(), sim_runs)
    seen = []
    for _ in range(steps):
        seen.append(sim.grad.copy())
        sim.step()
    return sim, seen


def test_adagrad_lecture_sigma_is_the_root_mean_square_of_the_gradients_so_far():
    sim, seen = _grads_seen([run("a", "adagrad_lecture", 0.3), run("gd", "sgd", 0.01)], 25)
    g = np.stack(seen)  # (t, runs, p)
    want = np.sqrt((g[:, 0] ** 2).sum(axis=0) / len(seen))
    got = sim.optimizer_quantity(inspect.sigma)
    np.testing.assert_allclose(got[0], want, rtol=1e-12)
    assert np.isnan(got[1]).all()  # plain SGD divides by nothing
    rate = inspect.effective_rate(sim.last_lr, got)
    np.testing.assert_allclose(rate[0], 0.3 / want, rtol=1e-12)


def test_torch_adagrad_rmsprop_and_adam_sigmas_follow_their_own_definitions():
    runs = [run("ada", "adagrad", 0.1), run("rms", "rmsprop_lecture", 0.05, alpha=0.9),
            run("adam", "adam", 0.1)]
    sim, seen = _grads_seen(runs, 12)
    g = np.stack(seen)
    sq = g ** 2
    got = sim.optimizer_quantity(inspect.sigma)
    np.testing.assert_allclose(got[0], np.sqrt(sq[:, 0].sum(axis=0)), rtol=1e-12)
    avg = sq[0, 1]
    for k in range(1, len(seen)):
        avg = 0.9 * avg + 0.1 * sq[k, 1]
    np.testing.assert_allclose(got[1], np.sqrt(avg), rtol=1e-12)
    v = np.zeros(2)
    for k in range(len(seen)):
        v = 0.999 * v + 0.001 * sq[k, 2]
    np.testing.assert_allclose(got[2], np.sqrt(v / (1 - 0.999 ** len(seen))), rtol=1e-10)


def test_sigma_is_undefined_before_the_first_update():
    sim = Simulation(ravine(), [run("a", "adagrad_lecture", 0.3), run("adam", "adam", 0.1)])
    assert np.isnan(sim.optimizer_quantity(inspect.sigma)).all()


def test_momentum_points_the_way_it_pushes():
    runs = [run("lec", "momentum_lecture", 0.02, momentum=0.9), run("sgd", "sgd", 0.02, momentum=0.9),
            run("plain", "sgd", 0.02), run("ada", "adagrad_lecture", 0.1)]
    sim, seen = _grads_seen(runs, 8)
    m = np.zeros(2)
    b = seen[0][1].copy()
    for k, g in enumerate(seen):
        m = 0.9 * m - 0.02 * g[0]
        if k:
            b = 0.9 * b + g[1]
    got = sim.optimizer_quantity(inspect.momentum)
    np.testing.assert_allclose(got[0], m, rtol=1e-12)
    np.testing.assert_allclose(got[1], -b, rtol=1e-12)
    assert np.isnan(got[2]).all() and np.isnan(got[3]).all()
    assert sim.has_momentum("plain") and not sim.has_momentum("ada")


def test_next_update_previews_the_real_update_without_changing_anything():
    runs = [run("lec", "momentum_lecture", 0.02, momentum=0.9), run("ada", "adagrad_lecture", 0.3)]
    sim, _ = _grads_seen(runs, 5)
    previews = [sim.next_update(r) for r in range(2)]
    before = sim.params.copy()
    sim.step()
    np.testing.assert_allclose(sim.params - before, np.stack(previews), rtol=1e-12)


def test_history_keeps_the_sigma_of_the_stored_ticks():
    sim, seen = _grads_seen([run("a", "adagrad_lecture", 0.3)], 10)
    ticks, sig = sim.history.sigma_series(0)
    assert ticks.tolist() == list(range(11))
    assert np.isnan(sig[0]).all()
    g = np.stack(seen)[:, 0]
    for t in (1, 5, 10):
        np.testing.assert_allclose(sig[t], np.sqrt((g[:t] ** 2).sum(axis=0) / t), rtol=1e-12)
