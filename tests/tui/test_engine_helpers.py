"""The engine-side helpers of the app: scenario writer, curve geometry, live recorder, frame plans."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from dataclasses import fields

import math

import numpy as np
import pytest

from optsim.engine.scenario.catalog import builtin_dir
from optsim.engine.text_format import sig
from optsim.tui.render.contour_grid import nice_step
from optsim.tui.render.curve_grid import CurveRange, plan_curve_axes, rasterize_curve
from optsim.engine.errors import ScenarioError
from optsim.engine.watch.recorder import LiveRecorder
from optsim.engine.watch.frames import parse_frames
from optsim.engine.scenario.load import EventSpec, load_scenario
from optsim.engine.scenario.write import dropped_events, scenario_to_toml
from optsim.engine.core.run_settings import RunSettings
from tui_helpers import SADDLE, SCENARIOS, session

ALL_SCENARIOS = sorted(SCENARIOS.glob("*.toml")) + sorted(builtin_dir().glob("*.toml"))


def _same_scenario(a, b) -> None:
    for f in fields(a):
        if f.name in ("path", "data"):
            continue
        assert getattr(a, f.name) == getattr(b, f.name), f.name
    assert (a.data is None) == (b.data is None)
    if a.data is not None:
        assert a.data.columns == b.data.columns
        for c in a.data.columns:
            assert np.array_equal(a.data.train[c], b.data.train[c])
            if a.data.test is not None:
                assert np.array_equal(a.data.test[c], b.data.test[c])


@pytest.mark.parametrize("path", ALL_SCENARIOS, ids=lambda p: p.name)
def test_writer_round_trips_every_scenario(path, tmp_path):
    scenario = load_scenario(path)
    out = tmp_path / "back.toml"
    out.write_text(scenario_to_toml(scenario))
    _same_scenario(scenario, load_scenario(out))


def test_writer_writes_readable_toml_with_the_live_runs(tmp_path):
    s = session(SADDLE)
    s.remove_run(0)  # "gd": two events name it
    text = scenario_to_toml(s.scenario, s.sim.configs)
    assert "start = [1.2, -1.1]" in text and 'description = """' in text
    assert "gd-off-line" in text and 'name = "gd"\n' not in text
    assert len(dropped_events(s.scenario, s.sim.configs)) == 2
    path = tmp_path / "s.toml"
    path.write_text(text)
    back = load_scenario(path)
    assert [r.name for r in back.runs] == ["gd-off-line", "adam"]
    assert [e.at for e in back.events] == [0]
    assert tomllib.loads(text)["format"] == 1


def test_writer_escapes_strings_that_look_like_toml():
    s = session(SADDLE)
    scenario = s.scenario
    tricky = type(scenario)(**{**{f.name: getattr(scenario, f.name) for f in fields(scenario)},
                               "title": 'a "quoted" title \\ with """ and \n newline'})
    text = scenario_to_toml(tricky, s.sim.configs)
    assert tomllib.loads(text)["title"] == tricky.title
    cfg = RunSettings('odd "name"', "sgd", {"lr": 0.1}, (0.0, 0.0), 5)
    assert tomllib.loads(scenario_to_toml(scenario, [cfg]))["runs"][0]["name"] == 'odd "name"'


def test_curve_range_grows_and_picks_log_where_it_fits():
    r = CurveRange()
    assert r.empty and r.scale().log is False
    r.include(np.array([5.0, 4.0, np.nan]))
    assert not r.scale().log
    assert r.include(np.array([1e-3])) is True
    scale = r.scale()
    assert scale.log and scale.lo < -3 < 0.7 < scale.hi
    assert r.include(np.array([1.0])) is False  # inside: no change
    r.include(np.array([-1.0]))  # a non-positive value: linear from then on
    assert not r.scale().log
    r.reset()
    assert r.empty
    deep = CurveRange()
    deep.include(np.array([1.0, 1e-60]))
    assert -42.5 < deep.scale().lo < -40  # at most 40 decades shown (and the grid's headroom)


def test_curve_range_edges_sit_on_a_grid_and_hold_while_a_new_low_stays_inside_it():
    """A loss reaching a new low every step must not move the axes every step (each move
    draws the chart again): the edges snap to a grid with half a step or more to spare."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        r = CurveRange()
        hi = 10.0 ** rng.uniform(-3, 3)
        lo = hi / 10.0 ** rng.uniform(1.1, 30)
        r.include(np.array([hi, lo]))
        s = r.scale()
        step = nice_step(math.log10(hi / lo), 33)
        assert s.log
        for edge in (s.lo, s.hi):
            assert abs(edge / step - round(edge / step)) < 1e-6  # on the grid
        assert s.lo <= math.log10(lo) - step / 2 + 1e-9 and math.log10(lo) - s.lo <= 1.5 * step + 1e-9
        assert s.hi >= math.log10(hi) + step / 2 - 1e-9 and s.hi - math.log10(hi) <= 1.5 * step + 1e-9
        assert float(sig(lo, 2)) == s.data_lo and float(sig(hi, 2)) == s.data_hi
    r = CurveRange()
    r.include(np.array([100.0, 1e-3]))
    before = r.scale()  # 5 decades: a grid of 0.2 decade, the bottom at -3.2
    assert (before.lo, before.hi) == pytest.approx((-3.2, 2.2))
    r.include(np.array([8.5e-4]))  # a new low keeping half a step above -3.2: the same window
    assert (r.scale().lo, r.scale().hi) == (before.lo, before.hi) and r.scale().data_lo == 8.5e-4
    r.include(np.array([7.5e-4]))  # under -3.2 + 0.1: the bottom moves a grid step
    assert r.scale().lo == pytest.approx(-3.4)
    linear = CurveRange()
    linear.include(np.array([0.0, 0.361]))
    s = linear.scale()
    assert not s.log and (s.lo, s.hi) == pytest.approx((-0.02, 0.38))  # a grid of 0.02


def test_curve_axes_and_raster():
    r = CurveRange()
    r.include(np.array([1e2, 1e-3]))
    axes = plan_curve_axes(40, 10, (0.0, 300.0), r.scale())
    assert axes is not None
    assert axes.left == 1 + max(len(t) for t in axes.y_ticks.labels)
    assert axes.plot_rows == 10 - 1 - 2 and axes.plot_cols == 40 - axes.left
    assert axes.x_ticks.labels[0] == "0" and axes.x_ticks.labels[-1] == "300"
    assert set(axes.y_ticks.labels) <= {"1e-3", "0.01", "0.1", "1", "10", "100"}
    xs = np.arange(301.0)
    bits = rasterize_curve(axes, xs, np.logspace(2, -3, 301))
    rows_hit = np.flatnonzero(bits.any(axis=1))
    assert rows_hit[0] == 0 and rows_hit[-1] == axes.plot_rows - 1  # spans the whole height
    assert bits[:, 0].any() and bits[:, -1].any()
    dashed = rasterize_curve(axes, xs, np.full(301, 1.0), dashed=True)
    assert dashed[:, ::2].any() and not dashed[:, 1::2].any()
    assert plan_curve_axes(6, 3, (0.0, 1.0), r.scale()) is None


def test_live_recorder_is_bounded_and_keeps_the_newest_row():
    s = session(SADDLE)
    rec = LiveRecorder(s.sim, max_rows=16)
    for _ in range(100):
        s.sim.step(1)
        rec.observe()
    rows = rec.rows(0)
    assert len(rows) <= 17
    steps = rows[:, 0].astype(int)
    assert steps[0] == 0 and steps[-1] == 100 and np.all(np.diff(steps) > 0)
    stride = steps[1] - steps[0]
    assert stride > 1 and np.all(steps[:-1] % stride == 0)


def test_frame_plans():
    events = (EventSpec(at=40, say="a caption"), EventSpec(at=7, focus=True, run="gd"), EventSpec(at=9, pause=True))
    assert parse_frames("0,40,end") == ((0, 40), True)
    assert parse_frames("events,3", events) == ((3, 7, 40), False)  # a bare pause shows nothing new
    with pytest.raises(ScenarioError, match="at most 500"):
        parse_frames("events", [EventSpec(at=k, say="s") for k in range(501)])
    for bad in ("", "x", "-1", "1e3"):
        with pytest.raises(ScenarioError):
            parse_frames(bad)


ENGINE_IMPORT_CHECK = """
import importlib, pkgutil, sys
import optsim.engine as engine
names = sorted(m.name for m in pkgutil.walk_packages(engine.__path__, "optsim.engine."))
for name in names:
    importlib.import_module(name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich", "plotext"))
print(len(names), loaded)
"""


def test_importing_the_engine_never_loads_textual_rich_or_plotext():
    out = subprocess.run([sys.executable, "-c", ENGINE_IMPORT_CHECK], capture_output=True, text=True, check=True)
    count, loaded = out.stdout.split(" ", 1)
    assert int(count) >= 40  # every module of every engine sub-package was imported
    assert loaded.strip() == "[]"
