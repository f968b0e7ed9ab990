"""`optsim diagnose FILE [--steps N] [--seed S] [--json] [--no-guide]`: why each run ends where it does.

Plays the scenario headless (scripted `set` events applied, as `optsim run`
does) with a Diagnoser observing every step, then prints every run's status,
headline, evidence and remedy, the general guide, and the batch-size lab's
table when the scenario has a [batch_lab].
"""
from __future__ import annotations

import argparse
import json
import sys

from ...engine.text_format import strict_json
from .run_options import add_run_options, check_run_options


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("diagnose", help="every run's status, evidence and remedy, and the general guide")
    p.add_argument("file", metavar="FILE|NAME")
    add_run_options(p, after="report")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--no-guide", action="store_true", help="skip the general guide (and its global search)")


def run(args: argparse.Namespace) -> int:
    from ...engine.scenario.build import build_simulation
    from ...engine.scenario.catalog import resolve
    from ...engine.analysis.diagnosis import Diagnoser
    from ...engine.watch.script import play_to_end
    from ...engine.scenario.load import load_scenario

    check_run_options(args)
    path = resolve(args.file)
    scenario = load_scenario(path)
    sim = build_simulation(scenario, seed=args.seed, steps=args.steps)
    diag = Diagnoser(sim)
    play_to_end(sim, scenario.events, after_tick=diag.observe)
    report = diag.report()
    guide = None
    if not args.no_guide:
        from ...engine.analysis.guide import general_guide

        guide = general_guide(scenario, sim, seed=args.seed)
    lab = None
    if "batch_lab" in scenario.extra:
        from ...engine.analysis.batch_lab import run_batch_lab

        lab = run_batch_lab(scenario, sim.objective, seed=args.seed)
    if args.json:
        print(json.dumps(strict_json(_as_json(sim, report, guide, lab)), allow_nan=False))
        _plot(args, sim, sys.stderr)  # stdout holds the JSON
        return 0
    print(format_runs(sim, report))
    if guide is not None:
        print()
        print(guide.format())
    if lab is not None:
        print()
        print("Batch-size lab")
        print(lab.format())
    _plot(args, sim, sys.stdout)
    return 0


def _plot(args: argparse.Namespace, sim, stream) -> None:
    if args.plot:
        from ..render.cli_plot import print_run_plot

        print(file=stream)
        print_run_plot(sim, stream, args.width, args.height)


def format_runs(sim, report) -> str:
    from ...engine.analysis.diagnosis.events import summary

    head = ("run", "optimizer", "steps", "status", "events", "headline")
    rows = [(c.name, c.optimizer, str(int(sim.step_count[i])), d.status, summary(d.events) or "-", d.headline)
            for i, (c, d) in enumerate(zip(sim.configs, report))]
    widths = [max(len(r[k]) for r in [head, *rows]) for k in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [head, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for c, d in zip(sim.configs, report):
        ev = ", ".join(f"{k} {v:.4g}" for k, v in d.evidence.items())
        lines.append("")
        lines.append(f"{c.name}: {d.status}")
        lines.append(f"  evidence: {ev}")
        lines.append(f"  remedy: {d.remedy}")
        lines.append("  events: " + ("\n          ".join(e.text for e in d.events) or "none"))
    return "\n".join(lines)


def _as_json(sim, report, guide, lab) -> dict:
    out = {"runs": [{"name": c.name, "status": d.status, "headline": d.headline, "remedy": d.remedy,
                     "evidence": {k: float(v) for k, v in d.evidence.items()},
                     "events": [{"step": e.step, "kind": e.kind, "text": e.text} for e in d.events]}
                    for c, d in zip(sim.configs, report)]}
    if guide is not None:
        out["guide"] = {
            "verdict": guide.main.verdict, "best_run": guide.main.run,
            "train_target": guide.train_target, "test_target": guide.test_target, "base": guide.base,
            "best_reachable": None if guide.search is None else guide.search.best_loss,
            "search_rows": None if guide.search is None or not guide.search.rows_total else
            {"searched": guide.search.rows_searched, "total": guide.search.rows_total},
            "shift": list(guide.shift),
            "models": [{"name": m.name, "kind": m.kind, "params": m.n_params, "train_loss": m.train_loss,
                        "test_loss": None if m.test_loss is None else m.test_loss} for m in guide.models],
            "runs": [{"run": v.run, "verdict": v.verdict, "headline": v.headline, "steps": list(v.steps),
                      "remedy": v.remedy, "evidence": {k: float(x) for k, x in v.evidence.items()}}
                     for v in guide.verdicts],
        }
    if lab is not None:
        out["batch_lab"] = {
            "costs": [{"batch": c.batch, "updates_per_epoch": c.updates_per_epoch, "time_per_update": c.time_per_update,
                       "time_per_epoch": c.time_per_epoch} for c in lab.costs],
            "runs": [{"batch": r.batch, "final_loss": r.final_loss,
                      "final_test": None if r.final_test is None else r.final_test,
                      "sharpness": r.sharpness, "epochs": float(r.epochs[-1]), "time": float(r.time[-1])}
                     for r in lab.runs],
            "comparisons": [{"axis": c.axis, "at": c.at,
                             "rows": [{"batch": r.batch, "updates": r.updates, "epochs": r.epochs, "time": r.time,
                                       "train_loss": r.train_loss,
                                       "test_loss": None if r.test_loss is None else r.test_loss,
                                       "sharpness": r.sharpness} for r in c.rows]}
                            for c in lab.comparisons],
        }
    return out
