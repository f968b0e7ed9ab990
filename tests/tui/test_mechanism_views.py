"""The mechanism views (issue 11): the gradient norm beside the loss, a run's sigma and lr/sigma,
the raw step beside the step taken, the momentum beside -g. Each drawn number is checked
against the engine's (or recomputed independently from the trajectory), and every built-in
whose caption speaks of one of these quantities shows it at that moment."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from optsim.engine.scenario.catalog import catalog
from optsim.engine.scenario.load import load_scenario
from optsim.engine.watch.session import Session
from optsim.tui.screens.keys import SIMULATOR_COMMANDS
from optsim.tui.screens.simulator import ARROW_COLORS
from optsim.tui.view.model import ViewModel
from optsim.tui.widgets.contour_plot import ContourPlot
from optsim.tui.widgets.curve_plot import CurvePlot
from tui_helpers import MECHANISM as RAVINE, make_app, run_async, screen_lines, stepped_screen


def _view(ticks: int) -> ViewModel:
    s = Session(load_scenario(RAVINE))
    s.advance_to(ticks)
    return ViewModel(s)


def _sigma_by_hand(view: ViewModel, run: int) -> np.ndarray:
    """The lecture's Adagrad sigma after each update, from the stored trajectory: the root mean
    square of the exact gradients at the points the run passed (stride 1: every tick stored)."""
    h = view.session.sim.history
    assert h.stride == 1
    points = h.params[: h.size, run]
    _, grads = view.session.objective.value_and_gradient(points)
    t = np.arange(1, h.size)[:, None]
    return np.vstack([np.full((1, 2), np.nan), np.sqrt(np.cumsum(grads[:-1] ** 2, axis=0) / t)])


def test_gradient_norm_curves_are_the_simulations_history():
    v = _view(120)
    sim = v.session.sim
    ticks, norms = sim.history.series("grad_norm")
    curves = v.gradient_norm_curves()
    assert [c.name for c in curves] == sim.names
    for r, c in enumerate(curves):
        np.testing.assert_array_equal(c.xs[: ticks.size], ticks)
        np.testing.assert_array_equal(c.ys[: ticks.size], norms[:, r])
        assert c.ys[-1] == sim.grad_norm[r]  # and the current value last
    v.toggle_hidden(1)
    assert [c.name for c in v.gradient_norm_curves()] == ["adagrad", "gd"]


def test_sigma_curves_match_the_lecture_definition_computed_by_hand():
    v = _view(250)
    v.select(0)  # adagrad_lecture
    curves = {c.name: c for c in v.sigma_curves()}
    assert set(curves) == {"sigma x", "lr/sigma x", "sigma y", "lr/sigma y"}
    want = _sigma_by_hand(v, 0)
    np.testing.assert_allclose(curves["sigma x"].ys, want[:, 0], rtol=1e-10)
    np.testing.assert_allclose(curves["sigma y"].ys, want[:, 1], rtol=1e-10)
    np.testing.assert_allclose(curves["lr/sigma y"].ys[1:], 0.3 / want[1:, 1], rtol=1e-10)
    assert curves["lr/sigma y"].dashed and not curves["sigma y"].dashed
    v.select(2)  # plain SGD divides by nothing: no curves rather than made-up ones
    assert v.sigma_curves() == []


def test_adagrad_burst_is_the_effective_step_jumping_while_sigma_y_decays():
    """The constant-rate lecture Adagrad at rest: sigma_y keeps shrinking, lr/sigma_y grows past
    the walls' limit 2/50, and the point is thrown out (the burst)."""
    v = _view(250)
    v.select(0)
    curves = {c.name: c for c in v.sigma_curves()}
    sigma_y, rate_y = curves["sigma y"].ys, curves["lr/sigma y"].ys
    y = v.session.sim.history.params[: v.session.sim.history.size, 0, 1]
    burst = int(np.argmax(np.abs(y[150:]))) + 150
    assert abs(y[burst]) > 0.5  # thrown out across the ravine
    before = slice(burst - 60, burst - 10)
    assert np.all(np.diff(sigma_y[before]) < 0)  # sigma_y decaying while at rest
    assert rate_y[burst - 10] > 2 / 50  # the effective step beyond what the walls allow


def test_step_arrows_show_the_raw_step_beside_the_step_taken():
    v = _view(40)
    v.toggle_view("momentum")  # the script turned it on at 10
    v.select(0)
    assert v.mechanism_arrows() == []
    v.toggle_view("sigma")
    sim = v.session.sim
    raw, step = v.mechanism_arrows()
    lr = float(v.session.next_lr()[0])
    assert raw.kind == "raw" and step.kind == "step"
    np.testing.assert_allclose(raw.direction, -lr * sim.grad[0])
    np.testing.assert_allclose(step.direction, sim.next_update(0))
    origin = sim.params[0].copy()
    sim.step()
    np.testing.assert_allclose(np.array(step.direction), sim.params[0] - origin, rtol=1e-12)
    assert raw.origin == tuple(origin)


def test_momentum_arrow_is_the_lecture_movement_and_minus_g_beside_it():
    v = _view(5)
    v.select(1)
    v.toggle_view("momentum")
    g_arrow, m_arrow = v.mechanism_arrows()
    sim = v.session.sim
    assert g_arrow.kind == "gradient" and m_arrow.kind == "momentum"
    np.testing.assert_allclose(g_arrow.direction, -sim.grad[1])
    group = next(g for g in sim._groups if 1 in g.members.tolist())
    np.testing.assert_allclose(m_arrow.direction, group.state.movement[list(group.members).index(1)])
    v.select(2)  # plain SGD keeps no momentum: -g alone
    assert [a.kind for a in v.mechanism_arrows()] == ["gradient"]


def test_a_scripted_show_selects_the_run_and_turns_the_view_on():
    s = Session(load_scenario(RAVINE))
    v = ViewModel(s)
    assert v.views == frozenset()
    s.advance_to(10)
    assert v.views == {"momentum"} and v.selected == 1
    assert ViewModel(s).views == {"momentum"}  # a view made later shows what was played


# ----------------------------------------------------------------- the built-in library

_WORDS = {"sigma": r"\bsigma", "momentum": r"\bmomentum\b", "gradient_norm": r"gradient norm",
          "curvature": r"\bcurvatures?\b|λmax|eigenvector|sharpness|condition number|\beigenvalues\b",
          "data": r"\bsamples\b|\bfits?\b|the curve passes|extrapolat|test inputs?",
          "guide": r"(?i)\bguide\b|model bias|overfitting|mismatch|optimization failed"}
_HESSIAN_SHOWS = r"^[^λ]*\beigenvalues\b"
"""A caption that only quotes the Hessian's eigenvalues is shown by the Hessian report too."""


def _mentions(text: str, names: list[str], optimizers: set[str]) -> set[str]:
    """The quantities a caption speaks of, after taking out run and optimizer names."""
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(f"{name}'s", " ").replace(name, " ")
    for opt in optimizers:
        text = text.replace(opt, " ")
    return {kind for kind, word in _WORDS.items() if re.search(word, text)}


def _captions():
    for entry in catalog():
        sc = load_scenario(entry.path)
        names = [r.name for r in sc.runs]
        for event in sc.events:
            wanted = _mentions(event.say or "", names, {r.optimizer for r in sc.runs})
            if wanted:
                yield pytest.param(entry.path, event.at, wanted, id=f"{Path(entry.path).stem}@{event.at}")


@pytest.mark.parametrize("path, at, wanted", list(_captions()))
def test_every_caption_about_a_mechanism_shows_it(path, at, wanted):
    s = Session(load_scenario(path))
    v = ViewModel(s)
    s.advance_to(at)
    shown = set(v.views)
    event = next(e for e in s.scenario.events if e.at == at and e.say)
    if v.analysed is not None and re.search(_HESSIAN_SHOWS, event.say) and not re.search(
            r"\bcurvatures?\b|λmax|eigenvector|sharpness|condition number", event.say):
        shown.add("curvature")  # the Hessian report lists the eigenvalues
    if v.guide_request is not None and v.guide_request.tick == at:
        shown.add("guide")  # the screen opens the general guide on this step (not a view: a modal)
    assert wanted <= shown, f"{path} at {at} speaks of {wanted} but shows {set(v.views)}"


def test_the_captions_that_speak_of_a_mechanism_are_found():
    found = {(Path(p).stem.split("-")[0], at): w for p, at, w in (x.values for x in _captions())}
    assert found[("30", 300)] == {"gradient_norm"}
    assert found[("50", 233)] == {"sigma"}
    assert found[("61", 12)] == {"momentum"}
    assert found[("43", 0)] == {"curvature"} and found[("53", 0)] >= {"curvature"}
    assert found[("03", 8000)] == {"data", "guide"} and found[("04", 3000)] == {"data", "guide"}
    assert found[("01", 400)] == {"data", "guide"} and found[("02", 2000)] >= {"guide"}


# ----------------------------------------------------------------- the app


def test_each_view_has_a_key_in_the_help_and_the_palette():
    by_action = {c.action: c for c in SIMULATOR_COMMANDS}
    for kind, key in (("gradient_norm", "G"), ("sigma", "S"), ("momentum", "M")):
        assert by_action[f"toggle_view('{kind}')"].keys == key


@run_async
async def test_keys_toggle_the_views_and_the_plots_hold_the_engines_numbers():
    app = make_app(RAVINE)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await stepped_screen(pilot, 3)
        gnorm, sigma = screen.query_one("#gnorm", CurvePlot), screen.query_one("#sigma", CurvePlot)
        assert not gnorm.display and not sigma.display
        await pilot.press("G", "S")
        await pilot.pause()
        assert gnorm.display and sigma.display
        sim = screen.session.sim
        for c in gnorm.series:
            np.testing.assert_array_equal(c.ys[: sim.history.size], sim.history.series("grad_norm")[1][:, c.run])
        assert {c.name for c in sigma.series} == {"sigma x", "lr/sigma x", "sigma y", "lr/sigma y"}
        # wide: the gradient norm beside the loss, the sigma plot beside the learning rate
        loss, lr = screen.query_one("#loss", CurvePlot), screen.query_one("#lr", CurvePlot)
        assert gnorm.region.y == loss.region.y and gnorm.region.x > loss.region.x
        assert sigma.region.y == lr.region.y and sigma.region.x > lr.region.x
        await pilot.press("M")
        await pilot.pause()
        colors = [a.color for a in screen.plot._arrows]
        assert ARROW_COLORS["raw"] in colors and ARROW_COLORS["step"] in colors
        await pilot.press("G")
        await pilot.pause()
        assert not gnorm.display


@run_async
async def test_at_80x24_the_essentials_stay_with_the_views_on():
    app = make_app(RAVINE)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await stepped_screen(pilot, 60)
        await pilot.press("G", "S")
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        for title in ("loss", "gradient norm", "sigma ─ lr/sigma", "momentum"):
            assert title in text
        assert screen.query_one(ContourPlot).region.width > 30
        loss, gnorm = screen.query_one("#loss", CurvePlot), screen.query_one("#gnorm", CurvePlot)
        assert gnorm.region.y > loss.region.y and loss.region.height >= 4  # stacked, not squeezed out
        assert screen.query_one("#info").region.height >= 2  # the caption keeps a place


AT_MINIMUM = """
title = "runs at and near rosenbrock's minimum"
[surface]
builtin = "rosenbrock"
[[runs]]
name = "sgd"
optimizer = "sgd"
lr = 0.001
momentum = 0.9
start = [1, 1]
[[runs]]
name = "adam"
optimizer = "adam"
lr = 0.001
start = [1.000000000001, 1]
"""


def test_vectors_that_count_as_zero_are_labels_not_arrows(tmp_path):
    """At the minimum -g is 0: no direction to draw, so the arrows are zero vectors whose label
    says ≈ 0. Adam 1e-12 off it has a gradient that counts as zero too, but its step (lr g / (|g| +
    eps)) is far longer than lr times that tolerance: it is drawn."""
    from optsim.engine.analysis.critical import gradient_tolerance

    path = tmp_path / "m.toml"
    path.write_text(AT_MINIMUM)
    v = ViewModel(Session(load_scenario(path)))
    sim = v.session.sim
    assert np.linalg.norm(sim.grad[0]) == 0 and 0 < np.linalg.norm(sim.grad[1]) <= gradient_tolerance(sim.loss[1])
    v.toggle_view("sigma")
    (only,) = v.mechanism_arrows()
    assert only.direction == (0.0, 0.0) and only.label == "-lr·g, step ≈ 0 (0, 0)"
    v.toggle_view("momentum")
    assert [a.direction for a in v.mechanism_arrows()] == [(0.0, 0.0)]  # SGD's momentum is still 0: none
    v.toggle_view("momentum")
    v.select(1)
    raw, step = v.mechanism_arrows()
    assert raw.direction == (0.0, 0.0) and raw.label.startswith("-lr·g ≈ 0 (")
    np.testing.assert_allclose(step.direction, sim.next_update(1))  # Adam's g / (|g| + eps): 8e-5, real
    assert "≈" not in step.label and np.hypot(*step.direction) > 1e3 * 0.001 * gradient_tolerance(sim.loss[1])


@run_async
async def test_a_zero_vector_is_drawn_as_its_label_at_the_point_without_a_shaft(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(AT_MINIMUM)
    app = make_app(path)
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await stepped_screen(pilot, 0)
        await pilot.press("S")
        await pilot.pause()
        r = screen.query_one(ContourPlot).region
        plot = "\n".join(line[r.x:r.right] for line in screen_lines(app)[r.y:r.bottom])
        assert "-lr·g, step ≈ 0 (0, 0)" in plot
        assert not any(ch in plot for ch in "→←↑↓↗↖↘↙")  # no arrow head on the plot
