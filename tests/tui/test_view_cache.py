"""The views' numbers are computed once per state of the view (tui/view/memo.py) and never outlive
it: after a step, a reset, an edit, a new start, an added or removed run and a new selection,
what the view model hands the screen equals the engine's numbers computed afresh."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from optsim.engine.analysis.prediction import predictions
from optsim.engine.scenario.catalog import resolve
from optsim.engine.scenario.load import load_scenario
from optsim.engine.watch.session import Session
from optsim.tui.view import curvature as cview
from optsim.tui.view.model import ViewModel
from tui_helpers import ROSENBROCK

VIEWS = ("gradient_norm", "sigma", "momentum", "curvature")


def _view(path, ticks: int, views=VIEWS) -> ViewModel:
    s = Session(load_scenario(path))
    s.advance_to(ticks)
    v = ViewModel(s)
    for kind in views:
        v.toggle_view(kind)
    return v


def _fresh_curvature(v: ViewModel) -> list[tuple[str, float, float]]:
    """Every run's lr x lambda_max and limit, computed by the engine now (no cache)."""
    now = cview.curvature_now(v.session, v.selected, v.quadratic())
    return [(r.name, r.rate_curvature, r.limit) for r in now.runs]


def _shown_curvature(v: ViewModel) -> list[tuple[str, float, float]]:
    return [(r.name, r.rate_curvature, r.limit) for r in v.curvature_now().runs]


def _fresh_eigen_labels(v: ViewModel) -> list[str]:
    return [label for _, label in cview.eigen_vectors(v.session, v.selected)]


def _shown_eigen_labels(v: ViewModel) -> list[str]:
    return [a.label for a in v.mechanism_arrows() if a.kind == "eigen"]


def _all_reads(v: ViewModel) -> None:
    v.mechanism_arrows(), v.curvature_now(), v.curvature_curves(), v.gradient_norm_curves()
    v.sigma_curves(), v.sigma_now()


def test_a_second_read_in_the_same_state_computes_nothing_and_gives_the_same_numbers():
    v = _view(ROSENBROCK, 40)
    _all_reads(v)
    computed = v._memo.computed
    first = (_shown_curvature(v), v.mechanism_arrows(), v.sigma_now())
    _all_reads(v)
    assert v._memo.computed == computed
    assert (_shown_curvature(v), v.mechanism_arrows(), v.sigma_now()) == first


def test_a_step_moves_every_number_on():
    v = _view(ROSENBROCK, 40)
    before = (_shown_curvature(v), _shown_eigen_labels(v))
    v.session.advance(1)
    assert _shown_curvature(v) == _fresh_curvature(v) != before[0]
    assert _shown_eigen_labels(v) == _fresh_eigen_labels(v)
    curves = {c.name: c for c in v.gradient_norm_curves()}
    assert curves["adam"].xs[-1] == v.session.tick and curves["adam"].ys[-1] == v.session.sim.grad_norm[
        v.session.sim.names.index("adam")]


def test_a_step_behind_the_sessions_back_is_seen_too():
    v = _view(ROSENBROCK, 40)
    before = _shown_curvature(v)
    v.session.sim.step(1)  # no announcement: the tick alone tells the cache
    assert _shown_curvature(v) == _fresh_curvature(v) != before


def test_a_reset_shows_the_starts_again():
    v = _view(ROSENBROCK, 40)
    _all_reads(v)
    v.session.reset()
    assert _shown_curvature(v) == _fresh_curvature(v)
    assert _shown_eigen_labels(v) == _fresh_eigen_labels(v)
    assert all(c.xs.size <= 2 for c in v.gradient_norm_curves())  # the history starts again
    curves = {c.name: c for c in v.curvature_curves() if c.name != "limit 2"}
    assert all(np.asarray(c.xs).max() <= v.session.tick for c in curves.values())


def test_an_edit_of_the_learning_rate_shows_in_the_rate_times_curvature():
    v = _view(ROSENBROCK, 40)
    run = v.session.sim.names.index("sgd")
    before = dict((n, x) for n, x, _ in _shown_curvature(v))
    v.session.edit_run(run, {"lr": v.session.sim.configs[run].lr * 2})
    after = dict((n, x) for n, x, _ in _shown_curvature(v))
    assert _shown_curvature(v) == _fresh_curvature(v)
    assert np.isclose(after["sgd"], 2 * before["sgd"], rtol=1e-9)


def test_a_new_start_and_a_new_selection_move_the_arrows():
    v = _view(ROSENBROCK, 40)
    v.select(0)
    arrows = v.mechanism_arrows()
    v.select(1)
    assert _shown_eigen_labels(v) == _fresh_eigen_labels(v)
    assert v.mechanism_arrows()[0].origin == tuple(v.session.sim.params[1]) != arrows[0].origin
    v.place_start(1, (0.5, 0.5))
    assert v.mechanism_arrows()[0].origin == (0.5, 0.5)
    assert _shown_eigen_labels(v) == _fresh_eigen_labels(v)


def test_added_and_removed_runs_are_in_the_legend_at_once():
    v = _view(ROSENBROCK, 40)
    names = [n for n, _, _ in _shown_curvature(v)]
    s = v.session
    s.add_run(replace(s.sim.configs[0], name="sgd copy"))
    assert [n for n, _, _ in _shown_curvature(v)] == s.sim.names == names + ["sgd copy"]
    s.remove_run(0)
    assert [n for n, _, _ in _shown_curvature(v)] == s.sim.names
    assert _shown_curvature(v) == _fresh_curvature(v)


def test_the_data_view_follows_a_step_an_edit_and_a_hidden_run():
    s = Session(load_scenario(resolve("model-bias")))
    s.advance_to(50)
    v = ViewModel(s)
    v.toggle_view("data")
    found = v.data_picture()

    def drawn(name):
        return {c.name: c for c in v.data_curves()}[name].ys

    run = 0
    np.testing.assert_array_equal(drawn(s.sim.names[run]), predictions(s.objective, found, s.sim.params[[run]])[0])
    s.advance(5)
    np.testing.assert_array_equal(drawn(s.sim.names[run]), predictions(s.objective, found, s.sim.params[[run]])[0])
    s.edit_run(run, {"lr": s.sim.configs[run].lr / 10})
    s.advance(1)
    np.testing.assert_array_equal(drawn(s.sim.names[run]), predictions(s.objective, found, s.sim.params[[run]])[0])
    v.toggle_hidden(run)
    assert s.sim.names[run] not in {c.name for c in v.data_curves()}
