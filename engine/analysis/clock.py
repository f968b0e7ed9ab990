"""The clock of a batch-size scenario (issue 11, item 6): while it plays, each run's loss
against epochs (samples seen / training set) and against simulated time, from the batch
lab's cost model (engine.analysis.batch_lab.CostModel: an update takes t0 up to the device's
capacity, then grows linearly), not only in the lab screen.

A run's batch: with data its ``batch_size`` (the full training set without one); without
data the scenario models a batch of b as the exact gradient plus noise of std
noise_at_1 / sqrt(b) (the lab's rule), so b = (noise_at_1 / noise)^2, and a run without
noise is the full batch. The cost model is the scenario's ``[batch_lab]``; a data scenario
whose runs set batch sizes and that has none gets the lab's default model.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from ..core.run_settings import RunSettings
from .batch_lab import CostModel, lab_config


class RunClock(NamedTuple):
    """One run's clock: samples per update, the training set's size, the time per update."""

    batch: int
    n_samples: int
    time_per_update: float

    def epochs(self, updates: np.ndarray) -> np.ndarray:
        return np.asarray(updates, dtype=float) * self.batch / self.n_samples

    def time(self, updates: np.ndarray) -> np.ndarray:
        return np.asarray(updates, dtype=float) * self.time_per_update


class Clocks(NamedTuple):
    runs: list[RunClock]
    unit: str


def run_clocks(scenario, configs: Sequence[RunSettings]) -> Clocks | None:
    """Every run's clock, or None when the scenario is not about batch sizes (no [batch_lab]
    table, and no data whose runs set a batch size)."""
    data = scenario.data
    has_lab = "batch_lab" in scenario.extra
    if not has_lab and not (data is not None and any(c.batch_size for c in configs)):
        return None
    if has_lab:
        cfg = lab_config(scenario)
        cost, n, noise_at_1 = CostModel(cfg.capacity, cfg.time_per_update, cfg.slope, cfg.unit), cfg.n_samples, cfg.noise_at_1
    else:
        cost, n, noise_at_1 = CostModel(), data.n_train, None
    if data is not None:
        n = data.n_train
    runs = [RunClock(b, n, float(cost.time_per_update_at(b)))
            for b in (_batch(c, n, data is not None, noise_at_1) for c in configs)]
    return Clocks(runs, cost.unit)


def _batch(cfg: RunSettings, n: int, has_data: bool, noise_at_1: float | None) -> int:
    if has_data:
        return int(min(cfg.batch_size or n, n))
    if cfg.noise > 0 and noise_at_1:
        return max(1, int(round((noise_at_1 / cfg.noise) ** 2)))
    return n
