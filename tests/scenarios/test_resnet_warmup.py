"""53-resnet-warmup: SGD at 0.1 diverges in the sharp start; 0.01 for 400 updates, then 0.1, trains fastest."""
from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.analysis.critical import analyze_point

from scenario_play import play

STEM = "53-resnet-warmup"
LIMIT = 2 * (1 + 0.9)  # heavy ball with momentum 0.9 is stable while lr * curvature < 3.8


@pytest.fixture(scope="module")
def trace():
    return play(STEM)


def first_below(trace, name: str, level: float = 1e-6) -> int:
    return int(np.argmax(trace.loss[:, trace.run(name)] < level))


def test_the_setup(trace):
    assert trace.at_event("Three SGD runs (momentum 0.9) from (-4, 0.5), where the curvature").tick == 0
    runs = {r.name: r for r in trace.scenario.runs}
    assert all(r.optimizer == "sgd" and r.hyper["momentum"] == 0.9 and r.start == (-4.0, 0.5) for r in runs.values())
    assert runs["resnet"].schedule == {"kind": "multistep", "milestones": [400], "gamma": 10.0}
    lr = trace.lr[1:, trace.run("resnet")]
    assert np.all(lr[:400] == 0.01) and lr[400:] == pytest.approx(0.1)  # 0.01 for 400 updates, then 0.1
    obj = trace.sim.objective
    start = analyze_point(obj, [-4, 0])
    assert round(float(start.eigenvalues[1])) == 200 and round(LIMIT / float(start.eigenvalues[1]), 3) == 0.019
    flat = analyze_point(obj, [6, 0])
    assert flat.kind == "local minimum" and abs(flat.loss) < 1e-12
    np.testing.assert_allclose(flat.eigenvalues, [0.05, 0.5], rtol=1e-6)
    assert round(LIMIT / 0.5, 1) == 7.6
    xs = np.linspace(0, 8, 100)  # "from x = 0 on the surface is flat"
    across = [analyze_point(obj, [x, 0]).eigenvalues.max() for x in xs]
    assert max(across) < 0.6


def test_lr_01_diverges(trace):
    snap = trace.at_event("lr-0.1 is thrown across the valley, further each update")
    i = trace.run("lr-0.1")
    assert snap.tick == 2 and round(float(snap.params[i, 1])) == 172 and f"{snap.loss[i]:.1e}" == "2.4e+06"
    ys = np.abs(trace.params[:3, i, 1])
    assert np.all(np.diff(ys) > 0)
    assert trace.sim.diverged_at[i] == 3


def test_the_switch(trace):
    snap = trace.at_event("Update 400: resnet and lr-0.01 are at x = 4.82 in the flat part")
    for name in ("resnet", "lr-0.01"):
        i = trace.run(name)
        assert round(float(snap.params[i, 0]), 2) == 4.82 and round(float(snap.loss[i]), 3) == 0.035
    c = analyze_point(trace.sim.objective, snap.params[trace.run("resnet")]).eigenvalues
    np.testing.assert_allclose(sorted(c), [0.05, 0.5], rtol=1e-3)
    assert trace.lr[401, trace.run("resnet")] == pytest.approx(0.1)


def test_arrivals(trace):
    snap = trace.at_event("resnet is below loss 1e-6, 31 updates after the switch")
    assert snap.tick == first_below(trace, "resnet") == 431
    assert round(float(snap.loss[trace.run("lr-0.01")]), 3) == 0.025
    snap = trace.at_event("lr-0.01 gets below loss 1e-6 only now, 963 updates after resnet")
    assert snap.tick == first_below(trace, "lr-0.01") == 1394 and 1394 - 431 == 963
    i = trace.run("resnet")
    assert np.all(np.isfinite(trace.loss[:, i])) and trace.loss[401:, i].max() < trace.loss[400, i]  # 0.1 is stable now
