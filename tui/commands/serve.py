"""`optsim serve [FILE|NAME|FOLDER] [--host 127.0.0.1] [--port 8000]`: the app in a browser.

textual-serve starts a small web server; every browser tab that opens it runs its own
`optsim` process (the same app, the same keys) and sees it through a terminal in the page.
It listens on 127.0.0.1 (this machine only) unless --host says otherwise; anyone who can
reach the address and port can use the app, so a public address prints a warning.
Files the app saves (screenshots, scenarios, CSV) arrive as browser downloads.
Only pages served by this server may open the app's WebSocket (see web_server.py).
"""
from __future__ import annotations

import argparse
import shlex
import sys

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the app in a web browser (textual-serve)",
                       description="Serve the optsim app to a web browser with textual-serve.",
                       epilog="Open the printed address in a browser; ctrl+c stops the server.")
    p.add_argument("target", nargs="?", metavar="FILE|NAME|FOLDER",
                   help="what the app opens (default: the scenario picker)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: %(default)s, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    p.add_argument("--low-bandwidth", action="store_true", help="fewer frames, no filled bands")


def app_command(target: str | None, low_bandwidth: bool = False) -> str:
    """The shell command textual-serve runs for each browser session."""
    argv = [sys.executable, "-m", "optsim.tui.cli"]
    if target:
        argv.append(target)
    if low_bandwidth:
        argv.append("--low-bandwidth")
    return shlex.join(argv)


def make_server(args: argparse.Namespace):
    """Validate the arguments and build (not start) the textual-serve Server."""
    from ...engine.errors import ScenarioError

    if not 1 <= args.port <= 65535:
        raise ScenarioError("--port", "", f"must be between 1 and 65535, not {args.port}")
    if not args.host or any(c.isspace() for c in args.host):
        raise ScenarioError("--host", "", f"{args.host!r} is not a host name or address")
    if args.target is not None:
        from pathlib import Path

        from ...engine.scenario.catalog import resolve

        if not Path(args.target).is_dir():
            resolve(args.target)  # a bad name or file is an error now, not in every browser tab
    from ..web_server import GuardedServer

    return GuardedServer(app_command(args.target, args.low_bandwidth), host=args.host, port=args.port,
                  title="optsim")


def run(args: argparse.Namespace) -> int:
    server = make_server(args)
    if args.host not in LOCAL_HOSTS:
        print(f"optsim serve: listening on {args.host}: anyone who can reach this address "
              f"and port {args.port} can use the app.", file=sys.stderr)
    print(f"optsim serve: open http://{_url_host(args.host)}:{args.port} (ctrl+c stops)", file=sys.stderr)
    server.serve()
    return 0


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
