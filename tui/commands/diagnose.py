"""`optsim diagnose`: not built yet."""
from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("diagnose", help="(coming)")


def run(args: argparse.Namespace) -> int:
    print("optsim diagnose: not built yet")
    return 1
