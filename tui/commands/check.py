"""`optsim check FILE...`: validate scenarios (and compile their formulas); exit 0 or 2."""
from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="validate scenario files; exit 0 if all are good, 2 otherwise")
    p.add_argument("files", nargs="+", metavar="FILE|NAME")


def run(args: argparse.Namespace) -> int:
    from ...engine.scenario.build import build_simulation
    from ...engine.scenario.catalog import resolve
    from ...engine.errors import ScenarioError
    from ...engine.scenario.load import load_scenario

    bad = 0
    for target in args.files:
        try:
            scenario = load_scenario(resolve(target))
            build_simulation(scenario)  # compiles the formula and checks the starts evaluate
        except ScenarioError as exc:
            print(f"optsim: {exc}", file=sys.stderr)
            bad += 1
            continue
        print(f"ok  {target}  ({scenario.title}; {len(scenario.runs)} runs)")
    return 2 if bad else 0
