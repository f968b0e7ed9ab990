"""`optsim analyze FILE --at X,Y [--json]`: the critical-point report at a point."""
from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="gradient, Hessian, eigenvalues and the kind of point at --at")
    p.add_argument("file", metavar="FILE|NAME")
    p.add_argument("--at", required=True, help="the point, comma separated (e.g. --at=-1.5,2)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")


def parse_point(text: str, n: int, file: str):
    from optsim.engine.errors import ScenarioError

    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise ScenarioError(file, "--at", f"{text!r} is not a comma-separated list of numbers") from None
    if len(values) != n:
        raise ScenarioError(file, "--at", f"needs {n} numbers (one per parameter), not {len(values)}")
    return values


def run(args: argparse.Namespace) -> int:
    from optsim.engine.build import build_objective
    from optsim.engine.catalog import resolve
    from optsim.engine.critical import analyze_point
    from optsim.engine.scenario import load_scenario

    path = resolve(args.file)
    scenario = load_scenario(path)
    objective = build_objective(scenario)
    point = parse_point(args.at, objective.n_params, str(path))
    report = analyze_point(objective, point)
    if args.json:
        print(json.dumps(report.to_json()))
        return 0
    print(format_report(report, objective.params))
    return 0


def format_report(report, names) -> str:
    def vec(v) -> str:
        return "(" + ", ".join(f"{x:.6g}" for x in v) + ")"

    lines = [
        f"point        {vec(report.point)}  [{', '.join(names)}]",
        f"loss         {report.loss:.10g}",
        f"gradient     {vec(report.grad)}  |g| = {float((report.grad ** 2).sum()) ** 0.5:.3g}",
        "hessian      " + "\n             ".join(vec(row) for row in report.hessian),
        f"eigenvalues  {vec(report.eigenvalues)}",
        f"kind         {report.kind}",
        "escape       " + ("none" if report.escape_direction is None else vec(report.escape_direction)),
    ]
    return "\n".join(lines)
