"""Run diagnosis: every status on a surface that produces it and on one that does not, asserted on numbers."""
from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.analysis.diagnosis import facts as D
from optsim.engine.analysis.diagnosis import STATUSES, Diagnoser
from optsim.engine.formula.compile import compile_formula
from optsim.engine.core.objective import Objective
from optsim.engine.core.run_settings import RunSettings
from optsim.engine.core.simulation import Simulation

RAVINE = "0.5*(x^2 + 50*y^2)"  # eigenvalues 1 and 50: GD is stable below lr 2/50 = 0.04
W1W2 = "(1 - w1*w2)^2"
ROSEN = "(1 - x)^2 + 100*(y - x^2)^2"
_CACHE: dict = {}


def obj(expr: str, params=("x", "y")) -> Objective:
    key = (expr, params)
    if key not in _CACHE:
        _CACHE[key] = Objective(compile_formula(expr, params))
    return _CACHE[key]


def run(expr, runs, params=("x", "y"), until=None, every=None):
    """Step to the end (or to ``until``), observing every step; returns (sim, diag, trace of statuses)."""
    sim = Simulation(obj(expr, params), [RunSettings(*r) for r in runs])
    d = Diagnoser(sim)
    trace = []
    while (until is None or sim.tick < until) and sim.step():
        d.observe()
        if every and sim.tick % every == 0:
            trace.append([x.status for x in d.report()])
    return sim, d, trace


def by_name(sim, d):
    return dict(zip(sim.names, d.report()))


def test_statuses_vocabulary():
    assert STATUSES == ("not started", "descending", "converged", "wd equilibrium", "stuck at saddle",
                        "at a maximum", "plateau", "idle (lr 0)", "oscillating", "noisy", "diverging", "diverged",
                        "too slow", "burst")
    assert max(len(s) for s in STATUSES) <= len("stuck at saddle")  # the run table's narrowest status column


def test_ravine_statuses_by_learning_rate():
    sim, d, _ = run(RAVINE, [("bounce", "sgd", {"lr": 0.04}, (-4.5, 1.0), 500),
                             ("good", "sgd", {"lr": 0.02}, (-4.5, 1.0), 2000),
                             ("slow", "sgd", {"lr": 1e-4}, (-4.5, 1.0), 500),
                             ("wild", "sgd", {"lr": 0.05}, (-4.5, 1.0), 500)])
    r = by_name(sim, d)
    # oscillating: the loss is flat at 0.5*50*1^2 = 25, |g| = 50, the gradient flips along y every step
    assert r["bounce"].status == "oscillating"
    assert r["bounce"].evidence["flip_share"] == 1.0 and r["bounce"].evidence["along_share"] > 0.99
    assert r["bounce"].evidence["loss"] == pytest.approx(25, rel=1e-6)
    assert r["bounce"].evidence["rate_x_lambda_max"] == pytest.approx(2.0, rel=1e-6)
    # converged: lr 0.02 contracts both directions
    assert r["good"].status == "converged" and r["good"].evidence["lambda_min"] == pytest.approx(1.0)
    # too slow: the effective rate times lambda_max = 1e-4 * 50
    assert r["slow"].status == "too slow"
    assert r["slow"].evidence["rate_x_lambda_max"] == pytest.approx(0.005, rel=1e-6)
    # diverged: lr * 50 = 2.5 > 2, the loss runs away from step 0
    # (y grows 1.5x per step; the engine stops it when the loss 25*1.5^(2k) passes 1e100, at step 280)
    wild = sim.names.index("wild")
    assert sim.diverged_at[wild] == 280
    assert r["wild"].status == "diverged" and r["wild"].evidence["diverged_at"] == 280
    assert 1e99 < r["wild"].evidence["loss"] <= 1e100  # its last point below the bound
    for name in ("good", "slow", "wild"):
        assert r[name].status != "oscillating"
    for name in ("bounce", "good", "wild"):
        assert r[name].status != "too slow"
    for name in ("bounce", "good", "slow"):
        assert r[name].status != "diverged"


def test_a_runaway_the_engine_still_steps_is_diverging_then_diverged_once_stopped():
    """lr 0.05 on the ravine: y grows 1.5x per step; the engine stops it at step 280. Before
    that the table still steps it, so its status must not say it stopped."""
    sim, d, _ = run(RAVINE, [("wild", "sgd", {"lr": 0.05}, (-4.5, 1.0), 100),
                             ("good", "sgd", {"lr": 0.02}, (-4.5, 1.0), 100)])
    r = by_name(sim, d)
    assert sim.diverged_at[0] < 0 and sim.active.tolist() == [False, False]  # stopped by its count only
    assert r["wild"].status == "diverging" and r["wild"].headline.startswith("diverging: loss")
    assert r["wild"].evidence["diverged_at"] == 0  # the climb began at the start
    assert r["good"].status not in ("diverging", "diverged")


def test_engine_divergence_is_reported_with_its_step():
    sim, d, _ = run(RAVINE, [("boom", "sgd", {"lr": 10.0}, (-4.5, 1.0), 500)])
    assert sim.diverged_at[0] > 0
    rep = d.report()[0]
    assert rep.status == "diverged" and rep.evidence["diverged_at"] == sim.diverged_at[0]
    assert f"diverged at step {sim.diverged_at[0]}" in rep.headline and "lr*lmax 500" in rep.headline


def test_saddle_statuses():
    sim, d, _ = run(W1W2, [("at-origin", "sgd", {"lr": 0.1}, (0.0, 0.0), 100),
                           ("on-line", "sgd", {"lr": 0.1}, (0.5, -0.5), 200),
                           ("off-line", "sgd", {"lr": 0.1}, (0.5, 0.2), 300)], params=("w1", "w2"))
    r = by_name(sim, d)
    for name in ("at-origin", "on-line"):
        assert r[name].status == "stuck at saddle"
        assert r[name].evidence["lambda_min"] == pytest.approx(-2, abs=1e-6)
        assert r[name].evidence["lambda_max"] == pytest.approx(2, abs=1e-6)
        assert r[name].evidence["escape_w1"] == pytest.approx(2 ** -0.5)
        assert r[name].evidence["escape_w2"] == pytest.approx(2 ** -0.5)
    assert r["at-origin"].headline == "stuck near a saddle: |g| 0, eigenvalues -2, 2"
    assert r["on-line"].evidence["grad_norm"] < 1e-15
    # off the line it reaches the valley of minima w1 w2 = 1: eigenvalues 0 and w1^2 + w2^2 > 0
    assert r["off-line"].status == "converged"
    assert r["off-line"].evidence["loss"] < 1e-20
    assert abs(r["off-line"].evidence["lambda_min"]) < 1e-6


def test_valley_of_degenerate_minima_is_not_a_saddle():
    """Next to w1 w2 = 1 the Hessian has tiny negative eigenvalues; the probe keeps them from being saddles."""
    sim, d, trace = run(W1W2, [("radam", "radam", {"lr": 0.05}, (1.2, 1.2), 200)], params=("w1", "w2"), every=10)
    assert all(t[0] != "stuck at saddle" for t in trace)
    assert d.report()[0].status == "converged"


def test_local_maximum_is_named_as_such():
    sim, d, _ = run("-(x^2 + y^2)", [("top", "sgd", {"lr": 0.1}, (0.0, 0.0), 50),
                                      ("side", "sgd", {"lr": 0.01}, (0.1, 0.0), 50)])
    r = by_name(sim, d)
    assert r["top"].status == "at a maximum" and r["top"].headline.startswith("stuck at a local maximum")
    assert r["top"].evidence["lambda_min"] == r["top"].evidence["lambda_max"] == pytest.approx(-2.0)
    assert r["side"].status not in ("stuck at saddle", "at a maximum")


def test_weight_decay_settles_off_the_minimum():
    """SGD with weight decay 0.5 settles where 2 (theta - c) + 0.5 theta = 0, theta = 0.8 c: |g| = 0.5 |theta|."""
    sim, d, _ = run("(x - 3)^2 + (y - 2)^2", [("decay", "sgd", {"lr": 0.1, "weight_decay": 0.5}, (0.0, 0.0), 300),
                                              ("plain", "sgd", {"lr": 0.1}, (0.0, 0.0), 300)])
    r = by_name(sim, d)
    np.testing.assert_allclose(sim.params[0], [2.4, 1.6], atol=1e-9)
    assert r["decay"].status == "wd equilibrium" and "weight-decay equilibrium" in r["decay"].headline
    assert r["decay"].evidence["grad_norm"] == pytest.approx(0.5 * np.hypot(2.4, 1.6))
    assert r["decay"].evidence["weight_decay"] == 0.5
    assert r["plain"].status == "converged" and "weight decay" not in r["plain"].headline


def test_crawling_rate_far_below_the_limit_is_too_slow():
    """lr 0.002 in a ravine whose walls allow 0.04: 20x below the limit (rate*lmax 0.1 < SLOW)."""
    sim, d, _ = run("0.5*(0.1*x^2 + 50*y^2)", [("crawl", "sgd", {"lr": 0.002}, (-4.5, 1.0), 400),
                                               ("brisk", "sgd", {"lr": 0.03}, (-4.5, 1.0), 400)])
    r = by_name(sim, d)
    assert r["crawl"].status == "too slow" and r["crawl"].evidence["rate_x_lambda_max"] == pytest.approx(0.1)
    assert r["brisk"].status != "too slow"


def test_monkey_saddle_is_stuck_by_the_probe():
    sim, d, _ = run("x^3 - 3*x*y^2", [("gd", "sgd", {"lr": 0.1}, (0.0, 0.0), 50)])
    rep = d.report()[0]
    assert rep.status == "stuck at saddle" and "flat saddle" in rep.headline
    assert rep.evidence["lambda_min"] == 0 and rep.evidence["lambda_max"] == 0


def test_descending_then_converged():
    sim, d, trace = run(ROSEN, [("adam", "adam", {"lr": 0.02}, (-1.5, 2.0), 3000)], every=50)
    assert trace[0] == ["descending"]
    rep = d.report()[0]
    assert rep.status == "converged" and rep.evidence["loss"] < 1e-6
    assert rep.evidence["lambda_min"] > 0.3 and rep.evidence["lambda_max"] > 900
    # early on the same run is not converged
    sim2, d2, _ = run(ROSEN, [("adam", "adam", {"lr": 0.02}, (-1.5, 2.0), 3000)], until=30)
    assert d2.report()[0].status == "descending"


def test_crawling_along_a_valley_is_not_converged():
    """GD on Rosenbrock has |g| 1000x below its start, but the minimum is still 0.2 away: not converged."""
    sim, d, _ = run(ROSEN, [("gd", "sgd", {"lr": 1e-3}, (-1.5, 2.0), 3000)])
    rep = d.report()[0]
    assert rep.status != "converged"
    assert rep.evidence["distance_to_critical"] > 0.05


def test_adagrad_lecture_bursts_in_the_ravine():
    sim, d, trace = run(RAVINE, [("ada", "adagrad_lecture", {"lr": 1.0}, (-4.5, 1.0), 1500),
                                 ("torch", "adagrad", {"lr": 1.0}, (-4.5, 1.0), 1500),
                                 ("sgd", "sgd", {"lr": 0.02}, (-4.5, 1.0), 1500)], every=25)
    statuses = [t[0] for t in trace]
    assert statuses.count("burst") >= 20 and d.bursts[0] >= 8
    # between bursts the loss falls back, and before each the bounce grows
    assert "descending" in statuses and "oscillating" in statuses
    # torch's Adagrad divides by the root of the SUM: its rate only shrinks, so it never bursts
    assert all(t[1] != "burst" for t in trace) and d.bursts[1] == 0
    assert all(t[2] != "burst" for t in trace) and d.bursts[2] == 0


def test_first_burst_numbers():
    sim, d, _ = run(RAVINE, [("ada", "adagrad_lecture", {"lr": 1.0}, (-4.5, 1.0), 1500)], until=40)
    rep = d.report()[0]
    assert rep.status == "burst"
    assert 24 <= rep.evidence["burst_start"] <= 28
    assert rep.evidence["loss_before_burst"] < 1e-6 < 100 < rep.evidence["loss_peak"]


def test_noisy_run_at_a_minimum_converges_within_the_noise():
    sim, d, _ = run("x^2 + y^2", [("noisy", "sgd", {"lr": 0.05}, (1.0, 1.0), 1000, None, 0.5),
                                  ("noisy-far", "sgd", {"lr": 1e-4}, (30.0, 30.0), 200, None, 0.5)])
    r = by_name(sim, d)
    assert r["noisy"].status == "converged" and "noise floor" in r["noisy"].headline
    assert r["noisy-far"].status != "converged"


def test_headlines_are_short():
    sim, d, _ = run(RAVINE, [("a", "sgd", {"lr": 0.04}, (-4.5, 1.0), 300),
                             ("b", "adagrad_lecture", {"lr": 1.0}, (-4.5, 1.0), 120),
                             ("c", "sgd", {"lr": 10.0}, (-4.5, 1.0), 100),
                             ("d", "sgd", {"lr": 1e-4}, (-4.5, 1.0), 300)])
    for rep in d.report():
        assert len(rep.headline) < 60 and rep.status in STATUSES and rep.remedy


def test_stopped_runs_keep_their_diagnosis():
    """A run that stopped long ago is judged on its last live window, not on repeats of its end."""
    sim, d, _ = run(RAVINE, [("short", "sgd", {"lr": 0.04}, (-4.5, 1.0), 300),
                             ("long", "sgd", {"lr": 0.02}, (-4.5, 1.0), 1000)])
    r = by_name(sim, d)
    assert r["short"].status == "oscillating" and r["short"].evidence["step"] == 300
    assert r["long"].status == "converged"


def test_runs_added_removed_and_reset():
    sim = Simulation(obj(RAVINE), [RunSettings("a", "sgd", {"lr": 0.02}, (-4.5, 1.0), 500)])
    d = Diagnoser(sim)
    for _ in range(100):
        sim.step()
        d.observe()
    sim.add_run(RunSettings("b", "sgd", {"lr": 0.04}, (-4.5, 1.0), 500))
    for _ in range(100):
        sim.step()
        d.observe()
    assert len(d.report()) == 2
    reset_at = d.count
    sim.reset_run(0)
    for _ in range(20):
        sim.step()
        d.observe()
    rep = d.report()
    assert d.first[0] == reset_at  # its past before the reset no longer counts
    assert d.loss_start[0] == pytest.approx(0.5 * (4.5 ** 2 + 50))
    assert rep[0].status == "descending" and rep[0].evidence["step"] == 20
    sim.remove_run(0)
    sim.step()
    d.observe()
    assert len(d.report()) == 1


class CountingObjective:
    """Wraps an Objective and counts Hessian calls."""

    def __init__(self, inner: Objective) -> None:
        self.inner, self.hessian_calls = inner, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def hessian(self, points):
        self.hessian_calls += 1
        return self.inner.hessian(points)


def test_hessians_at_most_every_k_steps():
    counting = CountingObjective(obj(RAVINE))
    sim = Simulation(counting, [RunSettings(f"r{i}", "sgd", {"lr": 0.001 * (i + 1)}, (-4.5, 1.0), 400)
                                for i in range(10)])
    d = Diagnoser(sim)
    for _ in range(400):
        sim.step()
        d.observe()
        d.report()  # as often as an app could ask
    assert counting.hessian_calls <= 400 // D.HESSIAN_EVERY + 2


def test_report_right_after_a_run_is_removed_or_added():
    from optsim.engine.analysis.diagnosis import Diagnoser
    from optsim.engine.formula.compile import compile_formula
    from optsim.engine.core.objective import Objective
    from optsim.engine.core.run_settings import RunSettings
    from optsim.engine.core.simulation import Simulation

    obj = Objective(compile_formula("x**2 + y**2", ("x", "y")))
    sim = Simulation(obj, [RunSettings("a", "sgd", {"lr": 0.1}, (1.0, 1.0), 50),
                           RunSettings("b", "sgd", {"lr": 0.1}, (1.0, 1.0), 50)])
    d = Diagnoser(sim)
    for _ in range(10):
        sim.step()
        d.observe()
    assert len(d.report()) == 2
    sim.remove_run("a")
    assert len(d.report()) == 1  # no observe() in between: still one report per run
    sim.add_run(RunSettings("c", "adam", {"lr": 0.1}, (0.5, 0.5), 50))
    assert [r.status for r in d.report()] and len(d.report()) == 2


# ----- issue 9: statuses and remedies that fit the numbers ------------------------------------------------
PLATEAU = "1 - exp(-(x^2 + 4*y^2)/0.5)"


def test_a_plateau_is_its_own_status():
    """From (3, 0.5) the loss is 1 - e^-20 and |g| ~ 3e-8: sgd at lr 0.1 cannot move on such flat ground."""
    sim, d, _ = run(PLATEAU, [("flat", "sgd", {"lr": 0.1}, (3.0, 0.5), 600)])
    rep = d.report()[0]
    assert rep.evidence["loss"] == pytest.approx(1 - np.exp(-20), abs=1e-12) and rep.evidence["grad_norm"] < 1e-7
    assert np.allclose(sim.params[0], [3.0, 0.5], atol=1e-6)  # 600 steps, and it has not moved
    assert rep.status == "plateau" and "flat ground" in rep.remedy and "Nothing to fix" not in rep.remedy


def test_a_bowl_with_a_tiny_slope_far_down_is_not_a_plateau():
    sim, d, _ = run(PLATEAU, [("inside", "sgd", {"lr": 0.05}, (0.3, 0.1), 300)])
    assert d.report()[0].status == "converged"


def test_remedies_leave_out_what_the_run_already_uses():
    sim, d, _ = run(RAVINE, [("adam-crawl", "adam", {"lr": 1e-5}, (-4.5, 1.0), 300),
                             ("sgd-crawl", "sgd", {"lr": 1e-4}, (-4.5, 1.0), 300),
                             ("rms-bounce", "rmsprop", {"lr": 0.1}, (-4.5, 1.0), 2000)])
    r = by_name(sim, d)
    assert r["adam-crawl"].status == r["sgd-crawl"].status == "too slow"
    assert "adaptive" not in r["adam-crawl"].remedy and "momentum" not in r["adam-crawl"].remedy  # Adam: beta1 0.9
    assert "adaptive" in r["sgd-crawl"].remedy and "momentum" in r["sgd-crawl"].remedy
    assert r["rms-bounce"].status == "oscillating" and r["rms-bounce"].evidence["flip_share"] >= D.FLIP_SHARE
    assert "adaptive" not in r["rms-bounce"].remedy and "try a lower lr" in r["rms-bounce"].remedy


def test_saddle_remedy_says_what_to_try_not_that_momentum_escapes():
    """On the ridge y = 0 of x^2 - y^2 + y^4/4 the gradient has no y part: momentum 0.9 stays stuck too."""
    sim, d, _ = run("x^2 - y^2 + y^4/4", [("momentum", "sgd", {"lr": 0.05, "momentum": 0.9}, (1.0, 0.0), 400),
                                          ("plain", "sgd", {"lr": 0.05}, (1.0, 0.0), 400)])
    for rep in d.report():
        assert rep.status == "stuck at saddle" and rep.evidence["lambda_min"] == pytest.approx(-2.0)
        assert "escapes" not in rep.remedy and "Try a nudge along it" in rep.remedy
    assert sim.params[0, 1] == 0.0 and abs(sim.params[0, 0]) < 1e-6  # with momentum: on the saddle, stuck


def test_before_the_first_step_no_run_is_descending_and_lr_0_is_idle():
    sim = Simulation(obj(RAVINE), [RunSettings("a", "sgd", {"lr": 0.01}, (-4.5, 1.0), 50),
                                   RunSettings("waits", "sgd", {"lr": 0.0}, (-4.5, 1.0), 50)])
    d = Diagnoser(sim)
    assert [r.status for r in d.report()] == ["not started", "not started"]
    while sim.step():
        d.observe()
    a, waits = d.report()
    assert a.status != "idle (lr 0)" and waits.status == "idle (lr 0)" and waits.evidence["lr"] == 0.0
    assert np.array_equal(sim.params[1], [-4.5, 1.0])


def test_the_event_log_keeps_bursts_stalls_and_divergence_over_the_whole_run():
    sim, d, _ = run(RAVINE, [("boom", "sgd", {"lr": 0.05}, (1.0, 1.0), 2000)])
    (boom,) = d.report()
    assert [(e.kind, e.step) for e in boom.events] == [("diverged", int(sim.diverged_at[0]))]
    # a hair off the ridge: stalls near the saddle, then falls away (logged once the fall comes)
    sim, d, _ = run("x^2 - y^2 + y^4/4", [("nudged", "sgd", {"lr": 0.05}, (1.0, 1e-8), 600)])
    (rep,) = d.report()
    assert rep.status == "converged" and [e.kind for e in rep.events] == ["stall"]
    stall = rep.events[0]
    assert 32 <= stall.step < stall.end and stall.end - stall.step >= 64 and "then fell to" in stall.text


def test_the_event_log_is_bounded():
    from optsim.engine.analysis.diagnosis.events import EVENTS_MAX, EventLog

    log = EventLog(2)
    for k in range(EVENTS_MAX + 5):
        log.add(0, 100 * k, "burst", 1.0, 2.0)
    events = log.events(0)
    assert len(events) == EVENTS_MAX and log.dropped[0] == 5 and log.events(1) == ()
    assert events[0].step == 500 and events[-1].text == f"burst at step {100 * (EVENTS_MAX + 4)}: loss 1 -> 2"
    log.raise_burst_peak(0, 7.0)
    assert log.events(0)[-1].text.endswith("-> 7")


LINE = "0.5*(50*x^2 + y^2)"  # lambda_max = 50 along x


@pytest.mark.parametrize("optimizer, hyper, factor", [
    ("sgd", {}, 2.0),
    ("sgd", {"momentum": 0.9}, 3.8),  # heavy ball: 2(1 + mu)
    ("sgd", {"momentum": 0.5, "dampening": 0.5}, 6.0),  # the step scaled by 1 - d
    ("sgd", {"momentum": 0.9, "nesterov": True}, 3.8 / 2.8),  # 2(1 + mu)/(1 + 2 mu)
    ("momentum_lecture", {"momentum": 0.9}, 3.8),
])
def test_the_stability_limit_is_the_methods_own_and_holds_on_the_engines_steps(optimizer, hyper, factor):
    """lr * lambda_max below the quoted factor contracts, above it blows up: on the engine's own
    steps, 2% either side of the limit, for plain, heavy-ball, damped and Nesterov momentum."""
    from optsim.engine.analysis.diagnosis.measure import stability_limit

    limit = stability_limit(optimizer, hyper)
    assert limit is not None and limit.factor == pytest.approx(factor)
    lr = factor / 50
    sim, d, _ = run(LINE, [("below", optimizer, {"lr": 0.98 * lr, **hyper}, (1.0, 0.0), 3000),
                           ("above", optimizer, {"lr": 1.02 * lr, **hyper}, (1.0, 0.0), 3000)])
    r = by_name(sim, d)
    assert abs(sim.params[0, 0]) < 1e-3 and sim.diverged_at[0] < 0
    assert sim.diverged_at[1] > 0 and r["above"].status == "diverged"
    assert f"{limit.formula}/lambda_max = " in r["above"].remedy
    quoted = float(r["above"].remedy.split("/lambda_max = ")[1].split(")")[0])
    assert quoted == pytest.approx(factor / 50, rel=5e-3)


def test_adaptive_methods_quote_no_limit_for_lr():
    """Adam's step is lr/sigma: 2/lambda_max says nothing about its lr, so no number is quoted."""
    from optsim.engine.analysis.diagnosis.measure import stability_limit

    assert stability_limit("adam", {}) is None and stability_limit("rmsprop", {"momentum": 0.9}) is None
    sim, d, _ = run(RAVINE, [("rms", "rmsprop_lecture", {"lr": 0.1}, (-4.5, 1.0), 300),
                             ("ada", "adagrad", {"lr": 0.1}, (-4.5, 1.0), 300)])
    r = by_name(sim, d)
    # before: "try a lower lr (below 2/lambda_max = 0.04)" and "a larger learning rate (up to about
    # 1/lambda_max = 0.02)" for a run at lr 0.1: numbers that are no limit for lr/sigma
    assert r["rms"].status == "oscillating" and "lower lr" in r["rms"].remedy
    assert r["ada"].status == "too slow" and "larger learning rate" in r["ada"].remedy
    for rep in r.values():
        assert "lambda_max =" not in rep.remedy and "stable up to" not in rep.headline


def test_resnet_warmup_quotes_the_momentum_limit_its_description_states():
    """Scenario 53: SGD with momentum 0.9. The description says lr x curvature < 2(1 + 0.9) = 3.8;
    the diagnosis of the diverged run quotes that factor, not plain gradient descent's 2."""
    from optsim.engine.scenario.catalog import resolve
    from optsim.engine.scenario.load import load_scenario
    from optsim.engine.watch.session import Session

    session = Session(load_scenario(resolve("resnet-warmup")))
    session.advance(20)  # the script pauses at update 2, before the engine stops the run at 3
    run_ = session.sim.names.index("lr-0.1")
    rep = session.diagnosis(run_)
    assert session.tick == 2 and rep.status == "diverging"
    session.advance(5)
    assert session.sim.diverged_at[run_] == 3 and session.diagnosis(run_).status == "diverged"
    hi = rep.evidence["lambda_max"]
    assert "2(1+0.9)/lambda_max" in rep.remedy and "2/lambda_max" not in rep.remedy
    quoted = float(rep.remedy.split("/lambda_max = ")[1].split(")")[0])
    assert quoted == pytest.approx(3.8 / hi, rel=5e-3)
    assert rep.evidence["lr_x_lambda_max"] > 3.8 and not rep.headline.endswith("> 2")
    assert "2 (1 + 0.9) = 3.8" in session.scenario.description


def test_a_run_released_from_lr_0_says_so_beside_the_tables_lr_now():
    """saddle-w1w2 step 70: escape, held at lr 0, is set to lr 0.1 by the script. The table's
    'lr now' shows 0.1, so the status may not say 'idle (lr 0)' nor tell the user to 'try a
    learning rate above 0'; it has not moved yet: 'not started' until its next step."""
    from optsim.engine.scenario.catalog import resolve
    from optsim.engine.scenario.load import load_scenario
    from optsim.engine.watch.session import Session

    session = Session(load_scenario(resolve("saddle-w1w2")))
    i = session.sim.names.index("escape")
    session.advance_to(69)
    assert session.diagnosis(i).status == "idle (lr 0)" and session.next_lr()[i] == 0
    session.advance_to(70)
    assert session.sim.last_lr[i] == 0 and session.next_lr()[i] == 0.1 == session.sim.next_lr()[i]
    rep = session.diagnosis(i)
    assert rep.status == "not started" and "0.1 from the next step" in rep.headline
    assert "above 0" not in rep.remedy
    session.advance_to(72)
    assert session.diagnosis(i).status not in ("idle (lr 0)", "not started")


def test_a_noisy_run_off_its_minimum_is_noisy_not_too_slow():
    """batch-size-cost at update 400: batch 1's gradient noise (3 per coordinate) threw it onto the
    rim of the well, where lambda_max is 0.54 and its loss rose over the window. Its lr x lambda_max
    there is 0.019, but "too slow, try a larger rate" would be false: its steps are mostly noise.
    Batch 100 (noise 0.3 < |g|) keeps its own status."""
    from optsim.engine.scenario.catalog import resolve
    from optsim.engine.scenario.load import load_scenario
    from optsim.engine.watch.session import Session

    session = Session(load_scenario(resolve("batch-size-cost")))
    session.advance_to(400)
    one, hundred = session.diagnosis(0), session.diagnosis(1)
    assert session.sim.names[:2] == ["batch-1", "batch-100"]
    assert one.status == "noisy" and one.headline.startswith("noisy: |g| 0.413 < noise 4.24")
    assert session.sim.grad_norm[0] < one.evidence["gradient_noise"] and one.evidence["loss_change"] > 0
    assert one.evidence["lambda_min"] < 0  # off the minimum: not "converged (noise floor)"
    assert hundred.status == "oscillating"
    exact = Session(load_scenario(resolve("batch-size-cost")))
    exact.sim.set_hyperparameters(0, noise=0.0)  # the same run without noise is never "noisy"
    exact.advance_to(400)
    assert exact.diagnosis(0).status != "noisy"
