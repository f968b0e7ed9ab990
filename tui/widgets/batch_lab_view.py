"""The batch-size lab as tables: what each batch size costs, and where it ended.

Formats an engine BatchLabResult (optsim.engine.analysis.batch_lab) for the batch-lab screen. Only
formatting and picking here (which row has the lowest sharpness, the fastest epoch); every
number is the engine's. The comparisons at equal updates, equal epochs and equal simulated
time (the lecture's point: which batch size is ahead depends on the clock) are the engine's
result.comparisons, the same rows `optsim diagnose` prints.
"""

from __future__ import annotations

import math

from ...engine.analysis.batch_lab import CLOCK_NAMES, BatchLabResult, BatchRun, ClockComparison
from ...engine.text_format import sig as fmt
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

FLAT_STYLE = "bold green"
SHARP_STYLE = "yellow"
FLAT_WITHIN = 1.1
"""Rows whose sharpness is within 10% of the lowest are called flat with it (same minimum)."""


def cost_table(result: BatchLabResult) -> Table:
    u = result.cost.unit
    fastest = min(c.time_per_epoch for c in result.costs) if result.costs else None
    table = Table(title=f"Cost: epoch = {result.config.n_samples} samples", title_style="bold", title_justify="left",
                  box=None, padding=(0, 1), header_style="bold")
    for name in ("batch", "updates/epoch", "time/update", "time/epoch"):
        table.add_column(name, justify="right", no_wrap=True)
    for c in result.costs:
        style = "bold cyan" if c.time_per_epoch == fastest else ""
        table.add_row(str(c.batch), str(c.updates_per_epoch), f"{c.time_per_update:.4g} {u}",
                      f"{c.time_per_epoch:.4g} {u}", style=style)
    return table


def flat_rows(result: BatchLabResult) -> list[BatchRun]:
    """The runs that ended in the flattest minimum: lowest sharpness (within FLAT_WITHIN)."""
    finite = [r for r in result.runs if math.isfinite(r.sharpness) and r.diverged_at < 0]
    if not finite:
        return []
    low = min(r.sharpness for r in finite)
    return [r for r in finite if r.sharpness <= low * FLAT_WITHIN or r.sharpness == low]


def runs_table(result: BatchLabResult) -> Table:
    u = result.cost.unit
    flat = {r.batch for r in flat_rows(result)}
    table = _clock_table("Runs: the same problem at each batch size, at their ends")
    for r in result.runs:
        cells = [str(r.batch), str(int(r.updates[-1])), f"{r.epochs[-1]:.4g}", f"{r.time[-1]:.4g} {u}",
                 fmt(r.final_loss), fmt(r.final_test), fmt(r.sharpness)]
        style = "red" if r.diverged_at >= 0 else (FLAT_STYLE if r.batch in flat else SHARP_STYLE if flat else "")
        table.add_row(*cells, style=style)
    return table


CLOCK_COLUMNS = ("batch", "updates", "epochs", "time", "train loss", "test loss", "sharpness")
LEAD_STYLE = "bold cyan"


def _clock_table(title: str) -> Table:
    table = Table(title=title, title_style="bold", title_justify="left", box=None, padding=(0, 1),
                  header_style="bold")
    for name in CLOCK_COLUMNS:
        table.add_column(name, justify="right", no_wrap=True)
    return table


def comparison_table(c: ClockComparison, unit: str) -> Table:
    """Every batch size read at the same point of one clock (the engine's rows); the lowest
    training and test loss there are named under the table and their cells highlighted."""
    at = f"{c.at:.4g} {unit}" if c.axis == "time" else f"{c.at:.4g} {c.axis}"
    table = _clock_table(f"At {CLOCK_NAMES[c.axis]} ({at})")
    train, test = c.lowest("train_loss"), c.lowest("test_loss")
    for r in c.rows:
        table.add_row(str(r.batch), str(r.updates), f"{r.epochs:.4g}", f"{r.time:.4g} {unit}",
                      Text(fmt(r.train_loss), style=LEAD_STYLE if r is train else ""),
                      Text(fmt(r.test_loss), style=LEAD_STYLE if r is test else ""), fmt(r.sharpness))
    leads = [f"lowest {what}: batch {row.batch} ({fmt(getattr(row, key))})"
             for what, key, row in (("training loss", "train_loss", train), ("test loss", "test_loss", test))
             if row is not None]
    if leads:
        table.caption = "; ".join(leads)
        table.caption_justify = "left"
    return table


def comparisons(result: BatchLabResult) -> RenderableType:
    """The three clocks' comparisons, a blank line before each."""
    out: list[RenderableType] = []
    for c in result.comparisons:
        out += [Text(""), comparison_table(c, result.cost.unit)]
    return Group(*out)


def _batches(rows: list[BatchRun]) -> str:
    names = [str(r.batch) for r in rows]
    return ("batch " if len(names) == 1 else "batches ") + ", ".join(names)


def _span(values: list[float]) -> str:
    lo, hi = min(values), max(values)
    return fmt(lo) if fmt(lo) == fmt(hi) else f"{fmt(lo)} to {fmt(hi)}"


def notice(result: BatchLabResult) -> Text:
    """One or two sentences on what to notice, picked from the numbers shown."""
    out = Text()
    u = result.cost.unit
    if result.costs:
        fastest = min(result.costs, key=lambda c: c.time_per_epoch)
        smallest = min(result.costs, key=lambda c: c.batch)
        out.append(f"An epoch takes {smallest.time_per_epoch:.4g} {u} at batch {smallest.batch} "
                   f"({smallest.updates_per_epoch} updates) but only {fastest.time_per_epoch:.4g} {u} at batch "
                   f"{fastest.batch} ({fastest.updates_per_epoch} updates): time per update stays flat up to "
                   f"batch {result.cost.capacity}. ")
    flat = flat_rows(result)
    finite = [r for r in result.runs if math.isfinite(r.sharpness) and r.diverged_at < 0]
    sharp = [r for r in finite if r not in flat]
    if flat and sharp:
        out.append(f"{_batches(flat).capitalize()} ended in the flat minimum (lowest sharpness "
                   f"{_span([r.sharpness for r in flat])}), {_batches(sharp)} in a sharp one "
                   f"(sharpness {_span([r.sharpness for r in sharp])})", style="bold")
        if all(r.final_test is not None for r in finite):
            out.append(f"; on the shifted test data the flat one's test loss is "
                       f"{_span([r.final_test for r in flat])} against {_span([r.final_test for r in sharp])}",
                       style="bold")
        out.append(".", style="bold")
    elif flat:
        out.append(f"Every batch size ended about equally sharp (sharpness {_span([r.sharpness for r in flat])}).")
    diverged = [r for r in result.runs if r.diverged_at >= 0]
    if diverged:
        out.append(f" {_batches(diverged).capitalize()} diverged.", style="red")
    return out


AXIS_KEYS = {"updates": "u", "epochs": "p", "time": "t"}
"""The screen's key for each x axis of the loss plot (engine.batch_lab.AXES)."""


def axis_name(result: BatchLabResult, axis: str) -> str:
    return {"updates": "updates", "epochs": "epochs", "time": f"simulated time ({result.cost.unit})"}[axis]


def plot_title(result: BatchLabResult, axis: str) -> str:
    return f"loss vs {axis_name(result, axis)}"


def legend(result: BatchLabResult, colors: list[str]) -> Text:
    """One swatch per batch size in its curve's colour (the plot draws batch 1 first, below)."""
    out = Text("curves by batch size: ", style="dim")
    for i, r in enumerate(result.runs):
        out.append("━━ ", style=colors[i % len(colors)] if colors else "")
        out.append(str(r.batch), style="bold" if r.diverged_at < 0 else "bold red")
        out.append("   ")
    return out


def axis_hint(axis: str) -> Text:
    """The key line: the x axis keys, the one shown highlighted."""
    out = Text("loss plot x axis: ")
    for name, key in AXIS_KEYS.items():
        out.append(f"[{key}] ", style="bold")
        out.append(name, style="bold reverse" if name == axis else "")
        out.append("  ")
    out.append("· esc closes")
    return out


def batch_lab_body(result: BatchLabResult) -> RenderableType:
    """Notice first, then the cost table and the runs at their ends (the comparisons at equal
    updates, epochs and simulated time go under the loss plot: `comparisons`)."""
    return Group(notice(result), Text(""), cost_table(result), Text(""), runs_table(result))
