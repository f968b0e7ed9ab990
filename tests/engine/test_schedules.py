"""Schedules by hand (torch's values are checked in test_torch_equivalence.py) and their validation."""
from __future__ import annotations

import math

import numpy as np
import pytest

from optsim.engine.optim.schedules import KINDS, ScheduleError, make_schedule, schedule_curve, validate_schedule


def curve(spec: dict, n: int, base: float = 1.0) -> list[float]:
    return schedule_curve(spec, base, n).tolist()


def test_constant_and_empty_spec() -> None:
    assert curve({}, 3, 0.5) == [0.5, 0.5, 0.5]
    assert curve({"kind": "constant"}, 2, 0.1) == [0.1, 0.1]
    base = np.array([[0.1], [0.2]])
    out = make_schedule({})(np.zeros((2, 1), dtype=np.int64), base)
    out[0, 0] = 9.0  # a copy: editing the rate never edits the base
    assert base[0, 0] == 0.1


def test_step() -> None:
    # StepLR(step_size=3, gamma=0.5): base * 0.5^(t // 3)
    assert curve({"kind": "step", "step_size": 3, "gamma": 0.5}, 7) == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]
    assert curve({"kind": "step", "step_size": 1}, 3) == pytest.approx([1, 0.1, 0.01], rel=1e-15)  # gamma 0.1


def test_multistep() -> None:
    # milestones [2, 5]: gamma once from update 2, twice from update 5
    assert curve({"kind": "multistep", "milestones": [2, 5]}, 6) == pytest.approx([1, 1, 0.1, 0.1, 0.1, 0.01],
                                                                                  rel=1e-15)
    # a milestone at 0 decays from the very first update (as torch's initial step does)
    assert curve({"kind": "multistep", "milestones": [0], "gamma": 0.5}, 2) == [0.5, 0.5]


def test_exponential() -> None:
    assert curve({"kind": "exponential", "gamma": 0.5}, 4, 2.0) == [2.0, 1.0, 0.5, 0.25]


def test_cosine_including_beyond_t_max() -> None:
    # eta_min + (base - eta_min)(1 + cos(pi t / T))/2 with T = 4, eta_min = 0.1, base = 1.1:
    # t=0: 1.1, t=2: 0.6, t=4: 0.1, then back up (period 2T like torch's recursion): t=6: 0.6, t=8: 1.1
    c = curve({"kind": "cosine", "T_max": 4, "eta_min": 0.1}, 10, 1.1)
    assert c[0] == pytest.approx(1.1) and c[2] == pytest.approx(0.6) and c[4] == pytest.approx(0.1)
    assert c[6] == pytest.approx(0.6) and c[8] == pytest.approx(1.1)
    assert c[1] == pytest.approx(0.1 + 1.0 * (1 + math.cos(math.pi / 4)) / 2)


def test_linear() -> None:
    # torch's defaults: 1/3 -> 1 over 5 updates, then 1
    c = curve({"kind": "linear"}, 7)
    assert c == pytest.approx([1 / 3 + 2 / 3 * t / 5 for t in range(6)] + [1.0], rel=1e-15)
    assert curve({"kind": "linear", "start_factor": 1.0, "end_factor": 0.0, "total_iters": 2}, 4) == [1, 0.5, 0, 0]


def test_noam_peaks_at_warmup_steps() -> None:
    # lr = base * d^-0.5 * min(s^-0.5, s * w^-1.5), s = t + 1: rises linearly, peaks at s = w, then ~ 1/sqrt(s)
    d, w = 64, 10
    c = curve({"kind": "noam", "d_model": d, "warmup_steps": w}, 40, 2.0)
    assert c[0] == pytest.approx(2.0 * d ** -0.5 * 1 * w ** -1.5)
    assert int(np.argmax(c)) == w - 1
    assert c[w - 1] == pytest.approx(2.0 * d ** -0.5 * w ** -0.5)
    assert c[39] == pytest.approx(2.0 * d ** -0.5 * 40 ** -0.5)


def test_warmup_ramps_then_hands_over_at_the_milestone() -> None:
    # SequentialLR([LinearLR(0.2, 1, 4), ExponentialLR(0.5)], [4]): 0.2, 0.4, 0.6, 0.8, then main(0) = 1, 0.5, ...
    c = curve({"kind": "exponential", "gamma": 0.5, "warmup": {"steps": 4, "start_factor": 0.2}}, 7)
    assert c == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0, 0.5, 0.25], rel=1e-15)
    # the main schedule restarts at its own step 0 at the milestone
    c = curve({"kind": "cosine", "T_max": 10, "warmup": {"steps": 5, "start_factor": 0.5}}, 16)
    assert c[5] == 1.0 and c[15] == pytest.approx(0.0, abs=1e-16)
    # warm-up into a linear schedule drops to its start factor at the milestone, as torch does
    c = curve({"kind": "linear", "start_factor": 0.5, "total_iters": 2, "warmup": {"steps": 2}}, 5)
    assert c == pytest.approx([1 / 3, 2 / 3, 0.5, 0.75, 1.0], rel=1e-15)


def test_vectorized_over_runs_with_their_own_steps_and_base_rates() -> None:
    sched = make_schedule({"kind": "step", "step_size": 2, "gamma": 0.5})
    steps = np.array([[0], [2], [5], [100]], dtype=np.int64)
    base = np.array([[1.0], [2.0], [4.0], [1.0]])
    out = sched(steps, base)
    assert out.shape == (4, 1)
    assert out[:, 0].tolist() == [1.0, 1.0, 1.0, 0.5 ** 50]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_is_vectorized(kind: str) -> None:
    spec = {"kind": kind, "step_size": 3, "milestones": [2, 4], "gamma": 0.7, "T_max": 5}
    spec = {k: v for k, v in spec.items() if k == "kind" or k in KINDS[kind]}
    sched = make_schedule(spec)
    steps = np.arange(12, dtype=np.int64).reshape(-1, 1)
    together = sched(steps, np.full((12, 1), 0.3))[:, 0]
    one_by_one = [sched(np.array([[t]]), np.array([[0.3]]))[0, 0] for t in range(12)]
    assert together.tolist() == one_by_one
    assert (together >= 0).all() and np.isfinite(together).all()
    assert schedule_curve(spec, 0.3, 12).shape == (12,)


# ----- validation -----------------------------------------------------------------
def test_valid_specs_have_no_problems() -> None:
    assert validate_schedule({}) == []
    assert validate_schedule({"kind": "cosine", "T_max": 300, "eta_min": 0}) == []
    assert validate_schedule({"kind": "noam", "warmup": {"steps": 3, "start_factor": 1}}) == []


def test_unknown_kind_names_the_nearest() -> None:
    assert validate_schedule({"kind": "cosin"}) == [
        ("kind", "unknown schedule kind 'cosin' (did you mean 'cosine'?) "
                 "(kinds: constant, step, multistep, exponential, cosine, linear, noam)")]
    assert validate_schedule({"kind": 3}) == [("kind", "must be a string, not int 3")]
    assert validate_schedule([1]) == [("", "a schedule must be a table, not list")]


def test_unknown_keys() -> None:
    assert validate_schedule({"kind": "step", "step_size": 2, "gama": 0.5}) == [
        ("gama", "unknown key 'gama' for kind 'step' (did you mean 'gamma'?)")]
    assert validate_schedule({"kind": "step", "step_size": 2, "T_max": 5}) == [
        ("T_max", "unknown key 'T_max' for kind 'step' (it belongs to kind 'cosine')")]
    assert validate_schedule({"warmup": {"step": 3}}) == [
        ("warmup.step", "unknown key 'step' for warmup (did you mean 'steps'?)"), ("warmup.steps", "is missing")]


def test_missing_required_keys() -> None:
    assert validate_schedule({"kind": "cosine"}) == [("T_max", "is missing (kind 'cosine' needs it)")]
    assert validate_schedule({"kind": "exponential"}) == [("gamma", "is missing (kind 'exponential' needs it)")]


def test_types_and_impossible_values() -> None:
    assert validate_schedule({"kind": "cosine", "T_max": 0}) == [("T_max", "must be >= 1, not 0")]
    assert validate_schedule({"kind": "cosine", "T_max": -5}) == [("T_max", "must be >= 1, not -5")]
    assert validate_schedule({"kind": "cosine", "T_max": 2.5}) == [("T_max", "must be a whole number, not float 2.5")]
    assert validate_schedule({"kind": "cosine", "T_max": True})[0][0] == "T_max"
    assert validate_schedule({"kind": "cosine", "T_max": 5, "eta_min": -1}) == [("eta_min", "must be >= 0, not -1")]
    assert validate_schedule({"kind": "exponential", "gamma": 0}) == [("gamma", "must be > 0, not 0")]
    assert validate_schedule({"kind": "exponential", "gamma": "0.9"}) == [("gamma", "must be a number, not str '0.9'")]
    assert validate_schedule({"kind": "exponential", "gamma": float("inf")}) == [
        ("gamma", "must be a finite number, not inf")]
    assert validate_schedule({"kind": "linear", "start_factor": 0}) == [
        ("start_factor", "must be in (0, 1] (torch's LinearLR), not 0")]
    assert validate_schedule({"kind": "linear", "end_factor": 1.5})[0][0] == "end_factor"
    assert validate_schedule({"kind": "multistep", "milestones": [5, 3]}) == [
        ("milestones", "must be increasing, not [5, 3]")]
    assert validate_schedule({"kind": "multistep", "milestones": 5})[0][0] == "milestones"
    assert validate_schedule({"kind": "multistep", "milestones": [1, -2]})[0][0] == "milestones"
    assert validate_schedule({"warmup": {"steps": 0}}) == [("warmup.steps", "must be >= 1, not 0")]
    assert validate_schedule({"warmup": 5})[0][0] == "warmup"


def test_make_schedule_raises_on_an_invalid_spec() -> None:
    with pytest.raises(ScheduleError) as err:
        make_schedule({"kind": "cosine", "T_max": 0})
    assert err.value.problems == [("T_max", "must be >= 1, not 0")]
    assert isinstance(err.value, ValueError)
