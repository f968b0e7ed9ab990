"""The optional JIT path (engine/optim/fused.py) gives the NumPy path's bits, and is optional.

Large groups step through compiled loops when numba is installed (the ``fast`` extra, also in
the ``test`` extra so that these tests exercise it); OPTSIM_NO_JIT=1 or a missing numba gives
the NumPy update. Both must give the same bytes: parameters, losses, gradients, optimizer state
and divergence ticks, for each optimizer the kernels cover and for the cases they hand back.
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys

import numpy as np
import pytest

from optsim.engine.core.objective import Objective
from optsim.engine.core.run_settings import RunSettings
from optsim.engine.core.simulation import Simulation
from optsim.engine.formula.compile import compile_formula
from optsim.engine import jit
from optsim.engine.optim import fused

ROSENBROCK = "(1 - x)**2 + 100*(y - x**2)**2"
N = jit.JIT_MIN_ROWS + 3

CASES = {
    "adam": {"lr": 0.01},
    "adam-l2": {"lr": 0.01, "weight_decay": 0.1},
    "adam-amsgrad": {"lr": 0.02, "amsgrad": True, "betas": (0.8, 0.99)},
    "adam-decoupled": {"lr": 0.01, "weight_decay": 0.3, "decoupled_weight_decay": True},
    "adamw": {"lr": 0.01, "weight_decay": 0.05},
    "sgd-momentum": {"lr": 1e-4, "momentum": 0.9, "dampening": 0.1},
    "sgd-nesterov": {"lr": 1e-4, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01},
    "rmsprop": {"lr": 1e-3},
    "rmsprop-centered-momentum": {"lr": 1e-3, "centered": True, "momentum": 0.5, "weight_decay": 0.1},
    "adagrad": {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.2, "weight_decay": 0.01},
}


@pytest.fixture(autouse=True)
def _compile_at_once(monkeypatch):
    """These tests compare the paths from the first step: no waiting for large-batch work to add up."""
    monkeypatch.setattr(jit, "JIT_AFTER_WORK", 0)


def simulate(optimizer: str, hyper: dict, steps: int, jit: bool, monkeypatch: pytest.MonkeyPatch,
             starts: np.ndarray) -> Simulation:
    monkeypatch.setenv("OPTSIM_NO_JIT", "" if jit else "1")
    runs = [RunSettings(f"r{i}", optimizer, dict(hyper), (0.0, 0.0), 10**6) for i in range(len(starts))]
    sim = Simulation(Objective(compile_formula(ROSENBROCK, ("x", "y"))), runs, starts=starts)
    sim.step(steps)
    return sim


def snapshot(sim: Simulation) -> list[bytes]:
    state = [np.ascontiguousarray(a).tobytes() for g in sim._groups for a in g.state]
    return [sim.params.tobytes(), sim.loss.tobytes(), sim.grad.tobytes(), sim.diverged_at.tobytes(), *state]


def starts(n: int = N, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-2.0, 2.0, size=(n, 2))


def test_the_kernels_are_there_to_be_tested(monkeypatch):
    monkeypatch.delenv("OPTSIM_NO_JIT", raising=False)
    assert fused.jit_module() is not None, "numba is in the test extra: the JIT path must be tested"


@pytest.mark.parametrize("case", sorted(CASES))
def test_jit_and_numpy_give_the_same_bits(case, monkeypatch):
    optimizer = case.split("-")[0]
    hyper = CASES[case]
    calls = []
    real = fused.fused_update

    def counting(*args):
        out = real(*args)
        calls.append(out is not None)
        return out

    monkeypatch.setattr("optsim.engine.core.simulation.fused_update", counting)
    with_jit = simulate(optimizer, hyper, 25, True, monkeypatch, starts())
    assert calls and all(calls), "every step of this case must take the compiled path"
    calls.clear()
    without = simulate(optimizer, hyper, 25, False, monkeypatch, starts())
    assert calls and not any(calls)
    assert snapshot(with_jit) == snapshot(without)
    assert np.isfinite(with_jit.params).all() and not np.array_equal(with_jit.params, starts())


def test_divergence_is_found_at_the_same_tick_on_both_paths(monkeypatch):
    start = starts()
    start[7] = (1e50, 1e50)  # its gradient overflows: diverged at the first update
    start[11] = (30.0, -30.0)  # SGD at this rate flies off within a few steps
    runs = {True: None, False: None}
    for compiled in runs:
        runs[compiled] = simulate("sgd", {"lr": 0.01, "momentum": 0.5}, 12, compiled, monkeypatch, start)
    assert snapshot(runs[True]) == snapshot(runs[False])
    assert runs[True].diverged_at[7] == 1 and runs[True].diverged_at[11] > 1
    assert (runs[True].diverged_at >= 0).sum() < N  # the others go on


def test_per_run_values_small_groups_and_plain_sgd_take_the_numpy_path(monkeypatch):
    monkeypatch.delenv("OPTSIM_NO_JIT", raising=False)
    sim = simulate("adam", {"lr": 0.01}, 1, True, monkeypatch, starts())
    g = sim._groups[0]
    shared = np.full((1, 1), 0.01)
    assert fused.fused_update(sim.grad, g.state, sim.params, np.full((N, 1), 0.01), g.hyper, 1e100) is None  # a rate per run
    small = fused.fused_update(sim.grad[:100], type(g.state)(*(a[:100] for a in g.state)), sim.params[:100], shared,
                               g.hyper, 1e100)
    assert small is None
    new, state, ok = fused.fused_update(sim.grad, g.state, sim.params, shared, g.hyper, 1e100)
    updates, numpy_state = g.spec.update(sim.grad, g.state, sim.params, shared, g.hyper)
    assert ok and (sim.params + updates).tobytes() == new.tobytes()
    assert all(np.array_equal(a, b) for a, b in zip(state, numpy_state))
    plain = simulate("sgd", {"lr": 1e-4}, 1, True, monkeypatch, starts())
    g = plain._groups[0]
    assert fused.fused_update(plain.grad, g.state, plain.params, shared, g.hyper, 1e100) is None


def test_without_numba_the_numpy_path_steps(monkeypatch):
    monkeypatch.delenv("OPTSIM_NO_JIT", raising=False)
    monkeypatch.setattr(jit, "_available", False)  # as when `import numba` failed
    assert fused.jit_module() is None and not jit.enabled()
    sim = simulate("adam", {"lr": 0.01}, 5, True, monkeypatch, starts())
    monkeypatch.undo()
    reference = simulate("adam", {"lr": 0.01}, 5, True, monkeypatch, starts())
    assert snapshot(sim) == snapshot(reference)


def test_the_jit_waits_until_a_process_has_done_enough_large_batch_work(monkeypatch):
    monkeypatch.setattr(jit, "JIT_AFTER_WORK", 3 * N)
    monkeypatch.setattr(jit, "_work", 0)
    calls = []
    real = fused.fused_update
    monkeypatch.setattr("optsim.engine.core.simulation.fused_update", lambda *a: _count(calls, real, a))
    with_wait = simulate("adam", {"lr": 0.01}, 6, True, monkeypatch, starts())
    # each update counts its N rows: compiled once 3 N are done, from the fourth step on
    assert calls == [False, False, False, True, True, True]
    monkeypatch.setattr(jit, "_work", 0)
    assert snapshot(with_wait) == snapshot(simulate("adam", {"lr": 0.01}, 6, False, monkeypatch, starts()))


def _count(calls: list, real, args: tuple):
    out = real(*args)
    calls.append(out is not None)
    return out


def test_short_large_jobs_and_small_simulations_never_import_numba():
    code = ("import sys\n"
            "from optsim.engine.core.objective import Objective\n"
            "from optsim.engine.core.run_settings import RunSettings\n"
            "from optsim.engine.core.simulation import Simulation\n"
            "from optsim.engine.formula.compile import compile_formula\n"
            f"obj = Objective(compile_formula({ROSENBROCK!r}, ('x', 'y')))\n"
            "for n, steps in ((1000, 300), (20_000, 3)):\n"
            "    runs = [RunSettings(f'r{i}', 'adam', {'lr': 0.01}, (-1.5, 2.0), 100) for i in range(n)]\n"
            "    Simulation(obj, runs).step(steps)\n"
            "print('numba' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "False", proc.stdout + proc.stderr



@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the page faults come from glibc's malloc thresholds")
def test_a_large_batch_without_history_does_not_page_fault_every_step():
    # Before Simulation primed glibc's thresholds, each 100,000-run NumPy step faulted ~600 fresh pages in.
    code = ("import resource\n"
            "from optsim.engine.core.objective import Objective\n"
            "from optsim.engine.core.run_settings import RunSettings\n"
            "from optsim.engine.core.simulation import Simulation\n"
            "from optsim.engine.formula.compile import compile_formula\n"
            f"obj = Objective(compile_formula({ROSENBROCK!r}, ('x', 'y')))\n"
            "runs = [RunSettings(f'r{i}', 'adam', {'lr': 0.001}, (-1.5, 2.0), 100) for i in range(100_000)]\n"
            "sim = Simulation(obj, runs, record_history=False)\n"
            "sim.step(3)\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
            "sim.step(10)\n"
            "print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)\n")
    env = dict(os.environ, OPTSIM_NO_JIT="1")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert float(proc.stdout) < 50, proc.stdout + proc.stderr
