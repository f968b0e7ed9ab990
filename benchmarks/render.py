"""How long does one frame of the contour plot take to build? And plotext for the same?

Scene: Rosenbrock over [-2, 2] x [-1, 3] at 160x48 cells, five 1,000-point trajectories.

ours, frame        : set_runs() with all five trajectories moved (every row they touch
                     changes) + every line of the widget as Strips, with the per-row
                     strip cache dropped first, i.e. every line rebuilt. This is the
                     worst case of an animation frame.
ours, step         : set_runs() with each trajectory one point longer + every line, with
                     the row cache working as it does in the app (the common case).
ours, view change  : zoom (new window) + the whole background recomputed (sampling,
                     levels, contourpy iso-lines) + every line.
plotext            : plotext.build() of the same five trajectories (braille lines) plus a
                     scatter of the iso-line points (plotext has no contour plot), points
                     precomputed: only the figure build is timed.

ours, whole screen : the simulator screen of the app (plot, loss and lr curves, run table,
                     text) after one more step, every widget redrawn, composed as the app
                     composes a frame (the changed regions, into the bytes for the terminal);
                     with each mechanism view, beside the plain screen of its scenario.

Both sides stop at "a frame ready to write": for the plot alone Textual's compositing and the
terminal write are not included for ours, plotext's print is not included for plotext; the
whole screen includes Textual's compositing and rendering, not the write.
Run: .venv/bin/python benchmarks/render.py [--reps N] [--screens (the whole screen only)]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import contourpy
import numpy as np
from textual.app import App, ComposeResult

from optsim.tui.render.contour_grid import compute_contour_field, plan_layout
from optsim.tui.render import palette
from optsim.tui.widgets.contour_plot import ContourPlot

WIDTH, HEIGHT = 160, 48
WINDOW = (-2.0, 2.0, -1.0, 3.0)
N_RUNS, N_POINTS = 5, 1000


def rosenbrock(points: np.ndarray) -> np.ndarray:
    x, y = points[:, 0], points[:, 1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def rosenbrock_grad(p: np.ndarray) -> np.ndarray:
    x, y = p[:, 0], p[:, 1]
    return np.column_stack([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def trajectories() -> list[np.ndarray]:
    """Five real heavy-ball runs on Rosenbrock (different starts and rates), 1000 points each."""
    starts = np.array([[-1.8, 2.5], [-1.5, -0.5], [0.5, -0.8], [1.8, 2.8], [-0.5, 2.9]])
    lrs = np.array([[4e-4], [6e-4], [8e-4], [3e-4], [5e-4]])
    p, v = starts.copy(), np.zeros_like(starts)
    out = [p.copy()]
    for _ in range(N_POINTS - 1):
        v = 0.9 * v + rosenbrock_grad(p)
        p = p - lrs * v
        out.append(p.copy())
    path = np.stack(out, axis=1)  # (runs, points, 2)
    return [path[i] for i in range(N_RUNS)]


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


class BenchApp(App):
    def compose(self) -> ComposeResult:
        yield ContourPlot()


def run_tuples(paths: list[np.ndarray], shift: float = 0.0, length: int | None = None):
    runs = []
    for i, path in enumerate(paths):
        p = path[:length] if length else path
        xs, ys = p[:, 0] + shift, p[:, 1] + shift
        runs.append((f"run{i}", palette.run_color(i), xs, ys, (xs[-1], ys[-1])))
    return runs


async def bench_ours(reps: int) -> dict[str, float]:
    paths = trajectories()
    app = BenchApp()
    results: dict[str, float] = {}
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        plot = app.query_one(ContourPlot)
        plot.set_surface(rosenbrock, WINDOW, ("w1", "w2"), minima=[(1.0, 1.0)])
        await pilot.pause()
        assert plot.size == (WIDTH, HEIGHT), plot.size
        plot.frame_strips()

        # Worst-case frame: runs moved, every line rebuilt.
        samples = []
        for k in range(reps):
            runs = run_tuples(paths, shift=0.01 * (k % 2))
            t0 = time.perf_counter()
            plot.set_runs(runs)
            plot.frame_strips(rebuild=True)
            samples.append(time.perf_counter() - t0)
        results["frame"] = median_ms(samples)

        # Common frame: every run one point longer, row cache in use.
        samples = []
        for k in range(reps):
            runs = run_tuples(paths, length=N_POINTS - reps + k + 1 if reps < N_POINTS else None)
            t0 = time.perf_counter()
            plot.set_runs(runs)
            plot.frame_strips()
            samples.append(time.perf_counter() - t0)
        results["step"] = median_ms(samples)

        # View change: new window, background recomputed.
        samples = []
        for k in range(max(10, reps // 5)):
            t0 = time.perf_counter()
            plot.zoom(1.1 if k % 2 == 0 else 1 / 1.1)
            plot.frame_strips()
            samples.append(time.perf_counter() - t0)
        results["view"] = median_ms(samples)
        await pilot.pause()
    return results


def _plotext_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("plotext")
    except PackageNotFoundError:  # pragma: no cover
        return "?"


def bench_plotext(reps: int) -> float | None:
    try:
        import plotext as plt
    except ImportError:
        return None
    paths = trajectories()
    # The same iso-lines as ours: contourpy at the plot's levels on the braille-dot grid.
    layout = plan_layout(WIDTH, HEIGHT, WINDOW, ("w1", "w2"))
    field = compute_contour_field(rosenbrock, layout.geometry)
    gx = np.linspace(WINDOW[0], WINDOW[1], layout.geometry.dots[0])
    gy = np.linspace(WINDOW[2], WINDOW[3], layout.geometry.dots[1])
    z = rosenbrock(np.column_stack([a.ravel() for a in np.meshgrid(gx, gy)])).reshape(len(gy), len(gx))
    gen = contourpy.contour_generator(gx, gy, z, line_type="ChunkCombinedNan")
    iso = np.concatenate([np.concatenate([a for a in gen.lines(float(level))[0] if a is not None])
                          for level in field.levels.edges[1:-1]])
    iso = iso[np.isfinite(iso).all(axis=1)]
    iso_x, iso_y = iso[:, 0].tolist(), iso[:, 1].tolist()
    runs = [(p[:, 0].tolist(), p[:, 1].tolist()) for p in paths]
    build = _plotext_v5 if hasattr(plt, "scatter") else _plotext_v6
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        build(plt, iso_x, iso_y, runs)
        samples.append(time.perf_counter() - t0)
    return median_ms(samples)


def _plotext_v5(plt, iso_x, iso_y, runs) -> None:
    """plotext 5.x (the classic pyplot-like API)."""
    plt.clf()
    plt.plotsize(WIDTH, HEIGHT)
    plt.theme("dark")
    plt.scatter(iso_x, iso_y, marker="braille", color="gray")
    for (xs, ys), color in zip(runs, ["red", "cyan", "white", "magenta", "green"]):
        plt.plot(xs, ys, marker="braille", color=color)
    plt.xlim(WINDOW[0], WINDOW[1])
    plt.ylim(WINDOW[2], WINDOW[3])
    plt.xlabel("w1")
    plt.ylabel("w2")
    plt.build()


def _plotext_v6(plt, iso_x, iso_y, runs) -> None:
    """plotext 6.x (figure / signal API): the same scatter and five braille lines."""
    fig = plt.figure
    fig.clear()
    fig.plot_size(WIDTH, HEIGHT)
    fig.theme("dark")
    fig.draw(fig.signal(iso_x, iso_y, marker="braille"))
    for xs, ys in runs:
        fig.draw(fig.signal(xs, ys, marker="braille").lines(True))
    fig.ruler("x").lim(WINDOW[0], WINDOW[1])
    fig.ruler("y").lim(WINDOW[2], WINDOW[3])
    fig.build()


async def bench_screen(reps: int, views: tuple[str, ...] = (), scenario: str = "rosenbrock",
                       ticks: int = 1000) -> dict[str, float]:
    """The whole simulator screen at 160x48: the gallery's five optimizers on Rosenbrock after
    1,000 steps. A frame = one more step pushed to every widget (plot, curves, table, text: all
    panels redrawn, the worst case; while playing the app redraws the panels only every 0.2 s)
    and composed as the app composes it: a layout pass if a widget asked for one, the changed
    regions of the screen composed by Textual's compositor and rendered to the bytes for the
    terminal ("screen"). "every line": the same step with every line of the screen composed
    instead (what a full repaint costs; the app does that only on a resize or a layout change).
    `views`: the mechanism views turned on first (gradient_norm, sigma, momentum, curvature,
    data, clock), for an adaptive run; `scenario`: another built-in (the data view needs a
    data scenario)."""
    from optsim.engine.scenario.catalog import resolve
    from optsim.engine.scenario.load import load_scenario
    from optsim.engine.watch.session import Session
    from optsim.tui.app import OptsimApp

    app = OptsimApp(session=Session(load_scenario(resolve(scenario))))
    out: dict[str, float] = {}
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        await pilot.pause()
        screen = app.screen
        while screen.session.tick < ticks and not screen.session.finished:  # through the script's pauses
            screen.advance(ticks - screen.session.tick)
        names = screen.session.sim.names
        screen.view.select(names.index("adam") if "adam" in names else 0)
        for kind in views:
            if kind not in screen.view.views:  # a script may have shown it already
                screen.view.toggle_view(kind)
        screen.refresh_views(force=True)
        await pilot.pause()
        widgets = list(screen.walk_children(with_self=True))
        samples, cpu, every_line, sent, layouts = [], [], [], [], 0
        parts: dict[str, list[float]] = {"step and widgets": [], "compositor": [], "to bytes": []}
        for _ in range(reps):
            t, c = time.perf_counter(), time.process_time()
            screen.advance(1)  # paused, so advance pushes to every widget, panels included
            c1 = time.process_time()
            if any(w._layout_required for w in widgets):
                layouts += 1
                screen._compositor.reflow(screen, screen.outer_size)
            # The widgets that asked for a repaint, as Textual's idle handler posts them (a
            # widget not shown posts nothing); passing every widget would also rebuild the
            # compositor's map of the hidden ones at every frame, which the app never does.
            screen._compositor.update_widgets({w for w in widgets if w._repaint_required and w.display})
            update = screen._compositor.render_update(screen_stack=app._background_screens)
            c2 = time.process_time()
            data = update.render_segments(app.console) if update is not None else ""
            samples.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            parts["step and widgets"].append(c1 - c)  # the engine's step, the view model, our widgets' drawing
            parts["compositor"].append(c2 - c1)  # Textual: the widgets' lines (ours and its own) and the cut
            parts["to bytes"].append(cpu[-1] - (c2 - c))
            sent.append(len(data.encode()))
            await pilot.pause()  # Textual's own messages of the frame, untimed
        for _ in range(reps):
            t = time.perf_counter()
            screen.advance(1)
            screen._compositor.render_strips()
            every_line.append(time.perf_counter() - t)
            await pilot.pause()
        out["screen"] = median_ms(samples)
        out["cpu"] = median_ms(cpu)  # this process's CPU time: what a quiet machine's wall time would be, near enough
        out["every line"] = median_ms(every_line)
        out["bytes"] = statistics.median(sent)
        out.update({f"cpu {k}": median_ms(v) for k, v in parts.items()})
        out["layouts"] = layouts / reps
    return out


VIEW_SCENES = (
    ("views G S M", ("gradient_norm", "sigma", "momentum"), "rosenbrock", 1000),
    ("view C", ("curvature",), "rosenbrock", 1000),
    ("views G S M C", ("gradient_norm", "sigma", "momentum", "curvature"), "rosenbrock", 1000),
    ("view C quad.", ("curvature",), "why-momentum-works", 250),
    ("view D", ("data",), "overfitting", 1000),
    ("view T", ("clock",), "small-vs-large-batch", 150),
)
"""The issue-11 views, each on a scenario that has what it draws (label, views, scenario, step)."""


def report_screens(n: int) -> None:
    """The whole screen with each view, beside the plain screen of the same scenario and step
    timed in the same run (the view's own cost is the difference)."""
    plain: dict[tuple[str, int], dict[str, float]] = {}
    first = asyncio.run(bench_screen(n))
    plain[("rosenbrock", 1000)] = first
    print(f"ours    whole simulator screen     : {first['screen']:7.2f} ms  median of {n}  (CPU {first['cpu']:.2f} ms; "
          f"one step, every widget "
          f"redrawn, composed as the app does: {first['bytes'] / 1000:.1f} KB; every line composed "
          f"{first['every line']:.2f} ms)")
    print(f"        {_split(first)}")
    for label, views, scenario, ticks in VIEW_SCENES:
        if (scenario, ticks) not in plain:
            plain[(scenario, ticks)] = asyncio.run(bench_screen(n, (), scenario, ticks))
        base = plain[(scenario, ticks)]
        shown = asyncio.run(bench_screen(n, views, scenario, ticks))
        print(f"ours    whole screen, {label:<13}: {shown['screen']:7.2f} ms  median of {n}  (CPU {shown['cpu']:.2f} ms; "
              f"{scenario} at step {ticks}: plain {base['screen']:.2f} ms, CPU {base['cpu']:.2f} ms, "
              f"x{shown['screen'] / base['screen']:.2f}; every line "
              f"{shown['every line']:.2f} ms; target < 8 ms)")
        print(f"        {_split(shown)}")
        if shown["layouts"]:
            print(f"        ({shown['layouts']:.0%} of its frames needed a layout pass)")


def _split(result: dict[str, float]) -> str:
    """Where a frame's CPU time goes (medians of each part, so they need not add up)."""
    return "CPU split: " + ", ".join(f"{k[4:]} {v:.2f} ms" for k, v in result.items() if k.startswith("cpu "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=300, help="repetitions for ours")
    parser.add_argument("--plotext-reps", type=int, default=30, help="repetitions for plotext")
    parser.add_argument("--screens", action="store_true",
                        help="only the whole simulator screen, with each view (--reps / 5 frames each, at least 20)")
    args = parser.parse_args()
    if args.screens:
        report_screens(max(20, args.reps // 5))
        return

    ours = asyncio.run(bench_ours(args.reps))
    print(f"scene: Rosenbrock, {WIDTH}x{HEIGHT} cells, {N_RUNS} trajectories x {N_POINTS} points")
    print(f"ours    frame (every line rebuilt) : {ours['frame']:7.2f} ms  median of {args.reps}")
    print(f"ours    step  (row cache in use)   : {ours['step']:7.2f} ms  median of {args.reps}")
    print(f"ours    view change (background)   : {ours['view']:7.2f} ms  median of {max(10, args.reps // 5)}")
    report_screens(max(20, args.reps // 5))
    base = bench_plotext(args.plotext_reps)
    if base is None:
        print("plotext baseline                   :  plotext is not installed, no baseline "
              "(install it with: .venv/bin/pip install plotext)")
        return
    import plotext
    version = getattr(plotext, "__version__", None) or _plotext_version()
    print(f"plotext {version} frame (build only)   : {base:7.2f} ms  median of {args.plotext_reps}")
    print(f"ratio plotext / ours frame         : {base / ours['frame']:7.1f}x")
    print(f"target: ours frame < 8 ms and > 10x faster: "
          f"{'met' if ours['frame'] < 8 and base / ours['frame'] > 10 else 'NOT met'}")


if __name__ == "__main__":
    main()
