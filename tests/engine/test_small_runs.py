"""Runs that each form a group of one step on Python floats (engine.core.small_runs): every
number they leave (points, losses, gradients, rates, step counts, the history with its sigma
and gradient norms, the optimizers' states) is bit for bit the array path's, through
divergence, edits between steps, reads of the state and steps taken several at a time."""
from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.core import simulation as simulation_module
from optsim.engine.core.objective import Objective
from optsim.engine.core.run_settings import RunSettings
from optsim.engine.core.simulation import Simulation
from optsim.engine.formula.compile import compile_formula
from optsim.engine.formula.scalar import scalar_value_and_gradient
from optsim.engine.optim import inspect
from optsim.engine.optim.one_run import _Powers

ROSENBROCK = "(1 - x)**2 + 100*(y - x**2)**2"

FIVE = [("sgd", {"lr": 0.0005, "momentum": 0.9}), ("adagrad", {"lr": 0.5}), ("rmsprop", {"lr": 0.001}),
        ("adam", {"lr": 0.01}), ("adamw", {"lr": 0.01})]
VARIANTS = [("sgd", {"lr": 0.0004, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01}),
            ("sgd", {"lr": 0.0003}),
            ("adagrad", {"lr": 0.3, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.02}),
            ("rmsprop", {"lr": 0.002, "centered": True, "momentum": 0.5, "weight_decay": 0.01}),
            ("adam", {"lr": 0.02, "weight_decay": 0.05, "betas": (0.8, 0.95)}),
            ("adamw", {"lr": 0.02, "weight_decay": 0.1})]


def _sim(formula: str, runs, params=("x", "y"), start=(-1.5, 2.0), steps=3000) -> Simulation:
    configs = [RunSettings(f"{name}{i}", name, dict(hyper), start, steps) for i, (name, hyper) in enumerate(runs)]
    return Simulation(Objective(compile_formula(formula, params)), configs, history_capacity=64)


def _array_path(monkeypatch) -> None:
    monkeypatch.setattr(simulation_module.FloatRuns, "build", classmethod(lambda cls, *a: None))


def _snapshot(sim: Simulation) -> list[np.ndarray]:
    h = sim.history
    arrays = [sim.params, sim.loss, sim.grad, sim.grad_norm, sim.last_lr, sim.step_count, sim.diverged_at,
              h.tick[: h.size], h.params[: h.size], h.sigma[: h.size], h.recent.window()[1],
              sim.optimizer_quantity(inspect.momentum)]
    arrays += [h.values[f][: h.size] for f in h.FIELDS]
    return [np.array(a, dtype=np.float64) for a in arrays]


def _same_bits(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(x.shape == y.shape and (np.where(np.isnan(x), np.nan, x).view(np.int64)
                                       == np.where(np.isnan(y), np.nan, y).view(np.int64)).all()
               for x, y in zip(a, b))


def _play(sim: Simulation, script) -> list[np.ndarray]:
    for tick in range(10_000):
        if tick in script:
            script[tick](sim)
        if not sim.step():
            break
    return _snapshot(sim)


@pytest.mark.parametrize("runs", [FIVE, VARIANTS, FIVE[3:4]], ids=["five", "variants", "one-adam"])
def test_floats_give_the_array_paths_bits(runs, monkeypatch):
    sim = _sim(ROSENBROCK, runs)
    floats = _play(sim, {})
    assert sim.step_count.tolist() == [3000] * len(runs)
    _array_path(monkeypatch)
    assert _same_bits(floats, _play(_sim(ROSENBROCK, runs), {}))


def test_floats_are_used_and_the_state_comes_back_as_arrays():
    sim = _sim(ROSENBROCK, FIVE)
    sim.step(5)
    assert sim._floats is not None  # the path under test is the one taken
    state = sim.optimizer_quantity(lambda s, h: s.exp_avg if hasattr(s, "exp_avg") else None)
    assert sim._floats is None and np.isfinite(state[3:]).all()


def test_edits_reads_and_divergence_between_float_steps(monkeypatch):
    """A run that diverges (sgd at a large rate), reads of sigma and momentum, an lr change, a reset,
    an added run and steps taken ten at a time: the same bits as on arrays throughout."""
    runs = FIVE + [("sgd", {"lr": 0.01, "momentum": 0.5})]
    script = {
        50: lambda s: s.optimizer_quantity(inspect.sigma),
        120: lambda s: s.set_hyperparameters("adam3", lr=0.02),
        300: lambda s: s.next_update("rmsprop2"),
        400: lambda s: s.reset_run("adagrad1"),
        500: lambda s: s.add_run(RunSettings("late", "adam", {"lr": 0.001}, (0.5, 0.5), 2000)),
        900: lambda s: s.step(10),
    }
    floats = _play(_sim(ROSENBROCK, runs, steps=1500), script)
    _array_path(monkeypatch)
    arrays = _play(_sim(ROSENBROCK, runs, steps=1500), script)
    assert arrays[6][5] > 0  # the fast sgd run diverged
    assert _same_bits(floats, arrays)


def test_a_formula_without_scalar_twins_or_with_a_raising_step_takes_the_array_path(monkeypatch):
    assert scalar_value_and_gradient(compile_formula("exp(x) + y**2", ("x", "y"))) is None
    # 1/x: the step onto x = 0 raises in Python; the array path gives inf and stops the run there
    runs = [("sgd", {"lr": 1.0}), ("adam", {"lr": 0.01})]
    floats = _play(_sim("1/x + y*y", runs, start=(-1.0, 1.0), steps=50), {})
    _array_path(monkeypatch)
    assert _same_bits(floats, _play(_sim("1/x + y*y", runs, start=(-1.0, 1.0), steps=50), {}))


def test_scalar_formula_matches_the_compiled_program_bit_for_bit():
    f = compile_formula("sqrt(x*x + 1) * abs(y) - max(x, y) / (2 + min(x, -y)) + relu(x - y)", ("x", "y"))
    run = scalar_value_and_gradient(f)
    pts = np.random.default_rng(1).standard_normal((200, 2)) * 10.0 ** np.random.default_rng(2).integers(-5, 5, (200, 1))
    value, grad = f.value_and_gradient(pts)
    got = np.array([run(p) for p in pts.tolist()])
    assert (got[:, 0] == value).all() and (got[:, 1:] == grad).all()


def test_powers_taken_a_block_at_a_time_equal_numpy_one_at_a_time():
    for beta in (0.9, 0.999, 0.95):
        p = _Powers(beta)
        got = [p(float(t)) for t in range(1, 1500)]
        want = [(np.array([[beta]]) ** np.array([[float(t)]])).item() for t in range(1, 1500)]
        assert got == want


def test_a_float_step_publishes_read_only_arrays_of_the_array_paths_shapes():
    """The trajectory recorder keeps a step's arrays uncopied because nothing may write them."""
    sim = _sim(ROSENBROCK, FIVE)
    sim.step(3)
    assert sim._floats is not None  # the steps were made on floats
    for a, shape in ((sim.params, (5, 2)), (sim.loss, (5,)), (sim.grad, (5, 2))):
        assert a.shape == shape and a.dtype == np.float64 and not a.flags.writeable
        with pytest.raises(ValueError):
            a[0] = 1.0


def test_scalar_programs_of_odd_and_even_length_give_the_compiled_programs_bits():
    """The float twin runs its instructions two a turn (an odd program makes its first one alone)."""
    lengths = set()
    for formula in ("(1 - x)**2 + 100*(y - x**2)**2", "x*x*y", "x*y", "(x - y)**2", "x/y + y*y",
                    "sqrt(x*x + 1) + abs(y) - x", "max(x, y) - min(x, 2*y) + relu(x)"):
        f = compile_formula(formula, ("x", "y"))
        run = scalar_value_and_gradient(f)
        pts = np.random.default_rng(4).standard_normal((50, 2)) * 3.0
        value, grad = f.value_and_gradient(pts)
        got = np.array([run.values(p) for p in pts.tolist()])
        assert (got[:, 0] == value).all() and (got[:, 1:] == grad).all()
        lengths.add(len(f._value_and_gradient.spec[2]) % 2)
    assert lengths == {0, 1}
