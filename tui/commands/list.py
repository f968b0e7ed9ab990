"""`optsim list [DIR]`: the built-in scenarios (or a folder's), one line each, in lecture order."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list the built-in scenarios (or a folder's), one line each")
    p.add_argument("folder", nargs="?", help="a folder of *.toml scenarios (default: the built-ins)")


def run(args: argparse.Namespace) -> int:
    from ...engine.scenario.catalog import catalog
    from ...engine.errors import ScenarioError

    folder = Path(args.folder) if args.folder else None
    if folder is not None and not folder.is_dir():
        raise ScenarioError(args.folder, "", "not a folder")
    entries = catalog(folder)
    width = max((len(e.name) for e in entries), default=0)
    for e in entries:
        print(f"{e.name:<{width}}  {e.title}")
    return 0
