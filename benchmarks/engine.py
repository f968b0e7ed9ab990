"""Engine speed: particle-steps per second, against torch.optim measured in the same run.

Prints, with medians over repeats (the machines are shared and noisy):
- Adam on Rosenbrock at 1, 1,000 and 100,000 runs stepped together: the bare
  engine loop (exact gradient + optimizer update, the same work as the torch
  loop) and the full ``Simulation.step`` (which also checks divergence, keeps
  the bounded history and the exact loss of every run);
- the same loop in torch.optim (CPU, float64, one thread, foreach=False) and the
  ratio torch time / optsim time (above 1 means optsim is faster);
- the time of a headless ``optsim run`` of 10,000 steps x 5 runs (engine time as
  the command reports it, and the whole process);
- start-up time of ``optsim --help`` and ``optsim list``.

Run: .venv/bin/python benchmarks/engine.py [--quick]
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

from optsim.engine.formula.compile import compile_formula
from optsim.engine.core.objective import Objective
from optsim.engine.optim.base import compact_columns
from optsim.engine.optim.registry import get_optimizer
from optsim.engine.core.run_settings import RunSettings
from optsim.engine.core.simulation import Simulation

ROSENBROCK = "(1 - x)**2 + 100*(y - x**2)**2"
SIZES = (1, 1_000, 100_000)


def steps_for(n: int, quick: bool) -> int:
    base = {1: 20_000, 1_000: 2_000, 100_000: 40}[n]
    return max(10, base // (10 if quick else 1))


def median_rate(fn, n: int, steps: int, repeats: int) -> float:
    """Median particle-steps per second of ``fn(steps)`` over ``repeats`` timings."""
    fn(min(steps, 20))  # warm up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(steps)
        times.append(time.perf_counter() - t)
    return n * steps / statistics.median(times)


def engine_loop(n: int):
    obj = Objective(compile_formula(ROSENBROCK, ("x", "y")))
    spec = get_optimizer("adam")
    params = np.tile([-1.5, 2.0], (n, 1))
    state = spec.init(params)
    hyper = compact_columns(spec.make_hyper([{}] * n))  # shared values broadcast as scalars, as in Simulation
    lr = np.full((1, 1), 1e-3)

    def run(k: int) -> None:
        nonlocal params, state
        for _ in range(k):
            _, g = obj.value_and_gradient(params)
            upd, state = spec.update(g, state, params, lr, hyper)
            params = params + upd

    return run


def simulation_loop(n: int):
    obj = Objective(compile_formula(ROSENBROCK, ("x", "y")))
    runs = [RunSettings(f"r{i}", "adam", {"lr": 1e-3}, (-1.5, 2.0), 10**9) for i in range(n)]
    sim = Simulation(obj, runs)
    return lambda k: sim.step(k)


def torch_loop(n: int):
    import torch

    torch.set_num_threads(1)
    p = torch.tensor(np.tile([-1.5, 2.0], (n, 1)), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=1e-3, foreach=False)

    def run(k: int) -> None:
        for _ in range(k):
            opt.zero_grad()
            x, y = p[:, 0], p[:, 1]
            loss = ((1 - x) ** 2 + 100 * (y - x * x) ** 2).sum()
            loss.backward()
            opt.step()

    return run


def cli_times(repeats: int) -> None:
    scenario = textwrap.dedent("""
        title = "five optimizers on Rosenbrock"
        [surface]
        builtin = "rosenbrock"
        [[runs]]
        optimizer = "sgd"
        lr = 0.0005
        momentum = 0.9
        start = [-1.5, 2]
        [[runs]]
        optimizer = "adagrad"
        lr = 0.5
        start = [-1.5, 2]
        [[runs]]
        optimizer = "rmsprop"
        lr = 0.001
        start = [-1.5, 2]
        [[runs]]
        optimizer = "adam"
        lr = 0.01
        start = [-1.5, 2]
        [[runs]]
        optimizer = "adamw"
        lr = 0.01
        start = [-1.5, 2]
    """)
    exe = [sys.executable, "-m", "optsim.tui.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "five.toml"
        path.write_text(scenario)
        engine, whole = [], []
        for _ in range(repeats):
            t = time.perf_counter()
            out = subprocess.run([*exe, "run", str(path), "--steps", "10000", "--out", str(Path(tmp) / "t.csv")],
                                 capture_output=True, text=True, check=True).stdout
            whole.append(time.perf_counter() - t)
            line = [x for x in out.splitlines() if " steps x " in x][0]
            engine.append(float(line.split(" runs in ")[1].split(" s")[0]))
        print(f"optsim run, 10,000 steps x 5 runs: engine {statistics.median(engine):.3f} s "
              f"(target < 0.5 s), whole process with CSV {statistics.median(whole):.3f} s")
    for args in (["--help"], ["list"]):
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            subprocess.run([*exe, *args], capture_output=True, check=True)
            times.append(time.perf_counter() - t)
        print(f"optsim {' '.join(args):<7} start-up: {statistics.median(times) * 1000:.0f} ms")
    bare = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - t)
    print(f"(bare python start-up for comparison: {statistics.median(bare) * 1000:.0f} ms)")


def main() -> None:
    quick = "--quick" in sys.argv
    repeats = 3 if quick else 7
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
        print("torch is not installed: the torch.optim column is skipped (pip install torch==2.13.0)")
    print(f"Adam on Rosenbrock, particle-steps per second (median of {repeats}):")
    print(f"{'runs':>8} {'engine loop':>14} {'Simulation':>14} {'torch.optim':>14} {'torch/engine':>13} {'torch/Sim':>10}")
    for n in SIZES:
        k = steps_for(n, quick)
        eng = median_rate(engine_loop(n), n, k, repeats)
        sim = median_rate(simulation_loop(n), n, k, repeats)
        if have_torch:
            tor = median_rate(torch_loop(n), n, max(10, k // 4), repeats)
            print(f"{n:>8} {eng:>14,.0f} {sim:>14,.0f} {tor:>14,.0f} {eng / tor:>12.1f}x {sim / tor:>9.1f}x")
        else:
            print(f"{n:>8} {eng:>14,.0f} {sim:>14,.0f}")
    cli_times(repeats)


if __name__ == "__main__":
    main()
