"""`optsim play FILE|NAME`: play a scenario's script (captions, pauses, changes, reports).

In the app (default): the scenario plays from the start; scripted pauses wait for space;
at the end the app stays on the last frame (r replays, q quits).

Headless (`--headless`, no terminal needed, e.g. in CI): the same app runs without a
terminal at `--size`, the scenario is stepped to each frame asked for, and each frame is
written as SVG (what the screen shows) and as plain text (the characters), plus the
trajectories of every run as CSV (the same rows as `optsim run --out`):

    optsim play --headless saddle --frames 0,40,end --out-dir frames/
    -> frames/frame-000000.svg, frame-000000.txt, frame-000040.svg, ..., trajectories.csv

`--frames` takes step numbers, `events` (the step of every scripted event) and `end`
(once every run is done); default `0,events,end`. Scripted pauses do not stop a headless
playback.

Ctrl-c (SIGINT) or SIGTERM during a headless playback stops it between two frames (or two
thousand steps), exit code 130, no traceback: every file written is whole (each goes through
a temporary file and a rename) and no temporary file stays. The signal only sets a flag:
raised inside Textual's event loop, KeyboardInterrupt would stop a widget's message queue,
and the playback then hung 30 s on that widget before failing with a traceback.
"""
from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from pathlib import Path
from typing import Iterator

from ...engine.watch.frames import DEFAULT_FRAMES

STEPS_BETWEEN_CHECKS = 2_000
"""Steps made between two looks at the interrupt flag (a few ms of stepping)."""
MIN_SIZE = (40, 12)
MAX_SIZE = (400, 200)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "play", help="play a scenario's script in the app, or headless into SVG/text frames and CSV",
        description="Play a scenario's script: in the app, or with --headless into files.",
        epilog="Headless output: frame-NNNNNN.svg and frame-NNNNNN.txt for each frame (NNNNNN = "
               "the step shown) and trajectories.csv, in --out-dir.")
    p.add_argument("file", metavar="FILE|NAME", help="a scenario file or a built-in scenario's name")
    p.add_argument("--headless", action="store_true", help="no terminal: write frames and the CSV instead")
    p.add_argument("--frames", default=DEFAULT_FRAMES, metavar="LIST",
                   help="(headless) steps to capture: numbers, 'events', 'end' (default: %(default)s)")
    p.add_argument("--out-dir", metavar="DIR",
                   help="(headless) folder for the output (default: ./<scenario>-play)")
    p.add_argument("--size", default="120x40", metavar="WxH",
                   help="(headless) terminal size of the frames (default: %(default)s)")
    p.add_argument("--seed", type=int, help="seed (overrides the file)")
    p.add_argument("--low-bandwidth", action="store_true", help="fewer frames, no filled bands")


def parse_size(text: str) -> tuple[int, int]:
    from ...engine.errors import ScenarioError

    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ScenarioError("--size", "", f"{text!r} is not WxH, e.g. 120x40") from None
    if not (MIN_SIZE[0] <= w <= MAX_SIZE[0] and MIN_SIZE[1] <= h <= MAX_SIZE[1]):
        raise ScenarioError("--size", "", f"must be between {MIN_SIZE[0]}x{MIN_SIZE[1]} and "
                                          f"{MAX_SIZE[0]}x{MAX_SIZE[1]}, not {w}x{h}")
    return w, h


def run(args: argparse.Namespace) -> int:
    from ...engine.scenario.catalog import resolve
    from ...engine.errors import ScenarioError
    from ...engine.watch.frames import parse_frames
    from ...engine.scenario.load import load_scenario
    from ...engine.watch.session import Session

    path = resolve(args.file)
    scenario = load_scenario(path)
    session = Session(scenario, seed=args.seed)
    if not args.headless:
        from ..app import OptsimApp

        app = OptsimApp(session=session, low_bandwidth=args.low_bandwidth, play=True)
        app.run()
        return int(app.return_code or 0)
    plan = parse_frames(args.frames, scenario.events, str(path))
    size = parse_size(args.size)
    out_dir = Path(args.out_dir) if args.out_dir else Path(f"{scenario.name}-play")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScenarioError(str(out_dir), "--out-dir", f"cannot create it ({exc.strerror or exc})") from None
    written = play_headless(session, plan, out_dir, size, args.low_bandwidth)
    for path in written:
        print(path)
    print(f"{len(written)} files in {out_dir} ({session.tick} steps)", file=sys.stderr)
    return 0


def play_headless(session, plan, out_dir: Path, size: tuple[int, int], low_bandwidth: bool = False) -> list[Path]:
    """Run the app without a terminal, step the session to each frame and write the files.
    Returns the paths written (frames in step order, then the CSV)."""
    from ...engine.safe_io import atomic_writer
    from ..app import OptsimApp

    app = OptsimApp(session=session, low_bandwidth=low_bandwidth, play=False)
    written: list[Path] = []
    failure: list[BaseException] = []

    async def autopilot(pilot) -> None:
        try:
            await pilot.pause()
            screen = app.screen
            for step in plan.steps:
                _step_to(session, step, interrupted)
                await _capture(app, pilot, screen, out_dir, written)
            if plan.end:
                _step_to(session, None, interrupted)
                await _capture(app, pilot, screen, out_dir, written)
            _stop_if(interrupted)
            csv = out_dir / "trajectories.csv"
            with atomic_writer(csv) as fh:
                session.write_csv(fh)
            written.append(csv)
        except BaseException as exc:  # re-raised after the app has shut down
            failure.append(exc)
        finally:
            app.exit()

    with _interrupts_noted() as interrupted:
        app.run(headless=True, size=size, auto_pilot=autopilot)
    if failure:
        if isinstance(failure[0], OSError) and failure[0].errno is not None:
            from ...engine.errors import ScenarioError

            exc = failure[0]
            raise ScenarioError(str(out_dir), "--out-dir", f"cannot write ({exc.strerror or exc})")
        raise failure[0]
    return written


@contextlib.contextmanager
def _interrupts_noted() -> Iterator[threading.Event]:
    """While the headless app runs, SIGINT and SIGTERM set the returned flag instead of raising
    (see the module's docstring); the previous handlers come back afterwards."""
    interrupted = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return
    previous = {sig: signal.signal(sig, lambda *_: interrupted.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield interrupted
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop_if(interrupted: threading.Event) -> None:
    if interrupted.is_set():
        raise KeyboardInterrupt


def _step_to(session, tick: int | None, interrupted: threading.Event) -> None:
    """Step to `tick` (None: until every run is done), through scripted pauses, a few thousand
    steps at a time so that an interrupt is seen within milliseconds."""
    while not session.finished and (tick is None or session.sim.tick < tick):
        _stop_if(interrupted)
        chunk = STEPS_BETWEEN_CHECKS if tick is None else min(STEPS_BETWEEN_CHECKS, tick - session.sim.tick)
        if session.advance(chunk).ticks == 0:
            break
    _stop_if(interrupted)


async def _capture(app, pilot, screen, out_dir: Path, written: list[Path]) -> None:
    """Write the frame of the session's step (once per step); a scripted guide that opened on
    this step is waited for (the frame shows its verdict, not "Computing…") and then closed."""
    screen.refresh_views(force=True)
    await pilot.pause()
    guide = app.screen if app.screen is not screen else None
    if guide is not None:
        await app.workers.wait_for_complete()
        await pilot.pause()
    _write_frame(app, screen.session, out_dir, written)
    if guide is not None:
        guide.dismiss(None)
        await pilot.pause()


def _write_frame(app, session, out_dir: Path, written: list[Path]) -> None:
    from ...engine.safe_io import write_atomic
    from ...engine.watch.frames import frame_name
    from ..screen_text import screen_text

    stem = out_dir / frame_name(session.tick)
    if stem.with_suffix(".svg") in written:
        return
    title = f"optsim · {session.scenario.title} · step {session.tick}"
    svg = stem.with_suffix(".svg")
    write_atomic(svg, app.export_screenshot(title=title))
    txt = stem.with_suffix(".txt")
    write_atomic(txt, screen_text(app.screen))
    written.extend([svg, txt])
