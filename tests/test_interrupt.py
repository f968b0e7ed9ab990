"""An interrupted `optsim run --out` leaves the previous file intact or the complete new one.

The run is killed by SIGINT and by SIGTERM at several moments: while starting, while
stepping, the moment the temporary output file appears (mid-write), and after it
finished. The output must then be byte-for-byte the old file or the complete file an
uninterrupted run writes, and no temporary file may be left behind.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCENARIO = """title = "interrupt me"
[surface]
expr = "x**2 + 3*y**2"
[[runs]]
name = "a"
start = [1, 1]
steps = 12000
lr = 0.001
[[runs]]
name = "b"
start = [-1, 1]
steps = 12000
lr = 0.001
optimizer = "adam"
"""
PREVIOUS = "run,step,x,y,loss,lr,grad_norm\nold,0,1.0,1.0,4.0,0.1,1.0\n"
CODE = "import sys; from optsim.tui.cli import main; sys.exit(main())"


def _start(folder: Path, out: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CODE, "run", "s.toml", "--out", out], cwd=folder,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for_writing(folder: Path, out: Path, proc: subprocess.Popen, limit: float = 120) -> None:
    """Return as soon as writing starts: a temporary file appears, or the output itself changes
    (as it would if written in place), or the run ended."""
    end = time.monotonic() + limit
    while time.monotonic() < end and proc.poll() is None:
        if any(p.name.endswith(".tmp") for p in folder.iterdir()) or out.stat().st_size != len(PREVIOUS):
            return
        time.sleep(0.001)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, bytes]:
    folder = tmp_path_factory.mktemp("interrupt")
    (folder / "s.toml").write_text(SCENARIO)
    proc = _start(folder, "ref.csv")
    assert proc.wait(timeout=300) == 0
    return folder, (folder / "ref.csv").read_bytes()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("moment", ["starting", "stepping", "writing", "finished"])
def test_interrupt_keeps_old_or_complete_output(reference, sig, moment, tmp_path) -> None:
    folder, complete = reference
    (tmp_path / "s.toml").write_text(SCENARIO)
    out = tmp_path / "t.csv"
    out.write_text(PREVIOUS)
    proc = _start(tmp_path, "t.csv")
    if moment == "starting":
        time.sleep(0.3)
    elif moment == "stepping":
        time.sleep(3.0)
    elif moment == "writing":
        _wait_for_writing(tmp_path, out, proc)
    else:
        proc.wait(timeout=300)
    if proc.poll() is None:
        os.kill(proc.pid, sig)
    proc.wait(timeout=60)
    assert out.read_bytes() in (PREVIOUS.encode(), complete)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml", "t.csv"]  # no temporary file left
    if moment == "finished":
        assert out.read_bytes() == complete


class _Recorder:
    """Stands in for a command's run(): records which SIGTERM handler is in place while it runs."""

    def __init__(self) -> None:
        self.seen: list[object] = []

    def run(self, args) -> int:
        self.seen.append(signal.getsignal(signal.SIGTERM))
        return 0


@pytest.mark.parametrize("argv, as_interrupt", [
    (["run", "x.toml"], True),
    (["diagnose", "x.toml"], True),
    (["play", "x.toml", "--headless"], True),
    (["play", "x.toml"], False),       # the app: Textual restores the terminal on its own terms
    (["serve"], False),                # the web server's own loop handles its shutdown
])
def test_sigterm_is_an_interrupt_only_for_headless_commands(monkeypatch, argv, as_interrupt) -> None:
    from optsim.tui import cli

    recorder = _Recorder()
    monkeypatch.setattr(cli._command(argv[0]), "run", recorder.run)
    before = signal.getsignal(signal.SIGTERM)
    assert cli.main(argv) == 0
    assert (recorder.seen[0] is cli._on_sigterm) is as_interrupt
    assert recorder.seen[0] is cli._on_sigterm or recorder.seen[0] is before
    assert signal.getsignal(signal.SIGTERM) is before    # restored afterwards


def test_sigterm_is_left_alone_for_the_app(monkeypatch) -> None:
    from optsim.tui import cli, launch

    seen: list[object] = []
    monkeypatch.setattr(launch, "launch_app", lambda target, low_bandwidth=False: seen.append(signal.getsignal(signal.SIGTERM)) or 0)
    before = signal.getsignal(signal.SIGTERM)
    assert cli.main(["saddle"]) == 0
    assert seen == [before] and before is not cli._on_sigterm
