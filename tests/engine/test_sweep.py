"""Sweeps in one batch: learning-rate sweeps against theory and the Simulation, basin maps of Himmelblau."""
from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.formula.compile import compile_formula
from optsim.engine.core.objective import Objective
from optsim.engine.core.run_settings import RunSettings
from optsim.engine.core.simulation import Simulation
from optsim.engine.core.surfaces import BUILTIN_SURFACES
from optsim.engine.analysis.sweep import DIVERGED, NONE, basin_map, cluster_points, log_rates, lr_sweep, step_batch
from optsim.tui.render.sweep_plot import basin_plot, lr_table


def builtin(name: str) -> Objective:
    s = BUILTIN_SURFACES[name]
    return Objective(compile_formula(s.expr, s.params, s.constants))


BOWL = Objective(compile_formula("x^2 + y^2", ("x", "y")))


def test_gd_on_a_bowl_matches_theory():
    """GD on x^2 + y^2 multiplies the point by (1 - 2 lr) per step: stable iff lr < 1."""
    rates = np.array([0.01, 0.1, 0.5, 0.9, 0.99, 1.01, 1.5])
    (s,) = lr_sweep(BOWL, ["sgd"], rates, (1.0, 1.0), 400)
    stable = rates < 1
    expect = 2 * (1 - 2 * rates[stable]) ** 800
    np.testing.assert_allclose(s.final_loss[stable], expect, rtol=1e-9)
    assert (s.diverged_at[~stable] > 0).all() and np.isnan(s.final_loss[~stable]).all()
    assert s.diverged_at[-1] < 400 and s.diverged_at[-2] == 400  # 1.5: overflow bound; 1.01: ran away
    assert s.largest_stable == 0.99 and s.rates[s.best] == 0.5


def test_batch_agrees_with_the_simulation():
    obj = builtin("rosenbrock")
    rates = log_rates(1e-4, 0.3, 7)
    sweeps = lr_sweep(obj, ["adam", "rmsprop"], rates, (-1.5, 2.0), 300, hyper={"rmsprop": {"alpha": 0.9}})
    sim = Simulation(obj, [RunSettings(f"{o}{i}", o, {"lr": float(lr), **({"alpha": 0.9} if o == "rmsprop" else {})},
                                     (-1.5, 2.0), 300) for o in ("adam", "rmsprop") for i, lr in enumerate(rates)])
    sim.step(300)
    got = np.concatenate([np.where(s.diverged_at >= 0, np.nan, s.final_loss) for s in sweeps])
    want = np.where(sim.diverged_at >= 0, np.nan, sim.loss)
    np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)
    np.testing.assert_array_equal(np.concatenate([s.diverged_at for s in sweeps]), sim.diverged_at)


def test_schedule_is_applied_per_step():
    res = step_batch(BOWL, [("sgd", [{}], np.array([0.1]))], np.array([[1.0, 0.0]]), 20,
                     schedule={"kind": "step", "step_size": 10, "gamma": 0.5})
    # 10 steps at lr 0.1, then 10 at lr 0.05: x = 0.8^10 0.9^10
    assert res.params[0, 0] == pytest.approx(0.8 ** 10 * 0.9 ** 10)


def test_himmelblau_basins():
    h = BUILTIN_SURFACES["himmelblau"]
    obj = builtin("himmelblau")
    bm = basin_map(obj, (-5, 5, -5, 5), 60, "sgd", {"lr": 0.01}, 400, np.array(h.minima))
    shares = bm.shares()
    assert set(shares) == {0, 1, 2, 3}  # every start reaches one of the four minima
    assert all(0.15 < shares[k] < 0.35 for k in range(4))
    # a start next to a minimum ends in it: (2.8, 2.2) is in (3, 2)'s basin; rows are y, columns x
    i, j = np.argmin(abs(bm.ys - 2.2)), np.argmin(abs(bm.xs - 2.8))
    assert bm.labels[i, j] == 0
    # without known minima the end points are clustered: the same four points come out
    found = basin_map(obj, (-5, 5, -5, 5), 40, "sgd", {"lr": 0.01}, 400)
    assert len(found.minima) == 4
    for m in h.minima:
        assert np.min(np.linalg.norm(found.minima - np.array(m), axis=1)) < 1e-3


def test_basin_map_marks_divergence_and_none():
    obj = builtin("himmelblau")
    bm = basin_map(obj, (-5, 5, -5, 5), 20, "sgd", {"lr": 0.03}, 200, np.array([[3.0, 2.0]]))
    shares = bm.shares()
    assert DIVERGED in shares and NONE in shares
    text = basin_plot(bm, ("x", "y"), width=20, height=10)
    assert "#" in text and "diverged" in text and "A  minimum at (3, 2)" in text


def test_cluster_points():
    pts = np.array([[0, 0], [0.01, 0], [5, 5], [5.02, 5], [5, 5.01]], dtype=float)
    c = cluster_points(pts, 0.1)
    np.testing.assert_allclose(c[0], [5.00666667, 5.00333333])
    assert len(c) == 2


def test_text_table():
    (s,) = lr_sweep(BOWL, ["sgd"], log_rates(1e-3, 2.0, 40), (1.0, 1.0), 200)
    table = lr_table([s])
    assert "largest stable lr" in table and "diverged" in table
