"""Bounded history of a simulation, for plots and diagnosis.

A run may take a million steps, so the history cannot keep every one. It keeps
at most ``capacity`` ticks: every tick until it is full, then it drops every
other stored tick and from then on stores one tick in two (the stride doubles
each time it fills). So memory is O(capacity * n_runs) for any number of steps
(and with a ``budget``, at most that many floats: many runs get fewer samples),
the whole run stays covered from start to now with evenly spaced samples, and
the newest ``recent`` ticks are also kept at full resolution in a ring buffer
for the live view and the diagnosis.
"""
from __future__ import annotations

import numpy as np

from .norms import row_norms


class History:
    """Decimated record of params, loss, gradient norm, lr and test loss per tick and run, and
    each coordinate's sigma (the optimizer's divisor, engine.optim.inspect; NaN without one)."""

    FIELDS = ("loss", "grad_norm", "lr", "test_loss")

    def __init__(self, n_runs: int, n_params: int, capacity: int = 2048, recent: int = 512,
                 budget: int | None = None) -> None:
        if capacity < 4 or capacity % 2:
            raise ValueError("capacity must be an even number >= 4")
        if budget is not None:  # many runs: fewer samples each, so memory stays within the budget
            per_tick = max(1, n_runs) * (2 * n_params + len(self.FIELDS))
            capacity = max(4, min(capacity, budget // (2 * per_tick)) // 2 * 2)
            recent = max(2, min(recent, budget // (2 * per_tick)))
        self.capacity = capacity
        self.stride = 1
        self.size = 0
        self.n_runs, self.n_params = n_runs, n_params
        self.tick = np.zeros(capacity, dtype=np.int64)
        self.params = np.full((capacity, n_runs, n_params), np.nan)
        self.sigma = np.full((capacity, n_runs, n_params), np.nan)
        self.values = {f: np.full((capacity, n_runs), np.nan) for f in self.FIELDS}
        self.recent = _Ring(recent, n_runs, n_params)

    def stores(self, tick: int) -> bool:
        """Whether ``record`` at this tick will keep a decimated sample (the ring keeps every tick),
        so that callers compute what only the sample needs (the test loss) only then."""
        stride = self.stride * 2 if self.size == self.capacity else self.stride
        return tick % stride == 0

    def record(self, tick: int, params: np.ndarray, loss: np.ndarray, grad: np.ndarray,
               lr: np.ndarray, test_loss: np.ndarray | None = None, sigma: np.ndarray | None = None,
               grad_norm: np.ndarray | None = None, packed: np.ndarray | None = None) -> None:
        """Store the state after ``tick`` steps (NaN rows for runs that have stopped are fine);
        ``grad`` (n_runs, n_params) is kept, its norms are taken only for a stored sample (a
        square root per run is dearer than a copy) unless given as ``grad_norm``; ``sigma``
        (n_runs, n_params) and ``grad_norm`` are needed only when ``stores(tick)``. ``packed``:
        params, grad and loss already side by side in one array (as the simulation's float
        path makes them), which the ring of recent ticks copies in one go."""
        self.recent.record(tick, params, loss, grad, packed)
        if tick % self.stride:
            return
        if self.size == self.capacity:
            self._halve()
            if tick % self.stride:
                return
        i = self.size
        self.tick[i] = tick
        self.params[i] = params
        self.values["loss"][i] = loss
        self.values["grad_norm"][i] = row_norms(grad) if grad_norm is None else grad_norm
        self.values["lr"][i] = lr
        self.values["test_loss"][i] = np.nan if test_loss is None else test_loss
        self.sigma[i] = np.nan if sigma is None else sigma
        self.size += 1

    def _halve(self) -> None:
        keep = slice(0, self.capacity, 2)
        half = self.capacity // 2
        self.tick[:half] = self.tick[keep]
        self.params[:half] = self.params[keep]
        self.sigma[:half] = self.sigma[keep]
        for arr in self.values.values():
            arr[:half] = arr[keep]
        self.size = half
        self.stride *= 2

    def series(self, field: str) -> tuple[np.ndarray, np.ndarray]:
        """Ticks (k,) and values (k, n_runs) of one field, oldest first (views, do not modify)."""
        return self.tick[: self.size], self.values[field][: self.size]

    def sigma_series(self, run: int) -> tuple[np.ndarray, np.ndarray]:
        """Ticks (k,) and one run's sigma per coordinate (k, n_params), oldest first (views)."""
        return self.tick[: self.size], self.sigma[: self.size, run]

    def trajectory(self, run: int) -> np.ndarray:
        """Stored points of one run, oldest first: (k, n_params)."""
        return self.params[: self.size, run]

    def add_run(self) -> None:
        """Widen every array by one run column, NaN before it joined."""
        self.n_runs += 1
        self.params = np.concatenate([self.params, np.full((self.capacity, 1, self.n_params), np.nan)], axis=1)
        self.sigma = np.concatenate([self.sigma, np.full((self.capacity, 1, self.n_params), np.nan)], axis=1)
        self.values = {f: np.concatenate([a, np.full((self.capacity, 1), np.nan)], axis=1) for f, a in self.values.items()}
        self.recent.add_run()

    def remove_run(self, run: int) -> None:
        self.n_runs -= 1
        self.params = np.delete(self.params, run, axis=1)
        self.sigma = np.delete(self.sigma, run, axis=1)
        self.values = {f: np.delete(a, run, axis=1) for f, a in self.values.items()}
        self.recent.remove_run(run)

    def clear_run(self, run: int) -> None:
        """Forget one run's past (it was reset)."""
        self.params[:, run] = np.nan
        self.sigma[:, run] = np.nan
        for a in self.values.values():
            a[:, run] = np.nan
        self.recent.clear_run(run)


class _Ring:
    """The newest ticks at full resolution: params, loss and gradient (its norm taken when read).

    A tick is one row of ``rows``: its params, gradient and loss side by side, the layout of the
    simulation's float path, so that path's tick is one copy; ``params``, ``grad`` and ``loss``
    are views of those columns."""

    def __init__(self, length: int, n_runs: int, n_params: int) -> None:
        self.length = length
        self.count = 0
        self.tick = np.full(length, -1, dtype=np.int64)
        self._view(np.full((length, n_runs * (2 * n_params + 1)), np.nan), n_runs, n_params)

    def _view(self, rows: np.ndarray, n_runs: int, n_params: int) -> None:
        k = n_runs * n_params
        self.rows = rows
        self.params = rows[:, :k].reshape(self.length, n_runs, n_params)
        self.grad = rows[:, k:2 * k].reshape(self.length, n_runs, n_params)
        self.loss = rows[:, 2 * k:]

    def _rebuild(self, params: np.ndarray, loss: np.ndarray, grad: np.ndarray) -> None:
        """New rows holding these arrays (after the runs changed)."""
        n_runs, n_params = params.shape[1:]
        rows = np.concatenate([params.reshape(self.length, -1), grad.reshape(self.length, -1), loss], axis=1)
        self._view(rows, n_runs, n_params)

    def record(self, tick: int, params: np.ndarray, loss: np.ndarray, grad: np.ndarray,
               packed: np.ndarray | None = None) -> None:
        i = self.count % self.length
        self.tick[i] = tick
        if packed is not None:
            self.rows[i] = packed
        else:
            self.params[i] = params
            self.loss[i] = loss
            self.grad[i] = grad
        self.count += 1

    def _order(self) -> np.ndarray:
        n = min(self.count, self.length)
        start = self.count - n
        return np.arange(start, start + n) % self.length

    def window(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Ticks, params, loss and gradient norm of the stored ticks, oldest first (copies)."""
        o = self._order()
        with np.errstate(all="ignore"):  # as in the simulation: an overflow is a divergence
            norms = row_norms(self.grad[o])
        return self.tick[o], self.params[o], self.loss[o], norms

    def add_run(self) -> None:
        self._rebuild(np.concatenate([self.params, np.full((self.length, 1, self.params.shape[2]), np.nan)], axis=1),
                      np.concatenate([self.loss, np.full((self.length, 1), np.nan)], axis=1),
                      np.concatenate([self.grad, np.full((self.length, 1, self.grad.shape[2]), np.nan)], axis=1))

    def remove_run(self, run: int) -> None:
        self._rebuild(np.delete(self.params, run, axis=1), np.delete(self.loss, run, axis=1),
                      np.delete(self.grad, run, axis=1))

    def clear_run(self, run: int) -> None:
        self.params[:, run] = np.nan
        self.loss[:, run] = np.nan
        self.grad[:, run] = np.nan
