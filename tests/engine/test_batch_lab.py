"""The batch-size lab: the cost model's numbers and the runs at several batch sizes."""
from __future__ import annotations

import math

import numpy as np
import pytest

from optsim.engine.analysis.batch_lab import CostModel, cost_table, loss_at, run_batch_lab
from optsim.engine.errors import ScenarioError
from optsim.engine.scenario.load import load_scenario


def test_cost_is_flat_up_to_capacity_then_linear():
    c = CostModel(capacity=1000, time_per_update=2.0)
    np.testing.assert_allclose(c.time_per_update_at([1, 10, 1000, 2000, 60000]), [2, 2, 2, 4, 120])
    c2 = CostModel(capacity=100, time_per_update=1.0, slope=0.5)
    assert float(c2.time_per_update_at(110)) == pytest.approx(6.0)


def test_lecture_mnist_numbers():
    rows = cost_table(CostModel(1000, 1.0), [1, 10, 100, 1000, 10000, 60000], 60000)
    by = {r.batch: r for r in rows}
    assert by[1].updates_per_epoch == 60000 and by[1000].updates_per_epoch == 60 and by[60000].updates_per_epoch == 1
    assert [by[b].time_per_update for b in (1, 10, 100, 1000)] == [1.0] * 4
    assert by[10000].time_per_update == 10.0 and by[60000].time_per_update == 60.0
    assert by[1].time_per_epoch / by[1000].time_per_epoch == pytest.approx(1000)
    assert by[7 if 7 in by else 1].updates_per_epoch == math.ceil(60000 / 1)


DATA_LAB = """
title = "lab on data"
seed = 1
[surface]
expr = "(y - (a*x + b))^2"
params = ["a", "b"]
[data]
columns = ["x", "y"]
generate = {{ n = 100, x = [-1, 1], y = "2*x + 1", noise = 0.1 }}
[[runs]]
name = "gd"
optimizer = "sgd"
lr = 0.1
start = [0.0, 0.0]
steps = 300
[batch_lab]
batch_sizes = [1, 10, 100]
time_per_update = 1.0
{extra}
"""


def test_lab_on_data_uses_real_batches(scenario_file):
    sc = load_scenario(scenario_file(DATA_LAB.format(extra="capacity = 10")))
    res = run_batch_lab(sc)
    assert [r.batch for r in res.runs] == [1, 10, 100] and res.config.n_samples == 100
    full = res.runs[2]
    # the full batch is plain gradient descent: same numbers as one run without batches
    from optsim.engine.scenario.build import build_simulation

    sim = build_simulation(sc)
    sim.step(300)
    assert full.final_loss == pytest.approx(float(sim.loss[0]), rel=1e-12)
    # epochs = updates * b / N; time = updates * t(b), t flat up to 10 then linear
    for r in res.runs:
        assert r.epochs[-1] == pytest.approx(300 * r.batch / 100)
        assert r.time[-1] == pytest.approx(300 * max(1.0, r.batch / 10))
    x = sc.data.train["x"]
    hess = 2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])  # of mean (y - a x - b)^2
    for r in res.runs:
        assert r.sharpness == pytest.approx(np.linalg.eigvalsh(hess)[-1], rel=1e-9)
    # batch 1 is noisy: after 300 updates it is further from the minimum than the full batch
    assert res.runs[0].final_loss > full.final_loss
    # compared at the same simulated time (30 units), batch 10 has made 30 updates, batch 100 only 3
    assert loss_at(res.runs[1], "time", 30) < loss_at(res.runs[2], "time", 30)
    assert math.isnan(loss_at(res.runs[1], "time", -1))
    text = res.format()
    assert "updates/epoch" in text and "sharpness" in text


def test_lab_without_data_needs_noise(scenario_file):
    path = scenario_file("""
title = "no data"
[surface]
expr = "x^2 + y^2"
[[runs]]
start = [1.0, 1.0]
[batch_lab]
batch_sizes = [1, 10]
n_samples = 100
""")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    assert exc.value.key == "batch_lab.noise_at_1"


@pytest.mark.parametrize("extra,key", [
    ("run = 'nobody'", "batch_lab.run"), ("capacity = 0", "batch_lab.capacity"), ("speed = 2", "batch_lab.speed"),
])
def test_bad_lab_tables(scenario_file, extra, key):
    with pytest.raises(ScenarioError) as exc:
        load_scenario(scenario_file(DATA_LAB.format(extra=extra)))
    assert exc.value.key == key


def test_batch_larger_than_the_data_is_refused(scenario_file):
    with pytest.raises(ScenarioError) as exc:
        load_scenario(scenario_file(DATA_LAB.format(extra="").replace("[1, 10, 100]", "[1, 1000]")))
    assert exc.value.key == "batch_lab.batch_sizes[1]"
