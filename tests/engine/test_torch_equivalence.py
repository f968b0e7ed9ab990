"""optsim's optimizers and schedules against torch.optim itself (float64, CPU, foreach=False).

Every case steps several runs at once on our side (one group, a different
hyperparameter set per run) and one torch optimizer per run on torch's side
(so constructor-only settings such as Adagrad's initial_accumulator_value
apply), on the Rosenbrock function with its gradient written out in NumPy.

About the tolerance: torch's CPU kernels fuse a*b + c into one FMA in places
(addcmul, used for Adam's second moment), which NumPy cannot do, so the last
bit can differ; on these well-behaved runs that stays far below 1e-9 after 200
steps, but a strongly oscillating run (e.g. AdamW with betas (0.5, 0.9) and a
large weight decay) can amplify it to ~3e-9 over 200 steps.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch  # the test extra installs it: a missing torch must fail, not skip

from optsim.engine.optim.registry import get_optimizer
from optsim.engine.optim.schedules import make_schedule

STEPS = 200
TOL = 1e-9


@pytest.fixture(autouse=True)
def torch_float64():
    """float64 everywhere, also in torch's scalar state (step, NAdam's mu_product follow the default dtype)."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)
LR_TOL = 1e-12

TORCH = {
    "sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop,
    "adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "nadam": torch.optim.NAdam,
    "radam": torch.optim.RAdam,
}
STARTS = np.array([[-1.2, 1.0], [0.5, -0.5], [1.4, 1.6], [-0.3, 0.4], [0.9, 0.7]])


def rosenbrock_grad(p: np.ndarray, a: float = 1.0, b: float = 100.0) -> np.ndarray:
    """Gradient of (a - x)^2 + b (y - x^2)^2, rows = runs."""
    x, y = p[:, 0], p[:, 1]
    return np.stack([-2.0 * (a - x) - 4.0 * b * x * (y - x * x), 2.0 * b * (y - x * x)], axis=1)


def run_ours(name: str, cfgs: list[dict], schedule: dict | None = None, steps: int = STEPS):
    """(trajectory (steps+1, n, 2), lrs (steps, n)) with all runs in one group."""
    spec = get_optimizer(name)
    n = len(cfgs)
    base = np.array([[c.get("lr", spec.defaults["lr"])] for c in cfgs])
    sched = make_schedule(schedule or {})
    params = STARTS[:n].copy()
    state, hyper = spec.init(params), spec.make_hyper(cfgs)
    traj, lrs = [params], []
    for t in range(steps):
        lr = sched(np.full((n, 1), t, dtype=np.int64), base)
        updates, state = spec.update(rosenbrock_grad(params), state, params, lr, hyper)
        params = params + updates
        traj.append(params)
        lrs.append(lr[:, 0])
    return np.array(traj), np.array(lrs)


def torch_scheduler(opt, spec: dict | None):
    """The torch.optim.lr_scheduler twin of a schedule spec without warm-up (None for no schedule)."""
    if not spec:
        return None
    s = torch.optim.lr_scheduler
    kind = spec.get("kind", "constant")
    if kind == "constant":
        main = s.LambdaLR(opt, lambda e: 1.0)
    elif kind == "step":
        main = s.StepLR(opt, step_size=spec["step_size"], gamma=spec.get("gamma", 0.1))
    elif kind == "multistep":
        main = s.MultiStepLR(opt, milestones=spec["milestones"], gamma=spec.get("gamma", 0.1))
    elif kind == "exponential":
        main = s.ExponentialLR(opt, gamma=spec["gamma"])
    elif kind == "cosine":
        main = s.CosineAnnealingLR(opt, T_max=spec["T_max"], eta_min=spec.get("eta_min", 0.0))
    elif kind == "linear":
        main = s.LinearLR(opt, **{k: v for k, v in spec.items() if k not in ("kind", "warmup")})
    elif kind == "noam":
        d, w = spec.get("d_model", 512), spec.get("warmup_steps", 4000)
        main = s.LambdaLR(opt, lambda e: d ** -0.5 * min((e + 1) ** -0.5, (e + 1) * w ** -1.5))
    else:  # pragma: no cover - a new kind needs its twin here
        raise AssertionError(kind)
    return main


def build_torch_scheduler(opt, spec: dict | None):
    """With a warm-up: SequentialLR([LinearLR(f, 1.0, N), main], milestones=[N]), the warm-up built first."""
    if not spec or "warmup" not in spec:
        return torch_scheduler(opt, spec)
    s = torch.optim.lr_scheduler
    n, f = spec["warmup"]["steps"], spec["warmup"].get("start_factor", 1.0 / 3)
    warm = s.LinearLR(opt, start_factor=f, end_factor=1.0, total_iters=n)
    main = torch_scheduler(opt, {"kind": "constant"} | {k: v for k, v in spec.items() if k != "warmup"})
    return s.SequentialLR(opt, [warm, main], milestones=[n])


def run_torch(name: str, cfgs: list[dict], schedule: dict | None = None, steps: int = STEPS):
    """The same runs in torch, one optimizer (and scheduler) per run."""
    tensors = [torch.tensor(s, dtype=torch.float64, requires_grad=True) for s in STARTS[: len(cfgs)]]
    opts = [TORCH[name]([t], foreach=False, **cfg) for t, cfg in zip(tensors, cfgs)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SequentialLR's construction warns about step order
        scheds = [build_torch_scheduler(o, schedule) for o in opts]
    traj = [np.stack([t.detach().numpy().copy() for t in tensors])]
    lrs = []
    for _ in range(steps):
        lrs.append([o.param_groups[0]["lr"] for o in opts])
        grads = rosenbrock_grad(traj[-1])
        for t, g in zip(tensors, grads):
            t.grad = torch.tensor(g, dtype=torch.float64)
        for o, sc in zip(opts, scheds):
            o.step()
            if sc is not None:
                sc.step()
        traj.append(np.stack([t.detach().numpy().copy() for t in tensors]))
    return np.array(traj), np.array(lrs)


def _torch_kwargs(cfg: dict) -> dict:
    return {k: (tuple(v) if isinstance(v, list) else v) for k, v in cfg.items()}


CASES: dict[str, list[dict]] = {
    "sgd": [
        {"lr": 2e-4},
        {"lr": 1e-4, "momentum": 0.9},
        {"lr": 1e-4, "momentum": 0.9, "nesterov": True},
        {"lr": 1e-4, "momentum": 0.5, "dampening": 0.3, "weight_decay": 0.1},
        {},  # every default (lr 1e-3)
    ],
    "adagrad": [
        {"lr": 0.1},
        {"lr": 0.1, "lr_decay": 0.01},
        {"lr": 0.05, "initial_accumulator_value": 0.5, "weight_decay": 0.1},
        {"lr": 0.1, "eps": 1e-3},
        {},
    ],
    "rmsprop": [
        {"lr": 1e-3},
        {"lr": 1e-3, "centered": True},
        {"lr": 1e-4, "momentum": 0.9, "centered": True},
        {"lr": 1e-3, "alpha": 0.9, "weight_decay": 0.1, "momentum": 0.5},
    ],
    "adam": [
        {"lr": 1e-2},
        {"lr": 1e-2, "amsgrad": True},
        {"lr": 1e-2, "betas": (0.8, 0.99), "weight_decay": 0.1},
        {"lr": 1e-2, "decoupled_weight_decay": True, "weight_decay": 0.1, "amsgrad": True},
        {},
    ],
    "adamw": [
        {"lr": 1e-2},
        {"lr": 1e-2, "amsgrad": True},
        {"lr": 1e-2, "betas": (0.8, 0.99), "weight_decay": 0.3},
        {},
    ],
    "nadam": [
        {"lr": 1e-2},
        {"lr": 1e-2, "momentum_decay": 0.01, "weight_decay": 0.1},
        {"lr": 1e-2, "decoupled_weight_decay": True, "weight_decay": 0.1},
        {},
    ],
    "radam": [
        {"lr": 1e-3},
        {"lr": 1e-3, "betas": (0.9, 0.9), "weight_decay": 0.1},
        {"lr": 1e-3, "decoupled_weight_decay": True, "weight_decay": 0.1},
        {},
    ],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_trajectories_equal_torch(name: str) -> None:
    cfgs = CASES[name]
    ours, _ = run_ours(name, cfgs)
    theirs, _ = run_torch(name, [_torch_kwargs(c) for c in cfgs])
    assert np.isfinite(theirs).all()
    assert np.abs(theirs[-1] - theirs[0]).max() > 0.05  # the runs really moved
    np.testing.assert_allclose(ours, theirs, rtol=TOL, atol=TOL)


SCHEDULES = [
    {"kind": "constant", "warmup": {"steps": 15, "start_factor": 0.1}},
    {"kind": "step", "step_size": 30, "gamma": 0.5},
    {"kind": "step", "step_size": 7},
    {"kind": "multistep", "milestones": [10, 50, 120], "gamma": 0.3},
    {"kind": "exponential", "gamma": 0.99},
    {"kind": "cosine", "T_max": 60, "eta_min": 1e-4},  # 200 steps: past T_max, up again at 120, down at 180
    {"kind": "cosine", "T_max": 37},
    {"kind": "linear", "start_factor": 0.25, "end_factor": 1.0, "total_iters": 40},
    {"kind": "linear"},  # torch's defaults: 1/3 -> 1 over 5 steps
    {"kind": "linear", "start_factor": 1.0, "end_factor": 0.1, "total_iters": 150},
    {"kind": "noam", "d_model": 16, "warmup_steps": 50},
    {"kind": "cosine", "T_max": 100, "warmup": {"steps": 20, "start_factor": 0.05}},
    {"kind": "exponential", "gamma": 0.98, "warmup": {"steps": 10}},
    {"kind": "step", "step_size": 25, "gamma": 0.5, "warmup": {"steps": 25, "start_factor": 0.2}},
    {"kind": "multistep", "milestones": [0, 40], "warmup": {"steps": 30, "start_factor": 0.5}},
    {"kind": "linear", "start_factor": 0.5, "total_iters": 20, "warmup": {"steps": 10, "start_factor": 0.1}},
    {"kind": "noam", "d_model": 4, "warmup_steps": 30, "warmup": {"steps": 5, "start_factor": 0.5}},
]
SCHED_RUNS = {
    "adam": [{"lr": 2e-2}, {"lr": 1e-2, "amsgrad": True}, {"lr": 5e-3, "betas": (0.8, 0.99)}],
    "sgd": [{"lr": 2e-4, "momentum": 0.9}, {"lr": 1e-4, "momentum": 0.8, "nesterov": True}, {"lr": 3e-4}],
}


@pytest.mark.parametrize("name", sorted(SCHED_RUNS))
@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: str(s).replace(" ", ""))
def test_scheduled_runs_equal_torch(schedule: dict, name: str) -> None:
    cfgs = SCHED_RUNS[name]
    ours, our_lrs = run_ours(name, cfgs, schedule)
    theirs, their_lrs = run_torch(name, [_torch_kwargs(c) for c in cfgs], schedule)
    base = np.array([c["lr"] for c in cfgs])
    np.testing.assert_allclose(our_lrs, their_lrs, rtol=LR_TOL, atol=LR_TOL * base.max())
    assert np.isfinite(theirs).all()
    np.testing.assert_allclose(ours, theirs, rtol=TOL, atol=TOL)


def test_schedule_with_different_steps_per_run_matches_torch_values() -> None:
    """Runs at different step counts (a run added later) read torch's sequence at their own step."""
    spec = {"kind": "cosine", "T_max": 40, "eta_min": 0.001, "warmup": {"steps": 10, "start_factor": 0.1}}
    _, seq = run_torch("sgd", [{"lr": 2e-4}, {"lr": 5e-5}], spec, steps=150)
    steps = np.array([[0], [149], [10], [95]])
    base = np.array([[2e-4], [5e-5], [2e-4], [5e-5]])
    got = make_schedule(spec)(steps, base)[:, 0]
    want = [seq[0, 0], seq[149, 1], seq[10, 0], seq[95, 1]]
    np.testing.assert_allclose(got, want, rtol=LR_TOL, atol=1e-15)


def test_sgd_momentum_switched_on_mid_run_starts_its_buffer_like_torch() -> None:
    """torch creates the momentum buffer (= grad) on the first step with momentum != 0, even mid-run."""
    spec = get_optimizer("sgd")
    params = STARTS[:1].copy()
    state, hyper = spec.init(params), spec.make_hyper([{"momentum": 0.0}])
    t = torch.tensor(STARTS[0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([t], lr=1e-4, momentum=0.0, foreach=False)
    lr = np.array([[1e-4]])
    for k in range(60):
        if k == 20:
            hyper.momentum[0, 0] = 0.9  # the simulation edits one run's value in place
            opt.param_groups[0]["momentum"] = 0.9
        updates, state = spec.update(rosenbrock_grad(params), state, params, lr, hyper)
        params = params + updates
        t.grad = torch.tensor(rosenbrock_grad(t.detach().numpy()[None])[0])
        opt.step()
    np.testing.assert_allclose(params[0], t.detach().numpy(), rtol=TOL, atol=TOL)
    np.testing.assert_allclose(state.momentum_buffer[0], opt.state[t]["momentum_buffer"].numpy(), rtol=TOL)


# ----- the lecture's optimizers against torch ----------------------------------------
def test_adagrad_lecture_with_lr_over_sqrt_t_plus_1_equals_torch_adagrad() -> None:
    """Lecture: torch's root-of-SUM Adagrad = the lecture's root-MEAN form with eta_t = eta/sqrt(t+1).

    eta/sqrt(t+1) * g / sqrt(S/(t+1)) = eta * g / sqrt(S). eps differs (the lecture adds it to the
    root mean, torch to the root sum: eps_torch = sqrt(t+1)*eps_lecture), so both use eps = 0 here.
    """
    lecture = get_optimizer("adagrad_lecture")
    lrs = np.array([[0.1], [0.03], [0.2]])
    params = STARTS[:3].copy()
    state, hyper = lecture.init(params), lecture.make_hyper([{"eps": 0.0}] * 3)
    ours = [params]
    for t in range(STEPS):
        updates, state = lecture.update(rosenbrock_grad(params), state, params, lrs / math.sqrt(t + 1), hyper)
        params = params + updates
        ours.append(params)
    theirs, _ = run_torch("adagrad", [{"lr": float(v), "eps": 0.0} for v in lrs[:, 0]])
    np.testing.assert_allclose(np.array(ours), theirs, rtol=TOL, atol=TOL)


def test_torch_adagrad_with_lr_times_sqrt_t_plus_1_equals_adagrad_lecture() -> None:
    """The other way round: the lecture's constant-eta Adagrad is torch's with eta_t = eta*sqrt(t+1)."""
    ours, _ = run_ours("adagrad_lecture", [{"lr": 0.01, "eps": 0.0}, {"lr": 0.003, "eps": 0.0}])
    tensors = [torch.tensor(s, dtype=torch.float64, requires_grad=True) for s in STARTS[:2]]
    opts = [torch.optim.Adagrad([t], lr=lr, eps=0.0, foreach=False) for t, lr in zip(tensors, (0.01, 0.003))]
    scheds = [torch.optim.lr_scheduler.LambdaLR(o, lambda e: math.sqrt(e + 1)) for o in opts]
    traj = [STARTS[:2].copy()]
    for _ in range(STEPS):
        for t, g in zip(tensors, rosenbrock_grad(traj[-1])):
            t.grad = torch.tensor(g)
        for o, s in zip(opts, scheds):
            o.step()
            s.step()
        traj.append(np.stack([t.detach().numpy().copy() for t in tensors]))
    np.testing.assert_allclose(ours, np.array(traj), rtol=TOL, atol=TOL)


def test_adagrad_lecture_eps_only_nudges_the_equivalence() -> None:
    """With the default eps (1e-8 on the root mean) the two still agree closely, but no longer exactly."""
    lecture = get_optimizer("adagrad_lecture")
    params = STARTS[:1].copy()
    state, hyper = lecture.init(params), lecture.make_hyper([{}])
    for t in range(STEPS):
        updates, state = lecture.update(rosenbrock_grad(params), state, params, np.array([[0.1 / math.sqrt(t + 1)]]),
                                        hyper)
        params = params + updates
    theirs, _ = run_torch("adagrad", [{"lr": 0.1, "eps": 0.0}])
    diff = np.abs(params - theirs[-1]).max()
    assert 0.0 < diff < 1e-6


def test_momentum_lecture_equals_torch_sgd_momentum_at_constant_lr_only() -> None:
    """m = lambda*m - lr*g, theta += m  is torch's  b = mu*b + g, theta -= lr*b  while lr is constant;
    once a schedule changes lr, torch rescales the remembered velocity and the two part ways."""
    cfg = [{"lr": 1e-4, "momentum": 0.9}, {"lr": 2e-4, "momentum": 0.5}]
    ours, _ = run_ours("momentum_lecture", cfg)
    theirs, _ = run_torch("sgd", cfg)
    np.testing.assert_allclose(ours, theirs, rtol=TOL, atol=TOL)
    stepped = {"kind": "step", "step_size": 20, "gamma": 0.2}
    ours_s, lrs_a = run_ours("momentum_lecture", cfg, stepped)
    theirs_s, lrs_b = run_torch("sgd", cfg, stepped)
    np.testing.assert_allclose(lrs_a, lrs_b, rtol=LR_TOL)
    np.testing.assert_allclose(ours_s[:21], theirs_s[:21], rtol=TOL, atol=TOL)  # same until lr first changes
    assert np.abs(ours_s[21:] - theirs_s[21:]).max() > 1e-6


def test_adam_lecture_with_bias_correction_equals_torch_adam() -> None:
    """RMSProp + momentum divided by 1 - beta^t is torch.optim.Adam, step by step, also under a schedule."""
    cfg = [{"lr": 1e-3}, {"lr": 3e-3, "betas": (0.8, 0.99)}, {"lr": 1e-2, "eps": 1e-6}]
    warm = {"kind": "cosine", "T_max": 150}
    for schedule in (None, warm):
        ours, lrs_a = run_ours("adam_lecture", [dict(c, bias_correction=True) for c in cfg], schedule)
        theirs, lrs_b = run_torch("adam", cfg, schedule)
        np.testing.assert_allclose(lrs_a, lrs_b, rtol=LR_TOL)
        np.testing.assert_allclose(ours, theirs, rtol=TOL, atol=TOL)
    notes, _ = run_ours("adam_lecture", [dict(c, bias_correction=False) for c in cfg])
    theirs, _ = run_torch("adam", cfg)
    np.testing.assert_allclose(notes[1], theirs[1], rtol=TOL, atol=TOL)  # 1 - beta^1 = 1 - beta: step 1 agrees
    assert np.abs(notes[2] - theirs[2]).max() > 1e-5  # and from step 2 on they part


def test_torch_defaults_are_ours() -> None:
    """Every default we list is the default of torch's constructor (names and values)."""
    import inspect

    for name, cls in TORCH.items():
        spec = get_optimizer(name)
        sig = inspect.signature(cls.__init__).parameters
        for key, value in spec.defaults.items():
            assert key in sig, f"{name}.{key} is not a torch argument"
            assert sig[key].default == value, (name, key, sig[key].default, value)


@pytest.mark.parametrize("name,bad", [
    ("sgd", {"lr": -0.1}), ("sgd", {"momentum": -0.5}), ("sgd", {"weight_decay": -1.0}),
    ("sgd", {"nesterov": True}), ("sgd", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}),
    ("adagrad", {"lr_decay": -1.0}), ("adagrad", {"initial_accumulator_value": -1.0}), ("adagrad", {"eps": -1.0}),
    ("rmsprop", {"alpha": -0.1}), ("rmsprop", {"eps": -1.0}), ("rmsprop", {"momentum": -0.1}),
    ("adam", {"betas": (1.0, 0.999)}), ("adam", {"betas": (0.9, -0.1)}), ("adam", {"weight_decay": -0.1}),
    ("adamw", {"eps": -1e-8}), ("nadam", {"momentum_decay": -0.1}), ("radam", {"betas": (0.9, 1.5)}),
])
def test_validation_messages_are_torchs(name: str, bad: dict) -> None:
    from optsim.engine.optim.registry import validate_hyperparameters

    with pytest.raises(ValueError) as err:
        TORCH[name]([torch.zeros(2, requires_grad=True)], **bad)
    problems = validate_hyperparameters(name, bad)
    assert [m for _, m in problems] == [str(err.value)]
