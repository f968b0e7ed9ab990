"""Plain-text tables and maps of sweeps: the learning-rate sweep's table and the basin map.

The learning-rate plot itself is plotext's (render/cli_plot.py). The basin map
prints one letter per cell: A, B, C, ... for the minimum the start reached,
'.' for none of them, '#' for diverged.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ...engine.analysis.sweep import DIVERGED, NONE, BasinMap, LrSweep
from ...engine.text_format import table

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def lr_table(sweeps: Sequence[LrSweep], samples: int = 9) -> str:
    """Per optimizer: the best rate and its loss, the largest stable rate; then losses at a few rates."""
    lines = [f"{'optimizer':<16} {'best lr':>10} {'loss there':>12} {'largest stable lr':>18} {'diverged':>9}"]
    for s in sweeps:
        b = s.best
        lines.append(f"{s.optimizer:<16} {table(s.rates[b]):>10} {table(s.final_loss[b]):>12} "
                     f"{table(s.largest_stable):>18} {int((s.diverged_at >= 0).sum()):>5}/{s.rates.size}")
    if sweeps:
        n = sweeps[0].rates.size
        idx = np.unique(np.linspace(0, n - 1, min(samples, n)).round().astype(int))
        lines.append("")
        lines.append(f"{'lr':>10} " + " ".join(f"{s.optimizer:>12}" for s in sweeps))
        for i in idx:
            cells = []
            for s in sweeps:
                cells.append(f"{'diverged':>12}" if s.diverged_at[i] >= 0 else f"{table(s.final_loss[i]):>12}")
            lines.append(f"{table(sweeps[0].rates[i]):>10} " + " ".join(cells))
    return "\n".join(lines)


def basin_plot(bm: BasinMap, names: Sequence[str] = ("x", "y"), width: int = 60, height: int = 24) -> str:
    """A letter per cell (nearest grid start): which minimum the start reached."""
    gy, gx = bm.labels.shape
    cols, rows = min(width, gx), min(height, gy)
    ci = np.round(np.linspace(0, gx - 1, cols)).astype(int)
    ri = np.round(np.linspace(gy - 1, 0, rows)).astype(int)  # top row = highest y
    sub = bm.labels[np.ix_(ri, ci)]
    def ch(v: int) -> str:
        if v == DIVERGED:
            return "#"
        if v == NONE:
            return "."
        return LETTERS[v % len(LETTERS)]
    lines = [f"{bm.ys[-1]:>8.3g} " + "".join(ch(v) for v in sub[0])]
    lines += [f"{'':>8} " + "".join(ch(v) for v in row) for row in sub[1:-1]]
    lines.append(f"{bm.ys[0]:>8.3g} " + "".join(ch(v) for v in sub[-1]))
    lo, hi = f"{bm.xs[0]:.3g}", f"{bm.xs[-1]:.3g}"
    lines.append(f"{'':>9}{lo}{' ' * max(1, cols - len(lo) - len(hi))}{hi}")
    lines.append(f"{'':>9}x: {names[0]}, y: {names[1]}")
    shares = bm.shares()
    for k, m in enumerate(bm.minima):
        lines.append(f"  {LETTERS[k % len(LETTERS)]}  minimum at ({', '.join(f'{v:.4g}' for v in m)}): "
                     f"{shares.get(k, 0.0):.1%} of starts")
    if NONE in shares:
        lines.append(f"  .  none of them: {shares[NONE]:.1%}")
    if DIVERGED in shares:
        lines.append(f"  #  diverged: {shares[DIVERGED]:.1%}")
    return "\n".join(lines)
