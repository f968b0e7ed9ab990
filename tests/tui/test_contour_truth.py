"""Issue 9, the contour plot: what the plot draws agrees with the engine's numbers.

The -grad arrow is drawn only where the gradient is not zero by the critical-point
report's own rule (engine.analysis.critical.gradient_is_zero), and carries |g|.
"""

from __future__ import annotations

import numpy as np

from optsim.engine.analysis.critical import analyze_point, gradient_is_zero
from optsim.engine.scenario.catalog import builtin_dir
from optsim.engine.scenario.load import load_scenario
from optsim.engine.watch.session import Session
from optsim.tui.view.model import ViewModel
from tui_helpers import SADDLE, session


def _view_at(stem: str, tick: int) -> ViewModel:
    s = Session(load_scenario(builtin_dir() / f"{stem}.toml"))
    v = ViewModel(s)
    s.advance_to(tick)
    return v


def test_no_gradient_arrow_where_the_gradient_is_zero_by_the_reports_rule():
    for stem, tick in (("41-momentum-over-a-bump", 400), ("10-saddle-w1w2", 70)):
        v = _view_at(stem, tick)
        shown = v.analysed
        assert shown is not None and shown.step == tick  # the script's Hessian report at that step
        report = shown.report
        assert 0 < report.grad_norm < 1e-5  # the issue's |g| about 1e-7: tiny, not exactly zero
        assert report.grad_norm <= report.grad_tol and gradient_is_zero(report.grad_norm, report.grad_tol)
        assert [a.kind for a in shown.arrows if a.kind == "gradient"] == []


def test_the_gradient_arrow_carries_its_length_where_it_is_drawn():
    v = ViewModel(session(SADDLE))
    v.session.advance(20)
    report = v.analyse_point(0, "gradient")
    assert not report.gradient_zero and report.grad_norm > report.grad_tol
    (arrow,) = v.analysed.arrows
    assert arrow.kind == "gradient" and arrow.label.startswith("-grad |g| ")
    value = float(arrow.label.split("|g| ")[1])
    np.testing.assert_allclose(value, report.grad_norm, rtol=0.01)


def test_the_rule_is_the_one_that_makes_a_point_critical():
    v = ViewModel(session(SADDLE))
    obj = v.session.objective
    at_saddle = analyze_point(obj, np.zeros(obj.n_params))
    assert at_saddle.kind == "saddle point" and at_saddle.gradient_zero
    off = analyze_point(obj, np.full(obj.n_params, 0.3))
    assert off.kind == "not critical" and not off.gradient_zero
