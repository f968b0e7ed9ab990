"""2-D slices of losses with more than two parameters: planes, projections, filter normalization, PCA."""
from __future__ import annotations

import numpy as np
import pytest

from optsim.engine.formula.compile import compile_formula
from optsim.engine.core.objective import Objective
from optsim.engine.core.run_settings import RunSettings
from optsim.engine.core.simulation import Simulation
from optsim.engine.analysis.slicing import filter_normalize, make_slice, param_slice, pca_slice, random_slice

NAMES = ("a", "b", "c", "d")
EXPR = "(a - 1)^2 + 2*(b + 1)^2 + 3*(c - 0.5)^2 + 4*d^2 + a*c"


@pytest.fixture(scope="module")
def obj():
    return Objective(compile_formula(EXPR, NAMES))


def test_param_slice_reads_parameter_values(obj):
    origin = np.array([0.3, -0.2, 0.7, 0.1])
    s = param_slice(obj.loss, NAMES, origin, "a", "c")
    ab = np.array([[0.3, 0.7], [1.0, -2.0]])
    expect = obj.loss(np.array([[0.3, -0.2, 0.7, 0.1], [1.0, -0.2, -2.0, 0.1]]))
    np.testing.assert_allclose(s.func(ab), expect)
    np.testing.assert_allclose(s.project(np.array([[5.0, -0.2, 6.0, 0.1]])), [[5.0, 6.0]])
    assert s.describe().startswith("slice along a and c") and s.labels == ("a", "c")
    with pytest.raises(ValueError):
        param_slice(obj.loss, NAMES, origin, "a", "a")


def test_random_slice_is_filter_normalized(obj):
    origin = np.array([0.3, -2.0, 0.0, 4.0])
    s = random_slice(obj.loss, origin, seed=5)
    # each one-parameter "filter" takes the size of the origin's entry; the zero one takes the mean
    # size; then each direction has unit length, so coordinates are distances in parameter space
    sizes = np.array([0.3, 2.0, np.mean([0.3, 2.0, 4.0]), 4.0])
    np.testing.assert_allclose(np.abs(s.d1), sizes / np.linalg.norm(sizes))
    np.testing.assert_allclose(np.abs(s.d2), sizes / np.linalg.norm(sizes))
    far = s.points(np.array([[0.5, 0.0], [0.0, -2.0]]))
    np.testing.assert_allclose(np.linalg.norm(far - origin, axis=1), [0.5, 2.0])
    assert s.func(np.zeros((1, 2)))[0] == pytest.approx(obj.loss(origin[None])[0])
    assert "filter-normalized" in s.describe()
    # seeded: the same seed gives the same plane
    np.testing.assert_array_equal(random_slice(obj.loss, origin, seed=5).d1, s.d1)


def test_filter_normalize_groups():
    d = filter_normalize(np.array([3.0, 4.0, 1.0]), np.array([0.6, 0.8, 2.0]), [[0, 1], [2]])
    assert np.linalg.norm(d[:2]) == pytest.approx(1.0) and d[2] == pytest.approx(2.0)
    np.testing.assert_allclose(d[:2] / np.linalg.norm(d[:2]), [0.6, 0.8])  # direction kept


def test_pca_slice_of_a_trajectory(obj):
    sim = Simulation(obj, [RunSettings("gd", "sgd", {"lr": 0.05}, (3.0, 2.0, -2.0, 1.0), 200)])
    points = [sim.params[0].copy()]
    for _ in range(200):
        sim.step()
        points.append(sim.params[0].copy())
    traj = np.array(points)
    s = pca_slice(obj.loss, traj)
    np.testing.assert_allclose(s.origin, traj[-1])
    assert abs(s.d1 @ s.d2) < 1e-12 and np.linalg.norm(s.d1) == pytest.approx(1.0)
    share = float(s.note.split("(")[1].split("%")[0]) / 100
    res = s.residual(traj)
    # two directions hold most of the path; what they miss is what the residual measures
    assert share > 0.9 and res.max() < 0.5 * np.linalg.norm(traj[0] - traj[-1])
    assert "principal directions" in s.describe()
    x0, x1, y0, y1 = s.window([traj])
    proj = s.project(traj)
    assert x0 <= proj[:, 0].min() and proj[:, 0].max() <= x1 and y0 <= proj[:, 1].min()


def test_trajectory_in_the_plane_projects_exactly(obj):
    origin = np.array([0.0, 0.0, 0.0, 0.0])
    s = random_slice(obj.loss, np.array([1.0, 1.0, 1.0, 1.0]), seed=1)
    ab = np.array([[0.1, 0.2], [-1.0, 3.0], [np.nan, 0.0]])
    pts = s.points(ab)
    back = s.project(pts)
    np.testing.assert_allclose(back[:2], ab[:2], atol=1e-12)
    assert np.isnan(back[2]).all()
    assert origin.size == 4


def test_make_slice_kinds(obj):
    origin = np.array([0.3, -0.2, 0.7, 0.1])
    assert make_slice("params", obj.loss, NAMES, origin).labels == ("a", "b")
    assert make_slice("params", obj.loss, NAMES, origin, plot=("b", "d")).labels == ("b", "d")
    assert make_slice("random", obj.loss, NAMES, origin).kind == "random"
    with pytest.raises(ValueError):
        make_slice("pca", obj.loss, NAMES, origin)
    with pytest.raises(ValueError):
        make_slice("diagonal", obj.loss, NAMES, origin)
    with pytest.raises(ValueError):
        pca_slice(obj.loss, origin[None])


def test_network_slice_matches_the_loss():
    """A tiny two-unit tanh network on a toy data set: the slice function is the data loss on the plane."""
    from optsim.engine.core.data import Dataset

    x = np.linspace(-1, 1, 20)
    data = Dataset.from_rows(("x", "y"), np.column_stack([x, np.sin(2 * x)]))
    names = ("a1", "b1", "c1", "a2", "b2", "c2", "d")
    f = compile_formula("(y - (c1*tanh(a1*x + b1) + c2*tanh(a2*x + b2) + d))^2", names, {}, ("x", "y"))
    net = Objective(f, data)
    origin = np.array([0.5, 0.1, 1.0, -0.4, 0.2, 0.3, 0.0])
    s = param_slice(net.loss, names, origin, "a1", "c1")
    got = s.func(np.array([[0.5, 1.0], [2.0, -1.0]]))
    p2 = origin.copy()
    p2[0], p2[2] = 2.0, -1.0
    np.testing.assert_allclose(got, net.loss(np.stack([origin, p2])))
