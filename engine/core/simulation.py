"""Step every run of a scenario together, seeded and deterministic.

Runs that share an optimizer, its structural flags and a schedule form a group
whose state is one set of arrays of shape (n_group, ...), so hundreds of
thousands of runs cost a handful of NumPy calls per step. Each run owns a random
stream ``default_rng([seed, run_index])``: adding a run never changes another's
noise or batches, and the same seed gives the same numbers, byte for byte.

The arrays a step leaves in ``params``, ``loss``, ``grad``, ``step_count`` (and ``last_lr``) are
read-only and never written afterwards: the next step or a change replaces them.

Divergence: after each update a run whose parameters, loss or gradient are not
finite, or whose parameters or loss exceed ``DIVERGENCE_BOUND`` in size, is marked
diverged at that update, put back on its last finite point, and stops; the
other runs go on.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import numpy as np

from .data import BatchSampler
from .history import History
from .norms import row_norms
from .objective import Objective
from .run_settings import RunSettings
from .small_runs import FloatRuns
from ..formula.scalar import scalar_value_and_gradient
from ..optim import inspect
from ..optim.base import compact_columns
from ..optim.fused import finite_within, fused_update
from ..optim.registry import OptimizerSpec, concat_states, get_optimizer, take_rows
from ..optim.schedules import make_schedule

HISTORY_BUDGET = 1 << 24
"""Floats the history may hold in all (128 MB): many runs get fewer samples each, never more memory."""

DIVERGENCE_BOUND = 1e100
"""Parameters or a loss larger than this count as diverged (squaring them would overflow float64)."""


@dataclass(slots=True)
class _Group:
    """Runs stepped by one optimizer call: their indices and shared arrays (state is replaced each step)."""

    index: np.ndarray | slice
    spec: OptimizerSpec
    hyper: Any
    state: Any
    schedule: Callable[[np.ndarray, np.ndarray], np.ndarray]
    base_lr: np.ndarray  # (g, 1)
    members: np.ndarray  # run indices, in group order
    shared_lr: bool  # every member has the same base rate: the schedule is evaluated once
    constant_lr: np.ndarray | None  # without a schedule, the rate itself (no call per step)


def _group_key(cfg: RunSettings) -> tuple:
    spec = get_optimizer(cfg.optimizer)
    flags = tuple(bool(cfg.hyper.get(f, spec.defaults.get(f, False))) for f in spec.structural)
    return (spec.name, flags, json.dumps(cfg.schedule or {}, sort_keys=True, default=str))


class Simulation:
    """All runs of one objective, stepped together; the engine behind the app, the CLI and the tests."""

    def __init__(self, objective: Objective, runs: Sequence[RunSettings], seed: int = 0,
                 history_capacity: int = 2048, record_history: bool = True,
                 starts: np.ndarray | None = None) -> None:
        """``record_history=False`` skips the history (sweeps of many runs need only the end);
        ``starts`` (n_runs, n_params) gives the starts as one array instead of per config."""
        self.objective = objective
        self.seed = int(seed)
        self.history_capacity = history_capacity
        self.record_history = record_history
        self.configs: list[RunSettings] = list(runs)
        if starts is not None:
            rows = np.asarray(starts, dtype=np.float64).reshape(len(self.configs), -1).tolist()
            self.configs = [replace(c, start=tuple(r)) for c, r in zip(self.configs, rows)]
        self.reset()

    # ----- construction -------------------------------------------------
    def reset(self) -> None:
        """Put every run back on its start with fresh state and streams."""
        n, p = len(self.configs), self.objective.n_params
        self.tick = 0
        self._floats: FloatRuns | None = None  # every run on floats (small_runs), else None
        self._scalar = scalar_value_and_gradient(self.objective.formula) if self.objective.data is None else None
        self.params = np.array([c.start for c in self.configs], dtype=np.float64).reshape(n, p)
        _prime_allocator(self.params.size)
        self.step_count = _published(np.zeros(n, dtype=np.int64))
        self.diverged_at = np.full(n, -1, dtype=np.int64)
        self._streams = list(range(n))  # run -> its random stream's id (kept when runs come and go)
        self.rngs = [np.random.default_rng([self.seed, i]) for i in self._streams]
        self.last_lr = np.zeros(n)
        self._set_groups(self._build_groups(carry=None))
        self._sampler = self._build_sampler()
        self._refresh_config_arrays()
        self.loss, self.grad = self.objective.value_and_gradient(self.params)
        self._grad_norm: np.ndarray | None = None  # computed when first read (see grad_norm)
        self.last_lr = self._peek_lr()
        self.history = History(n if self.record_history else 0, p, capacity=self.history_capacity,
                               budget=HISTORY_BUDGET)
        with np.errstate(all="ignore"):  # as in step: sigma is 0/0 before the first update
            self._record()

    def _build_groups(self, carry: dict[int, tuple[int, int]] | None) -> list[_Group]:
        """Group runs by optimizer, flags and schedule; carry state of runs whose optimizer did not change."""
        self._unfloat()
        keys: dict[tuple, list[int]] = {}
        for i, cfg in enumerate(self.configs):
            keys.setdefault(_group_key(cfg), []).append(i)
        groups = []
        for members in keys.values():
            cfgs = [self.configs[i] for i in members]
            spec = get_optimizer(cfgs[0].optimizer)
            index = _as_index(members)
            hyper = spec.make_hyper([{k: v for k, v in c.hyper.items() if k != "lr"} for c in cfgs])
            state = spec.init(self.params[index])
            if carry:
                state = self._carried_state(spec, members, state, carry)
            base_lr = np.array([[c.lr] for c in cfgs], dtype=np.float64)
            shared = bool((base_lr == base_lr[0]).all())
            constant = None if cfgs[0].schedule else (base_lr[:1] if shared else base_lr)
            groups.append(_Group(index, spec, compact_columns(hyper), state, make_schedule(cfgs[0].schedule or {}),
                                 base_lr, np.asarray(members, dtype=np.int64), shared, constant))
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
        return BatchSampler(data.n_train, [self._batch_size(c) for c in self.configs], self.rngs)

    def _batch_size(self, cfg: RunSettings) -> int:
        n = self.objective.data.n_train if self.objective.data is not None else 0
        return min(cfg.batch_size or n, n)

    def _set_groups(self, groups: list[_Group]) -> None:
        """Install groups and what the fast step path derives from them."""
        self._groups = groups
        n = len(self.configs)
        at, tiled = 0, True
        for g in groups:
            if not isinstance(g.index, slice) or g.index.start != at:
                tiled = False
                break
            at = g.index.stop
        self._tiled = tiled and at == n
        self._constant_lrs = None
        if self._tiled and all(g.constant_lr is not None for g in groups):
            # every rate is fixed: one read-only array serves every step
            self._constant_lrs = np.concatenate([np.broadcast_to(g.constant_lr[:, 0], (_length(g.index, self.params),))
                                                 for g in groups]) if groups else np.zeros(0)
            self._constant_lrs.flags.writeable = False

    def _regroup(self) -> None:
        self._set_groups(self._build_groups(self._carry_all()))

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
        return (self.diverged_at < 0) & (self.step_count < self._limits)

    def _refresh_config_arrays(self) -> None:
        """Per-run arrays derived from the configs, rebuilt whenever a config changes (not per step)."""
        self._limits = np.array([c.steps for c in self.configs], dtype=np.int64)
        n_rows = self._sampler.n_rows if self._sampler is not None else 0
        self._batched = np.array([i for i, c in enumerate(self.configs) if c.batch_size and c.batch_size < n_rows],
                                 dtype=np.int64)
        self._noisy = np.array([i for i, c in enumerate(self.configs) if c.noise], dtype=np.int64)
        self._count_lockstep()
        self._unfloat()
        self._floatable = (self._scalar is not None and self._constant_lrs is not None and not self._noisy.size
                           and not self._batched.size and all(_length(g.index, self.params) == 1 for g in self._groups))

    @property
    def grad_norm(self) -> np.ndarray:
        """|gradient| of each run (n_runs,), computed on first read after a step: a large batch
        stepped without anyone reading it skips a square root per run per step."""
        if self._grad_norm is None:
            with np.errstate(all="ignore"):  # an overflow to inf is a divergence, not a warning
                self._grad_norm = row_norms(self.grad)
        return self._grad_norm

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
        if n == 1 and self._floats is not None and self._lockstep_ticks > 0:
            # on floats nothing warns (Python raises instead, and the array path redoes the step);
            made = self._floats.step()
            if made is not None:
                self._lockstep_ticks -= 1
                self._take_float_step(made)
                return 1
            self._unfloat()
        with np.errstate(all="ignore"):  # once for the whole loop: entering it costs about a microsecond
            return self._step_loop(n)

    def _step_loop(self, n: int) -> int:
        made = 0
        for _ in range(n):
            if self._lockstep_ticks > 0:  # every run active for at least this many more ticks
                self._lockstep_ticks -= 1
                if self._floatable and self._float_step():
                    made += 1
                    continue
                active, all_active = self._all_runs, True
            else:
                active = self.active
                all_active = bool(active.all())
                if not all_active and not active.any():
                    break
            self._step_once(active, all_active)
            made += 1
        return made

    def _count_lockstep(self) -> None:
        """How many ticks every run will still make before one reaches its step count (0 if any
        run is stopped): the step loop then needs no per-tick activity mask."""
        left = self._limits - self.step_count
        self._lockstep_ticks = int(left.min()) if left.size and bool(self.active.all()) else 0
        self._all_runs = np.ones(len(self.configs), dtype=bool)

    def _update_gradients(self, active: np.ndarray) -> np.ndarray:
        """The gradient each run's update uses: exact, or a mini-batch's, plus noise."""
        grads = self.grad
        batched = self._batched[active[self._batched]] if self._batched.size else self._batched
        noisy = self._noisy[active[self._noisy]] if self._noisy.size else self._noisy
        if not batched.size and not noisy.size:
            return grads
        grads = grads.copy()
        if batched.size:
            idx, wts = self._sampler.next_batches(batched)
            grads[batched] = self.objective.batch_gradient(self.params[batched], idx, wts)
        for i in noisy.tolist():
            grads[i] += self.configs[i].noise * self.rngs[i].standard_normal(self.objective.n_params)
        return grads

    def _rates(self, g: _Group) -> np.ndarray:
        """This update's rate for a group: (g, 1), or (1, 1) when every member shares it."""
        if g.constant_lr is not None:
            return g.constant_lr
        steps = self.step_count[g.index]
        if g.shared_lr and steps.shape[0] > 1 and (steps == steps[0]).all():
            return g.schedule(steps[:1, None], g.base_lr[:1])
        return g.schedule(steps[:, None], g.base_lr)

    def _float_step(self) -> bool:
        """One update of every run on floats (small_runs), when each group is one run: False when
        it could not be made that way (nothing changed; the array path makes it)."""
        floats = self._floats
        if floats is None:
            floats = self._floats = FloatRuns.build(self._groups, self._scalar, self._constant_lrs, self.params,
                                                    self.grad, DIVERGENCE_BOUND, self.step_count)
            if floats is None:
                self._floatable = False
                return False
        made = floats.step()
        if made is None:
            self._unfloat()
            return False
        self._take_float_step(made)
        return True

    def _take_float_step(self, made: tuple[np.ndarray, ...]) -> None:
        """Publish what FloatRuns.step made (read-only arrays, as _published's) and record the tick."""
        self.params, self.loss, self.grad, self.step_count, packed = made
        self._grad_norm = None
        self.last_lr = self._constant_lrs
        self.tick += 1
        if self.record_history:
            self._record(None, packed)

    def _unfloat(self) -> None:
        """Give the groups their states back as arrays (before anything reads or steps them)."""
        floats = getattr(self, "_floats", None)
        if floats is not None:
            self._floats = None
            for g, state in zip(self._groups, floats.states()):
                g.state = state

    def _step_once(self, active: np.ndarray, all_active: bool) -> None:
        self._unfloat()
        grads = self._update_gradients(active)
        old = self.params
        fused = False
        if all_active and self._tiled:
            # Common case: the groups' slices tile the runs in order, so each group writes its
            # new parameters straight into its rows of one array.
            lrs = [self._rates(g) for g in self._groups]
            new, fused = self._tiled_update(grads, old, lrs)
            lr_used = self._constant_lrs if self._constant_lrs is not None else \
                np.concatenate([np.broadcast_to(lr[:, 0], (_length(g.index, old),)) for g, lr in zip(self._groups, lrs)])
        else:
            new = np.empty_like(old)
            lr_used = np.empty_like(self.last_lr)  # every run is in exactly one group
            for g in self._groups:
                lr = self._rates(g)
                updates, state = g.spec.update(grads[g.index], g.state, old[g.index], lr, g.hyper)
                if all_active:
                    new[g.index] = old[g.index] + updates
                else:
                    m = active[g.index]
                    new[g.index] = np.where(m[:, None], old[g.index] + updates, old[g.index])
                    state = _where_rows(m, state, g.state)
                g.state = state
                lr_used[g.index] = lr[:, 0]
        loss, grad = self.objective.value_and_gradient(new)
        healthy = _healthy(new, loss, grad, fused)
        if healthy:
            stepped = active
        else:
            bad = active & ~(np.isfinite(loss) & np.isfinite(grad).all(axis=1) & (np.abs(loss) <= DIVERGENCE_BOUND)
                             & (np.abs(new) <= DIVERGENCE_BOUND).all(axis=1))
            keep = ~active | bad  # stopped runs, and runs that just diverged, stay on their last finite point
            new[keep], loss[keep], grad[keep] = old[keep], self.loss[keep], self.grad[keep]
            self.diverged_at[bad] = self.step_count[bad] + 1
            self._lockstep_ticks = 0
            stepped = active & ~bad
            all_active = bool(stepped.all())
        if not all_active:
            lr_used = np.where(stepped, lr_used, self.last_lr)  # a stopped run keeps its last update's rate
        self.step_count = _published(self.step_count + (1 if all_active else stepped))
        self.params, self.loss, self.grad = _published(new), _published(loss), _published(grad)
        self._grad_norm = None
        self.last_lr = _published(lr_used)
        self.tick += 1
        self._record(None if all_active else stepped)

    def _tiled_update(self, grads: np.ndarray, old: np.ndarray, lrs: list[np.ndarray]) -> tuple[np.ndarray, bool]:
        """New parameters of every run (groups tiling the runs in order), and whether the JIT made
        every group's update and found all new parameters within bounds (then the divergence check
        skips them). A large group with numba installed takes the compiled loop (optim/fused.py),
        the others the NumPy update; the same bits either way."""
        parts, all_fused = [], True
        for g, lr in zip(self._groups, lrs):
            done = fused_update(grads[g.index], g.state, old[g.index], lr, g.hyper, DIVERGENCE_BOUND)
            if done is None:
                updates, g.state = g.spec.update(grads[g.index], g.state, old[g.index], lr, g.hyper)
                parts.append(old[g.index] + updates)
                all_fused = False
            else:
                rows, g.state, ok = done
                parts.append(rows)
                all_fused = all_fused and ok
        return (parts[0] if len(parts) == 1 else np.concatenate(parts)), all_fused

    def next_lr(self) -> np.ndarray:
        """The rate each run's next update will use (its schedule at its own step count): after a
        scripted or typed edit it differs from last_lr, the rate of the update already taken."""
        return self._peek_lr()

    def _peek_lr(self) -> np.ndarray:
        """The rate each run's next update will use (for row 0 of a trajectory)."""
        out = np.zeros(self.n_runs)
        for g in self._groups:
            out[g.index] = g.schedule(self.step_count[g.index][:, None], g.base_lr)[:, 0]
        return out

    def _record(self, stepped: np.ndarray | None = None, packed: np.ndarray | None = None) -> None:
        """Keep the tick in the history; ``packed``: params, grad and loss in one array (FloatRuns.step)."""
        if not self.record_history:
            return
        # the test loss is a full evaluation: only for the ticks the decimated history keeps
        stores = self.history.stores(self.tick)
        test = self.test_loss() if stores else None
        sigma = norms = None
        if stores and self._floats is not None:  # on floats: no NumPy call that could warn
            sigma, norms = self._floats.sigma_and_norms()
        elif stores:  # inside step's errstate
            sigma = self.optimizer_quantity(inspect.sigma_quiet)
        if stepped is None or stepped.all():
            self.history.record(self.tick, self.params, self.loss, self.grad, self.last_lr, test, sigma, norms, packed)
            return
        hide = ~stepped
        nan_rows = lambda a: np.where(hide, np.nan, a)  # noqa: E731 - stopped runs leave gaps
        self.history.record(self.tick, np.where(hide[:, None], np.nan, self.params), nan_rows(self.loss),
                            np.where(hide[:, None], np.nan, self.grad), nan_rows(self.last_lr),
                            None if test is None else nan_rows(test),
                            None if sigma is None else np.where(hide[:, None], np.nan, sigma))

    # ----- reading the optimizers' state --------------------------------
    def optimizer_quantity(self, read: Callable[[Any, Any], np.ndarray | None]) -> np.ndarray:
        """(n_runs, n_params): ``read(state, hyper)`` (engine.optim.inspect.sigma or .momentum)
        over every group, NaN for the runs whose optimizer has no such quantity."""
        self._unfloat()
        out = np.full(self.params.shape, np.nan)
        for g in self._groups:
            value = read(g.state, g.hyper)
            if value is not None:
                out[g.index] = value
        return out

    def has_momentum(self, run: int | str) -> bool:
        """Whether the run's optimizer keeps a momentum at all (SGD does, even at momentum 0)."""
        gi, _ = self._carry_all()[self.index_of(run)]
        return inspect.has_momentum(self._groups[gi].state)

    def next_update(self, run: int | str) -> np.ndarray:
        """The update the run's optimizer would make from here with the exact gradient, computed
        with its pure update on its current state (nothing changes: a preview for the plot)."""
        i = self.index_of(run)
        self._unfloat()
        gi, pos = self._carry_all()[i]
        g = self._groups[gi]
        rows = np.array([pos])
        hyper = type(g.hyper)(*(a[rows] if a.shape[0] > 1 else a for a in g.hyper))
        lr = np.array([[self._peek_lr()[i]]])
        with np.errstate(all="ignore"):
            updates, _ = g.spec.update(self.grad[i:i + 1], take_rows(g.state, rows), self.params[i:i + 1], lr, hyper)
        return updates[0]

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
        if "batch_size" in fields and self._sampler is not None:
            self._sampler.resize(i, self._batch_size(self.configs[i]))
        self._refresh_config_arrays()
        if self.step_count[i] == 0:
            self.last_lr = self.last_lr.copy()
            self.last_lr[i] = self._peek_lr()[i]

    def set_start(self, run: int | str, point: Sequence[float]) -> None:
        """Move a run's start and reset that run."""
        i = self.index_of(run)
        self.configs[i] = replace(self.configs[i], start=tuple(float(v) for v in point))
        self.reset_run(i)

    def reset_run(self, run: int | str) -> None:
        """Put one run back on its start with fresh state, keeping the others where they are."""
        i = self.index_of(run)
        self.params, self.loss, self.grad = self.params.copy(), self.loss.copy(), self.grad.copy()  # published: read-only
        self.step_count = self.step_count.copy()
        self.params[i] = self.configs[i].start
        self.step_count[i] = 0
        self.diverged_at[i] = -1
        self.rngs[i] = np.random.default_rng([self.seed, self._streams[i]])
        self._regroup_fresh(i)
        if self._sampler is not None:
            self._sampler.reset(i, self.rngs[i])
        self._refresh_config_arrays()
        loss, grad = self.objective.value_and_gradient(self.params[i : i + 1])
        self.loss[i], self.grad[i] = loss[0], grad[0]
        self._grad_norm = None
        self.last_lr = self.last_lr.copy()
        self.last_lr[i] = self._peek_lr()[i]
        self.history.clear_run(i)

    def _regroup_fresh(self, i: int) -> None:
        """Rebuild groups, giving run ``i`` a fresh optimizer state."""
        carry = self._carry_all()
        carry.pop(i, None)
        self._set_groups(self._build_groups(carry))

    def add_run(self, cfg: RunSettings) -> int:
        """Append a run starting now; returns its index."""
        i = self.n_runs
        carry = self._carry_all()
        self.configs.append(cfg)
        self.params = np.vstack([self.params, np.asarray(cfg.start, dtype=np.float64)[None]])
        self.step_count = np.append(self.step_count, 0)
        self.diverged_at = np.append(self.diverged_at, -1)
        self._streams.append(max(self._streams, default=-1) + 1)
        self.rngs.append(np.random.default_rng([self.seed, self._streams[-1]]))
        loss, grad = self.objective.value_and_gradient(self.params[i : i + 1])
        self.loss, self.grad = np.append(self.loss, loss), np.vstack([self.grad, grad])
        self._grad_norm = None
        self.last_lr = np.append(self.last_lr, 0.0)
        self._set_groups(self._build_groups(carry))
        if self._sampler is not None:
            self._sampler.add(self._batch_size(cfg), self.rngs[i])
        self._refresh_config_arrays()
        self.last_lr = self.last_lr.copy()
        self.last_lr[i] = self._peek_lr()[i]
        self.history.add_run()
        return i

    def remove_run(self, run: int | str) -> None:
        """Drop a run; the others keep their state."""
        i = self.index_of(run)
        carry = {r - (r > i): v for r, v in self._carry_all().items() if r != i}
        del self.configs[i]
        del self.rngs[i]
        del self._streams[i]
        for name in ("params", "step_count", "diverged_at", "loss", "grad", "last_lr"):
            setattr(self, name, np.delete(getattr(self, name), i, axis=0))
        self._grad_norm = None
        self._set_groups(self._build_groups(carry))
        if self._sampler is not None:
            self._sampler.remove(i)
        self._refresh_config_arrays()
        self.history.remove_run(i)

    def _carry_all(self) -> dict[int, tuple[int, int]]:
        """Where each run's optimizer state is now: run -> (group, row)."""
        return {int(run): (gi, pos) for gi, g in enumerate(self._groups) for pos, run in enumerate(g.members)}


def _published(a: np.ndarray) -> np.ndarray:
    """``a`` made read-only: a step's params, loss and gradient are never written after the step
    (a change makes new arrays), so readers such as the trajectory recorder may keep them uncopied."""
    a.flags.writeable = False
    return a


def _healthy(new: np.ndarray, loss: np.ndarray, grad: np.ndarray, params_checked: bool = False) -> bool:
    """One cheap test for the common case; False sends the step to the exact per-run check.

    A NaN fails every comparison, and any inf/nan in the gradient makes its sum non-finite. Few
    numbers are checked as Python floats (NumPy calls cost more than the work), many by reductions
    (no temporary arrays) or, with the JIT, in one compiled pass. ``params_checked``: the compiled
    update already found every new parameter within bounds.
    """
    bound = DIVERGENCE_BOUND
    if params_checked:
        fast = finite_within(loss, grad, bound)
        if fast is not None:
            return fast
    if new.size <= 32:
        values = new.ravel().tolist()
        values += loss.tolist()
        return all(-bound <= v <= bound for v in values) and math.isfinite(sum(grad.ravel().tolist()))
    return bool(_max(new, axis=None) <= bound and _min(new, axis=None) >= -bound and _max(loss) <= bound
                and _min(loss) >= -bound and math.isfinite(_sum(grad, axis=None)))


_max, _min, _sum = np.maximum.reduce, np.minimum.reduce, np.add.reduce


_PRIMED = [False]


def _prime_allocator(elements: int) -> None:
    """Once per process, for a large batch: allocate and free one block of 32 MB (just under glibc's cap).

    glibc's malloc serves blocks above its mmap threshold (128 KB at first) with fresh mappings
    and hands heap memory above its trim threshold back to the system, so the few arrays of
    (n, p) floats that every step makes afresh came as new pages, each faulted in and zeroed:
    at 100,000 runs without a history that doubled the NumPy step (3.1 ms instead of 2.0). The
    first free of a mapped block raises both thresholds to its size (when under 32 MiB), after
    which such arrays reuse heap memory. Elsewhere this is one short-lived untouched allocation.
    """
    if not _PRIMED[0] and elements * 8 > 128 * 1024:
        _PRIMED[0] = True
        np.empty(4_000_000)  # 32 MB, never written: only mapped, then unmapped at once


def _length(index: np.ndarray | slice, like: np.ndarray) -> int:
    """How many runs an index selects."""
    return len(range(*index.indices(like.shape[0]))) if isinstance(index, slice) else len(index)


def _as_index(members: Sequence[int]) -> np.ndarray | slice:
    """A slice for a contiguous range of runs (views, no gathers per step), else an index array."""
    first, last = members[0], members[-1]
    if last - first + 1 == len(members):
        return slice(first, last + 1)
    return np.asarray(members, dtype=np.int64)


def _where_rows(mask: np.ndarray, new: Any, old: Any) -> Any:
    """Per-run select between two states (NamedTuples of arrays whose first axis is the run)."""
    out = []
    for a, b in zip(new, old):
        a, b = np.asarray(a), np.asarray(b)
        out.append(np.where(mask.reshape((-1,) + (1,) * (a.ndim - 1)), a, b))
    return type(new)(*out)
