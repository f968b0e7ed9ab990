"""`optsim play --headless` writes what it promises; `optsim serve` builds the right server."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from optsim.tui.cli import main
from optsim.tui.commands import serve
from tui_helpers import SADDLE, SCENARIOS


def test_headless_playback_writes_frames_and_csv(tmp_path, capsys):
    out = tmp_path / "frames"
    code = main(["play", "--headless", str(SADDLE), "--frames", "0,40,events,end", "--out-dir", str(out),
                 "--size", "100x30"])
    assert code == 0
    steps = [0, 40, 60, 150, 300]  # asked for, the events' steps (0, 60, 150) and the end
    expected = {f"frame-{s:06d}.{ext}" for s in steps for ext in ("svg", "txt")} | {"trajectories.csv"}
    assert {p.name for p in out.iterdir()} == expected
    printed = capsys.readouterr().out.split()
    assert len(printed) == len(expected)
    svg = (out / "frame-000060.svg").read_text()
    assert svg.startswith("<svg") and "step&#160;60" in svg  # the title, spaces as &#160;
    text = (out / "frame-000060.txt").read_text().splitlines()
    assert len(text) == 30 and max(len(line) for line in text) <= 100
    assert "step 60/300" in text[0]
    assert any("The gradient is almost zero here" in line for line in text)  # the caption of step 60
    assert any("escape" in line for line in text)  # the scripted report's arrow
    assert "step 300/300" in (out / "frame-000300.txt").read_text()
    # the CSV holds the same rows as `optsim run`
    run_csv = tmp_path / "run.csv"
    assert main(["run", str(SADDLE), "--out", str(run_csv)]) == 0
    assert (out / "trajectories.csv").read_text() == run_csv.read_text()


def test_headless_playback_in_a_fresh_process(tmp_path):
    """As CI runs it: no terminal at all (stdin and stdout are not ttys)."""
    result = subprocess.run([sys.executable, "-m", "optsim.tui.cli", "play", "--headless",
                             str(SCENARIOS / "04-data-test.toml"), "--frames", "end", "--out-dir", str(tmp_path)],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frame-000200.svg", "frame-000200.txt",
                                                          "trajectories.csv"]


@pytest.mark.parametrize("argv, message", [
    (["--frames", "0,soon"], "--frames"),
    (["--size", "10x5"], "--size"),
    (["--size", "wide"], "--size"),
    (["--seed", "-1"], "--seed"),
])
def test_headless_playback_bad_arguments_exit_2(argv, message, tmp_path, capsys):
    assert main(["play", "--headless", str(SADDLE), "--out-dir", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("optsim: ") and message in err and "Traceback" not in err


def test_play_unknown_scenario_exit_2(capsys):
    assert main(["play", "--headless", "no-such-scenario"]) == 2
    assert "no such file or built-in scenario" in capsys.readouterr().err


class FakeServer:
    made: list = []

    def __init__(self, command, host="localhost", port=8000, title=None, **kwargs):
        self.command, self.host, self.port, self.title = command, host, port, title
        self.served = False
        FakeServer.made.append(self)

    def serve(self, debug=False):
        self.served = True


def _serve_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    serve.add_parser(parser.add_subparsers())
    return parser.parse_args(["serve", *argv])


def test_serve_binds_to_localhost_and_runs_this_app(monkeypatch, capsys):
    from optsim.tui import web_server

    FakeServer.made = []
    monkeypatch.setattr(web_server, "GuardedServer", FakeServer)
    assert main(["serve"]) == 0
    server = FakeServer.made[-1]
    assert server.host == "127.0.0.1" and server.port == 8000 and server.served
    assert server.command.split()[1:] == ["-m", "optsim.tui.cli"]
    assert server.command.split()[0].endswith("python") or "python" in server.command.split()[0]
    assert "warning" not in capsys.readouterr().err.lower()


def test_serve_with_a_scenario_a_public_host_and_port(monkeypatch, capsys):
    from optsim.tui import web_server

    FakeServer.made = []
    monkeypatch.setattr(web_server, "GuardedServer", FakeServer)
    assert main(["serve", str(SADDLE), "--host", "0.0.0.0", "--port", "8123", "--low-bandwidth"]) == 0
    server = FakeServer.made[-1]
    assert (server.host, server.port) == ("0.0.0.0", 8123)
    assert server.command.endswith(f"{SADDLE} --low-bandwidth")
    assert "anyone who can reach" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--port", "0"], ["--port", "70000"], ["no-such-scenario"], ["--host", ""]])
def test_serve_bad_arguments_exit_2_without_a_server(argv, monkeypatch, capsys):
    from optsim.tui import web_server

    FakeServer.made = []
    monkeypatch.setattr(web_server, "GuardedServer", FakeServer)
    assert main(["serve", *argv]) == 2
    assert FakeServer.made == [] and capsys.readouterr().err.startswith("optsim: ")


def test_serve_command_quotes_paths_with_spaces():
    command = serve.app_command("my scenarios/a b.toml")
    assert command.endswith("'my scenarios/a b.toml'")
    args = _serve_args(["x.toml", "--port", "9000"])
    assert (args.target, args.port, args.host) == ("x.toml", 9000, "127.0.0.1")
