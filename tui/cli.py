"""The `optsim` command line: the app by default, or a headless subcommand.

Exit codes: 0 ok, 2 bad input (one line naming the file and the key, no
traceback), 1 a bug. Imports are lazy: `optsim --help` and `optsim list` load
neither Textual nor SymPy.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import re
import signal
import sys
import threading
from typing import Iterator, Sequence

COMMANDS = ("list", "check", "run", "analyze", "diagnose", "sweep", "play", "serve")
COMPILING = ("check", "run", "analyze", "diagnose", "sweep", "play")   # these take --no-cache
_NEGATIVE_POINT = re.compile(r"^-(\d|\.\d|inf|nan)", re.IGNORECASE)
MAX_SEED = 2**63 - 1  # as the file's `seed`


def _command(name: str):
    return importlib.import_module(f"optsim.tui.commands.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="optsim",
        description="A terminal visual simulator of optimization: watch why a network fails to train.",
        epilog="`optsim` alone opens the app on its scenario picker; `optsim FILE|NAME` opens one scenario.",
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        _command(name).add_parser(sub)
        if name in COMPILING:
            _add_no_cache(sub.choices[name])
    return parser


def _add_no_cache(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-cache", action="store_true",
                        help="compile formulas afresh; neither read nor write the formula cache "
                             "(also OPTSIM_NO_CACHE=1)")


def _apply_no_cache(args: argparse.Namespace) -> None:
    """Set the formula cache for this command (each call of main decides afresh)."""
    if hasattr(args, "no_cache"):
        from ..engine.formula.cache import set_enabled

        set_enabled(not args.no_cache)


def _app_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="optsim", description="Open the optsim app.")
    p.add_argument("target", nargs="?", help="a scenario file, a built-in name, or a folder of *.toml files")
    p.add_argument("--low-bandwidth", action="store_true", help="fewer frames, no filled bands (for slow SSH links)")
    _add_no_cache(p)
    return p


class _VersionAction(argparse.Action):
    """Like action="version", but reads the version only when asked (importlib.metadata is slow)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="show program's version number and exit"):
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        parser.exit(message=f"optsim {_version()}\n")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("optsim")
    except PackageNotFoundError:
        return "unknown"


def _join_negative_values(argv: list[str]) -> list[str]:
    """Let `--at -1.5,2` work like `--at=-1.5,2` (argparse would take -1.5,2 for an option)."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in ("--at", "--start") and i + 1 < len(argv) and _NEGATIVE_POINT.match(argv[i + 1]):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def check_common(args: argparse.Namespace) -> None:
    """Options several commands share, checked once as the file checks its own keys."""
    from ..engine.errors import ScenarioError

    seed = getattr(args, "seed", None)
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise ScenarioError("--seed", "", f"must be between 0 and {MAX_SEED}, not {seed}")
    if getattr(args, "out", None) == "":
        raise ScenarioError("--out", "", "is empty: give a file name (or - for stdout)")
    if getattr(args, "out_dir", None) == "":
        raise ScenarioError("--out-dir", "", "is empty: give a folder")


def _dispatch(args_list: list[str]) -> int:
    if args_list and args_list[0] in COMMANDS or any(a in ("-h", "--help", "--version") for a in args_list[:1]):
        args = build_parser().parse_args(args_list)
        if args.command is None:
            build_parser().print_help()
            return 0
        check_common(args)
        _apply_no_cache(args)
        headless = args.command not in ("serve", "play") or getattr(args, "headless", False)
        with _sigterm_as_interrupt(headless):
            return int(_command(args.command).run(args) or 0)
    args = _app_parser().parse_args(args_list)
    from . import startup_gc

    startup_gc.pause()  # until the first frame (tui/startup_gc.py); back on if the app never starts
    try:
        _apply_no_cache(args)
        from .launch import launch_app

        return launch_app(args.target, low_bandwidth=args.low_bandwidth)
    finally:
        startup_gc.resume(freeze=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 2 for bad input and for an environment that refuses (a full disk, a closed pipe
    aside); any other exception is a bug and keeps its traceback and exit 1."""
    args_list = _join_negative_values(list(sys.argv[1:] if argv is None else argv))
    from ..engine.errors import ScenarioError, printable

    try:
        code = _dispatch(args_list)
        sys.stdout.flush()  # a full disk shows here, not at exit
        return code
    except ScenarioError as exc:
        print(f"optsim: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except OSError as exc:
        if exc.errno is None:
            raise
        print(printable(f"optsim: {exc.filename or 'stdout'}: {exc.strerror or exc}"), file=sys.stderr)
        _silence_stdout()
        return 2


def _on_sigterm(signum, frame) -> None:
    """SIGTERM unwinds like ctrl-c, so partly written outputs are removed (see engine/safe_io.py)."""
    raise KeyboardInterrupt


@contextlib.contextmanager
def _sigterm_as_interrupt(active: bool = True) -> Iterator[None]:
    """While a headless command runs, SIGTERM raises KeyboardInterrupt (the app keeps Textual's own handling)."""
    if not active or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's flush at exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":
    sys.exit(main())
