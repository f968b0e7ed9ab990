"""Time to the first frame of `optsim NAME`, against another checkout of optsim, alternated.

Issue 12's goal: the first frame of `optsim NAME` with a warm formula cache within 0.4 s.
On a shared machine one figure says little, so this runs this tree and a BASE tree (another
checkout or `git worktree` of optsim, e.g. main before a change) one after the other, REPS
times each, on a pseudo-terminal (160x48 unless --size says otherwise) as
benchmarks/bandwidth.py does, and prints the medians and the ratio of new to base: the wall
time from starting the process to the end of its first complete frame (the first
synchronized update showing the status line), and the process's CPU time at that moment
(user + system, from /proc; on a loaded machine the wall time also waits for a core). Both
trees run with this interpreter and its packages; the BASE tree's engine/, tui/ and
scenarios/ are put first on the import path as `optsim`. The formula cache is private and
filled before the timed runs; .pyc files may be written (as an installed package has them).
Nothing here asserts a time.

Run: .venv/bin/python benchmarks/first_frame.py [--base DIR] [--reps 9] [--size 160x48] [NAME]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bandwidth import Terminal, optsim  # noqa: E402

MARKER = b"step "


def first_frame(argv: list[str], size: tuple[int, int] = (160, 48), timeout: float = 10.0) -> tuple[float, float]:
    """(wall seconds, CPU seconds) from starting `argv` to its first frame (nan if none came)."""
    term = Terminal(argv, cols=size[0], rows=size[1])
    try:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            term.pump(0.01)
            wall = term.first_frame_time(MARKER)
            if wall is not None:
                return wall, term.cpu_seconds()
        return float("nan"), float("nan")
    finally:
        term.close()


def package_dir(tree: Path, tmp: Path) -> Path:
    """A folder holding `optsim/` made of the tree's three package folders (as installed)."""
    root = tmp / "base-path"
    (root / "optsim").mkdir(parents=True)
    for name in ("engine", "tui", "scenarios"):
        (root / "optsim" / name).symlink_to(tree.resolve() / name)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", nargs="?", default="model-bias", help="built-in scenario (default: model-bias)")
    parser.add_argument("--base", type=Path, help="another optsim checkout to compare with (default: none)")
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--size", default="160x48", help="terminal columns x rows (default: 160x48)")
    args = parser.parse_args()
    size = tuple(int(n) for n in args.size.split("x"))

    tmp = Path(tempfile.mkdtemp(prefix="optsim-first-frame-"))
    saved = dict(os.environ)
    os.environ["OPTSIM_CACHE_DIR"] = str(tmp / "cache")
    for variable in ("PYTHONDONTWRITEBYTECODE", "OPTSIM_NO_CACHE", "PYTHONPATH"):
        os.environ.pop(variable, None)
    trees = {"new": None}
    if args.base is not None:
        trees = {"base": str(package_dir(args.base, tmp)), "new": None}
    try:
        for path in trees.values():  # fills the formula cache, writes .pyc files
            set_path(path)
            first_frame(optsim(args.name), size)
        times: dict[str, list[tuple[float, float]]] = {label: [] for label in trees}
        for _ in range(args.reps):
            for label, path in trees.items():
                set_path(path)
                times[label].append(first_frame(optsim(args.name), size))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    print(f"first frame of `optsim {args.name}` ({args.size}, warm formula cache), medians of {args.reps} "
          f"alternated runs:")
    medians = {label: [statistics.median(x) for x in zip(*rows)] for label, rows in times.items()}
    for label, (wall, cpu) in medians.items():
        spread = sorted(w for w, _ in times[label])
        print(f"  {label:>4}: wall {wall:.3f} s (range {spread[0]:.3f}-{spread[-1]:.3f}), CPU {cpu:.3f} s")
    if "base" in medians:
        (bw, bc), (nw, nc) = medians["base"], medians["new"]
        print(f"  new / base: wall {nw / bw:.2f}x, CPU {nc / bc:.2f}x")
    print(f"  goal <= 0.4 s: {'met' if medians['new'][0] <= 0.4 else 'not met'} (wall)")


def set_path(path: str | None) -> None:
    if path is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = path


if __name__ == "__main__":
    main()
