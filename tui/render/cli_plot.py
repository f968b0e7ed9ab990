"""Command-line plots built with plotext: final loss against lr (`optsim sweep`), loss and |g| against
steps (`optsim run --plot`, `optsim diagnose --plot`).

plotext draws to a string (``plotext.build()``), so the commands decide where
it goes (stdout, or stderr when stdout carries CSV). The live app keeps its
own renderer: plotext's frame build is 20-40x the app's frame budget
(benchmarks/render.py). Log axes get ticks at whole decades, labelled with
the plain number (0.001, 0.1, 10). With colour, every series is a braille
line in its own colour; without (not a terminal, or NO_COLOR set), every
series gets its own marker character, so the legend still tells them apart.
"""
from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from typing import IO, Mapping, Sequence

import numpy as np
import plotext

from ...engine.analysis.sweep import LrSweep

COLOURS = ("blue+", "red+", "green+", "magenta+", "cyan+", "yellow+", "orange", "gray")
MARKERS = ("*", "+", "o", "#", "@", "%", "&", "=")
"""Markers without colour; 'x' is kept for the diverged rates."""
MIN_SIZE, MAX_SIZE = (20, 5), (400, 200)


@dataclass(frozen=True)
class PlotStyle:
    """Size in characters (the whole figure, axes included) and whether to emit colour codes."""

    width: int
    height: int
    colour: bool


def size_problem(width: int | None, height: int | None) -> tuple[str, str] | None:
    """(option, message) when --width or --height is out of range, else None."""
    for name, value, lo, hi in (("--width", width, MIN_SIZE[0], MAX_SIZE[0]),
                                ("--height", height, MIN_SIZE[1], MAX_SIZE[1])):
        if value is not None and not lo <= value <= hi:
            return name, f"must be between {lo} and {hi}, not {value}"
    return None


def plot_style(stream: IO[str], width: int | None = None, height: int | None = None,
               height_share: float = 1.0) -> PlotStyle:
    """The terminal's size unless given (the height times ``height_share``, for stacked plots); colour only
    when ``stream`` is a terminal and NO_COLOR is unset or empty (https://no-color.org)."""
    cols, rows = shutil.get_terminal_size(fallback=(80, 24))
    w = width if width is not None else max(MIN_SIZE[0], min(cols, MAX_SIZE[0]))
    h = height if height is not None else max(10, min(int((rows - 2) * height_share), 40))
    tty = bool(getattr(stream, "isatty", lambda: False)())
    return PlotStyle(w, h, tty and not os.environ.get("NO_COLOR"))


def decade_ticks(lo: float, hi: float, most: int = 8) -> tuple[list[float], list[str]]:
    """Ticks at the powers of ten in [lo, hi] (every 2nd, 5th, 10th, ... when there are more than ``most``),
    or lo and hi themselves when no power of ten falls between."""
    first, last = math.ceil(math.log10(lo) - 1e-9), math.floor(math.log10(hi) + 1e-9)
    exps = list(range(first, last + 1))
    if len(exps) > most:  # every k-th decade for a round k, on multiples of k (1e-100, 1e-50, 1)
        need = len(exps) / most
        k = next(k for k in (m * 10 ** d for d in range(4) for m in (1, 2, 5)) if k >= need)
        exps = [e for e in exps if e % k == 0]
    values = [10.0 ** e for e in exps] if exps else [lo, hi]
    return values, [f"{v:g}" for v in values]


def lr_sweep_plot(sweeps: Sequence[LrSweep], style: PlotStyle) -> str:
    """Final loss against lr on log axes, one line per optimizer, diverged rates as 'x' on the top edge."""
    finals = np.concatenate([s.final_loss for s in sweeps]).astype(float)
    log_y = _wants_log(finals)
    floor = _floor(finals) if log_y else 0.0
    top = float(np.nanmax(np.where(np.isfinite(finals), finals, np.nan))) if np.isfinite(finals).any() else 1.0
    series = {}
    for s in sweeps:
        ok = np.isfinite(s.final_loss)
        y = np.maximum(s.final_loss[ok], floor) if log_y else s.final_loss[ok]
        series[s.optimizer] = (s.rates[ok], y)
    diverged = np.concatenate([s.rates[~np.isfinite(s.final_loss)] for s in sweeps])
    _start(style, "Final loss after the sweep's steps, against the learning rate", "learning rate", "final loss")
    _draw(series, style)
    if diverged.size:
        plotext.scatter(diverged.tolist(), [max(top, floor)] * diverged.size, marker="x", label="diverged",
                        **({"color": "white"} if style.colour else {}))
    rates = np.concatenate([s.rates for s in sweeps])
    plotext.xscale("log")
    plotext.xticks(*decade_ticks(float(rates.min()), float(rates.max())))
    if log_y:
        _log_y(finals, floor)
    return _finish(style)


def step_curves_plot(ticks: np.ndarray, values: np.ndarray, names: Sequence[str], what: str,
                     style: PlotStyle) -> str:
    """``values`` (k, n_runs) against ``ticks`` (k,), one line per run; log y when every value is >= 0
    and they span more than a decade. Non-finite points (a run that diverged or stopped) are left out."""
    log_y = _wants_log(values)
    floor = _floor(values) if log_y else 0.0
    series = {}
    for i, name in enumerate(names):
        ok = np.isfinite(values[:, i])
        y = np.maximum(values[ok, i], floor) if log_y else values[ok, i]
        series[name] = (ticks[ok], y)
    _start(style, f"{what} against steps", "step", what + (" (log scale)" if log_y else ""))
    _draw(series, style)
    if log_y:
        _log_y(values, floor)
    return _finish(style)


def run_curves(sim, style: PlotStyle) -> str:
    """Loss and |g| of every run against steps, from the simulation's (evenly decimated) history."""
    ticks, loss = sim.history.series("loss")
    _, grad = sim.history.series("grad_norm")
    names = sim.names
    return "\n".join((step_curves_plot(ticks, loss, names, "loss", style),
                      step_curves_plot(ticks, grad, names, "|g|", style)))


def print_run_plot(sim, stream: IO[str], width: int | None, height: int | None) -> None:
    """`--plot` of `optsim run` and `optsim diagnose`: the two plots, each half the terminal's height."""
    print(run_curves(sim, plot_style(stream, width, height, height_share=0.5)), file=stream)


# ----- plotext calls -----------------------------------------------------------------
def _start(style: PlotStyle, title: str, xlabel: str, ylabel: str) -> None:
    plotext.clf()  # plotext keeps one global figure
    plotext.theme("clear")  # no background colour: readable on dark and light terminals
    plotext.plotsize(style.width, style.height)
    plotext.title(title)
    plotext.xlabel(xlabel)
    plotext.ylabel(ylabel)


def _draw(series: Mapping[str, tuple[np.ndarray, np.ndarray]], style: PlotStyle) -> None:
    for k, (label, (x, y)) in enumerate(series.items()):
        if not len(x):
            continue
        if style.colour:
            plotext.plot(x.tolist(), y.tolist(), label=label, marker="braille", color=COLOURS[k % len(COLOURS)])
        else:
            plotext.plot(x.tolist(), y.tolist(), label=label, marker=MARKERS[k % len(MARKERS)])


def _log_y(values: np.ndarray, floor: float) -> None:
    finite = values[np.isfinite(values)]
    plotext.yscale("log")
    plotext.yticks(*decade_ticks(max(float(finite.min()), floor), float(finite.max())))


def _finish(style: PlotStyle) -> str:
    text = plotext.build()
    plotext.clf()
    return text if style.colour else plotext.uncolorize(text)


def _wants_log(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    positive = finite[finite > 0]
    return bool(positive.size and (finite >= 0).all() and finite.max() > 10 * positive.min())


def _floor(values: np.ndarray) -> float:
    """Where zeros sit on a log axis: a decade below the smallest positive value."""
    finite = values[np.isfinite(values)]
    return float(finite[finite > 0].min()) / 10
