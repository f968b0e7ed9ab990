"""How many frames per second, and how many bytes per second, does the app send a terminal?

Runs the real app (`optsim play SCENARIO`, which plays from the start) in a pseudo-terminal
of 160x48 cells, acting as the terminal: it answers Textual's query for synchronized output
(DEC mode 2026) with "supported", so every frame the app draws arrives wrapped in
ESC[?2026h ... ESC[?2026l and can be counted. After a warm-up it counts frames and bytes
for a few seconds, in the normal and in the low-bandwidth mode, and prints the medians over
the repetitions. Over SSH those bytes are what crosses the link.

It also measures the time from starting `optsim NAME` to its first complete frame (the
first synchronized update that shows the status line).

Targets (issue 4): 30 frames/s under 300 KB/s normally, under 60 KB/s in low bandwidth;
first frame within 1 s. Issue 11: with the views shown (keys typed after start-up, --views),
typical under 60 KB/s and busy under 300 KB/s at 30 frames/s. Nothing here asserts a time.

Two scenarios by default: "typical" (tests/tui/scenarios/02-rosenbrock.toml: five
optimizers on Rosenbrock; as they slow down in the valley, many frames change nothing and
are not sent at all) and "busy" (written here: five heavy-ball runs with momentum 0.999
circling an elongated bowl, so every frame moves every run across cells: the worst case
for bytes, and the test of the frame rate). Frames/s counts frames actually sent; the app
sends none when nothing changed.

The app sends each frame through its shadow terminal (tui/terminal: only the cells that
changed, styles as changes); each row is also measured with Textual's own bytes
(OPTSIM_RAW_OUTPUT=1), alternating with it, so the two figures come from the same load. The
app's CPU time per frame (from /proc) is printed beside each, and the shadow terminal's own
cost per frame is timed on the frames of the last raw run (median and 90th percentile).

Run: .venv/bin/python benchmarks/bandwidth.py [SCENARIO ...] [--seconds 5] [--reps 3]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCENARIO = ROOT / "tests" / "tui" / "scenarios" / "02-rosenbrock.toml"
SYNC_QUERY = b"\x1b[?2026$p"
SYNC_REPLY = b"\x1b[?2026;2$y"  # DECRPM: mode known, currently reset (Textual only needs > 0)
SYNC_START = b"\x1b[?2026h"
SYNC_END = b"\x1b[?2026l"
COLS, ROWS = 160, 48
RAW_VARIABLE = "OPTSIM_RAW_OUTPUT"  # Textual's own bytes, without the shadow terminal (tui/terminal)


class Terminal:
    """A child process on a pseudo-terminal, and everything it writes, with timestamps."""

    def __init__(self, argv: list[str], cols: int = COLS, rows: int = ROWS, raw: bool = False) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor", LANG="C.UTF-8")
        env.pop("TEXTUAL_COLOR_SYSTEM", None)
        env.pop(RAW_VARIABLE, None)
        if raw:
            env[RAW_VARIABLE] = "1"
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     cwd=str(ROOT), start_new_session=True, close_fds=True)
        os.close(slave)
        self.fd = master
        self.chunks: list[tuple[float, bytes]] = []
        self._tail = b""

    def pump(self, seconds: float) -> None:
        """Read for this long, answering the synchronized-output query."""
        end = time.perf_counter() + seconds
        while True:
            left = end - time.perf_counter()
            if left <= 0:
                return
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.05))
            if not ready:
                continue
            try:
                data = os.read(self.fd, 1 << 16)
            except OSError:
                return
            if not data:
                return
            now = time.perf_counter()
            self.chunks.append((now, data))
            if SYNC_QUERY in self._tail + data:
                os.write(self.fd, SYNC_REPLY)
            self._tail = data[-16:]

    def cpu_seconds(self) -> float:
        """User + system CPU time the app has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def send(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def stream(self) -> bytes:
        return b"".join(c for _, c in self.chunks)

    def first_frame_time(self, marker: bytes) -> float | None:
        """Seconds from start to the end of the first synchronized frame holding `marker`
        (outside sync mode: the first chunk holding it)."""
        data = b""
        for t, chunk in self.chunks:
            data += chunk
            start = data.find(marker)
            if start >= 0 and (SYNC_START not in data or data.find(SYNC_END, start) >= 0):
                return t - self.started
        return None

    def window(self, t0: float, t1: float) -> tuple[int, int]:
        """(frames, bytes) written between two times (frames: sync updates begun)."""
        data = b"".join(c for t, c in self.chunks if t0 <= t < t1)
        return data.count(SYNC_START), len(data)

    def close(self) -> None:
        try:
            self.send(b"q")
            self.pump(1.0)
        except OSError:
            pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        os.close(self.fd)


BUSY = """
title = "Benchmark: five heavy balls circling a bowl"
description = "Momentum 0.999 barely damps the motion: every frame moves every run."
seed = 0

[surface]
expr = "x^2 + 3*y^2"
view = { x = [-2, 2], y = [-2, 2] }
"""
BUSY_RUN = """
[[runs]]
name = "ball-{k}"
optimizer = "sgd"
lr = {lr}
momentum = 0.999
start = [{x}, {y}]
steps = 3000
"""


def busy_scenario(folder: Path) -> Path:
    text = BUSY + "".join(BUSY_RUN.format(k=k, lr=lr, x=x, y=y) for k, (lr, x, y) in enumerate(
        [(0.0005, 1.8, 0.3), (0.0008, -1.5, 1.0), (0.0012, 0.5, -1.1), (0.0016, -1.0, -0.6), (0.002, 1.2, 1.1)]))
    path = folder / "busy.toml"
    path.write_text(text)
    return path


def optsim(*args: str) -> list[str]:
    return [sys.executable, "-m", "optsim.tui.cli", *args]


def measure_play(scenario: str, low_bandwidth: bool, seconds: float, warmup: float,
                 keys: str = "", raw: bool = False) -> dict:
    """Frames and bytes per second of `optsim play`, and the app's CPU time per frame; `keys`
    are typed once it is up (the issue-11 views: G S M C D T), so the window measures the
    screen with them shown. `raw`: Textual's own bytes (OPTSIM_RAW_OUTPUT=1)."""
    term = Terminal(optsim("play", scenario, *(["--low-bandwidth"] if low_bandwidth else [])), raw=raw)
    try:
        term.pump(3.0)  # start-up (imports, formula compiling, first frame)
        first = term.first_frame_time(b"step ")
        for key in keys:
            term.send(key.encode())
            term.pump(0.1)
        term.pump(warmup)
        t0, cpu0 = time.perf_counter(), term.cpu_seconds()
        term.pump(seconds)
        t1, cpu1 = time.perf_counter(), term.cpu_seconds()
        frames, nbytes = term.window(t0, t1)
        stream = term.stream()
    finally:
        term.close()
    return {"fps": frames / (t1 - t0), "kbps": nbytes / (t1 - t0) / 1000, "first": first or float("nan"),
            "sync": float(SYNC_START in stream), "cpu_ms": (cpu1 - cpu0) * 1000 / max(frames, 1),
            "stream": stream}


def measure_first_frame(target: str) -> float:
    term = Terminal(optsim(target))
    try:
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline:
            term.pump(0.05)
            first = term.first_frame_time(b"step ")
            if first is not None:
                return first
        return float("nan")
    finally:
        term.close()


def default_name() -> str | None:
    """A built-in scenario's name, for `optsim NAME` (None if the library is empty)."""
    sys.path.insert(0, str(ROOT))
    from optsim.engine.scenario.catalog import catalog

    entries = catalog()
    return entries[0].name if entries else None


def shadow_cost(stream: bytes, reps: int = 5) -> tuple[float, float, int]:
    """Median and 90th percentile (ms) of the shadow terminal's rewrite of one frame, over the
    frames of a raw run's stream (Textual's own bytes; the pty turned each "\\n" into "\\r\\n"),
    median over `reps` replays; and the number of frames."""
    sys.path.insert(0, str(ROOT))
    from optsim.tui.terminal.shadow import ShadowTerminal

    text = stream.decode("utf-8", "replace").replace("\r\n", "\n")
    head, *rest = text.split(SYNC_START.decode())
    frames = [part.split(SYNC_END.decode())[0] for part in rest]
    medians, p90s = [], []
    for _ in range(reps):
        shadow = ShadowTerminal()
        shadow.rewrite(head, (COLS, ROWS))
        times = []
        for frame in frames:
            t0 = time.perf_counter()
            shadow.rewrite(frame, (COLS, ROWS))
            times.append(time.perf_counter() - t0)
        times = sorted(times[len(times) // 4:])  # playing frames, not the first full ones
        medians.append(statistics.median(times) * 1000)
        p90s.append(times[int(0.9 * len(times))] * 1000)
    return statistics.median(medians), statistics.median(p90s), len(frames)


def report(label: str, runs: list[dict], target: str) -> None:
    fps = statistics.median(r["fps"] for r in runs)
    kbps = statistics.median(r["kbps"] for r in runs)
    cpu = statistics.median(r["cpu_ms"] for r in runs)
    print(f"  {label:>18}: {fps:5.1f} frames/s  {kbps:7.1f} KB/s  {kbps / max(fps, 1e-9):6.2f} KB/frame  "
          f"app CPU {cpu:5.1f} ms/frame  {target}")
    if not all(r["sync"] for r in runs):
        print("                  (no synchronized-output frames seen: frame counts are not meaningful)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", help="scenario files or names (default: typical and busy)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured window per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="playing time before the window")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--name", help="built-in scenario for the first-frame time (default: the first)")
    parser.add_argument("--views", default="GSMC", help="keys typed for the 'views on' rows (default: GSMC; "
                        "'' skips them)")
    parser.add_argument("--no-raw", action="store_true", help="skip the runs with Textual's own bytes "
                        "(OPTSIM_RAW_OUTPUT=1) measured beside each row")
    args = parser.parse_args()

    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="optsim-bench-"))
    scenarios = args.scenarios or [str(DEFAULT_SCENARIO), str(busy_scenario(tmp))]
    print(f"terminal {COLS}x{ROWS}, {args.seconds:g} s window after {args.warmup:g} s of play, "
          f"median of {args.reps}; 'raw' rows: Textual's own bytes (OPTSIM_RAW_OUTPUT=1), same run")
    modes = [("normal", False, "", "(target 30 fps, < 300 KB/s)"),
             ("low bandwidth", True, "", "(target < 60 KB/s at 8 fps)")]
    if args.views:
        modes.append(("views " + args.views, False, args.views, "(target: typical < 60 KB/s, busy < 300 KB/s)"))
    last_raw: list[dict] = []
    for scenario in scenarios:
        print(f"{Path(scenario).stem}:")
        for label, low, keys, target in modes:
            ours, raw = [], []
            for _ in range(args.reps):  # alternated, so that the machine's load falls on both alike
                ours.append(measure_play(scenario, low, args.seconds, args.warmup, keys))
                if not args.no_raw:
                    raw.append(measure_play(scenario, low, args.seconds, args.warmup, keys, raw=True))
            report(label, ours, target)
            if raw:
                report(label + " raw", raw, "")
                last_raw = raw
    if last_raw:
        median, p90, frames = shadow_cost(last_raw[-1]["stream"])
        print(f"shadow terminal's rewrite of one frame of the last raw run ({frames} frames): "
              f"median {median:.3f} ms, 90th percentile {p90:.3f} ms")
    name = args.name or default_name()
    target = name or str(DEFAULT_SCENARIO)
    firsts = [measure_first_frame(target) for _ in range(args.reps)]
    print(f"first frame of `optsim {target}`: median {statistics.median(firsts):.3f} s "
          f"(runs: {', '.join(f'{t:.3f}' for t in firsts)}; target < 1 s)")


if __name__ == "__main__":
    main()
