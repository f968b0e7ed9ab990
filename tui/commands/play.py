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
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...engine.watch.frames import DEFAULT_FRAMES

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
                session.advance_to(step)
                await _capture(app, pilot, screen, out_dir, written)
            if plan.end:
                while not session.finished:
                    if session.advance(10_000).ticks == 0:
                        break
                await _capture(app, pilot, screen, out_dir, written)
            csv = out_dir / "trajectories.csv"
            with atomic_writer(csv) as fh:
                session.write_csv(fh)
            written.append(csv)
        except BaseException as exc:  # re-raised after the app has shut down
            failure.append(exc)
        finally:
            app.exit()

    app.run(headless=True, size=size, auto_pilot=autopilot)
    if failure:
        if isinstance(failure[0], OSError) and failure[0].errno is not None:
            from ...engine.errors import ScenarioError

            exc = failure[0]
            raise ScenarioError(str(out_dir), "--out-dir", f"cannot write ({exc.strerror or exc})")
        raise failure[0]
    return written


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
