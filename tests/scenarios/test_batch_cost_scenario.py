"""21-batch-size-cost: the cost model's lecture numbers and the sharp-versus-flat outcome by batch size."""
from __future__ import annotations

import math

import numpy as np
import pytest

from optsim.engine.analysis.batch_lab import loss_at, run_batch_lab
from optsim.engine.scenario.build import build_simulation
from optsim.engine.scenario.load import load_scenario

from scenario_play import play, scenario_path


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(scenario_path("21-batch-size-cost"))


@pytest.fixture(scope="module")
def lab(scenario):
    return run_batch_lab(scenario)


def test_cost_table_is_the_lectures(lab):
    by = {c.batch: c for c in lab.costs}
    assert by[1].updates_per_epoch == 60000 and by[1000].updates_per_epoch == 60
    assert {by[b].time_per_update for b in (1, 10, 100, 1000)} == {1.0}
    assert by[10000].time_per_update == 10 and by[60000].time_per_update == 60
    assert by[1].time_per_epoch == 1000 * by[1000].time_per_epoch


def test_runs_of_the_file_are_the_labs(scenario):
    noise = {r.name: r.noise for r in scenario.runs}
    assert noise["batch-1"] == 3.0 and noise["batch-100"] == pytest.approx(0.3)
    assert noise["batch-1000"] == pytest.approx(3 / math.sqrt(1000))
    assert {r.start for r in scenario.runs} == {(1.3, 0.4)}


def test_small_batch_flat_large_batch_sharp(scenario):
    sim = build_simulation(scenario)
    sim.step(2500)
    flat, sharp = np.array(scenario.surface.minima)
    hess = sim.objective.hessian(sim.params)
    top = np.linalg.eigvalsh(hess)[:, -1]
    test = sim.objective.test_loss(sim.params)
    i1, i100, i1000 = (sim.names.index(n) for n in ("batch-1", "batch-100", "batch-1000"))
    assert np.linalg.norm(sim.params[i1] - flat) < 0.1 and top[i1] == pytest.approx(1.7, abs=0.1)
    for i in (i100, i1000):
        assert np.linalg.norm(sim.params[i] - sharp) < 0.05 and top[i] == pytest.approx(53, abs=1)
        assert test[i] == pytest.approx(-0.62, abs=0.01)
    assert test[i1] == pytest.approx(-0.93, abs=0.02)


def test_lab_runs_agree_and_compare_axes(lab):
    by = {r.batch: r for r in lab.runs}
    assert by[1].sharpness == pytest.approx(1.65, abs=0.1) and by[1000].sharpness == pytest.approx(53.4, abs=0.5)
    # under the test shift the flat minimum loses little, the sharp one a lot (and ends up worse)
    assert by[1].final_test - by[1].final_loss < 0.03 < 0.4 < by[1000].final_test - by[1000].final_loss
    assert by[1].final_test < by[1000].final_test - 0.25
    # same number of updates for every batch; epochs and simulated time differ as the cost model says
    assert {int(r.updates[-1]) for r in lab.runs} == {2500}
    assert by[1000].epochs[-1] == pytest.approx(1000 * by[1].epochs[-1])
    assert by[1].epochs[-1] == pytest.approx(0.04, abs=0.005) and by[1000].epochs[-1] == pytest.approx(41.7, abs=0.05)
    assert by[1000].time[-1] == by[1].time[-1] == 2500.0
    assert by[60000].time[-1] == 60 * 2500


def test_lab_is_robust_over_seeds(scenario):
    """Batch 1 reaches the flat minimum for most seeds, batch 1000 never."""
    ends = []
    for seed in range(12):
        sim = build_simulation(scenario, seed=seed)
        sim.step(2500)
        ends.append(sim.params[:, 0] < 0)  # the flat minimum has x < 0
    share = np.mean(ends, axis=0)
    assert share[0] >= 0.7 and share[2] == 0


def test_the_guide_keeps_batch_1_out_of_optimization(scenario):
    """Batch 1's test loss is the best of the three; the sharp point the search finds (lower training loss)
    is worse on the test data, so batch 1 is not an optimization failure (it was, on the main before)."""
    from optsim.engine.analysis.guide import general_guide

    sim = build_simulation(scenario)
    sim.step(2500)
    guide = general_guide(scenario, sim)
    verdicts = {v.run: v for v in guide.verdicts}
    tests = {m.name: m.test_loss for m in guide.models}
    assert min(tests, key=tests.get) == "batch-1"
    v = verdicts["batch-1"]
    assert v.evidence["train_loss"] > v.evidence["train_target"] and v.evidence["best_reachable"] < v.evidence["train_loss"]
    assert v.evidence["closer_fit_test_loss"] == pytest.approx(-0.62, abs=0.01)
    assert {w.verdict for w in guide.verdicts} == {"mismatch"}  # "like the others'"


def test_lab_compares_at_equal_updates_epochs_and_time(lab):
    """The lecture's three clocks: every run read at the furthest common point of each, on its own records."""
    by_axis = {c.axis: c for c in lab.comparisons}
    assert list(by_axis) == ["updates", "epochs", "time"]
    assert by_axis["updates"].at == 2500 and by_axis["time"].at == 2500.0
    assert by_axis["epochs"].at == pytest.approx(2500 / 60000)  # what batch 1 sees in 2500 updates
    runs = {r.batch: r for r in lab.runs}
    for c in lab.comparisons:
        for row in c.rows:
            assert row.train_loss == loss_at(runs[row.batch], c.axis, c.at)
            assert getattr(row, c.axis) <= c.at * (1 + 1e-12)
    epochs = {r.batch: r for r in by_axis["epochs"].rows}
    assert [epochs[b].updates for b in (1, 10, 100, 1000, 10000, 60000)] == [2500, 250, 25, 2, 0, 0]
    assert epochs[1000].time == 2.0 and epochs[1].time == 2500.0  # the same samples, 1000 times sooner
    time = {r.batch: r for r in by_axis["time"].rows}
    assert [time[b].updates for b in (1, 1000, 10000, 60000)] == [2500, 2500, 250, 41]
    assert time[1000].epochs == pytest.approx(41.67, abs=0.01) == time[10000].epochs
    # batch 1's flat minimum has the lowest test loss on every clock; at equal time a large batch trains lower
    for c in lab.comparisons:
        assert c.lowest("test_loss").batch == 1
    assert c.lowest("train_loss").batch >= 1000 and time[1].train_loss > time[1000].train_loss + 0.1


def test_lab_comparison_points_are_the_runs_own(scenario, lab):
    """A row's test loss belongs to the point where its training loss was read: rebuild the lab's
    simulation, step it to the row's update count and compare."""
    obj = build_simulation(scenario).objective
    epochs = {r.batch: r for r in lab.comparisons[1].rows}
    for b in (10, 100, 1000):
        sim = _lab_sim(scenario)
        sim.step(epochs[b].updates)
        i = sim.names.index(f"batch {b}")
        assert float(sim.loss[i]) == pytest.approx(epochs[b].train_loss, rel=1e-12)
        assert float(obj.test_loss(sim.params[i:i + 1])[0]) == pytest.approx(epochs[b].test_loss, rel=1e-12)
    coarse = run_batch_lab(scenario, record_every=7)  # records every 7 updates: the last one at or before
    assert [r.updates for r in coarse.comparisons[1].rows] == [2500, 245, 21, 0, 0, 0]  # the last step stops at 2500


def _lab_sim(scenario):
    """The lab's own simulation, rebuilt: every batch size as one run."""
    from optsim.engine.analysis.batch_lab import batch_configs, lab_config
    from optsim.engine.core.simulation import Simulation

    configs = batch_configs(scenario, lab_config(scenario))
    return Simulation(build_simulation(scenario).objective, configs, seed=scenario.seed, history_capacity=4)


def test_diagnose_prints_and_exports_the_three_clocks(capsys):
    from optsim.tui.cli import main
    import json

    assert main(["diagnose", "batch-size-cost", "--no-guide"]) == 0
    out = capsys.readouterr().out
    for heading in ("At equal updates (2500 updates):", "At equal epochs (0.04167 epochs):",
                    "At equal simulated time (2500 ms):"):
        assert heading in out
    assert "lowest test loss: batch 1 (-0.9378)" in out
    assert main(["diagnose", "batch-size-cost", "--no-guide", "--json"]) == 0
    comps = json.loads(capsys.readouterr().out)["batch_lab"]["comparisons"]
    assert [c["axis"] for c in comps] == ["updates", "epochs", "time"]
    assert [r["updates"] for r in comps[2]["rows"]] == [2500, 2500, 2500, 2500, 250, 41]


def test_batch_1_trains_highest_but_tests_lowest(lab):
    """The description: at equal updates and equal time batch 1's training loss is the highest."""
    for c in lab.comparisons:
        if c.axis in ("updates", "time"):
            train = {r.batch: r.train_loss for r in c.rows}
            assert max(train, key=train.get) == 1


def test_captions(scenario):
    trace = play(scenario)
    first = trace.at_event("One surface, three batch sizes: noise 3/sqrt(b) on the gradient for batch 1, 100 and 1000")
    assert first.tick == 0
    assert [round(r.noise ** 2 * b, 6) for r, b in zip(scenario.runs, (1, 100, 1000))] == [9.0] * 3  # std 3/sqrt(b)
    snap = trace.at_event("Batch 1 settled in the flat minimum (sharpness about 1.65), batches 100 and 1000 in the sharp")
    obj = trace.sim.objective
    top = np.linalg.eigvalsh(obj.hessian(snap.params))[:, -1]
    assert round(float(top[0]), 2) == 1.65 and [round(float(t)) for t in top[1:]] == [53, 53]
    test = obj.test_loss(snap.params)
    lost = test - snap.loss  # what the test shift costs each run
    assert lost[0] < 0.03 and np.all(lost[1:] > 0.4)
