"""The options `optsim run` and `optsim diagnose` share, declared and checked in one place.

Both play a file to its end, so --steps/--seed mean the same and fail with the same
words; both can plot loss and |g| after their text (--plot/--width/--height).
The seed's range is checked for every command by ``cli.check_common``.
"""
from __future__ import annotations

import argparse


def add_run_options(p: argparse.ArgumentParser, after: str) -> None:
    """--steps, --seed and the plot options; ``after`` names what the plot follows."""
    p.add_argument("--steps", type=int, help="steps for every run (overrides the file)")
    p.add_argument("--seed", type=int, help="seed (overrides the file)")
    p.add_argument("--plot", action="store_true", help=f"plot loss and |g| against steps after the {after}")
    p.add_argument("--width", type=int, help="plot width in characters (default: the terminal's)")
    p.add_argument("--height", type=int, help="height of each plot in lines (default: half the terminal's)")


def check_run_options(args: argparse.Namespace) -> None:
    """--steps out of range or a plot size out of range: one line naming the option."""
    from ...engine.errors import ScenarioError
    from ...engine.scenario.load import MAX_STEPS

    if args.steps is not None and not 1 <= args.steps <= MAX_STEPS:
        raise ScenarioError("--steps", "", f"must be between 1 and {MAX_STEPS}, not {args.steps}")
    if args.width is None and args.height is None:
        return  # nothing to check: plotext (slow to import) stays unloaded
    from ..render.cli_plot import size_problem

    problem = size_problem(args.width, args.height)
    if problem:
        raise ScenarioError(problem[0], "", problem[1])
