"""`optsim run` on five optimizers writes trajectories equal to torch.optim's (to 1e-9).

The CSV is read back and every row is compared with torch.optim stepping the
same Rosenbrock loss (float64, CPU, autograd gradients), with torch's
lr_scheduler classes where a run has a schedule.
"""
from __future__ import annotations

import csv

import numpy as np
import torch

from optsim.tui.cli import main

FIVE = """
title = "five optimizers on Rosenbrock"
[surface]
builtin = "rosenbrock"

[[runs]]
name = "sgd"
optimizer = "sgd"
lr = 0.0005
momentum = 0.9
nesterov = true
weight_decay = 0.01
start = [-1.5, 2.0]
schedule = { kind = "step", step_size = 50, gamma = 0.5 }

[[runs]]
name = "adagrad"
optimizer = "adagrad"
lr = 0.3
lr_decay = 0.001
initial_accumulator_value = 0.1
start = [-1.5, 2.0]

[[runs]]
name = "rmsprop"
optimizer = "rmsprop"
lr = 0.002
momentum = 0.5
centered = true
start = [-1.5, 2.0]
schedule = { kind = "cosine", T_max = 120, eta_min = 0.0001 }

[[runs]]
name = "adam"
optimizer = "adam"
lr = 0.02
amsgrad = true
start = [-1.5, 2.0]
schedule = { kind = "exponential", gamma = 0.99, warmup = { steps = 20, start_factor = 0.1 } }

[[runs]]
name = "adamw"
optimizer = "adamw"
lr = 0.02
weight_decay = 0.05
start = [-1.5, 2.0]
"""

STEPS = 200


def torch_trajectory(name: str) -> np.ndarray:
    p = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    opt, sched = {
        "sgd": lambda: (torch.optim.SGD([p], lr=0.0005, momentum=0.9, nesterov=True, weight_decay=0.01), "step"),
        "adagrad": lambda: (torch.optim.Adagrad([p], lr=0.3, lr_decay=0.001, initial_accumulator_value=0.1), None),
        "rmsprop": lambda: (torch.optim.RMSprop([p], lr=0.002, momentum=0.5, centered=True), "cosine"),
        "adam": lambda: (torch.optim.Adam([p], lr=0.02, amsgrad=True), "warm-exp"),
        "adamw": lambda: (torch.optim.AdamW([p], lr=0.02, weight_decay=0.05), None),
    }[name]()
    S = torch.optim.lr_scheduler
    scheduler = {
        "step": lambda: S.StepLR(opt, step_size=50, gamma=0.5),
        "cosine": lambda: S.CosineAnnealingLR(opt, T_max=120, eta_min=0.0001),
        "warm-exp": lambda: S.SequentialLR(opt, [S.LinearLR(opt, 0.1, 1.0, 20), S.ExponentialLR(opt, 0.99)], [20]),
        None: lambda: None,
    }[sched]()
    out = [p.detach().numpy().copy()]
    for _ in range(STEPS):
        opt.zero_grad()
        x, y = p[0], p[1]
        ((1 - x) ** 2 + 100 * (y - x * x) ** 2).backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
        out.append(p.detach().numpy().copy())
    return np.array(out)


def test_five_optimizers_match_torch(scenario_file, tmp_path):
    out = tmp_path / "five.csv"
    assert main(["run", str(scenario_file(FIVE)), "--steps", str(STEPS), "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    for name in ("sgd", "adagrad", "rmsprop", "adam", "adamw"):
        ours = np.array([[float(r["x"]), float(r["y"])] for r in rows if r["run"] == name])
        ref = torch_trajectory(name)
        assert ours.shape == (STEPS + 1, 2)
        assert np.abs(ours[-1] - ours[0]).max() > 0.05, f"{name} barely moved: the comparison would be weak"
        np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-9, err_msg=name)
