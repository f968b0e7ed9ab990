"""The curvature view (issue 11, item 4): every run's lr x lambda_max (lr/sigma for adaptive
methods) against its stability limit, the condition number, the Hessian's eigenvectors at the
selected run, and on a quadratic its error along each eigenvector over time. Each drawn
number is checked against the engine's (or recomputed here from the trajectory)."""

from __future__ import annotations

import numpy as np

from optsim.engine.scenario.catalog import resolve
from optsim.engine.scenario.load import load_scenario
from optsim.engine.watch.session import Session
from optsim.tui.render import palette
from optsim.tui.screens.keys import SIMULATOR_COMMANDS
from optsim.tui.screens.simulator import ARROW_COLORS
from optsim.tui.view.model import ViewModel
from optsim.tui.widgets.contour_plot import ContourPlot
from optsim.tui.widgets.curve_plot import CurvePlot
from tui_helpers import MECHANISM as RAVINE, ROSENBROCK, make_app, run_async, screen_lines, stepped_screen

WHY_MOMENTUM = resolve("why-momentum-works")


def _view(path, ticks: int) -> ViewModel:
    s = Session(load_scenario(path))
    s.advance_to(ticks)
    return ViewModel(s)


def test_on_a_quadratic_the_curves_are_the_error_along_each_eigenvector():
    """The ravine 0.5 (0.1 x^2 + 50 y^2): eigenvectors y (lambda 50) and x (0.1), minimum 0, so
    the errors are |y| and |x| of the stored trajectory."""
    v = _view(RAVINE, 80)
    v.select(2)
    model = v.quadratic()
    np.testing.assert_allclose(model.eigenvalues, [0.1, 50.0])
    steep, flat = v.curvature_curves()
    assert (steep.name, flat.name) == ("λ 50", "λ 0.1") and (steep.run, flat.run) == (0, 1)
    path = v.session.sim.history.trajectory(2)
    np.testing.assert_allclose(steep.ys, np.abs(path[:, 1]), atol=1e-15)
    np.testing.assert_allclose(flat.ys, np.abs(path[:, 0]), atol=1e-15)
    t = np.arange(len(path))
    np.testing.assert_allclose(flat.ys, 4.5 * (1 - 0.039 * 0.1) ** t, rtol=1e-9)  # gd: (1 - lr lambda)^t


def test_each_runs_rate_times_curvature_and_its_limit():
    v = _view(RAVINE, 40)
    now = v.curvature_now()
    assert now.quadratic and now.condition == 500.0
    by = {r.name: r for r in now.runs}
    assert round(by["gd"].rate_curvature, 10) == round(0.039 * 50, 10) and by["gd"].limit == 2.0
    assert round(by["momentum"].rate_curvature, 10) == 1.0 and round(by["momentum"].limit, 10) == 3.8
    # the lecture's Adagrad: the largest eigenvalue of D^1/2 H D^1/2, D = lr / sigma per coordinate
    sim = v.session.sim
    points = sim.history.trajectory(0)[:40]
    _, grads = v.session.objective.value_and_gradient(points)
    sigma = np.sqrt((grads ** 2).mean(axis=0))
    assert np.isclose(by["adagrad"].rate_curvature, max(0.3 / sigma[0] * 0.1, 0.3 / sigma[1] * 50), rtol=1e-9)


def test_off_a_quadratic_every_run_has_lr_lambda_max_over_time_and_the_limit():
    v = _view(ROSENBROCK, 60)
    assert v.quadratic() is None
    curves = {c.name: c for c in v.curvature_curves()}
    sim = v.session.sim
    limit = curves.pop("limit 2")
    assert limit.dashed and set(limit.ys) == {2.0} and limit.run == sim.n_runs
    h = sim.history
    for r, name in enumerate(sim.names):
        hess = v.session.objective.hessian(h.trajectory(r))
        sigma, lr = h.sigma[: h.size, r], h.values["lr"][: h.size, r]
        for k in (5, 30, h.size - 1):
            d = lr[k] / sigma[k] if np.isfinite(sigma[k]).all() else np.full(2, lr[k])
            want = np.linalg.eigvalsh(np.sqrt(d)[:, None] * hess[k] * np.sqrt(d)[None, :]).max()
            assert np.isclose(curves[name].ys[k], want, rtol=1e-9), (name, k)


def test_the_eigenvector_arrows_are_the_hessians_at_the_selected_point():
    v = _view(ROSENBROCK, 30)
    v.select(1)
    assert v.mechanism_arrows() == []
    v.toggle_view("curvature")
    arrows = v.mechanism_arrows()
    assert [a.kind for a in arrows] == ["eigen", "eigen"]
    values, vectors = np.linalg.eigh(v.session.objective.hessian(v.session.sim.params[1:2])[0])
    assert arrows[0].label == f"λ {values[1]:.3g}" and arrows[1].label == f"λ {values[0]:.3g}"
    for arrow, j in zip(arrows, (1, 0)):
        assert abs(abs(np.dot(arrow.direction, vectors[:, j])) - 1) < 1e-9  # the same line
        assert arrow.origin == tuple(v.session.sim.params[1])


def test_a_scripted_show_turns_it_on():
    v = _view(WHY_MOMENTUM, 0)
    assert "curvature" in v.views and v.session.sim.names[v.selected] == "gd"


def test_the_key_is_in_the_help_and_the_palette():
    by_action = {c.action: c for c in SIMULATOR_COMMANDS}
    assert by_action["toggle_view('curvature')"].keys == "C"


@run_async
async def test_the_key_toggles_the_view_and_the_plot_holds_the_engines_numbers():
    app = make_app(ROSENBROCK)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await stepped_screen(pilot, 40)
        curv = screen.query_one("#curv", CurvePlot)
        assert not curv.display
        await pilot.press("C")
        await pilot.pause()
        assert curv.display
        drawn = {c.name: c.ys for c in curv.series}
        for c in screen.view.curvature_curves():
            np.testing.assert_array_equal(drawn[c.name], c.ys)
        colors = [a.color for a in screen.plot._arrows]
        assert colors.count(ARROW_COLORS["eigen"]) == 2
        text = "\n".join(screen_lines(app))
        assert "lr·λmax ╌ limit 2" in text and "lr·λmax/limit" in text
        for run in screen.view.curvature_now().runs:
            assert f"{run.name} " in text
        await pilot.press("C")
        await pilot.pause()
        assert not curv.display and ARROW_COLORS["eigen"] not in [a.color for a in screen.plot._arrows]


@run_async
async def test_at_80x24_the_essentials_stay_with_the_view_on():
    app = make_app(WHY_MOMENTUM)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await stepped_screen(pilot, 60)
        text = "\n".join(screen_lines(app))
        assert "|error| along eigenvectors" in text and "loss" in text
        assert screen.query_one(ContourPlot).region.width > 30
        assert screen.query_one("#loss", CurvePlot).region.height >= 4
        assert screen.query_one("#curv", CurvePlot).region.height >= 3
        assert screen.query_one("#info").region.height >= 2
        assert palette.EIGEN_ARROW_COLOR in [a.color for a in screen.plot._arrows]


def test_the_kept_rate_times_curvature_equals_one_computed_afresh_frame_after_frame():
    """The values kept from frame to frame (appended in order, the usual frame, or merged
    after the history dropped ticks) are those a fresh computation gives."""
    from optsim.tui.view.curvature import RateCurvatureCurves

    s = Session(load_scenario(ROSENBROCK))
    s.sim.history.__init__(s.sim.n_runs, s.sim.history.params.shape[-1], capacity=16, recent=8)
    kept = RateCurvatureCurves(s)
    for step in (1, 1, 1, 3, 1, 7, 1, 1, 20, 1, 40):
        s.advance(step)
        got = kept.curves(lambda r: True)
        want = RateCurvatureCurves(s).curves(lambda r: True)
        assert [c.name for c in got] == [c.name for c in want]
        for a, b in zip(got, want):
            assert np.array_equal(a.xs, b.xs) and np.array_equal(a.ys, b.ys, equal_nan=True), (step, a.name)
