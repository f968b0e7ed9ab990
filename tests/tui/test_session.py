"""The Session (the simulation being watched) and the ViewModel (what the screen shows of it)
that the app, headless playback and tests share: events, edits, runs, records, selection,
hidden runs, the plotted plane, arrows and curves."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest

from optsim.engine.errors import ScenarioError
from optsim.engine.core.run_settings import RunSettings
from optsim.tui.view.model import ViewModel
from tui_helpers import DATA, ROSENBROCK, SADDLE, THREE, session


def view(path=SADDLE) -> ViewModel:
    return ViewModel(session(path))


def test_events_fire_at_their_steps_and_pause_stops_the_advance():
    v = view(SADDLE)
    s = v.session
    assert s.tick == 0 and s.caption.startswith("Two gradient-descent runs")  # event at 0
    result = s.advance(100)
    assert result.paused and result.ticks == 60 and s.tick == 60  # stopped at the pause
    assert [e.at for e in result.events] == [60]
    assert s.caption == "The gradient is almost zero here, yet this is no minimum."
    assert v.selected == 0 and v.analysed.run == "gd"  # focus + show = "hessian"
    assert {a.kind for a in v.arrows} == {"gradient", "escape"}
    escape = next(a for a in v.arrows if a.kind == "escape")
    assert np.allclose(np.abs(escape.direction), [2 ** -0.5, 2 ** -0.5])
    gradient = next(a for a in v.arrows if a.kind == "gradient")
    grad = s.objective.gradient(s.sim.params[:1])[0]
    assert np.allclose(gradient.direction, -grad)  # the descent direction
    s.advance(100)
    assert s.sim.configs[0].hyper["lr"] == 0.2  # the `set` event at 150
    assert s.tick == 160


def test_advance_to_runs_through_pauses_and_stops_at_the_end():
    s = session(SADDLE)
    s.advance_to(200)
    assert s.tick == 200
    s.advance_to(10_000)
    assert s.finished and s.tick == 300


def test_reset_rewinds_the_script_and_the_records():
    v = view(SADDLE)
    s = v.session
    s.advance_to(100)
    assert v.analysed is not None
    s.reset()
    assert s.tick == 0 and v.analysed is None and v.arrows == []
    assert s.caption.startswith("Two gradient-descent runs")
    assert len(s.recorder.rows(0)) == 1
    assert s.advance(1000).ticks == 60  # the pause fires again


def test_deadline_cuts_a_frame_short_but_makes_progress():
    s = session(ROSENBROCK)
    result = s.advance(3000, deadline=0.0)  # already past: exactly one tick
    assert result.ticks == 1


def test_csv_is_the_same_as_optsim_run(tmp_path):
    s = session(SADDLE)
    s.advance_to(10_000)
    buffer = io.StringIO()
    rows = s.write_csv(buffer)
    assert rows == 3 * 301
    out = tmp_path / "run.csv"
    subprocess.run([sys.executable, "-m", "optsim.tui.cli", "run", str(SADDLE), "--out", str(out)],
                   check=True, capture_output=True)
    assert buffer.getvalue() == out.read_text()


def test_edit_is_validated_like_a_file_and_applied_mid_run():
    s = session(SADDLE)
    s.advance(10)
    with pytest.raises(ScenarioError) as err:
        s.edit_run(0, {"lr": -1.0})
    assert err.value.key == "run.lr"
    with pytest.raises(ScenarioError):
        s.edit_run(0, {"momentum": 0.9, "betas": (0.9, 0.99)})  # betas is not an sgd key
    with pytest.raises(ScenarioError) as err:
        s.edit_run(0, {"steps": 0})
    assert err.value.key == "run.steps" and err.value.message == "must be between 1 and 10000000, not 0"
    # nesterov needs momentum: valid when the run already has it
    s.edit_run(0, {"momentum": 0.9})
    s.edit_run(0, {"nesterov": True})
    assert s.sim.configs[0].hyper["nesterov"] is True
    before = s.sim.params[0].copy()
    s.edit_run(0, {"optimizer": "adam", "lr": 0.1})
    assert s.sim.configs[0].optimizer == "adam" and s.sim.step_count[0] == 10  # keeps its steps
    s.advance(1)
    assert not np.allclose(s.sim.params[0], before)


def test_batch_size_needs_data():
    s = session(SADDLE)
    with pytest.raises(ScenarioError, match="needs a \\[data\\] table"):
        s.edit_run(0, {"batch_size": 2})
    d = session(DATA)
    d.edit_run(0, {"batch_size": 5})
    assert d.sim.configs[0].batch_size == 5
    with pytest.raises(ScenarioError):
        d.edit_run(0, {"batch_size": 1000})


def test_add_remove_and_hide_keep_everything_in_step():
    v = view(SADDLE)
    s = v.session
    s.advance(20)
    i = s.add_run(RunSettings("extra", "adam", {"lr": 0.1}, (0.5, 0.5), 50))
    assert i == 3 and v.selected == 3 and s.started_at[3] == 20
    with pytest.raises(ScenarioError, match="already the name"):
        s.add_run(RunSettings("extra", "sgd", {"lr": 0.1}, (0.5, 0.5), 50))
    s.advance(5)
    assert s.sim.step_count[3] == 5 and len(s.recorder.rows(3)) == 6
    assert v.x_range() == (0.0, 300.0)
    v.toggle_hidden(1)
    assert not v.visible(1)
    assert {c.name for c in v.loss_curves()} == {"gd", "adam", "extra"}
    s.remove_run(0)
    assert s.sim.names == ["gd-off-line", "adam", "extra"]
    assert v.selected == 2 and not v.visible(0)  # the hidden run is still hidden
    assert len(v.trajectories()) == 3
    csv = io.StringIO()
    s.write_csv(csv)
    assert {line.split(",")[0] for line in csv.getvalue().splitlines()[1:]} == {"gd-off-line", "adam", "extra"}
    s.edit_run(0, {"name": "renamed"})
    assert not v.visible(0) and v.hidden == {"renamed"}  # hidden under its new name
    s.remove_run(0)
    s.remove_run(0)
    with pytest.raises(ValueError, match="last run"):
        s.remove_run(0)


def test_placing_a_start_in_the_plotted_plane_keeps_the_other_parameters():
    v = view(THREE)
    s = v.session
    s.advance(10)
    v.place_start(0, (1.0, -0.5))
    assert s.sim.configs[0].start == (1.0, -0.5, -1.0)
    assert s.sim.step_count[0] == 0 and s.sim.step_count[1] == 10
    assert len(s.recorder.rows(0)) == 1
    xs, ys = v.trajectories()[0]
    assert (xs[-1], ys[-1]) == (1.0, -0.5)


def test_surface_of_more_than_two_parameters_is_the_slice_at_the_selected_run():
    v = view(THREE)
    s = v.session
    s.advance(5)
    v.update_plane()  # the plane is cut again when the viewer asks (the app throttles it)
    assert v.plane.slice.kind == "params" and "fixed at the current point" in v.plane_note()
    f = v.surface_function()
    p = s.sim.params[0]
    assert v.held_values() == {"w3": pytest.approx(p[2])}
    pts = np.array([[0.5, 0.25], [p[0], p[1]]])
    full = np.column_stack([pts, np.full(2, p[2])])
    assert np.allclose(f(pts), s.objective.loss(full))
    assert v.minima_xy() == []  # minima of the whole space are not points of the slice
    assert v.home_window() == (-3.0, 3.0, -1.5, 1.5)


def test_random_and_pca_slices_project_paths_and_place_starts():
    v = view(THREE)
    s = v.session
    s.advance(50)
    for kind in ("random", "pca"):
        v.set_slice_kind(kind)
        assert v.plane.slice.kind == kind and v.held_values() == {}
        xs, ys = v.trajectories()[0]
        here = v.current_points()[0]
        assert (xs[-1], ys[-1]) == pytest.approx(here)
        assert here == pytest.approx((0.0, 0.0), abs=1e-9)  # the plane passes through the selected run
        f = v.surface_function()
        assert f(np.array([[0.0, 0.0]]))[0] == pytest.approx(s.sim.loss[0])
        x0, x1, y0, y1 = v.home_window()
        assert x0 < here[0] < x1 and y0 < here[1] < y1
        v.analyse_point(0, "hessian")
        grad = next(a for a in v.arrows if a.kind == "gradient")
        basis = np.stack([v.plane.slice.d1, v.plane.slice.d2], axis=1)
        expected = np.linalg.lstsq(basis, -s.objective.gradient(s.sim.params[:1])[0], rcond=None)[0]
        assert grad.direction == pytest.approx(tuple(expected))
    v.place_start(1, (0.5, -0.25))  # a point of the PCA plane
    assert np.allclose(s.sim.configs[1].start, v.plane.slice.points(np.array([[0.5, -0.25]]))[0])
    with pytest.raises(ValueError):
        v.set_slice_kind("diagonal")


def test_two_parameter_surface_and_window():
    v = view(SADDLE)
    f, pts = v.surface_function(), np.array([[0.5, -1.0], [1.0, 1.0], [-2.0, 0.3]])
    assert np.array_equal(f(pts), v.session.objective.loss(pts)) and f.note == ""  # the loss itself, no slicing
    assert v.home_window() == (-2.0, 2.0, -2.0, 2.0)
    assert v.minima_xy() == [(1.0, 1.0), (-1.0, -1.0)]
    assert v.held_values() == {}


def test_curves_carry_the_test_loss_and_the_planned_schedule():
    d = view(DATA)
    d.session.advance(10)
    names = [(c.name, c.dashed) for c in d.loss_curves()]
    assert ("full-batch", False) in names and ("full-batch (test)", True) in names
    rv = view(ROSENBROCK)
    r = rv.session
    r.advance(100)
    lr = {c.name: c for c in rv.lr_curves()}
    planned = lr["adagrad (planned)"]
    assert planned.dashed and planned.xs[0] == 0 and planned.xs[-1] == 2999  # the whole run
    from optsim.engine.optim.schedules import schedule_curve

    full = schedule_curve(r.sim.configs[4].schedule, 0.3, 3000)
    assert np.allclose(planned.ys, full[planned.xs.astype(int)])
    used = lr["adagrad"]
    assert np.allclose(used.ys[1:101], full[:100])  # the rates the updates used
    assert r.next_lr()[4] == pytest.approx(full[100])  # and the one the next update uses
    r.edit_run(4, {"lr": 0.6})
    c = (full[100] - 0.01) / (0.3 - 0.01)  # cosine: eta_min + (lr - eta_min) * c(t)
    assert r.next_lr()[4] == pytest.approx(0.01 + (0.6 - 0.01) * c)
    replanned = {c.name: c for c in rv.lr_curves()}["adagrad (planned)"]
    assert replanned.xs[0] == 100 and replanned.ys[0] == pytest.approx(r.next_lr()[4])  # from the edit on


def test_statuses_come_from_the_diagnosis():
    s = session(SADDLE)
    assert s.statuses() == ["not started"] * 3
    s.advance_to(60)
    statuses = s.statuses()
    assert len(statuses) == 3 and all(isinstance(x, str) and x for x in statuses)
    assert statuses[0] == "stuck at saddle" and s.diagnosis(0).status == statuses[0]
    s.edit_run(1, {"lr": 50.0})  # sgd far beyond 2/lambda
    s.advance(5)
    assert s.statuses()[1] == "diverged" and s.diagnosis(1).status == "diverged"


def test_to_toml_reads_back_with_the_live_runs(tmp_path):
    from optsim.engine.scenario.load import load_scenario

    s = session(SADDLE)
    s.edit_run(1, {"lr": 0.07, "schedule": {"kind": "step", "step_size": 50}})
    s.add_run(RunSettings("new", "rmsprop", {"lr": 0.01, "alpha": 0.9}, (0.1, 0.2), 40))
    path = tmp_path / "edited.toml"
    path.write_text(s.to_toml())
    back = load_scenario(path)
    assert [r.name for r in back.runs] == ["gd", "gd-off-line", "adam", "new"]
    assert back.runs[1].hyper == {"lr": 0.07} and back.runs[1].schedule == {"kind": "step", "step_size": 50}
    assert back.runs[3].hyper == {"lr": 0.01, "alpha": 0.9} and back.runs[3].start == (0.1, 0.2)
    assert back.events == s.scenario.events


def test_paths_in_the_plane_are_each_runs_history_then_recent_points_then_its_point():
    """trajectories() reads every run at once on a plane of two parameters: the same values,
    bit for bit, as one run at a time (the decimated history, the recent window, the point)."""
    v = view(THREE)
    s = v.session
    for n in (1, 30, 400):
        s.advance(n)
        h, sim = s.sim.history, s.sim
        recent_ticks, recent_params, _, _ = h.recent.window()
        older = h.tick[: h.size] < (recent_ticks[0] if recent_ticks.size else np.iinfo(np.int64).max)
        got = v.trajectories()
        assert len(got) == sim.n_runs
        for r, (xs, ys) in enumerate(got):
            points = np.concatenate([h.params[: h.size][older, r], recent_params[:, r], sim.params[r][None]])
            i, j = v.plane.axes
            assert xs.tobytes() == np.ascontiguousarray(points[:, i]).tobytes()
            assert ys.tobytes() == np.ascontiguousarray(points[:, j]).tobytes()
