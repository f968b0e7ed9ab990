"""`optsim analyze`, `optsim diagnose` and `optsim sweep` on good and bad input."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from optsim.tui.cli import main

SADDLE = """
title = "Lecture saddle"
[surface]
expr = "(1 - w1*w2)**2"
params = ["w1", "w2"]
view = { w1 = [-2, 2], w2 = [-2, 2] }
[[runs]]
name = "on-line"
optimizer = "sgd"
lr = 0.1
start = [0.5, -0.5]
steps = 200
[[runs]]
name = "off-line"
optimizer = "sgd"
lr = 0.1
start = [0.5, 0.2]
steps = 300
"""

RAVINE = """
title = "ravine"
[surface]
builtin = "ravine"
[[runs]]
name = "bounce"
optimizer = "sgd"
lr = 0.04
start = [-4.5, 1.0]
steps = 400
[[runs]]
name = "ada"
optimizer = "adagrad_lecture"
lr = 1.0
start = [-4.5, 1.0]
steps = 40
[sweep.lr]
optimizers = ["sgd", "adam"]
min = 1e-4
max = 1.0
n = 50
steps = 300
"""


def optsim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "optsim.tui.cli", *args], capture_output=True, text=True, timeout=300)


def test_analyze_json_lecture_numbers_with_taylor(scenario_file, capsys):
    path = str(scenario_file(SADDLE))
    assert main(["analyze", path, "--at", "0,0", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["kind"] == "saddle point" and r["eigenvalues"] == pytest.approx([-2, 2])
    np.testing.assert_allclose(r["escape_direction"], np.array([1, 1]) / np.sqrt(2))
    steps = [t["step"] for t in r["escape_taylor"]]
    assert steps == pytest.approx([0.1, 0.5, 1.0])  # 1/40, 1/8, 1/4 of the view's width 4
    for t in r["escape_taylor"]:
        assert t["predicted_change"] == pytest.approx(-t["step"] ** 2)
        assert t["true_change"] == pytest.approx((1 - t["step"] ** 2 / 2) ** 2 - 1)
    assert r["params"] == ["w1", "w2"] and r["minimum_ratio"] == 0.5


def test_analyze_text_at_the_flat_minimum(scenario_file, capsys):
    assert main(["analyze", str(scenario_file(SADDLE)), "--at", "1,1"]) == 0
    out = capsys.readouterr().out
    assert "degenerate  (global minimum (degenerate))" in out
    assert "lower bound  0  (reached)" in out and "Still a global minimum" in out


def test_analyze_custom_steps(scenario_file, capsys):
    assert main(["analyze", str(scenario_file(SADDLE)), "--at", "0,0", "--step", "0.2", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert [t["step"] for t in r["escape_taylor"]] == [0.2]


def test_diagnose_json(scenario_file, capsys):
    assert main(["diagnose", str(scenario_file(SADDLE)), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    runs = {x["name"]: x for x in r["runs"]}
    assert runs["on-line"]["status"] == "stuck at saddle"
    assert runs["on-line"]["evidence"]["lambda_min"] == pytest.approx(-2)
    assert runs["off-line"]["status"] == "converged"
    g = r["guide"]
    assert g["best_run"] == "off-line" and g["verdict"] == "good"
    on = [v for v in g["runs"] if v["run"] == "on-line"][0]
    assert on["verdict"] == "optimization" and on["evidence"]["best_reachable"] < 1e-9


def test_diagnose_text_has_status_evidence_remedy_and_guide(scenario_file, capsys):
    assert main(["diagnose", str(scenario_file(RAVINE))]) == 0
    out = capsys.readouterr().out
    assert "bounce" in out and "oscillating" in out and "bouncing in a ravine" in out
    assert "ada" in out and "burst at step" in out
    assert "evidence:" in out and "remedy:" in out and "General guide" in out


def test_diagnose_builtin_with_batch_lab(capsys):
    assert main(["diagnose", "batch-size-cost", "--no-guide", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert "guide" not in r
    costs = {c["batch"]: c for c in r["batch_lab"]["costs"]}
    assert costs[1]["updates_per_epoch"] == 60000 and costs[1000]["updates_per_epoch"] == 60


def test_sweep_text_and_json(scenario_file, capsys):
    path = str(scenario_file(RAVINE))
    assert main(["sweep", path]) == 0
    out = capsys.readouterr().out
    assert "Learning-rate sweep: 50 rates" in out and "100 runs stepped together" in out
    plot = out[out.index("Final loss after the sweep's steps"):]  # plotext's plot after the table
    assert re.search(r"(\S)\1 sgd\b", plot) and re.search(r"(\S)\1 adam\b", plot)  # legend entries
    assert main(["sweep", path, "--json", "--optimizers", "sgd"]) == 0
    r = json.loads(capsys.readouterr().out)
    (s,) = r["lr"]
    # GD on the ravine (curvatures 1 and 50) is stable below lr 2/50 = 0.04
    assert 0.03 < s["largest_stable_lr"] < 0.04
    assert all(d > 0 for lr, d in zip(s["rates"], s["diverged_at"]) if lr > 0.041)


def test_sweep_basin_json(scenario_file, capsys):
    path = str(scenario_file("""
title = "h"
[surface]
builtin = "himmelblau"
[[runs]]
optimizer = "sgd"
lr = 0.01
start = [0.0, 0.0]
steps = 300
"""))
    assert main(["sweep", path, "--basin", "--grid", "30", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    b = r["basin"]
    assert b["grid"] == 30 and len(b["labels"]) == 30 and len(b["minima"]) == 4
    assert sum(b["shares"].values()) == pytest.approx(1.0) and set(b["shares"]) == {"0", "1", "2", "3"}
    assert main(["sweep", path, "--basin", "--grid", "30"]) == 0
    assert "A  minimum at (3, 2)" in capsys.readouterr().out


@pytest.mark.parametrize("args,fragment", [
    (["analyze", "{good}", "--at", "0,0", "--step", "0,-1"], "--step"),
    (["analyze", "{good}", "--at", "0,x"], "--at"),
    (["diagnose", "{good}", "--steps", "0"], "--steps"),
    (["diagnose", "{bad_guide}"], "guide.train_taget"),
    (["sweep", "{good}", "--lr-min", "1", "--lr-max", "0.1"], "--lr-min"),
    (["sweep", "{good}", "--optimizers", "adamm"], "did you mean 'adam'"),
    (["sweep", "{good}", "--basin", "--grid", "1"], "--grid"),
    (["sweep", "{bad_sweep}"], "sweep.lr.n"),
])
def test_bad_input_exits_2_with_one_line(scenario_file, args, fragment):
    good = scenario_file(SADDLE, "good.toml")
    bad_guide = scenario_file(SADDLE + "[guide]\ntrain_taget = 1\n", "bad_guide.toml")
    bad_sweep = scenario_file(SADDLE + "[sweep.lr]\nn = 1\n", "bad_sweep.toml")
    proc = optsim(*[a.format(good=good, bad_guide=bad_guide, bad_sweep=bad_sweep) for a in args])
    assert proc.returncode == 2, proc.stderr
    assert fragment in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


# ----- issue 9: the diagnosis on the built-in scenarios -------------------------------------------------
def strict(text: str):
    """Strict JSON: a bare NaN or Infinity is an error, as in every JSON parser but Python's default one."""
    def reject(name):
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=reject)


def test_diagnose_lists_the_whole_runs_events_beside_its_status(capsys):
    """adagrad-bursts: the constant-rate run bursts twice, then settles; the status alone says converged."""
    assert main(["diagnose", "adagrad-bursts", "--no-guide", "--json"]) == 0
    runs = {x["name"]: x for x in strict(capsys.readouterr().out)["runs"]}
    constant = runs["constant"]
    assert constant["status"] == "converged"
    assert [e["kind"] for e in constant["events"]] == ["burst", "burst"]
    first, second = (e["step"] for e in constant["events"])
    assert 200 <= first <= 260 and 600 <= second <= 660
    assert runs["decayed"]["events"] == []
    assert main(["diagnose", "adagrad-bursts", "--no-guide"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"constant\s+adagrad_lecture\s+800\s+converged\s+2 bursts", out)
    assert f"events: burst at step {first}: loss" in out and "events: none" in out


def test_diagnose_names_a_maximum_and_a_weight_decay_equilibrium(capsys):
    assert main(["diagnose", "critical-points", "--no-guide", "--json"]) == 0
    runs = {x["name"]: x for x in strict(capsys.readouterr().out)["runs"]}
    top = runs["on-maximum"]
    assert top["status"] == "at a maximum"
    assert top["evidence"]["lambda_min"] == pytest.approx(-4) and top["evidence"]["lambda_max"] == pytest.approx(-4)
    assert main(["diagnose", "himmelblau", "--no-guide", "--json"]) == 0
    runs = {x["name"]: x for x in strict(capsys.readouterr().out)["runs"]}
    adamw = runs["adamw"]
    assert adamw["status"] == "wd equilibrium" and adamw["evidence"]["grad_norm"] == pytest.approx(0.281, abs=1e-3)
    assert adamw["evidence"]["weight_decay"] == 0.01 and runs["adam"]["status"] == "converged"


LITERATURE_ACKLEY = """
title = "Ackley as in the literature: a cone's tip at 0"
[surface]
expr = "-20*exp(-0.2*sqrt(0.5*(x^2 + y^2))) - exp(0.5*(cos(2*pi*x) + cos(2*pi*y))) + e + 20"
params = ["x", "y"]
[[runs]]
name = "a"
optimizer = "sgd"
lr = 0.01
start = [1.0, 1.0]
"""


def test_analyze_says_the_loss_is_not_differentiable_where_the_gradient_is_not_finite(scenario_file, capsys):
    path = str(scenario_file(LITERATURE_ACKLEY))
    assert main(["analyze", path, "--at", "0,0"]) == 0
    out = capsys.readouterr().out
    assert "not differentiable" in out and "g = 0" not in out and "degenerate" not in out
    assert main(["analyze", path, "--at", "0,0", "--json"]) == 0
    r = strict(capsys.readouterr().out)
    assert r["kind"] == "not differentiable" and r["loss"] == pytest.approx(0, abs=1e-12)
    assert r["grad"] == [None, None] and r["eigenvalues"] == [None, None]
    assert main(["analyze", path, "--at", "1,1"]) == 0  # elsewhere it is smooth
    assert "not critical" in capsys.readouterr().out


def test_diagnose_json_is_strict_even_for_a_run_that_diverged(scenario_file, capsys):
    diverging = SADDLE.replace("lr = 0.1\nstart = [0.5, 0.2]", "lr = 5.0\nstart = [0.5, 0.2]")
    assert diverging != SADDLE
    assert main(["diagnose", str(scenario_file(diverging)), "--no-guide", "--json"]) == 0
    runs = {x["name"]: x for x in strict(capsys.readouterr().out)["runs"]}
    assert runs["off-line"]["status"] == "diverged" and runs["off-line"]["events"][0]["kind"] == "diverged"
