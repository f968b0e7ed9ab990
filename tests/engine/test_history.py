"""The bounded history keeps memory flat and covers the whole run evenly."""
import numpy as np

from optsim.engine.core.history import History


def feed(h: History, ticks: int) -> None:
    for t in range(ticks):
        p = np.full((h.n_runs, h.n_params), float(t))
        h.record(t, p, p[:, 0], p, p[:, 0])


def test_keeps_every_tick_until_full():
    h = History(2, 2, capacity=8)
    feed(h, 8)
    ticks, loss = h.series("loss")
    assert ticks.tolist() == list(range(8))
    assert loss[:, 1].tolist() == list(range(8))


def test_halves_and_doubles_stride_when_full():
    h = History(1, 2, capacity=8)
    feed(h, 100)
    ticks, _ = h.series("loss")
    assert h.size <= 8
    assert ticks[0] == 0
    assert np.all(np.diff(ticks) == h.stride)  # evenly spaced
    assert ticks[-1] > 100 - 2 * h.stride  # reaches (close to) now


def test_memory_is_bounded_for_a_million_ticks():
    h = History(3, 2, capacity=64, recent=16)
    feed(h, 1_000_000)
    assert h.params.shape == (64, 3, 2)
    assert h.size <= 64
    ticks, params, loss, _ = h.recent.window()
    assert ticks.tolist() == list(range(1_000_000 - 16, 1_000_000))
    assert params[-1, 0, 0] == 999_999


def test_add_and_remove_runs():
    h = History(1, 2, capacity=8)
    feed(h, 3)
    h.add_run()
    assert h.params.shape[1] == 2 and np.isnan(h.params[:3, 1]).all()
    h.remove_run(0)
    assert h.n_runs == 1 and np.isnan(h.trajectory(0)[:3]).all()


def test_budget_caps_memory_for_many_runs():
    h = History(100_000, 2, capacity=2048, recent=512, budget=1 << 24)
    floats = h.params.size + sum(a.size for a in h.values.values())
    floats += h.recent.params.size + h.recent.loss.size + h.recent.grad.size
    assert floats <= 1 << 24
    assert h.capacity >= 4 and h.capacity % 2 == 0
    small = History(3, 2, capacity=2048, budget=1 << 24)
    assert small.capacity == 2048  # few runs keep the full resolution


def test_stores_tells_which_ticks_the_decimated_history_keeps():
    h = History(1, 2, capacity=8)
    kept = []
    for t in range(100):
        will = h.stores(t)
        before = h.series("loss")[0].tolist()
        p = np.full((1, 2), float(t))
        h.record(t, p, p[:, 0], p, p[:, 0])
        after = h.series("loss")[0].tolist()
        assert will == (t in after and t not in before)
        kept += [t] if will else []
    assert kept[:8] == list(range(8)) and len(kept) > 8


def test_the_ring_gives_the_gradient_norms_of_the_gradients_it_kept():
    h = History(2, 2, capacity=8, recent=4)
    for t in range(6):
        grad = np.array([[3.0 * t, 4.0 * t], [np.nan, 1.0]])
        h.record(t, grad, grad[:, 0], grad, grad[:, 0])
    ticks, _, _, norms = h.recent.window()
    assert ticks.tolist() == [2, 3, 4, 5]
    assert norms[:, 0].tolist() == [10.0, 15.0, 20.0, 25.0]
    assert np.isnan(norms[:, 1]).all()
    assert h.series("grad_norm")[1][:6, 0].tolist() == [0.0, 5.0, 10.0, 15.0, 20.0, 25.0]


def test_halving_keeps_every_other_sample_in_order():
    h = History(2, 2, capacity=8)
    feed(h, 9)
    ticks, loss = h.series("loss")
    assert ticks.tolist() == [0, 2, 4, 6, 8] and loss[:, 1].tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert h.params[: h.size, 0, 0].tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]
