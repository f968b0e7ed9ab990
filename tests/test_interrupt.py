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
    _interrupt_run(tmp_path, "t.csv", reference[1], sig, moment)


def _interrupt_run(folder: Path, name: str, complete: bytes, sig: int, moment: str) -> None:
    """Start `optsim run --out NAME` over PREVIOUS, signal it at `moment`, and check the output
    is the old file or the complete one, with no temporary file left."""
    (folder / "s.toml").write_text(SCENARIO)
    out = folder / name
    out.write_text(PREVIOUS)
    proc = _start(folder, name)
    if moment == "starting":
        time.sleep(0.3)
    elif moment == "stepping":
        time.sleep(3.0)
    elif moment == "writing":
        _wait_for_writing(folder, out, proc)
    else:
        proc.wait(timeout=300)
    if proc.poll() is None:
        os.kill(proc.pid, sig)
    proc.wait(timeout=60)
    assert out.read_bytes() in (PREVIOUS.encode(), complete)
    assert sorted(p.name for p in folder.iterdir()) == sorted(["s.toml", name])  # no temporary file left
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


@pytest.fixture(scope="module")
def json_reference(tmp_path_factory) -> bytes:
    folder = tmp_path_factory.mktemp("interrupt-json")
    (folder / "s.toml").write_text(SCENARIO)
    proc = _start(folder, "ref.json")
    assert proc.wait(timeout=300) == 0
    return (folder / "ref.json").read_bytes()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("moment", ["writing", "finished"])
def test_interrupted_json_output_is_old_or_complete(json_reference, sig, moment, tmp_path) -> None:
    """`--out FILE.json` goes through the same atomic writer as the CSV: the same guarantee."""
    _interrupt_run(tmp_path, "t.json", json_reference, sig, moment)


PLAY = ["play", "--headless", "saddle-w1w2", "--frames", "0,20,40,60,80,100,120,140,160", "--size", "80x24"]


def _play(folder: Path, out_dir: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CODE, *PLAY, "--out-dir", out_dir], cwd=folder,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def play_reference(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("interrupt-play")
    assert _play(folder, "frames").wait(timeout=300) == 0
    return {p.name: p.read_bytes() for p in (folder / "frames").iterdir()}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("moment", ["first temporary file", "third frame written"])
def test_interrupted_headless_play_leaves_only_complete_files(play_reference, sig, moment, tmp_path) -> None:
    """Each frame and the CSV of `play --headless --out-dir` is written atomically: an
    interrupted playback leaves whole files, each the same bytes an uninterrupted one writes,
    and no temporary file; it stops with exit code 130 and no traceback (a KeyboardInterrupt
    raised inside Textual's loop used to hang 30 s and end in WaitForScreenTimeout, exit 1)."""
    assert len(play_reference) == 19  # 9 frames as .svg and .txt, and the CSV
    proc = _play(tmp_path, "frames")
    folder = tmp_path / "frames"
    end = time.monotonic() + 120
    while time.monotonic() < end and proc.poll() is None:
        names = [p.name for p in folder.iterdir()] if folder.exists() else []
        if moment == "first temporary file" and any(n.endswith(".tmp") for n in names):
            break
        if moment == "third frame written" and sum(n.endswith(".txt") for n in names) >= 3:
            break
        time.sleep(0.001)
    interrupted = proc.poll() is None
    if interrupted:
        os.kill(proc.pid, sig)
    stderr = proc.communicate(timeout=60)[1].decode()
    assert proc.returncode == (130 if interrupted else 0) and "Traceback" not in stderr
    left = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert not [n for n in left if n not in play_reference]  # no temporary or stray file
    assert all(left[n] == play_reference[n] for n in left)     # each file whole
    if moment == "third frame written":
        assert interrupted and 6 <= len(left) < len(play_reference)
