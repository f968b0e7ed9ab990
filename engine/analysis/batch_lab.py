"""The batch-size lab: what a batch size costs in time, and where it leads.

Cost model (the lecture's GPU picture): a parallel device does up to
``capacity`` (P) samples at once, so an update takes ``time_per_update`` (t0)
for any batch b <= P, and grows linearly beyond: t(b) = t0 + slope (b - P),
slope defaulting to t0 / P (so t(b) = t0 b / P: P samples per t0). An epoch
of N samples is ceil(N / b) updates and takes ceil(N / b) t(b). With the
lecture's MNIST numbers (N = 60000, P = 1000): 60000 updates per epoch at
batch 1 and 60 at batch 1000, so the epoch is 1000 times faster at batch
1000, while at 10000 and 60000 the time per update grows.

Runs: the same problem at each batch size, copied from one of the
scenario's runs (``[batch_lab] run``). With [data] the batch is real (rows
drawn per update); without data a batch of b is modelled as the exact
gradient plus Gaussian noise of std ``noise_at_1 / sqrt(b)`` (the standard
deviation of a mean of b independent per-sample gradients). Each run's loss
is recorded against updates, epochs (updates b / N) and simulated time
(updates t(b)). At the end: the sharpness of the point reached (the top
eigenvalue of the Hessian) and the test loss there (test rows or a test
shift), so that flat-versus-sharp minima show in numbers.

Every run makes the same number of updates, which favours small batches in
one way only. The lecture compares on three clocks, so the lab does too
(:class:`ClockComparison`): at equal updates, at equal epochs (samples seen)
and at equal simulated time, each at the furthest point every run reaches on
that clock, with the training loss, the test loss and the sharpness there.
At equal epochs a large batch has made few updates; at equal time, below the
device's capacity, it has made as many updates as batch 1 and seen far more
samples.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import NamedTuple, Sequence

import numpy as np

from ..scenario.analysis_tables import BatchLabConfig, parse_batch_lab
from ..core.run_settings import RunSettings
from ..core.simulation import Simulation


@dataclass(frozen=True)
class CostModel:
    capacity: int = 1000
    time_per_update: float = 1.0
    slope: float | None = None
    unit: str = "ms"

    @property
    def per_sample(self) -> float:
        return self.slope if self.slope is not None else self.time_per_update / self.capacity

    def time_per_update_at(self, batch: int | np.ndarray) -> np.ndarray:
        """t(b): flat up to the capacity, then linear."""
        b = np.asarray(batch, dtype=np.float64)
        return self.time_per_update + self.per_sample * np.maximum(b - self.capacity, 0.0)

    def updates_per_epoch(self, batch: int, n_samples: int) -> int:
        return math.ceil(n_samples / batch)

    def time_per_epoch(self, batch: int, n_samples: int) -> float:
        return self.updates_per_epoch(batch, n_samples) * float(self.time_per_update_at(batch))


@dataclass(frozen=True)
class BatchCost:
    batch: int
    updates_per_epoch: int
    time_per_update: float
    time_per_epoch: float


@dataclass(frozen=True)
class BatchRun:
    batch: int
    name: str
    updates: np.ndarray  # (k,) update counts at which the loss was recorded
    loss: np.ndarray  # (k,) full training loss there
    epochs: np.ndarray  # (k,)
    time: np.ndarray  # (k,) simulated time
    final_loss: float
    final_test: float | None
    sharpness: float  # top Hessian eigenvalue at the end
    final_point: np.ndarray
    diverged_at: int


class ClockRow(NamedTuple):
    """One run read at a comparison point."""

    batch: int
    updates: int
    epochs: float
    time: float
    train_loss: float
    test_loss: float | None
    sharpness: float


@dataclass(frozen=True)
class ClockComparison:
    """Every run read at the same value ``at`` of one clock (updates, epochs or time): the furthest
    point every run's plan reaches, so that no run is read past its end."""

    axis: str
    at: float
    rows: list[ClockRow]

    def lowest(self, field: str) -> ClockRow | None:
        """The row with the lowest finite ``train_loss`` or ``test_loss`` (None if there is none)."""
        rows = [r for r in self.rows if getattr(r, field) is not None and np.isfinite(getattr(r, field))]
        return min(rows, key=lambda r: getattr(r, field)) if rows else None


@dataclass(frozen=True)
class BatchLabResult:
    config: BatchLabConfig
    cost: CostModel
    costs: list[BatchCost]
    runs: list[BatchRun]
    comparisons: list[ClockComparison] = field(default_factory=list)

    def format(self) -> str:
        """Plain-text tables: the cost model, then every run on each of the three clocks."""
        u = self.cost.unit
        lines = [f"Cost model: flat {self.cost.time_per_update:g} {u} per update up to batch {self.cost.capacity}, "
                 f"then +{self.cost.per_sample:g} {u} per sample; epoch = {self.config.n_samples} samples",
                 f"{'batch':>7} {'updates/epoch':>14} {'time/update':>12} {'time/epoch':>12}"]
        for c in self.costs:
            lines.append(f"{c.batch:>7} {c.updates_per_epoch:>14} {c.time_per_update:>9.4g} {u:<2} "
                         f"{c.time_per_epoch:>9.4g} {u}")
        for c in self.comparisons:
            lines += [""] + _comparison_lines(c, u)
        lines += [f"batch {r.batch} diverged at update {r.diverged_at}" for r in self.runs if r.diverged_at >= 0]
        return "\n".join(lines)


CLOCK_NAMES = {"updates": "equal updates", "epochs": "equal epochs", "time": "equal simulated time"}


def _comparison_lines(c: ClockComparison, unit: str) -> list[str]:
    """One clock's comparison as a heading, a table and which batch leads on training and test loss."""
    at = f"{c.at:.4g} {unit}" if c.axis == "time" else f"{c.at:.4g} {c.axis}"
    lines = [f"At {CLOCK_NAMES[c.axis]} ({at}):",
             f"{'batch':>7} {'updates':>8} {'epochs':>9} {'time':>10} {'train loss':>11} {'test loss':>10} "
             f"{'sharpness':>10}"]
    for r in c.rows:
        test = "-" if r.test_loss is None else f"{r.test_loss:.4g}"
        lines.append(f"{r.batch:>7} {r.updates:>8} {r.epochs:>9.4g} {r.time:>7.4g} {unit:<2} {r.train_loss:>11.4g} "
                     f"{test:>10} {r.sharpness:>10.4g}")
    leads = [f"lowest {what}: batch {row.batch} ({getattr(row, key):.4g})"
             for what, key in (("training loss", "train_loss"), ("test loss", "test_loss"))
             if (row := c.lowest(key)) is not None]
    if leads:
        lines.append("  " + "; ".join(leads))
    return lines


def cost_table(cost: CostModel, batch_sizes: Sequence[int], n_samples: int) -> list[BatchCost]:
    """Time per update and per epoch for each batch size."""
    return [BatchCost(int(b), cost.updates_per_epoch(int(b), n_samples), float(cost.time_per_update_at(b)),
                      cost.time_per_epoch(int(b), n_samples)) for b in batch_sizes]


def lab_config(scenario) -> BatchLabConfig:
    raw = scenario.extra.get("batch_lab")
    if raw is None:
        from ..errors import ScenarioError

        raise ScenarioError(scenario.path, "batch_lab", "the scenario has no [batch_lab] table")
    n_rows = scenario.data.n_train if scenario.data is not None else None
    return parse_batch_lab(raw, scenario.path, n_rows, tuple(r.name for r in scenario.runs))


def batch_configs(scenario, cfg: BatchLabConfig) -> list[RunSettings]:
    """One RunSettings per batch size, copied from the template run."""
    from ..scenario.build import run_config

    spec = next((r for r in scenario.runs if r.name == cfg.run), scenario.runs[0]) if cfg.run else scenario.runs[0]
    base = run_config(spec, cfg.steps)
    out = []
    for b in cfg.batch_sizes:
        if scenario.data is not None:
            size = min(b, scenario.data.n_train)
            out.append(replace(base, name=f"batch {b}", batch_size=size if size < scenario.data.n_train else None))
        else:
            out.append(replace(base, name=f"batch {b}", noise=float(cfg.noise_at_1) / math.sqrt(b)))
    return out


def run_batch_lab(scenario, objective=None, seed: int | None = None, record_every: int = 1) -> BatchLabResult:
    """Run the scenario's [batch_lab]: every batch size in one Simulation, then sharpness and test loss,
    at the end and at the common points of the three clocks."""
    from ..scenario.build import build_objective

    cfg = lab_config(scenario)
    obj = objective if objective is not None else build_objective(scenario)
    cost = CostModel(cfg.capacity, cfg.time_per_update, cfg.slope, cfg.unit)
    configs = batch_configs(scenario, cfg)
    sim = Simulation(obj, configs, seed=scenario.seed if seed is None else seed, history_capacity=4)
    plan = _ClockPlan(cfg, cost, [c.steps for c in configs])
    steps = max(c.steps for c in configs)
    losses = [sim.loss.copy()]
    counts = [sim.step_count.copy()]
    plan.keep(sim.step_count, sim.params)
    while sim.step(record_every):
        losses.append(sim.loss.copy())
        counts.append(sim.step_count.copy())
        plan.keep(sim.step_count, sim.params)
        if sim.tick >= steps:
            break
    L, U = np.array(losses), np.array(counts)
    test = obj.test_loss(sim.params)
    runs = []
    for i, (b, sharp) in enumerate(zip(cfg.batch_sizes, _sharpness(obj, sim.params))):
        upd = U[:, i].astype(float)
        runs.append(BatchRun(int(b), configs[i].name, upd, L[:, i], upd * b / cfg.n_samples,
                             upd * float(cost.time_per_update_at(b)), float(sim.loss[i]),
                             None if test is None else float(test[i]), sharp, sim.params[i].copy(),
                             int(sim.diverged_at[i])))
    return BatchLabResult(cfg, cost, cost_table(cost, cfg.batch_sizes, cfg.n_samples), runs,
                          plan.comparisons(obj, runs))


def _sharpness(obj, points: np.ndarray) -> list[float]:
    """The top Hessian eigenvalue at each point (NaN where the Hessian is not finite)."""
    with np.errstate(all="ignore"):
        hess = obj.hessian(points)
    out = []
    for h in hess:
        h = 0.5 * (h + h.T)
        out.append(float(np.linalg.eigvalsh(h)[-1]) if np.isfinite(h).all() else float("nan"))
    return out


class _ClockPlan:
    """Where each run is read on each clock, known before stepping (every run's planned number of updates),
    and the parameters kept there while stepping: the last recorded point at or before that update."""

    def __init__(self, cfg: BatchLabConfig, cost: CostModel, planned: Sequence[int]) -> None:
        batch = np.asarray(cfg.batch_sizes, dtype=np.float64)
        per_update = {"updates": np.ones_like(batch), "epochs": batch / cfg.n_samples,
                      "time": cost.time_per_update_at(batch)}
        ends = np.asarray(planned, dtype=np.float64)
        self.at = {axis: float(np.min(ends * per)) for axis, per in per_update.items()}
        # the update count where each run reaches ``at`` (the tolerance absorbs rounding in at / per)
        self.target = {axis: np.floor(self.at[axis] / per * (1 + 1e-12)).astype(np.int64)
                       for axis, per in per_update.items()}
        self.kept: dict[str, np.ndarray | None] = {axis: None for axis in AXES}

    def keep(self, counts: np.ndarray, params: np.ndarray) -> None:
        for axis in AXES:
            if self.kept[axis] is None:
                self.kept[axis] = params.copy()
            mask = counts <= self.target[axis]
            self.kept[axis][mask] = params[mask]

    def comparisons(self, obj, runs: Sequence[BatchRun]) -> list[ClockComparison]:
        out = []
        for axis in AXES:
            points = self.kept[axis]
            test = obj.test_loss(points)
            rows = []
            for i, (r, sharp) in enumerate(zip(runs, _sharpness(obj, points))):
                k = max(int(np.searchsorted(getattr(r, axis), self.at[axis] * (1 + 1e-12), side="right")) - 1, 0)
                rows.append(ClockRow(r.batch, int(r.updates[k]), float(r.epochs[k]), float(r.time[k]),
                                     float(r.loss[k]), None if test is None else float(test[i]), sharp))
            out.append(ClockComparison(axis, self.at[axis], rows))
        return out


def loss_at(run: BatchRun, axis: str, value: float) -> float:
    """The run's loss at the last record with ``axis`` (updates, epochs or time) <= value (NaN before)."""
    xs = {"updates": run.updates, "epochs": run.epochs, "time": run.time}[axis]
    k = np.searchsorted(xs, value, side="right") - 1
    return float(run.loss[k]) if k >= 0 else float("nan")


AXES = ("updates", "epochs", "time")
"""The x axes a run's loss is recorded against (BatchRun fields)."""


def loss_curves(result: BatchLabResult, axis: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """(x, loss) of every run, in result.runs order, against updates, epochs or simulated time:
    the same records on three clocks, so the plot can show that a large batch needs fewer
    updates per epoch and less time per epoch, and that small batches are noisy."""
    if axis not in AXES:
        raise ValueError(f"axis must be one of {AXES}, not {axis!r}")
    return [(getattr(r, axis), r.loss) for r in result.runs]
