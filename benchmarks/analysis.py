"""Analysis speed: the diagnosis's overhead on stepping, sweeps and basin maps. Prints; asserts nothing.

Medians over repeats (the machines are shared and noisy):
- Diagnosis: Adam on Rosenbrock with 5, 100 and 1,000 runs: Simulation.step alone,
  then step + Diagnoser.observe() every step (target: overhead < 20%; shown as
  the ratio of medians and of the fastest repeats), then also report() every
  100 steps; and the cost of one report().
- Learning-rate sweep: 500 rates x 1,000 steps on Rosenbrock, for sgd and for
  adam (each one batch), in seconds and particle-steps per second.
- Basin map: 200 x 200 starts on Himmelblau, 500 steps of sgd.
- For comparison: Simulation.step's own particle-steps per second at 1,000 runs
  (what benchmarks/engine.py measures).

Run: .venv/bin/python benchmarks/analysis.py [--quick]
"""
from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from optsim.engine.analysis.diagnosis import Diagnoser
from optsim.engine.formula.compile import compile_formula
from optsim.engine.core.objective import Objective
from optsim.engine.core.run_settings import RunSettings
from optsim.engine.core.simulation import Simulation
from optsim.engine.core.surfaces import BUILTIN_SURFACES
from optsim.engine.analysis.sweep import basin_map, log_rates, lr_sweep


def objective(name: str) -> Objective:
    s = BUILTIN_SURFACES[name]
    return Objective(compile_formula(s.expr, s.params, s.constants))


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def diagnosis(repeats: int, quick: bool) -> None:
    obj = objective("rosenbrock")
    print("Diagnosis overhead (Adam on Rosenbrock; median of", repeats, "repeats):")
    print(f"{'runs':>6} {'step us':>9} {'+observe':>9} {'(best-of)':>10} {'+report/100':>12} {'one report ms':>14}")
    for n in (5, 100, 1000):
        steps = (400 if quick else 2000) if n < 1000 else (200 if quick else 1000)

        def make():
            return Simulation(obj, [RunSettings(f"r{i}", "adam", {"lr": 1e-3 * (1 + i % 7)}, (-1.5, 2.0), 10**9)
                                    for i in range(n)])

        def bare():
            sim = make()
            for _ in range(steps):
                sim.step()

        def observed():
            sim = make()
            d = Diagnoser(sim)
            for _ in range(steps):
                sim.step()
                d.observe()

        def reported():
            sim = make()
            d = Diagnoser(sim)
            for k in range(steps):
                sim.step()
                d.observe()
                if k % 100 == 99:
                    d.report()

        # interleave so that machine noise hits all three alike
        a, b, c = [], [], []
        for _ in range(repeats):
            a.append(median_time(bare, 1))
            b.append(median_time(observed, 1))
            c.append(median_time(reported, 1))
        base, obs, rep = map(statistics.median, (a, b, c))
        sim = make()
        d = Diagnoser(sim)
        for _ in range(200):
            sim.step()
            d.observe()

        def one_report():
            d._cache = None
            d.report()

        one = median_time(one_report, repeats)
        best = min(b) / min(a) - 1  # the fastest repeats: least disturbed by other work on the machine
        print(f"{n:>6} {base / steps * 1e6:>9.1f} {obs / base - 1:>8.1%} {best:>9.1%} {rep / base - 1:>11.1%} "
              f"{one * 1e3:>14.2f}")


def sweeps(repeats: int, quick: bool) -> None:
    obj = objective("rosenbrock")
    n_rates, steps = (500, 200) if quick else (500, 1000)
    print(f"\nLearning-rate sweep on Rosenbrock: {n_rates} rates x {steps} steps, one batch per optimizer "
          f"(target: a few seconds):")
    for opt in ("sgd", "adam"):
        rates = log_rates(1e-5, 1.0, n_rates)
        t = median_time(lambda: lr_sweep(obj, [opt], rates, (-1.5, 2.0), steps), repeats)
        print(f"  {opt:<5} {t:7.3f} s   {n_rates * steps / t:>14,.0f} particle-steps/s")
    h = BUILTIN_SURFACES["himmelblau"]
    hobj = objective("himmelblau")
    grid, bsteps = (200, 100) if quick else (200, 500)
    t = median_time(lambda: basin_map(hobj, (-5, 5, -5, 5), grid, "sgd", {"lr": 0.01}, bsteps,
                                      np.asarray(h.minima)), max(1, repeats // 2))
    print(f"\nBasin map on Himmelblau: {grid} x {grid} starts x {bsteps} steps of sgd: {t:.3f} s   "
          f"{grid * grid * bsteps / t:>14,.0f} particle-steps/s")
    sim = Simulation(obj, [RunSettings(f"r{i}", "adam", {"lr": 1e-3}, (-1.5, 2.0), 10**9) for i in range(1000)])
    k = 100 if quick else 500
    t = median_time(lambda: sim.step(k), repeats)
    print(f"(for comparison, Simulation.step with 1,000 Adam runs: {1000 * k / t:,.0f} particle-steps/s)")


def main() -> None:
    quick = "--quick" in sys.argv
    repeats = 3 if quick else 7
    diagnosis(repeats, quick)
    sweeps(repeats, quick)


if __name__ == "__main__":
    main()
