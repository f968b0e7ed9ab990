"""The Hessian report as text: what kind of point a run sits on, and why.

Formats an engine PointReport (optsim.engine.analysis.critical) for the report screen (full) and
for the side panel (compact). Only formatting here; the numbers come from the engine.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text

from ...engine.analysis.critical import PointReport
from ...engine.text_format import vector

WHY = {
    "local minimum": "every eigenvalue of the Hessian is positive: the loss rises in every direction.",
    "local maximum": "every eigenvalue is negative: the loss falls in every direction.",
    "saddle point": "the eigenvalues have both signs: along the escape direction (the eigenvector of "
                    "the most negative eigenvalue) the loss falls, L(t'+u) ~ L(t') + 1/2 lambda |u|^2.",
    "degenerate": "some eigenvalue is zero: the second-order test cannot tell. Look at the loss itself: "
                  "if it sits at its lower bound, the point is still a minimum.",
    "not critical": "the gradient is not zero, so this is no critical point: a small enough step "
                    "along -g lowers the loss.",
}

KIND_STYLE = {
    "local minimum": "bold green",
    "local maximum": "bold red",
    "saddle point": "bold yellow",
    "degenerate": "bold magenta",
    "not critical": "bold cyan",
}


def _matrix_lines(h: np.ndarray, digits: int = 4) -> list[str]:
    cells = [[f"{x:.{digits}g}" for x in row] for row in h]
    width = max(len(c) for row in cells for c in row)
    return ["[ " + "  ".join(c.rjust(width) for c in row) + " ]" for row in cells]


def report_text(report: PointReport, params: Sequence[str], run: str | None = None,
                step: int | None = None) -> Group:
    """The full report: point, loss, gradient, Hessian, eigenvalues, verdict and why."""
    where = f" at {run}" + (f", step {step}" if step is not None else "") if run else ""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    table.add_row("point", ", ".join(f"{p} = {x:.6g}" for p, x in zip(params, report.point)))
    table.add_row("loss", f"{report.loss:.6g}")
    g = float(np.linalg.norm(report.grad))
    table.add_row("gradient", f"{vector(report.grad, 4)}   |g| = {g:.3g} (zero below {report.grad_tol:.1g})")
    lines = _matrix_lines(report.hessian)
    if len(lines) > 8:
        lines = lines[:8] + [f"... ({len(lines)} x {len(lines)})"]
    table.add_row("Hessian", "\n".join(lines))
    table.add_row("eigenvalues", ", ".join(f"{x:.4g}" for x in report.eigenvalues))
    verdict = Text(report.kind, style=KIND_STYLE.get(report.kind, "bold"))
    verdict.append(_near(report), style=KIND_STYLE.get(report.near_kind, ""))
    table.add_row("verdict", verdict)
    why = WHY.get(report.kind, "")
    if report.near_kind:
        why += (f" But the critical point of the local quadratic model is {report.near_distance:.2g} away, a "
                f"{report.near_kind}: a run here has all but stopped next to it.")
    table.add_row("why", why)
    if report.escape_direction is not None:
        escape = Text(vector(report.escape_direction, 3), style="bold")
        escape.append(f"  (eigenvalue {report.eigenvalues[0]:.4g})", style="")
        table.add_row("escape", escape)
    return Group(Text(f"Hessian report{where}\n", style="bold"), table)


def report_summary(report: PointReport, run: str | None = None, step: int | None = None) -> Text:
    """Two short lines for the side panel."""
    out = Text()
    if run:
        out.append(f"{run}" + (f" at step {step}" if step is not None else "") + ": ", style="bold")
    out.append(report.kind, style=KIND_STYLE.get(report.kind, "bold"))
    out.append(_near(report), style=KIND_STYLE.get(report.near_kind, ""))
    out.append(f"  |g| {np.linalg.norm(report.grad):.2g}\n", style="dim")
    out.append("λ " + ", ".join(f"{x:.3g}" for x in report.eigenvalues[:4]))
    if report.escape_direction is not None:
        out.append("  escape " + vector(report.escape_direction, 2))
    return out


def _near(report: PointReport) -> str:
    """", near a saddle point (0.0018 away)" when the point is not critical but the local
    quadratic model's critical point is near (the rule the run's status uses too), else ""."""
    if not report.near_kind:
        return ""
    return f", near a {report.near_kind} ({report.near_distance:.2g} away)"
