"""The simulation: all runs together, seeded, divergence-safe, editable mid-run."""
from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.core.data import BatchSampler, Dataset
from optsim.engine.formula.compile import compile_formula
from optsim.engine.core.objective import Objective
from optsim.engine.core.run_settings import RunSettings
from optsim.engine.core.simulation import Simulation


def bowl() -> Objective:
    return Objective(compile_formula("0.5*(x**2 + 10*y**2)", ("x", "y")))


def line_fit(n: int = 12) -> Objective:
    x = np.linspace(-1, 1, n)
    rows = np.column_stack([x, 3 * x - 1 + 0.1 * np.sin(7 * x)])
    return Objective(compile_formula("(y - (a*x + b))**2", ("a", "b"), columns=("x", "y")),
                     Dataset.from_rows(("x", "y"), rows))


def gd(name="gd", lr=0.05, **kw) -> RunSettings:
    return RunSettings(name=name, optimizer="sgd", hyper={"lr": lr}, start=kw.pop("start", (1.0, 1.0)),
                     steps=kw.pop("steps", 50), **kw)


def test_plain_gradient_descent_matches_hand_iteration():
    sim = Simulation(bowl(), [gd(lr=0.05, steps=20)])
    sim.step(20)
    x, y = 1.0, 1.0
    for _ in range(20):
        x, y = x - 0.05 * x, y - 0.05 * 10 * y
    np.testing.assert_allclose(sim.params[0], [x, y], rtol=0, atol=1e-15)
    assert sim.step_count[0] == 20 and sim.done


def test_runs_with_different_optimizers_step_together_like_alone():
    runs = [gd("a", 0.05), RunSettings("b", "adam", {"lr": 0.1}, (1.0, -1.0), 50),
            RunSettings("c", "sgd", {"lr": 0.02, "momentum": 0.9}, (-1.0, 0.5), 50)]
    together = Simulation(bowl(), runs)
    together.step(50)
    for i, r in enumerate(runs):
        alone = Simulation(bowl(), [r])
        alone.step(50)
        np.testing.assert_array_equal(together.params[i], alone.params[0])


def test_same_seed_same_bytes_with_noise_and_batches():
    runs = [gd("noisy", 0.05, noise=0.3), gd("batch", 0.1, batch_size=3)]
    a, b = Simulation(line_fit(), runs, seed=7), Simulation(line_fit(), runs, seed=7)
    a.step(40)
    b.step(40)
    assert a.params.tobytes() == b.params.tobytes()
    c = Simulation(line_fit(), runs, seed=8)
    c.step(40)
    assert not np.array_equal(a.params, c.params)


def test_a_runs_stream_does_not_depend_on_other_runs():
    alone = Simulation(bowl(), [gd("n", noise=0.5)], seed=1)
    with_other = Simulation(bowl(), [gd("n", noise=0.5), gd("m", noise=0.5)], seed=1)
    alone.step(30)
    with_other.step(30)
    np.testing.assert_array_equal(alone.params[0], with_other.params[0])


def test_divergence_stops_one_run_cleanly_and_others_go_on():
    sim = Simulation(bowl(), [gd("wild", lr=0.5, steps=2000), gd("calm", lr=0.05, steps=2000)])
    with np.errstate(all="raise"):  # no floating-point warning may escape the engine
        sim.step(2000)
    k = sim.diverged_at[0]
    assert k > 0 and sim.diverged_at[1] == -1
    assert sim.step_count[0] == k - 1  # stopped on its last finite point
    assert np.isfinite(sim.params[0]).all() and np.isfinite(sim.loss[0])
    assert sim.step_count[1] == 2000 and sim.loss[1] < 1e-10


def test_minibatch_gradient_is_the_mean_over_the_batch_and_epochs_cover_all_rows():
    obj = line_fit(10)
    sampler = BatchSampler(10, np.array([4]), [np.random.default_rng(0)])
    seen = []
    for _ in range(3):  # 4 + 4 + 2 rows: one epoch
        idx, wts = sampler.next_batches()
        seen += idx[0][wts[0] > 0].tolist()
        np.testing.assert_allclose(wts[0][wts[0] > 0].sum(), 1.0)
    assert sorted(seen) == list(range(10))
    idx, wts = sampler.next_batches()
    p = np.array([[0.5, 0.2]])
    g = obj.batch_gradient(p, idx, wts)
    rows = idx[0][wts[0] > 0]
    x, y = obj.data.train["x"][rows], obj.data.train["y"][rows]
    r = y - (0.5 * x + 0.2)
    np.testing.assert_allclose(g[0], [np.mean(-2 * r * x), np.mean(-2 * r)], rtol=1e-12)


def test_full_batch_size_equals_exact_gradient():
    a = Simulation(line_fit(), [gd("full", 0.1)])
    b = Simulation(line_fit(), [gd("n", 0.1, batch_size=12)])
    a.step(30)
    b.step(30)
    np.testing.assert_array_equal(a.params, b.params)


def test_changing_lr_mid_run_changes_only_what_follows():
    ref = Simulation(bowl(), [gd(lr=0.05, steps=40)])
    sim = Simulation(bowl(), [gd(lr=0.05, steps=40)])
    ref.step(10)
    sim.step(10)
    np.testing.assert_array_equal(ref.params, sim.params)
    sim.set_hyperparameters("gd", lr=0.15)
    before = sim.params.copy()
    sim.step(1)
    np.testing.assert_allclose(sim.params[0], before[0] - 0.15 * np.array([1, 10]) * before[0], atol=1e-15)
    assert sim.last_lr[0] == 0.15


def test_changing_optimizer_mid_run_starts_fresh_state():
    sim = Simulation(bowl(), [RunSettings("r", "sgd", {"lr": 0.01, "momentum": 0.9}, (1.0, 1.0), 100)])
    sim.step(10)
    sim.set_hyperparameters("r", optimizer="adam", lr=0.1)
    before = sim.params.copy()
    sim.step(1)
    # Adam's first step moves each coordinate by lr (sign of the gradient), whatever came before.
    np.testing.assert_allclose(np.abs(sim.params[0] - before[0]), [0.1, 0.1], rtol=1e-6)


def test_momentum_state_survives_an_lr_change():
    a = Simulation(bowl(), [RunSettings("r", "sgd", {"lr": 0.01, "momentum": 0.9}, (1.0, 1.0), 100)])
    a.step(10)
    buf_before = a._groups[0].state
    a.set_hyperparameters("r", lr=0.01)  # same value: must change nothing
    b = Simulation(bowl(), [RunSettings("r", "sgd", {"lr": 0.01, "momentum": 0.9}, (1.0, 1.0), 100)])
    b.step(10)
    a.step(5)
    b.step(5)
    np.testing.assert_array_equal(a.params, b.params)
    assert buf_before is not None


def test_add_and_remove_runs_keep_the_others():
    sim = Simulation(bowl(), [gd("a"), gd("b", start=(-1.0, 0.5))])
    ref = Simulation(bowl(), [gd("a"), gd("b", start=(-1.0, 0.5))])
    sim.step(5)
    ref.step(5)
    i = sim.add_run(gd("c", start=(0.3, 0.3)))
    assert i == 2 and sim.step_count[2] == 0
    sim.step(5)
    ref.step(5)
    np.testing.assert_array_equal(sim.params[:2], ref.params)
    sim.remove_run("a")
    sim.step(5)
    ref.step(5)
    np.testing.assert_array_equal(sim.params[0], ref.params[1])
    assert sim.names == ["b", "c"]


def test_reset_run_and_set_start():
    sim = Simulation(bowl(), [gd("a"), gd("b")])
    sim.step(5)
    sim.set_start("a", (0.2, -0.2))
    np.testing.assert_array_equal(sim.params[0], [0.2, -0.2])
    assert sim.step_count.tolist() == [0, 5]


def test_history_stays_bounded_over_long_runs():
    sim = Simulation(bowl(), [gd(lr=0.01, steps=20_000)], history_capacity=256)
    sim.step(20_000)
    ticks, loss = sim.history.series("loss")
    assert len(ticks) <= 256 and ticks[0] == 0 and ticks[-1] >= 20_000 - 2 * sim.history.stride
    assert np.all(np.diff(loss[:, 0]) <= 0)  # gradient descent on a bowl at a safe rate: loss never rises


def test_steps_per_run_and_done():
    sim = Simulation(bowl(), [gd("short", steps=3), gd("long", steps=6)])
    assert sim.step(100) == 6
    assert sim.step_count.tolist() == [3, 6] and sim.done


@pytest.mark.parametrize("n_runs", [1, 7, 1000])
def test_many_runs_shapes(n_runs):
    runs = [RunSettings(f"r{i}", "adam", {"lr": 0.01}, (1.0, 1.0), 5) for i in range(n_runs)]
    sim = Simulation(bowl(), runs)
    sim.step(5)
    assert sim.params.shape == (n_runs, 2) and np.allclose(sim.params, sim.params[0])


def test_a_runaway_loss_counts_as_divergence_even_with_moderate_parameters():
    obj = Objective(compile_formula("exp(x) + y**2", ("x", "y")))
    # lr < 0 is gradient ascent: one step from x = 229 (loss 4e99) to x ~ 233 (loss 2e101, finite)
    sim = Simulation(obj, [RunSettings("up", "sgd", {"lr": -1e-99}, (229.0, 0.0), 10)])
    sim.step(10)
    assert sim.diverged_at[0] == 1
    assert sim.params[0, 0] == 229.0 and sim.loss[0] <= 1e100  # left on its last point below the bound


def test_play_to_end_applies_events_at_their_steps():
    from optsim.engine.watch.script import play_to_end
    from optsim.engine.scenario.load import EventSpec

    sim = Simulation(bowl(), [gd("a", lr=0.05, steps=20)])
    seen = []
    events = [EventSpec(at=5, run="a", set={"lr": 0.0}), EventSpec(at=0, say="start")]
    script = play_to_end(sim, events, after_tick=lambda: seen.append(sim.tick),
                         before_event=lambda e: seen.append(("event", e.at, sim.tick)))
    assert script.position == 2 and sim.done
    assert seen[:2] == [("event", 0, 0), 1] and ("event", 5, 5) in seen
    assert sim.history.series("lr")[1][6:, 0].tolist() == [0.0] * (len(sim.history.series("lr")[0]) - 6)


@pytest.mark.parametrize("runs", [[gd("a"), gd("b", steps=3)], [gd("a"), RunSettings("m", "adam", {"lr": 0.1}, (1.0, 1.0), 3)]],
                         ids=["one-group-array-path", "groups-of-one-float-path"])
def test_step_counts_are_published_read_only_and_a_kept_array_never_changes(runs):
    """Like params, each step leaves a new read-only step_count, so a reader may keep one uncopied
    (the trajectory recorder does): steps, a reset and a run that stops leave the kept ones as they were."""
    sim = Simulation(bowl(), runs)
    kept = [sim.step_count]
    for _ in range(6):
        sim.step()
        kept.append(sim.step_count)
    sim.reset_run(0)
    sim.step()
    kept.append(sim.step_count)
    assert all(not a.flags.writeable for a in kept)
    assert [a.tolist() for a in kept] == [[0, 0], [1, 1], [2, 2], [3, 3], [4, 3], [5, 3], [6, 3], [1, 3]]
    with pytest.raises(ValueError):
        kept[-1][0] = 7
