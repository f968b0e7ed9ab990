"""`optsim sweep FILE [--lr] [--basin] ...`: final loss against learning rate, and basin maps.

The lr sweep prints a table and a plotext plot (log axes, a colour per
optimizer, a legend), sized to the terminal unless --width/--height say.

Without --lr or --basin: the learning-rate sweep, plus the basin map when the
scenario has a [sweep.basin] table. Settings come from the file's [sweep]
table, then the options here, then defaults taken from the scenario's runs
(see engine/scenario/analysis_tables.py and docs/scenario-format.md).
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import time


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="final loss against learning rate (log grid), and basin maps")
    p.add_argument("file", metavar="FILE|NAME")
    p.add_argument("--lr", action="store_true", help="the learning-rate sweep")
    p.add_argument("--basin", action="store_true", help="the basin map")
    p.add_argument("--optimizers", help="comma-separated optimizers for the lr sweep")
    p.add_argument("--lr-min", type=float, help="smallest rate")
    p.add_argument("--lr-max", type=float, help="largest rate")
    p.add_argument("-n", "--n", type=int, help="number of rates (log grid)")
    p.add_argument("--steps", type=int, help="steps of every run")
    p.add_argument("--grid", type=int, help="basin map starts per axis")
    p.add_argument("--width", type=int, help="plot width in characters (default: the terminal's)")
    p.add_argument("--height", type=int, help="plot height in lines (default: the terminal's)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")


def _bad(file: str, key: str, message: str):
    from ...engine.errors import ScenarioError

    return ScenarioError(file, key, message)


def _check_work(file: str, key: str, runs: int, steps: int, objective) -> None:
    """Runs x steps (and x data rows) within the bounds `run` has (engine.core.budget)."""
    from ...engine.core.budget import work_problem

    n_rows = objective.data.n_train if objective.data is not None else None
    problem = work_problem(runs, runs * steps, n_rows)
    if problem:
        raise _bad(file, key, f"{problem}: lower --steps, --n or --grid")


def run(args: argparse.Namespace) -> int:
    from ...engine.scenario.analysis_tables import MAX_SWEEP_STEPS, parse_sweep
    from ...engine.scenario.build import build_objective
    from ...engine.scenario.catalog import resolve
    from ...engine.scenario.load import load_scenario
    from ..render.cli_plot import size_problem

    path = resolve(args.file)
    file = str(path)
    scenario = load_scenario(path)
    cfg = parse_sweep(scenario.extra.get("sweep"), file, scenario.surface.params)
    if args.steps is not None and not 1 <= args.steps <= MAX_SWEEP_STEPS:
        raise _bad(file, "--steps", f"must be between 1 and {MAX_SWEEP_STEPS}, not {args.steps}")
    problem = size_problem(args.width, args.height)
    if problem:
        raise _bad(file, *problem)
    do_lr = args.lr or not args.basin
    do_basin = args.basin or (not args.lr and "basin" in scenario.extra.get("sweep", {}))
    objective = build_objective(scenario)
    out_json: dict = {}
    text: list[str] = []
    if do_lr:
        text += _lr(args, scenario, objective, cfg, file, out_json)
    if do_basin:
        text += ([""] if text else []) + _basin(args, scenario, objective, cfg, file, out_json)
    if args.json:
        print(json.dumps(out_json))
    else:
        print("\n".join(text))
    return 0


def _lr_settings(args, scenario, cfg, file: str) -> tuple[tuple[str, ...], float, float, int]:
    """Optimizers, lr-min, lr-max and the number of rates: the options, then [sweep.lr], then the runs'."""
    from ...engine.errors import nearest
    from ...engine.optim.registry import OPTIMIZERS
    from ...engine.scenario.analysis_tables import MAX_SWEEP_RUNS

    opts = tuple(args.optimizers.split(",")) if args.optimizers else cfg.lr.optimizers
    if not opts:
        opts = tuple(dict.fromkeys(r.optimizer for r in scenario.runs))
    for o in opts:
        if o not in OPTIMIZERS:
            raise _bad(file, "--optimizers", f"unknown optimizer {o!r}" + nearest(o, OPTIMIZERS))
    lo = args.lr_min if args.lr_min is not None else cfg.lr.lr_min
    hi = args.lr_max if args.lr_max is not None else cfg.lr.lr_max
    n = args.n if args.n is not None else cfg.lr.n
    if not (0 < lo < hi and math.isfinite(hi)):
        raise _bad(file, "--lr-min", f"needs 0 < lr-min < lr-max, not {lo:g} and {hi:g}")
    if not 2 <= n <= 10_000 or n * len(opts) > MAX_SWEEP_RUNS:
        raise _bad(file, "--n", f"needs 2 to 10000 rates and at most {MAX_SWEEP_RUNS} runs in all")
    return opts, lo, hi, n


def _lr(args, scenario, objective, cfg, file: str, out_json: dict) -> list[str]:
    """The learning-rate sweep: a summary line, the table and the plot (and its JSON into out_json)."""
    import sys

    from ...engine.analysis.sweep import log_rates, lr_sweep
    from ..render.cli_plot import lr_sweep_plot, plot_style
    from ..render.sweep_plot import lr_table

    opts, lo, hi, n = _lr_settings(args, scenario, cfg, file)
    first = scenario.runs[0]
    steps = args.steps or cfg.lr.steps or min(first.steps, 2000)
    start = cfg.lr.start or first.start
    hyper = {}
    for o in opts:
        spec = next((r for r in scenario.runs if r.optimizer == o), None)
        hyper[o] = dict(spec.hyper) if spec is not None else {}
    _check_work(file, "--n" if args.n is not None else "--steps" if args.steps is not None else "sweep.lr",
                n * len(opts), steps, objective)
    t = time.perf_counter()
    sweeps = lr_sweep(objective, opts, log_rates(lo, hi, n), start, steps, hyper)
    dt = time.perf_counter() - t
    out_json["lr"] = [{"optimizer": s.optimizer, "rates": s.rates.tolist(),
                       "final_loss": [None if not math.isfinite(v) else v for v in s.final_loss.tolist()],
                       "diverged_at": s.diverged_at.tolist(), "best_lr": float(s.rates[s.best]),
                       "largest_stable_lr": None if math.isnan(s.largest_stable) else s.largest_stable}
                      for s in sweeps]
    if args.json:
        return []
    style = plot_style(sys.stdout, args.width, args.height)
    return [f"Learning-rate sweep: {n} rates from {lo:g} to {hi:g}, {steps} steps from "
            f"({', '.join(f'{v:g}' for v in start)}), {n * len(opts)} runs stepped together in {dt:.2f} s",
            lr_table(sweeps), "", lr_sweep_plot(sweeps, style)]


def _basin(args, scenario, objective, cfg, file: str, out_json: dict) -> list[str]:
    import numpy as np

    from ...engine.analysis.sweep import basin_map
    from ..render.sweep_plot import basin_plot

    s = scenario.surface
    names = s.plot or (s.params[0], s.params[1])
    axes = (s.params.index(names[0]), s.params.index(names[1]))
    window = []
    for name in names:
        if name in cfg.basin.window:
            window += list(cfg.basin.window[name])
        elif name in s.view:
            window += list(s.view[name])
        else:
            raise _bad(file, "sweep.basin.window", f"needs a range for {name!r} (the surface has no view for it)")
    first = scenario.runs[0]
    opt = cfg.basin.optimizer or first.optimizer
    spec = next((r for r in scenario.runs if r.optimizer == opt), None)
    hyper = dict(spec.hyper) if spec is not None else {}
    if cfg.basin.lr is not None:
        hyper["lr"] = cfg.basin.lr
    grid = args.grid if args.grid is not None else cfg.basin.grid
    if not 2 <= grid <= 500:
        raise _bad(file, "--grid", f"must be between 2 and 500, not {grid}")
    steps = args.steps or cfg.basin.steps
    _check_work(file, "--grid" if args.grid is not None else "--steps" if args.steps is not None else "sweep.basin",
                grid * grid, steps, objective)
    minima = np.asarray(s.minima, dtype=float) if s.minima else None
    t = time.perf_counter()
    bm = basin_map(objective, tuple(window), grid, opt, hyper, steps, minima, base=first.start, axes=axes,
                   tol=cfg.basin.tol)
    dt = time.perf_counter() - t
    width = args.width if args.width is not None else shutil.get_terminal_size(fallback=(80, 24)).columns
    out_json["basin"] = {"axes": list(names), "window": window, "grid": grid, "minima": bm.minima.tolist(),
                         "labels": bm.labels.tolist(), "shares": {str(k): v for k, v in bm.shares().items()}}
    return [f"Basin map: {grid} x {grid} starts over {names[0]}, {names[1]}; {opt} lr {hyper.get('lr', 'default')}, "
            f"{steps} steps; {grid * grid} runs stepped together in {dt:.2f} s",
            basin_plot(bm, names, width=min(width, grid), height=min(width // 2, grid))]
