"""`optsim run FILE [--steps N] [--seed S] [--out F.csv|F.json]`: play a scenario headless.

Scripted ``set`` events are applied at their steps, so the numbers are the
ones the app shows. Prints a summary table; ``--out -`` writes CSV to stdout
(and the summary to stderr). ``--plot`` adds loss and |g| against steps
(plotext), after the summary and on the same stream.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .run_options import add_run_options, check_run_options


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a scenario headless; write trajectories as CSV or JSON")
    p.add_argument("file", metavar="FILE|NAME")
    add_run_options(p, after="summary")
    p.add_argument("--out", help="F.csv or F.json (or - for CSV on stdout)")


def run(args: argparse.Namespace) -> int:
    from ...engine.scenario.build import build_simulation
    from ...engine.scenario.catalog import resolve
    from ...engine.errors import ScenarioError
    from ...engine.watch.script import Script, apply_event
    from ...engine.scenario.load import load_scenario
    from ...engine.scenario.trajectory_io import TrajectoryRecorder
    from ...engine.safe_io import atomic_writer

    check_run_options(args)
    fmt = None
    if args.out:
        fmt = "csv" if args.out == "-" else Path(args.out).suffix.lower().lstrip(".")
        if fmt not in ("csv", "json"):
            raise ScenarioError(args.out, "--out", "must end in .csv or .json")
    path = resolve(args.file)
    scenario = load_scenario(path)
    # only --plot reads the history (the summary and the file take the simulation's own arrays)
    sim = build_simulation(scenario, seed=args.seed, steps=args.steps, record_history=bool(args.plot))
    recorder = TrajectoryRecorder(sim, fmt or "csv") if fmt else None
    script = Script(scenario.events)
    engine_time = 0.0
    started = time.perf_counter()
    while True:
        for event in script.due(sim.tick):
            apply_event(sim, event)
        t0 = time.perf_counter()
        made = sim.step()
        engine_time += time.perf_counter() - t0
        if not made:
            break
        if recorder:
            recorder.observe()
    summary_to = sys.stderr if args.out == "-" else sys.stdout
    if recorder:
        if args.out == "-":
            recorder.write(sys.stdout, str(path), sim.seed)
        else:
            try:  # a temporary file renamed over --out: an interrupt leaves the old file or the new one
                with atomic_writer(args.out) as fh:
                    recorder.write(fh, str(path), sim.seed)
            except OSError as exc:
                raise ScenarioError(args.out, "--out", f"cannot write ({exc.strerror or exc})") from None
        recorder.close()
    print(summary_table(sim), file=summary_to)
    elapsed = time.perf_counter() - started
    print(f"{sim.tick} steps x {sim.n_runs} runs in {engine_time:.3f} s of engine time ({elapsed:.3f} s in all)"
          + (f"; wrote {args.out}" if args.out and args.out != "-" else ""), file=summary_to)
    if args.plot:  # with --out -, stdout carries the CSV: the plot goes with the summary to stderr
        from ..render.cli_plot import print_run_plot

        print_run_plot(sim, summary_to, args.width, args.height)
    return 0


def summary_table(sim) -> str:
    """Plain-text table: run, optimizer, steps, loss, grad norm, status."""
    from ...engine.scenario.trajectory_io import run_status

    head = ("run", "optimizer", "steps", "loss", "grad_norm", "status")
    rows = [(c.name, c.optimizer, str(int(sim.step_count[i])), f"{sim.loss[i]:.6g}",
             f"{sim.grad_norm[i]:.3g}", run_status(sim, i)) for i, c in enumerate(sim.configs)]
    widths = [max(len(r[k]) for r in [head, *rows]) for k in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [head, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
