"""`optsim serve`: not built yet."""
from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("serve", help="(coming)")


def run(args: argparse.Namespace) -> int:
    print("optsim serve: not built yet")
    return 1
