"""Step every run of a scenario together, seeded and deterministic.

Runs that share an optimizer, its structural flags and a schedule form a group
whose state is one set of arrays of shape (n_group, ...), so hundreds of
thousands of runs cost a handful of NumPy calls per step. Each run owns a random
stream ``default_rng([seed, run_index])``: adding a run never changes another's
noise or batches, and the same seed gives the same numbers, byte for byte.

Divergence: after each update a run whose parameters, loss or gradient are not
finite, or whose parameters exceed ``DIVERGENCE_BOUND`` in size, is marked
diverged at that update, put back on its last finite point, and stops; the
other runs go on.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import numpy as np

from optsim.engine.data import BatchSampler
from optsim.engine.history import History
from optsim.engine.objective import Objective
from optsim.engine.optimizers import OptimizerSpec, concat_states, get_optimizer, take_rows
from optsim.engine.schedules import make_schedule

DIVERGENCE_BOUND = 1e100
"""Parameters larger than this count as diverged (squaring them would overflow float64)."""


@dataclass(frozen=True)
class RunConfig:
    """One run: where it starts, how it steps, and for how long."""

    name: str
    optimizer: str = "sgd"
    hyper: Mapping[str, Any] = field(default_factory=dict)  # lr and the optimizer's own keys
    start: tuple[float, ...] = (0.0, 0.0)
    steps: int = 100
    batch_size: int | None = None  # with data; None = the full batch
    noise: float = 0.0  # std of Gaussian noise added to each gradient
    schedule: Mapping[str, Any] | None = None

    @property
    def lr(self) -> float:
        return float(self.hyper.get("lr", get_optimizer(self.optimizer).defaults["lr"]))


class _Group(NamedTuple):
    """Runs stepped by one optimizer call: their indices and shared arrays."""

    index: np.ndarray | slice
    spec: OptimizerSpec
    hyper: Any
    state: Any
    schedule: Callable[[np.ndarray, np.ndarray], np.ndarray]
    base_lr: np.ndarray  # (g, 1)


def _group_key(cfg: RunConfig) -> tuple:
    spec = get_optimizer(cfg.optimizer)
    flags = tuple(bool(cfg.hyper.get(f, spec.defaults.get(f, False))) for f in spec.structural)
    return (spec.name, flags, json.dumps(cfg.schedule or {}, sort_keys=True, default=str))


class Simulation:
    """All runs of one objective, stepped together; the engine behind the app, the CLI and the tests."""

    def __init__(self, objective: Objective, runs: Sequence[RunConfig], seed: int = 0,
                 history_capacity: int = 2048) -> None:
        self.objective = objective
        self.seed = int(seed)
        self.history_capacity = history_capacity
        self.configs: list[RunConfig] = list(runs)
        self.reset()

    # ----- construction -------------------------------------------------
    def reset(self) -> None:
        """Put every run back on its start with fresh state and streams."""
        n, p = len(self.configs), self.objective.n_params
        self.tick = 0
        self.params = np.array([c.start for c in self.configs], dtype=np.float64).reshape(n, p)
        self.step_count = np.zeros(n, dtype=np.int64)
        self.diverged_at = np.full(n, -1, dtype=np.int64)
        self.rngs = [np.random.default_rng([self.seed, i]) for i in range(n)]
        self.last_lr = np.zeros(n)
        self._groups = self._build_groups(carry=None)
        self._sampler = self._build_sampler()
        self.loss, self.grad = self.objective.value_and_gradient(self.params)
        self.grad_norm = np.linalg.norm(self.grad, axis=1)
        self.last_lr = self._peek_lr()
        self.history = History(n, p, capacity=self.history_capacity)
        self._record()

    def _build_groups(self, carry: dict[int, tuple[int, int]] | None) -> list[_Group]:
        """Group runs by optimizer, flags and schedule; carry state of runs whose optimizer did not change."""
        keys: dict[tuple, list[int]] = {}
        for i, cfg in enumerate(self.configs):
            keys.setdefault(_group_key(cfg), []).append(i)
        groups = []
        for members in keys.values():
            cfgs = [self.configs[i] for i in members]
            spec = get_optimizer(cfgs[0].optimizer)
            index: np.ndarray | slice = np.asarray(members, dtype=np.int64)
            if len(keys) == 1:
                index = slice(None)  # one group holds every run in order: no gathers per step
            hyper = spec.make_hyper([{k: v for k, v in c.hyper.items() if k != "lr"} for c in cfgs])
            state = spec.init(self.params[index])
            if carry:
                state = self._carried_state(spec, members, state, carry)
            groups.append(_Group(index, spec, hyper, state, make_schedule(cfgs[0].schedule or {}),
                                 np.array([[c.lr] for c in cfgs], dtype=np.float64)))
        return groups

    def _carried_state(self, spec: OptimizerSpec, members: list[int], fresh: Any,
                       carry: dict[int, tuple[int, int]]) -> Any:
        rows = []
        for pos, run in enumerate(members):
            src = carry.get(run)
            old = None if src is None else self._groups[src[0]]
            if old is not None and old.spec.name == spec.name and type(old.state) is type(fresh):
                rows.append(take_rows(old.state, np.array([src[1]])))
            else:
                rows.append(take_rows(fresh, np.array([pos])))
        return concat_states(rows)

    def _build_sampler(self) -> BatchSampler | None:
        data = self.objective.data
        if data is None:
            return None
        sizes = [min(c.batch_size or data.n_train, data.n_train) for c in self.configs]
        return BatchSampler(data.n_train, np.asarray(sizes), self.rngs)

    def _regroup(self) -> None:
        self._groups = self._build_groups(self._carry_all())

    # ----- state ----------------------------------------------------------
    @property
    def n_runs(self) -> int:
        return len(self.configs)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.configs]

    @property
    def active(self) -> np.ndarray:
        """Runs still stepping: not diverged and short of their step count."""
        steps = np.array([c.steps for c in self.configs], dtype=np.int64)
        return (self.diverged_at < 0) & (self.step_count < steps)

    @property
    def done(self) -> bool:
        return not self.active.any()

    def test_loss(self) -> np.ndarray | None:
        return self.objective.test_loss(self.params)

    def index_of(self, run: int | str) -> int:
        if isinstance(run, str):
            return self.names.index(run)
        return int(run)

    # ----- stepping -------------------------------------------------------
    def step(self, n: int = 1) -> int:
        """Make up to ``n`` updates of every active run; returns how many ticks were stepped."""
        made = 0
        for _ in range(n):
            active = self.active
            if not active.any():
                break
            self._step_once(active)
            made += 1
        return made

    def _update_gradients(self, active: np.ndarray) -> np.ndarray:
        grads = self.grad
        batched = [i for i, c in enumerate(self.configs) if c.batch_size and active[i]
                   and self._sampler is not None and c.batch_size < self._sampler.n_rows]
        noisy = [i for i, c in enumerate(self.configs) if c.noise and active[i]]
        if not batched and not noisy:
            return grads
        grads = grads.copy()
        if batched:
            rows = np.asarray(batched)
            idx, wts = self._sampler.next_batches(rows)
            grads[rows] = self.objective.batch_gradient(self.params[rows], idx, wts)
        for i in noisy:
            grads[i] += self.configs[i].noise * self.rngs[i].standard_normal(self.objective.n_params)
        return grads

    def _step_once(self, active: np.ndarray) -> None:
        grads = self._update_gradients(active)
        old = self.params
        new = old.copy()
        lr_used = self.last_lr.copy()
        all_active = bool(active.all())
        with np.errstate(all="ignore"):
            for gi, g in enumerate(self._groups):
                steps = self.step_count[g.index][:, None]
                lr = g.schedule(steps, g.base_lr)
                updates, state = g.spec.update(grads[g.index], g.state, old[g.index], lr, g.hyper)
                if all_active:
                    new[g.index] = old[g.index] + updates
                else:
                    m = active[g.index]
                    new[g.index] = np.where(m[:, None], old[g.index] + updates, old[g.index])
                    state = _where_rows(m, state, g.state)
                self._groups[gi] = g._replace(state=state)
                lr_used[g.index] = lr[:, 0]
            loss, grad = self.objective.value_and_gradient(new)
        bad = active & ~(np.isfinite(loss) & np.isfinite(grad).all(axis=1)
                         & (np.abs(new) <= DIVERGENCE_BOUND).all(axis=1))
        if bad.any():
            self.diverged_at[bad] = self.step_count[bad] + 1
            new[bad], loss[bad], grad[bad] = old[bad], self.loss[bad], self.grad[bad]
            stepped = active & ~bad
        else:
            stepped = active
        self.step_count[stepped] += 1
        self.params, self.loss, self.grad = new, loss, grad
        self.grad_norm = np.sqrt(np.einsum("ij,ij->i", grad, grad))
        self.last_lr = lr_used
        self.tick += 1
        self._record(stepped)

    def _peek_lr(self) -> np.ndarray:
        """The rate each run's next update will use (for row 0 of a trajectory)."""
        out = np.zeros(self.n_runs)
        for g in self._groups:
            out[g.index] = g.schedule(self.step_count[g.index][:, None], g.base_lr)[:, 0]
        return out

    def _record(self, stepped: np.ndarray | None = None) -> None:
        test = self.test_loss()
        if stepped is None or stepped.all():
            self.history.record(self.tick, self.params, self.loss, self.grad_norm, self.last_lr, test)
            return
        hide = ~stepped
        nan_rows = lambda a: np.where(hide, np.nan, a)  # noqa: E731 - stopped runs leave gaps
        self.history.record(self.tick, np.where(hide[:, None], np.nan, self.params), nan_rows(self.loss),
                            nan_rows(self.grad_norm), nan_rows(self.last_lr),
                            None if test is None else nan_rows(test))

    # ----- changes while running --------------------------------------
    def set_hyperparameters(self, run: int | str, **changes: Any) -> None:
        """Change one run's optimizer, lr, other hyperparameters, schedule, batch size, noise or steps.

        A changed optimizer starts from fresh state; everything else keeps the
        run's state and step count, so a schedule continues where it was.
        """
        i = self.index_of(run)
        cfg = self.configs[i]
        fields = {k: changes.pop(k) for k in ("optimizer", "schedule", "batch_size", "noise", "steps", "name")
                  if k in changes}
        hyper = dict(cfg.hyper)
        if "optimizer" in fields and fields["optimizer"] != cfg.optimizer:
            hyper = {"lr": hyper["lr"]} if "lr" in hyper else {}
        hyper.update(changes)
        self.configs[i] = replace(cfg, hyper=hyper, **fields)
        self._regroup()
        if "batch_size" in fields:
            self._sampler = self._build_sampler()
        self.last_lr[i] = self._peek_lr()[i] if self.step_count[i] == 0 else self.last_lr[i]

    def set_start(self, run: int | str, point: Sequence[float]) -> None:
        """Move a run's start and reset that run."""
        i = self.index_of(run)
        self.configs[i] = replace(self.configs[i], start=tuple(float(v) for v in point))
        self.reset_run(i)

    def reset_run(self, run: int | str) -> None:
        """Put one run back on its start with fresh state, keeping the others where they are."""
        i = self.index_of(run)
        self.params[i] = self.configs[i].start
        self.step_count[i] = 0
        self.diverged_at[i] = -1
        self.rngs[i] = np.random.default_rng([self.seed, i])
        self._regroup_fresh(i)
        self._sampler = self._build_sampler()
        loss, grad = self.objective.value_and_gradient(self.params[i : i + 1])
        self.loss[i], self.grad[i] = loss[0], grad[0]
        self.grad_norm[i] = np.linalg.norm(grad[0])
        self.last_lr[i] = self._peek_lr()[i]
        self.history.clear_run(i)

    def _regroup_fresh(self, i: int) -> None:
        """Rebuild groups, giving run ``i`` a fresh optimizer state."""
        carry = self._carry_all()
        carry.pop(i, None)
        self._groups = self._build_groups(carry)

    def add_run(self, cfg: RunConfig) -> int:
        """Append a run starting now; returns its index."""
        i = self.n_runs
        carry = self._carry_all()
        self.configs.append(cfg)
        self.params = np.vstack([self.params, np.asarray(cfg.start, dtype=np.float64)[None]])
        self.step_count = np.append(self.step_count, 0)
        self.diverged_at = np.append(self.diverged_at, -1)
        self.rngs.append(np.random.default_rng([self.seed, i]))
        loss, grad = self.objective.value_and_gradient(self.params[i : i + 1])
        self.loss, self.grad = np.append(self.loss, loss), np.vstack([self.grad, grad])
        self.grad_norm = np.append(self.grad_norm, np.linalg.norm(grad[0]))
        self.last_lr = np.append(self.last_lr, 0.0)
        self._groups = self._build_groups(carry)
        self._sampler = self._build_sampler()
        self.last_lr[i] = self._peek_lr()[i]
        self.history.add_run()
        return i

    def remove_run(self, run: int | str) -> None:
        """Drop a run; the others keep their state."""
        i = self.index_of(run)
        carry = {r - (r > i): v for r, v in self._carry_all().items() if r != i}
        del self.configs[i]
        del self.rngs[i]
        for name in ("params", "step_count", "diverged_at", "loss", "grad", "grad_norm", "last_lr"):
            setattr(self, name, np.delete(getattr(self, name), i, axis=0))
        self._groups = self._build_groups(carry)
        self._sampler = self._build_sampler()
        self.history.remove_run(i)

    def _carry_all(self) -> dict[int, tuple[int, int]]:
        carry: dict[int, tuple[int, int]] = {}
        for gi, g in enumerate(self._groups):
            members = range(len(self.configs)) if isinstance(g.index, slice) else g.index.tolist()
            for pos, run in enumerate(members):
                carry[run] = (gi, pos)
        return carry


def _where_rows(mask: np.ndarray, new: Any, old: Any) -> Any:
    """Per-run select between two states (NamedTuples of arrays whose first axis is the run)."""
    out = []
    for a, b in zip(new, old):
        a, b = np.asarray(a), np.asarray(b)
        out.append(np.where(mask.reshape((-1,) + (1,) * (a.ndim - 1)), a, b))
    return type(new)(*out)
