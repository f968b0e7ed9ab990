"""Record every write the real app makes to a real (pseudo-)terminal, for the shadow terminal's
tests (tests/tui/test_terminal_shadow.py).

`RecordingDriver` is Textual's own LinuxDriver, named in TEXTUAL_DRIVER in the child process
(so the app does not put its shadowing driver in: these are Textual's raw bytes); each write
is appended to the file OPTSIM_RECORD_WRITES names, with the terminal's size at that moment.
`record_session` runs `optsim play` in a pseudo-terminal, answers Textual's query for
synchronized output as the benchmark does, types keys and resizes the terminal.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from textual.drivers.linux_driver import LinuxDriver

ROOT = Path(__file__).resolve().parents[2]
SYNC_QUERY = b"\x1b[?2026$p"
SYNC_REPLY = b"\x1b[?2026;2$y"


class RecordingDriver(LinuxDriver):
    """LinuxDriver that also appends each write, with the terminal size, to a JSON-lines file."""

    def write(self, data: str) -> None:
        size = os.get_terminal_size(sys.__stderr__.fileno())
        with open(os.environ["OPTSIM_RECORD_WRITES"], "a", encoding="utf-8") as file:
            file.write(json.dumps([size.columns, size.lines, data]) + "\n")
        super().write(data)


def _set_size(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _pump(fd: int, seconds: float, answer_sync: bool) -> None:
    end = time.monotonic() + seconds
    tail = b""
    while (left := end - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], min(left, 0.05))
        if not ready:
            continue
        try:
            data = os.read(fd, 1 << 16)
        except OSError:
            return
        if not data:
            return
        if answer_sync and SYNC_QUERY in tail + data:
            os.write(fd, SYNC_REPLY)
        tail = data[-16:]


def record_session(args: list[str], steps: list[tuple], log: Path, size: tuple[int, int] = (100, 30),
                   answer_sync: bool = True) -> list[tuple[tuple[int, int], str]]:
    """Run `optsim ARGS` in a pseudo-terminal through `steps`: ("wait", seconds), ("keys", bytes)
    or ("resize", cols, rows); returns its writes as ((columns, rows), data)."""
    master, slave = os.openpty()
    _set_size(slave, *size)
    env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor", LANG="C.UTF-8",
               TEXTUAL_DRIVER="write_recorder:RecordingDriver", OPTSIM_RECORD_WRITES=str(log),
               PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]))
    env.pop("TEXTUAL_COLOR_SYSTEM", None)
    proc = subprocess.Popen([sys.executable, "-m", "optsim.tui.cli", *args], stdin=slave, stdout=slave,
                            stderr=slave, env=env, cwd=str(ROOT), start_new_session=True, close_fds=True)
    os.close(slave)
    try:
        for step in steps:
            if step[0] == "wait":
                _pump(master, step[1], answer_sync)
            elif step[0] == "keys":
                os.write(master, step[1])
                _pump(master, 0.15, answer_sync)
            else:
                _set_size(master, step[1], step[2])
                os.killpg(proc.pid, signal.SIGWINCH)
                _pump(master, 0.1, answer_sync)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)
    lines = log.read_text(encoding="utf-8").splitlines()
    if lines and not lines[-1].endswith("]"):
        lines.pop()  # a write cut short when the app was stopped
    return [((cols, rows), data) for cols, rows, data in map(json.loads, lines)]
