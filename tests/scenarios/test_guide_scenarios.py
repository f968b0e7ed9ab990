"""01-04, the general guide's scenarios: each claim of their descriptions and captions, on numbers."""
from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.scenario.build import build_simulation
from optsim.engine.analysis.critical import analyze_point
from optsim.engine.analysis.diagnosis import Diagnoser
from optsim.engine.analysis.guide import general_guide, shift_evidence
from optsim.engine.scenario.load import load_scenario

from scenario_play import scenario_path


class Played:
    def __init__(self, stem: str) -> None:
        self.scenario = load_scenario(scenario_path(stem))
        self.sim = build_simulation(self.scenario)
        self.diag = Diagnoser(self.sim)
        self.at: dict[int, dict] = {}
        marks = {e.at for e in self.scenario.events}
        while self.sim.step():
            self.diag.observe()
            if self.sim.tick in marks:
                self.at[self.sim.tick] = {"params": self.sim.params.copy(), "loss": self.sim.loss.copy(),
                                          "grad": self.sim.grad.copy()}
        self.report = {n: d for n, d in zip(self.sim.names, self.diag.report())}
        self.guide = general_guide(self.scenario, self.sim)
        self.verdicts = {v.run: v for v in self.guide.verdicts}
        self.models = {m.name: m for m in self.guide.models}

    def caption(self, at: int) -> str:
        return next(e.say for e in self.scenario.events if e.at == at)


@pytest.fixture(scope="module")
def bias():
    return Played("01-model-bias")


@pytest.fixture(scope="module")
def optim():
    return Played("02-optimization-failure")


@pytest.fixture(scope="module")
def overfit():
    return Played("03-overfitting")


@pytest.fixture(scope="module")
def mismatch():
    return Played("04-mismatch")


# ----- 01 model bias ---------------------------------------------------------------------
def test_bias_data_and_noise_floor(bias):
    d = bias.scenario.data
    x, y = d.train["x"], d.train["y"]
    assert d.n_train == 40 and x.min() == -1 and x.max() == 1
    assert np.mean((y - np.sin(3 * x)) ** 2) == pytest.approx(0.0025, rel=0.5)  # "the noise alone is 0.0025"


def test_bias_both_runs_reach_the_best_line(bias):
    x, y = bias.scenario.data.train["x"], bias.scenario.data.train["y"]
    best = np.linalg.lstsq(np.column_stack([x, np.ones_like(x)]), y, rcond=None)[0]
    for i in range(2):
        np.testing.assert_allclose(bias.sim.params[i], best, atol=1e-4)
        assert bias.sim.loss[i] == pytest.approx(0.19, abs=0.01)
        assert bias.report[bias.sim.names[i]].status == "converged"
    assert "training loss about 0.19" in bias.caption(400)


def test_bias_verdict(bias):
    assert bias.guide.search.best_loss >= float(bias.sim.loss.min()) - 1e-6  # nothing lower anywhere
    assert bias.models["cubic"].train_loss < 0.01
    for v in bias.guide.verdicts:
        assert v.verdict == "model bias"
        assert any("more flexible model 'cubic'" in s for s in v.steps)


# ----- 02 optimization failure --------------------------------------------------------------
def test_zero_init_only_the_bias_moves(optim):
    sc = optim.scenario
    start = np.zeros((1, 7))
    g = optim.sim.objective.gradient(start)[0]
    d = sc.surface.params.index("d")
    assert g[d] != 0 and np.all(g[np.arange(7) != d] == 0)
    assert sc.surface.plot == ("a1", "c1")


def test_zero_init_stuck_at_a_saddle(optim):
    i = optim.sim.names.index("zero-init")
    y = optim.scenario.data.train["y"]
    assert optim.sim.loss[i] == pytest.approx(np.var(y), rel=1e-6) == pytest.approx(0.52, abs=0.01)
    rep = analyze_point(optim.sim.objective, optim.sim.params[i])
    assert rep.kind == "saddle point" and rep.eigenvalues[0] < -0.5
    assert optim.report["zero-init"].status == "stuck at saddle"
    snap = optim.at[200]
    assert np.count_nonzero(snap["grad"][i][:6]) == 0
    assert analyze_point(optim.sim.objective, snap["params"][i]).eigenvalues[0] < 0
    assert "negative eigenvalue" in optim.caption(200)


def test_line_beats_the_stuck_network(optim):
    assert optim.models["line"].train_loss == pytest.approx(0.19, abs=0.01)
    v = optim.verdicts["zero-init"]
    assert v.verdict == "optimization" and "smaller model 'line'" in " ".join(v.steps)


def test_random_init_fits(optim):
    i = optim.sim.names.index("random-init")
    assert optim.sim.loss[i] == pytest.approx(0.013, abs=0.002)
    assert optim.models["random-init"].test_loss == pytest.approx(0.013, abs=0.002)
    assert optim.verdicts["random-init"].verdict == "good"
    assert optim.guide.main.run == "random-init"


# ----- 03 overfitting ---------------------------------------------------------------------
def test_overfit_threads_every_point(overfit):
    assert overfit.scenario.data.n_train == 8 and overfit.sim.objective.n_params == 8
    assert overfit.sim.loss[0] < 1e-3
    assert overfit.models["adam"].test_loss == pytest.approx(0.16, abs=0.01)
    assert "Training loss below 0.001, test loss about 0.16" in overfit.caption(8000)


def test_overfit_same_distribution_and_line(overfit):
    assert shift_evidence(overfit.scenario) == ()
    test = overfit.scenario.data.test
    assert test["x"].min() >= -1 and test["x"].max() <= 1 and np.array_equal(test["y"], test["x"])  # noise-free
    line = overfit.models["line"]
    assert line.train_loss == pytest.approx(0.12, abs=0.01) and line.test_loss == pytest.approx(0.04, abs=0.005)
    v = overfit.guide.main
    assert v.verdict == "overfitting" and v.evidence["smaller_test_loss"] == pytest.approx(line.test_loss)


# ----- 04 mismatch ------------------------------------------------------------------------------
def test_mismatch_numbers(mismatch):
    assert mismatch.sim.loss[0] < 0.01
    assert mismatch.models["adam"].test_loss > 1
    test_x = mismatch.scenario.data.test["x"]
    assert test_x.min() >= 1.5 and test_x.max() <= 2.5
    assert any("100% of the test values of 'x'" in s for s in mismatch.guide.shift)
    assert mismatch.models["line"].test_loss > 10
    assert mismatch.guide.main.verdict == "mismatch"
    assert mismatch.report["adam"].status == "converged"


# ----- every caption of 01, 03 and 04, looked up as played ---------------------------------------
@pytest.mark.parametrize("stem, caption, verdict", [
    ("01-model-bias", "Two optimizers fit a straight line to samples of sin(3x)", "model bias"),
    ("01-model-bias", "Both stop at the same best line, training loss about 0.19", "model bias"),
    ("03-overfitting", "A degree-7 polynomial (8 coefficients) meets 8 noisy samples of the line y = x", "overfitting"),
    ("03-overfitting", "Training loss below 0.001, test loss about 0.16", "overfitting"),
    ("04-mismatch", "A cubic learns sin(2x) from samples on [-1, 1]; its test samples come from [1.5, 2.5]", "mismatch"),
    ("04-mismatch", "Training loss at the noise level, test loss far above it", "mismatch"),
])
def test_guide_captions_as_played(stem, caption, verdict):
    from scenario_play import play

    trace = play(stem)
    snap = trace.at_event(caption)
    sc = trace.scenario
    if snap.tick == 0:  # the set-up: model and data as the caption says
        assert trace.sim.objective.n_params == {"01-model-bias": 2, "03-overfitting": 8, "04-mismatch": 4}[stem]
        if stem == "04-mismatch":
            assert sc.data.train["x"].min() >= -1 and sc.data.train["x"].max() <= 1
            assert sc.data.test["x"].min() >= 1.5 and sc.data.test["x"].max() <= 2.5
        if stem == "03-overfitting":
            assert sc.data.n_train == 8
        return
    assert snap.tick == max(r.steps for r in sc.runs)
    test = trace.sim.objective.test_loss(snap.params)
    if stem == "01-model-bias":
        assert np.all(np.round(snap.loss, 2) == 0.19) and np.ptp(snap.params, axis=0).max() < 1e-4
    elif stem == "03-overfitting":
        assert snap.loss[0] < 1e-3 and round(float(test[0]), 2) == 0.16
    else:
        noise = np.mean((sc.data.train["y"] - np.sin(2 * sc.data.train["x"])) ** 2)
        assert snap.loss[0] < 2 * noise and test[0] > 100 * noise
    assert {v.verdict for v in general_guide(sc, trace.sim).verdicts} == {verdict}


# ----- scripted guides: `show = "guide"` opens the guide at the step its caption speaks of ----------
CAPTION_WORDS = {"model bias": "model bias", "optimization": "optimization failed", "overfitting": "overfitting",
                 "mismatch": "mismatch", "good": "the guide calls it good"}


@pytest.mark.parametrize("stem", ["01-model-bias", "02-optimization-failure", "03-overfitting", "04-mismatch"])
def test_scripted_guide_names_the_verdict_its_caption_says(stem):
    """The session stops on the guide's step, and the guide on that step's numbers gives the
    scripted run the verdict the caption beside it names."""
    from optsim.engine.watch.session import Session

    scenario = load_scenario(scenario_path(stem))
    (event,) = [e for e in scenario.events if e.show == "guide"]
    session = Session(scenario)
    while session.sim.tick < event.at:
        session.advance(10**6)
    assert session.sim.tick == event.at and event in session.played
    report = general_guide(scenario, session.sim)
    verdict = report.verdicts[session.sim.names.index(event.run)].verdict
    assert CAPTION_WORDS[verdict] in event.say.lower()
