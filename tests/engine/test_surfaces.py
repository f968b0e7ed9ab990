"""Built-in surfaces: well-formed, exact derivatives agree with finite differences,
the listed minima are minima, and the documented values hold."""

from __future__ import annotations

import re

import numpy as np
import pytest

from optsim.engine.formula.compile import compile_formula
from optsim.engine.core.surfaces import BUILTIN_SURFACES, BuiltinSurface

NAMES = sorted(BUILTIN_SURFACES)
_COMPILED: dict = {}


def compiled(name: str):
    if name not in _COMPILED:
        s = BUILTIN_SURFACES[name]
        _COMPILED[name] = compile_formula(s.expr, s.params, s.constants)
    return _COMPILED[name]


def grid(s: BuiltinSurface, n: int = 201) -> np.ndarray:
    (xlo, xhi), (ylo, yhi) = (s.view[p] for p in s.params)
    X, Y = np.meshgrid(np.linspace(xlo, xhi, n), np.linspace(ylo, yhi, n), indexing="ij")
    return np.c_[X.ravel(), Y.ravel()]


def grid_local_minima(f, s: BuiltinSurface, n: int = 301) -> list[np.ndarray]:
    """Grid points strictly lower than their 8 neighbours (interior only)."""
    P = grid(s, n)
    v = f.value(P).reshape(n, n)
    c = v[1:-1, 1:-1]
    mask = np.ones_like(c, dtype=bool)
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            if dx or dy:
                mask &= c < v[1 + dx:n - 1 + dx, 1 + dy:n - 1 + dy]
    idx = np.argwhere(mask) + 1
    return [P.reshape(n, n, 2)[i, j] for i, j in idx]


def test_the_required_surfaces_exist():
    required = {"quadratic_bowl", "ravine", "saddle", "monkey_saddle", "lecture_w1w2",
                "rosenbrock", "himmelblau", "beale", "booth", "rastrigin", "ackley",
                "six_hump_camel", "styblinski_tang", "sharp_and_flat", "plateau_cliff"}
    assert required <= set(BUILTIN_SURFACES)


@pytest.mark.parametrize("name", NAMES)
def test_surface_is_well_formed(name):
    s = BUILTIN_SURFACES[name]
    assert isinstance(s, BuiltinSurface) and s.name == name
    assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", name)
    assert s.description and "\n" not in s.description and len(s.description) <= 120
    assert len(s.params) == 2
    assert set(s.view) == set(s.params)
    for lo, hi in s.view.values():
        assert lo < hi
    for m in s.minima:
        assert len(m) == len(s.params)
        for p, v in zip(s.params, m):
            lo, hi = s.view[p]
            assert lo <= v <= hi, (name, m)
    assert all(isinstance(v, float) for v in s.constants.values())
    f = compiled(name)
    assert f.params == s.params


@pytest.mark.parametrize("name", NAMES)
def test_exact_derivatives_agree_with_central_differences(name):
    s = BUILTIN_SURFACES[name]
    f = compiled(name)
    rng = np.random.default_rng(sum(map(ord, name)))
    lo = np.array([s.view[p][0] for p in s.params])
    hi = np.array([s.view[p][1] for p in s.params])
    p = lo + (hi - lo) * rng.uniform(0.05, 0.95, size=(25, 2))
    g = f.gradient(p)
    h = f.hessian(p)
    scale = np.abs(f.value(p)) + 1.0
    for j in range(2):
        d = np.zeros(2)
        d[j] = eps = 1e-6 * (hi[j] - lo[j])
        fd = (f.value(p + d) - f.value(p - d)) / (2 * eps)
        np.testing.assert_allclose(g[:, j], fd, rtol=1e-5, atol=1e-6 * scale.max())
        fdh = (f.gradient(p + d) - f.gradient(p - d)) / (2 * eps)
        gscale = np.abs(g).max() + 1.0
        np.testing.assert_allclose(h[:, :, j], fdh, rtol=1e-4, atol=1e-5 * gscale)
    np.testing.assert_array_equal(h, np.swapaxes(h, 1, 2))


@pytest.mark.parametrize("name", [n for n in NAMES if BUILTIN_SURFACES[n].minima])
def test_listed_minima_are_minima(name):
    s = BUILTIN_SURFACES[name]
    f = compiled(name)
    m = np.array(s.minima)
    g = f.gradient(m)
    h = f.hessian(m)
    for k in range(len(m)):
        eig = np.linalg.eigvalsh(h[k])
        scale = max(1.0, np.abs(eig).max())
        assert np.abs(g[k]).max() < 1e-9 * scale, (name, m[k], g[k])
        assert eig.min() >= -1e-9 * scale, (name, m[k], eig)
    # the lowest listed minimum is the lowest point of the view (on a fine grid)
    assert f.value(grid(s)).min() >= f.value(m).min() - 1e-9


@pytest.mark.parametrize("name,point,value,tol", [
    ("quadratic_bowl", (0, 0), 0.0, 0.0),
    ("ravine", (0, 0), 0.0, 0.0),
    ("lecture_w1w2", (1, 1), 0.0, 0.0),
    ("lecture_w1w2", (-2, -0.5), 0.0, 0.0),
    ("rosenbrock", (1, 1), 0.0, 0.0),
    ("himmelblau", (3, 2), 0.0, 0.0),
    ("beale", (3, 0.5), 0.0, 0.0),
    ("booth", (1, 3), 0.0, 0.0),
    ("rastrigin", (0, 0), 0.0, 0.0),
    ("ackley", (0, 0), 0.0, 1e-14),
    ("styblinski_tang", (-2.903534, -2.903534), -78.33233140754282, 1e-9),
    ("six_hump_camel", (0.0898, -0.7126), -1.0316284534898774, 1e-6),
    ("six_hump_camel", (-0.0898, 0.7126), -1.0316284534898774, 1e-6),
])
def test_known_minimum_values(name, point, value, tol):
    f = compiled(name)
    v = f.value(np.array([point], dtype=float))[0]
    assert abs(v - value) <= tol, (name, v)


def test_himmelblau_is_zero_at_its_four_minima():
    s = BUILTIN_SURFACES["himmelblau"]
    v = compiled("himmelblau").value(np.array(s.minima))
    assert len(s.minima) == 4 and np.all(np.abs(v) < 1e-20)


def test_saddles_and_the_lecture_hessians():
    origin = np.zeros((1, 2))
    h = compiled("saddle").hessian(origin)[0]
    np.testing.assert_array_equal(compiled("saddle").gradient(origin), [[0.0, 0.0]])
    np.testing.assert_allclose(np.linalg.eigvalsh(h), [-2.0, 2.0])
    mk = compiled("monkey_saddle")
    np.testing.assert_array_equal(mk.gradient(origin), [[0.0, 0.0]])
    np.testing.assert_array_equal(mk.hessian(origin), np.zeros((1, 2, 2)))
    lec = compiled("lecture_w1w2")
    np.testing.assert_array_equal(lec.hessian(origin)[0], [[0.0, -2.0], [-2.0, 0.0]])
    np.testing.assert_array_equal(lec.hessian(np.ones((1, 2)))[0], [[2.0, 2.0], [2.0, 2.0]])


def test_ravine_condition_number():
    eig = np.linalg.eigvalsh(compiled("ravine").hessian(np.array([[0.3, -0.2]]))[0])
    assert eig.max() / eig.min() == pytest.approx(50.0)


def test_sharp_and_flat_minima_are_as_documented():
    s = BUILTIN_SURFACES["sharp_and_flat"]
    f = compiled("sharp_and_flat")
    flat, sharp = np.array(s.minima)
    top = [np.linalg.eigvalsh(h).max() for h in f.hessian(np.array([flat, sharp]))]
    assert top[0] == pytest.approx(1.66, abs=0.01)
    assert top[1] == pytest.approx(53.4, abs=0.1)
    assert top[1] > 20 * top[0]                           # sharp is sharp
    vf, vs = f.value(np.array([flat, sharp]))
    assert vs < vf < 0 and vf - vs < 0.2                 # sharp is a little deeper
    found = grid_local_minima(f, s)
    assert len(found) == 2                                # no other minima in view
    for m in found:
        assert min(np.abs(m - flat).max(), np.abs(m - sharp).max()) < 0.05


def test_plateau_cliff_has_a_flat_plateau_a_steep_cliff_and_one_minimum():
    s = BUILTIN_SURFACES["plateau_cliff"]
    f = compiled("plateau_cliff")
    xs = np.linspace(-2, -0.3, 50)
    ys = np.linspace(-1.5, 1.5, 7)
    plateau = np.array([(x, y) for x in xs for y in ys])
    gp = np.linalg.norm(f.gradient(plateau), axis=1)
    assert gp.max() < 0.011 and gp.min() > 0.009        # tiny, but not zero: it creeps
    line = np.c_[np.linspace(-0.3, 0.3, 601), np.zeros(601)]
    assert np.abs(f.gradient(line)[:, 0]).max() > 5.0    # the cliff: 500x the plateau slope
    found = grid_local_minima(f, s)
    assert len(found) == 1
    np.testing.assert_allclose(found[0], s.minima[0], atol=0.02)
    assert f.value(np.array(s.minima))[0] == pytest.approx(-0.01005, abs=1e-6)


def test_surfaces_with_overridden_constants_still_compile():
    s = BUILTIN_SURFACES["rosenbrock"]
    f = compile_formula(s.expr, s.params, {**s.constants, "a": 2.0})
    assert f.value(np.array([[2.0, 4.0]]))[0] == 0.0
