"""`optsim analyze FILE --at X,Y [--json] [--step S,...]`: the critical-point report at a point.

Prints the point, loss, gradient, Hessian, eigenvalues, the kind and the
escape direction (the keys of --json are listed in docs/cli.md), plus the minimum ratio, the
loss change the second-order Taylor model predicts along the escape
direction next to the true change, the lower bound of the loss when one is
known, and an explanation in the lecture's terms.
"""
from __future__ import annotations

import argparse
import json
import textwrap

import numpy as np

from ...engine.text_format import strict_json, vector


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="gradient, Hessian, eigenvalues and the kind of point at --at")
    p.add_argument("file", metavar="FILE|NAME")
    p.add_argument("--at", required=True, help="the point, comma separated (e.g. --at=-1.5,2)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--step", help="step sizes along the escape direction, comma separated "
                                  "(default: 1/40, 1/8 and 1/4 of the view's width)")


def parse_point(text: str, n: int, file: str, key: str = "--at"):
    from ...engine.errors import ScenarioError

    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise ScenarioError(file, key, f"{text!r} is not a comma-separated list of numbers") from None
    if n and len(values) != n:
        raise ScenarioError(file, key, f"needs {n} numbers (one per parameter), not {len(values)}")
    if not all(abs(v) < float("inf") for v in values):
        raise ScenarioError(file, key, "needs finite numbers")
    return values


def check_finite_at(objective, point, file: str) -> None:
    """The loss, gradient and Hessian must be finite numbers at --at (log(x) at x = 0 is not)."""
    from ...engine.errors import ScenarioError

    x = np.asarray([point], dtype=np.float64)
    with np.errstate(all="ignore"):
        # only the loss must be finite: where g or H is not, the report says the loss is not differentiable
        parts = (("loss", objective.loss(x)),)
    for name, value in parts:
        if not np.isfinite(value).all():
            where = ", ".join(f"{v:g}" for v in point)
            raise ScenarioError(file, "--at", f"the {name} at ({where}) is not a finite number")


def default_steps(scenario) -> tuple[float, ...]:
    """1/40, 1/8 and 1/4 of the narrowest plotted view span ((0.1, 0.5, 1) for a view of width 4)."""
    spans = [hi - lo for lo, hi in scenario.surface.view.values()]
    if not spans:
        return (0.1, 0.5, 1.0)
    span = min(spans)
    return (span / 40, span / 8, span / 4)


def run(args: argparse.Namespace) -> int:
    from ...engine.scenario.build import build_objective
    from ...engine.scenario.catalog import resolve
    from ...engine.analysis.critical import analyze_point, known_lower_bound
    from ...engine.errors import ScenarioError
    from ...engine.scenario.load import load_scenario

    path = resolve(args.file)
    scenario = load_scenario(path)
    objective = build_objective(scenario)
    point = parse_point(args.at, objective.n_params, str(path))
    steps = default_steps(scenario)
    if args.step:
        steps = tuple(parse_point(args.step, 0, str(path), "--step"))
        if any(s <= 0 for s in steps):
            raise ScenarioError(str(path), "--step", "step sizes must be positive")
    check_finite_at(objective, point, str(path))
    try:
        report = analyze_point(objective, point, known_lower_bound(scenario, objective), escape_steps=steps)
    except np.linalg.LinAlgError:  # finite but so large that the eigen-solver overflows
        raise ScenarioError(str(path), "--at", "the Hessian there is too large to analyze") from None
    if args.json:
        out = report.to_json()
        out["params"] = list(objective.params)
        print(json.dumps(strict_json(out), allow_nan=False))
        return 0
    print(format_report(report, objective.params))
    return 0


def format_report(report, names) -> str:
    def vec(v) -> str:
        return vector(v, digits=6, no_minus_zero=True)

    lines = [
        f"point        {vec(report.point)}  [{', '.join(names)}]",
        f"loss         {report.loss:.10g}",
        f"gradient     {vec(report.grad)}  |g| = {float((report.grad ** 2).sum()) ** 0.5:.3g}",
        "hessian      " + "\n             ".join(vec(row) for row in report.hessian),
        f"eigenvalues  {vec(report.eigenvalues)}",
        f"kind         {report.kind}" + (f"  ({report.verdict})" if report.verdict and report.verdict != report.kind
                                         else ""),
        "escape       " + ("none" if report.escape_direction is None else vec(report.escape_direction)),
    ]
    if report.escape:
        lines.append("taylor       step      model change   true change")
        lines += [f"             {t.step:<9.4g} {t.predicted:<14.6g} {t.true:.6g}" for t in report.escape]
    if len(report.eigenvalues) > 2:
        lines.append(f"min ratio    {report.minimum_ratio:.3f}")
    if report.lower_bound is not None:
        lines.append(f"lower bound  {report.lower_bound.value:.6g}" + ("  (reached)" if report.at_lower_bound else ""))
    if report.explanation:
        lines.append("")
        lines += textwrap.wrap(report.explanation, 88)
    return "\n".join(lines)
