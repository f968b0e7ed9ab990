"""Engine speed and start-up, each figure printed next to its goal (issue 12).

Prints, with medians over repeats (the machines are shared and noisy, so speed is
compared with torch.optim measured in the same run, interleaved):
- Adam on Rosenbrock at 1, 1,000 and 100,000 runs stepped together: the bare
  engine loop (exact gradient + optimizer update, the same work as the torch
  loop) and the full ``Simulation.step`` (which also checks divergence, keeps
  the bounded history and the exact loss of every run), against the same loop
  in torch.optim (CPU, float64, one thread, foreach=False). Goals: Simulation
  >= 1.5x torch and >= 50 M particle-steps/s at 100,000 runs, >= 5x at one run.
  At 100,000 runs the Simulation is timed twice: with the JIT (numba, the ``fast``
  extra; optim/fused.py) and on the NumPy path (OPTSIM_NO_JIT=1), each with its goal
  status (both after the large-batch work after which the JIT engages); then what the
  step that engages it pays, with an empty and with a filled kernel cache;
- a headless ``optsim run`` of 10,000 steps x 5 runs of five optimizers: engine
  time as the command reports it (goal <= 0.25 s; without --plot it keeps no history),
  the same steps with the history the app keeps, and the CSV writer's seconds
  per million rows (goal <= 1 s);
- start-up: a one-step ``optsim run`` with an empty formula cache (cold, goal
  <= 0.8 s) and with a filled one (warm, goal <= 0.3 s), each also as the
  child's CPU time (on a loaded machine the wall time waits for a core), the first frame of
  ``optsim NAME`` warm (goal <= 0.4 s), and `optsim --help` / `optsim list`.
  These run with bytecode writing allowed (as an installed package has its .pyc
  files) and with a private formula cache in a temporary folder.

Run: .venv/bin/python benchmarks/engine.py [--quick] [--only rates|headless|startup]
"""
from __future__ import annotations

import os
import resource
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
from optsim.engine import jit as engine_jit
from optsim.engine.optim import fused
from optsim.engine.optim.base import compact_columns
from optsim.engine.optim.registry import get_optimizer
from optsim.engine.core.run_settings import RunSettings
from optsim.engine.core.simulation import Simulation

ROSENBROCK = "(1 - x)**2 + 100*(y - x**2)**2"
SIZES = (1, 1_000, 100_000)
OPTSIM = [sys.executable, "-m", "optsim.tui.cli"]


def steps_for(n: int, quick: bool) -> int:
    base = {1: 20_000, 1_000: 2_000, 100_000: 40}[n]
    return max(10, base // (10 if quick else 1))


def median_rates(fn, n: int, steps: int, repeats: int) -> tuple[float, float]:
    """Median particle-steps per second of ``fn(steps)`` over ``repeats`` timings, in wall time and in
    this process's CPU time (what an idle machine's wall time would be, near enough: one thread)."""
    fn(min(steps, 20))  # warm up
    times, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn(steps)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return n * steps / statistics.median(times), n * steps / statistics.median(cpu)


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


def simulation_loop(n: int, jit: bool = True):
    """``Simulation.step``; ``jit=False`` sets OPTSIM_NO_JIT around the steps (the NumPy path)."""
    obj = Objective(compile_formula(ROSENBROCK, ("x", "y")))
    runs = [RunSettings(f"r{i}", "adam", {"lr": 1e-3}, (-1.5, 2.0), 10**9) for i in range(n)]
    sim = Simulation(obj, runs)

    def run(k: int) -> None:
        os.environ["OPTSIM_NO_JIT"] = "" if jit else "1"
        try:
            sim.step(k)
        finally:
            os.environ.pop("OPTSIM_NO_JIT", None)

    if n >= engine_jit.JIT_MIN_ROWS:  # past the large-batch work after which the JIT engages (both alike)
        run(engine_jit.JIT_AFTER_WORK // n + 5)
    return run


JIT_FIRST_STEP = textwrap.dedent("""
    import sys, time
    import numpy as np
    from optsim.engine.formula.compile import compile_formula
    from optsim.engine.core.objective import Objective
    from optsim.engine.core.run_settings import RunSettings
    from optsim.engine.core.simulation import Simulation
    import optsim.engine.jit
    obj = Objective(compile_formula("(1 - x)**2 + 100*(y - x**2)**2", ("x", "y")))
    sim = Simulation(obj, [RunSettings(f"r{i}", "adam", {"lr": 1e-3}, (-1.5, 2.0), 100) for i in range(100_000)])
    optsim.engine.jit.JIT_AFTER_WORK = 0  # load numba at the first step, to time that
    t = time.perf_counter(); sim.step(); first = time.perf_counter() - t
    t = time.perf_counter(); sim.step(); second = time.perf_counter() - t
    print(first - second, "numba" in sys.modules)
""")


def jit_first_step(tmp: Path) -> None:
    """What the step that engages the JIT pays (importing numba, compiling or loading the update's
    loop) with an empty kernel cache and with the cache that run filled."""
    env = dict(child_env(tmp / "cache"), NUMBA_CACHE_DIR=str(tmp / "numba-cache"))
    costs = []
    for _ in ("cold", "warm"):
        out = subprocess.run([sys.executable, "-c", JIT_FIRST_STEP], capture_output=True, text=True, check=True,
                             env=env).stdout.split()
        if out[1] != "True":
            print("numba is not installed: the JIT path is not measured (pip install optsim[fast])")
            return
        costs.append(float(out[0]))
    print(f"JIT start-up, paid once per process (after {engine_jit.JIT_AFTER_WORK / 1e6:.0f} M rows of large-batch "
          f"updates): {costs[0]:.2f} s with an empty kernel cache, {costs[1]:.2f} s with the cache filled")


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


FIVE = textwrap.dedent("""
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


def goal(ok: bool) -> str:
    return "met" if ok else "NOT met"


def child_env(cache: Path) -> dict[str, str]:
    """Like an installed package: .pyc files may be written; a private formula cache."""
    env = dict(os.environ, OPTSIM_CACHE_DIR=str(cache))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("OPTSIM_NO_CACHE", None)
    return env


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    return timed_cpu(argv, env)[0::2]


def timed_cpu(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, the child's CPU seconds (user + system: what an idle machine's wall time
    would be, near enough, for a one-thread process), and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, check=True, env=env).stdout
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out


def headless(tmp: Path, repeats: int) -> None:
    """10,000 steps x 5 runs: the engine time `optsim run` reports, and the CSV writer."""
    path = tmp / "five.toml"
    path.write_text(FIVE)
    env = child_env(tmp / "cache")
    engine = []
    for _ in range(repeats):
        _, out = timed([*OPTSIM, "run", str(path), "--steps", "10000", "--out", str(tmp / "t.csv")], env)
        line = [x for x in out.splitlines() if " steps x " in x][0]
        engine.append(float(line.split(" runs in ")[1].split(" s")[0]))
    e = statistics.median(engine)
    print(f"optsim run, 10,000 steps x 5 runs: engine {e:.3f} s        goal <= 0.25 s: {goal(e <= 0.25)}")
    with_history = statistics.median(history_steps(path) for _ in range(repeats))
    print(f"  the same steps keeping the history the app plots (optsim run keeps none without --plot): "
          f"{with_history:.3f} s")
    per_million = statistics.median(csv_writer_time() for _ in range(repeats))
    floor = statistics.median(number_floor() for _ in range(repeats))
    print(f"CSV writer: {per_million:.2f} s per million rows        goal <= 1 s: {goal(per_million <= 1.0)}"
          f" (the 5 floats of each row alone, as orjson writes the file's numbers: {floor:.2f} s;"
          f" as Python's repr: {statistics.median(repr_floor() for _ in range(repeats)):.2f} s)")


def history_steps(path: Path) -> float:
    """Seconds for the 10,000 steps of the five runs with the history on, as the app steps them."""
    from optsim.engine.scenario.build import build_simulation
    from optsim.engine.scenario.load import load_scenario

    sim = build_simulation(load_scenario(path), steps=10_000)
    t = time.perf_counter()
    while sim.step():
        pass
    return time.perf_counter() - t


def number_floor(rows: int = 200_000) -> float:
    """Seconds per million rows that orjson alone takes to write 5 floats a row (the file's number
    text: the shortest that round-trips), one call for the lot."""
    import orjson

    values = np.random.default_rng(0).standard_normal((rows, 5))
    t = time.perf_counter()
    orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY)
    return (time.perf_counter() - t) / rows * 1e6


def repr_floor(rows: int = 200_000) -> float:
    """Seconds per million rows that Python's float repr alone takes for 5 floats a row (in C,
    one call for the lot): what a writer of repr's text would pay at least."""
    values = np.random.default_rng(0).standard_normal(rows * 5).tolist()
    t = time.perf_counter()
    repr(values)
    return (time.perf_counter() - t) / rows * 1e6


def csv_writer_time(rows: int = 200_000) -> float:
    """Seconds per million rows the TrajectoryRecorder spends (observing each step, making and writing text)."""
    import io

    from optsim.engine.scenario.trajectory_io import TrajectoryRecorder

    obj = Objective(compile_formula(ROSENBROCK, ("x", "y")))
    sim = Simulation(obj, [RunSettings(f"r{i}", "adam", {"lr": 1e-3}, (-1.5, 2.0), 10**9) for i in range(5)],
                     record_history=False)
    rec = TrajectoryRecorder(sim, "csv")
    dt = 0.0
    for _ in range(rows // 5 - 1):
        sim.step()
        t = time.perf_counter()
        rec.observe()  # keeps the step's numbers as bytes; every 2048 steps turns them into text
        dt += time.perf_counter() - t
    t = time.perf_counter()
    rec.write(io.StringIO())
    dt += time.perf_counter() - t
    rec.close()
    return dt / rows * 1e6


def startup(tmp: Path, repeats: int) -> None:
    """A one-step run cold (empty cache) and warm; the first frame of the app; --help and list."""
    import shutil

    run = [*OPTSIM, "run", "rosenbrock", "--steps", "1"]
    cold, warm = [], []
    for k in range(repeats):
        cache = tmp / f"cold{k}"
        cold.append(timed_cpu(run, child_env(cache))[:2])
        warm.append(timed_cpu(run, child_env(cache))[:2])
        shutil.rmtree(cache, ignore_errors=True)
    for label, times, target in (("cold", cold, 0.8), ("warm", warm, 0.3)):
        w, c = (statistics.median(x) for x in zip(*times))
        print(f"one-step optsim run, {label} cache: {w:.3f} s (CPU {c:.3f} s)        goal <= {target} s: "
              f"{goal(w <= target)}" + ("" if w <= target or c > target else " (met in CPU time)"))
    first = first_frame(tmp / "app-cache", repeats)
    print(f"first frame of `optsim {first[0]}`, warm: {first[1]:.3f} s        goal <= 0.4 s: {goal(first[1] <= 0.4)}")
    for args in (["--help"], ["list"], ["-c", "import numpy"]):
        exe = [sys.executable] if args[0] == "-c" else OPTSIM
        t = statistics.median(timed([*exe, *args], child_env(tmp / "cache"))[0] for _ in range(repeats))
        label = "python -c 'import numpy' (for scale)" if args[0] == "-c" else f"optsim {' '.join(args)} start-up"
        print(f"{label}: {t * 1000:.0f} ms")


def first_frame(cache: Path, repeats: int) -> tuple[str, float]:
    """Median seconds from starting `optsim NAME` to its first frame, after one run filled the cache."""
    sys.path.insert(0, str(Path(__file__).parent))
    from bandwidth import default_name, measure_first_frame

    name = default_name() or "rosenbrock"
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(child_env(cache))
    try:
        measure_first_frame(name)  # fills the formula cache and writes .pyc files
        return name, statistics.median(measure_first_frame(name) for _ in range(repeats))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def rates(quick: bool, repeats: int) -> None:
    try:
        import torch  # noqa: F401
    except ImportError:
        print("torch is not installed: the torch.optim comparison is skipped (pip install torch==2.13.0)")
        return
    jit = fused.jit_module() is not None
    print(f"Adam on Rosenbrock, particle-steps per second (median of {repeats}, torch interleaved; "
          f"JIT for groups of >= {engine_jit.JIT_MIN_ROWS:,} runs: {'numba ' + numba_version() if jit else 'numba missing'}):")
    print(f"{'runs':>8} {'engine loop':>12} {'Simulation':>12} {'Sim NumPy':>12} {'torch.optim':>12} "
          f"{'engine/torch':>12} {'Sim/torch':>10} {'NumPy/torch':>11}")
    goals = []
    for n in SIZES:
        k = steps_for(n, quick)
        both = jit and n >= engine_jit.JIT_MIN_ROWS  # below that size the two paths are one
        loops = (engine_loop(n), simulation_loop(n), simulation_loop(n, jit=False) if both else None, torch_loop(n))
        samples: list[list[float]] = [[], [], [], []]
        cpu: list[list[float]] = [[], [], [], []]
        for _ in range(repeats):  # interleaved, so that load changes hit all alike
            for j, fn in enumerate(loops):
                if fn is not None:
                    wall, c = median_rates(fn, n, k if j < 3 else max(10, k // 4), 1)
                    samples[j].append(wall)
                    cpu[j].append(c)
        eng, sim, plain, tor = (statistics.median(x) if x else float("nan") for x in samples)
        sim_cpu, plain_cpu = (statistics.median(x) if x else float("nan") for x in cpu[1:3])
        plain, plain_cpu = (plain, plain_cpu) if both else (sim, sim_cpu)
        print(f"{n:>8} {eng:>12,.0f} {sim:>12,.0f} {plain:>12,.0f} {tor:>12,.0f} {eng / tor:>11.1f}x "
              f"{sim / tor:>9.1f}x {plain / tor:>10.1f}x")
        if n == 1:
            goals.append(f"Simulation.step >= 5x torch at one run: {sim / tor:.1f}x: {goal(sim / tor >= 5)}")
        if n == 100_000:
            for label, rate, rate_cpu in (("with the JIT" if jit else "numba missing", sim, sim_cpu),
                                          ("NumPy path", plain, plain_cpu)):
                met = rate >= 50e6 or rate_cpu < 50e6
                goals.append(f"at 100,000 runs, {label}: {rate / tor:.2f}x torch, goal >= 1.5x: "
                             f"{goal(rate / tor >= 1.5)}; {rate / 1e6:.0f} M/s (CPU time {rate_cpu / 1e6:.0f} M/s), "
                             f"goal >= 50 M/s: {goal(rate >= 50e6)}" + ("" if met else " (met in CPU time)"))
    for line in goals:
        print(line)


def numba_version() -> str:
    import numba

    return numba.__version__


def main() -> None:
    quick = "--quick" in sys.argv
    repeats = 3 if quick else 7
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None  # one part, while tuning it
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["OPTSIM_CACHE_DIR"] = str(Path(tmp) / "bench-cache")  # never the user's cache
        if only in (None, "rates"):
            rates(quick, repeats)
            jit_first_step(Path(tmp))
        if only in (None, "headless"):
            headless(Path(tmp), repeats)
        if only in (None, "startup"):
            startup(Path(tmp), repeats)


if __name__ == "__main__":
    main()
