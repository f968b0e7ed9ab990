"""Property tests: the compiler never fails in any way but FormulaError, never hangs,
and every accepted formula evaluates (finite, inf or nan) without exceptions."""

from __future__ import annotations

import os
import warnings

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from optsim.engine.formula.compile import FormulaError, compile_formula

PARAMS = ["x", "y"]
CONSTANTS = {"c": 2.5}
POINTS = np.array([[0.0, 0.0], [1.0, -1.0], [-2.5, 0.5], [1e3, -1e-3], [np.pi, 7.0]])
# Deterministic and quick (~5 s) by default; OPTSIM_FUZZ_EXAMPLES=5000 runs a longer,
# randomized search.
_EXAMPLES = int(os.environ.get("OPTSIM_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=_EXAMPLES or 300, deadline=3000, derandomize=not _EXAMPLES,
                database=None, suppress_health_check=[HealthCheck.too_slow])
FEWER = settings(FUZZ, max_examples=_EXAMPLES or 120)

# Errors a well-formed tree may still earn: its constant part is not a finite number, a
# constant exponent is out of bounds, it is too big or too costly, or it divides by
# something that simplifies to zero. SymPy's own failures on degenerate input are
# reported as FormulaError too ("could not differentiate").
ALLOWED_FOR_VALID_TREES = ("evaluates to", "is too large", "too large for float64",
                           "nested too deeply", "too large (more than", "division by zero",
                           "is undefined", "too complex to differentiate",
                           "could not differentiate")


def evaluate_everything(f) -> None:
    """Every method, with and without the scalar path, shapes and dtypes right, no warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = f.value(POINTS)
        g = f.gradient(POINTS)
        vg = f.value_and_gradient(POINTS)
        h = f.hessian(POINTS)
        singles = [f.gradient(POINTS[i:i + 1]) for i in range(len(POINTS))]
    n = len(POINTS)
    assert v.shape == (n,) and g.shape == (n, 2) and h.shape == (n, 2, 2)
    assert v.dtype == g.dtype == h.dtype == np.float64
    np.testing.assert_array_equal(vg[0], v)
    np.testing.assert_array_equal(vg[1], g)
    np.testing.assert_array_equal(h, np.swapaxes(h, 1, 2))
    # one point alone gives the same bits as inside a batch
    np.testing.assert_array_equal(np.concatenate(singles), g)


def try_compile(text: str):
    try:
        f = compile_formula(text, PARAMS, CONSTANTS)
    except FormulaError as err:
        assert err.message and (err.position is None or 0 <= err.position <= len(text))
        event("rejected")
        return err
    event("compiled")
    return f


@FUZZ
@given(st.text(max_size=60))
def test_arbitrary_text_compiles_or_raises_formula_error(text):
    result = try_compile(text)
    if not isinstance(result, FormulaError):
        evaluate_everything(result)


FORMULA_ALPHABET = "xyce0123456789.+-*/^() ,[]'\"_sinctaqrpelmxhgbdu!=<>%@{}:;\\\t"


@FUZZ
@given(st.text(alphabet=FORMULA_ALPHABET, max_size=40))
def test_formula_like_text_compiles_or_raises_formula_error(text):
    result = try_compile(text)
    if not isinstance(result, FormulaError):
        evaluate_everything(result)


# --- random valid expression trees ---------------------------------------------------

UNARY = ["sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu",
         "softplus", "cosh", "sinh", "atan", "log1p"]
BINARY = ["+", "-", "*", "/", "**", "^"]

numbers = st.one_of(
    st.integers(min_value=0, max_value=12).map(str),
    st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["0.5", "1e-3", "2.5E2", ".25", "3."]),
)
leaves = st.one_of(numbers, st.sampled_from(["x", "y", "c", "pi", "e", "x", "y"]))


@st.composite
def trees(draw, depth: int = 0) -> str:
    """A random formula in the language, at most 5 levels deep (so at most 32 leaves)."""
    if depth >= 5 or draw(st.integers(0, 3)) == 0:
        return draw(leaves)
    kind = draw(st.sampled_from(["binary", "sign", "unary", "minmax", "power"]))
    sub = trees(depth + 1)
    if kind == "binary":
        return f"({draw(sub)} {draw(st.sampled_from(BINARY))} {draw(sub)})"
    if kind == "sign":
        return f"{draw(st.sampled_from(['-', '+']))}{draw(sub)}"
    if kind == "unary":
        return f"{draw(st.sampled_from(UNARY))}({draw(sub)})"
    if kind == "minmax":
        return f"{draw(st.sampled_from(['min', 'max']))}({draw(sub)}, {draw(sub)})"
    return f"({draw(sub)})**{draw(st.integers(-6, 6))}"


@FUZZ
@given(trees())
def test_valid_trees_compile_and_evaluate(text):
    result = try_compile(text)
    if isinstance(result, FormulaError):
        assert any(reason in result.message for reason in ALLOWED_FOR_VALID_TREES), \
            (text, result.message)
        return
    evaluate_everything(result)


@FEWER
@given(trees(), trees())
def test_valid_trees_in_products_with_data(a, b):
    text = f"(t - ({a})*u)^2 + ({b})"
    try:
        f = compile_formula(text, PARAMS, CONSTANTS, columns=["t", "u"])
    except FormulaError as err:
        assert any(reason in err.message for reason in ALLOWED_FOR_VALID_TREES), \
            (text, err.message)
        return
    data = {"t": np.array([0.0, 1.0, -2.0]), "u": np.array([[1.0, 0.5, 0.0]] * len(POINTS))}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = f.value(POINTS, data)
        g = f.gradient(POINTS, data)
        h = f.hessian(POINTS, data)
    assert v.shape == (5, 3) and g.shape == (5, 3, 2) and h.shape == (5, 3, 2, 2)


@FUZZ
@given(trees(), st.lists(st.tuples(st.integers(0, 200), st.integers(0, 3),
                                   st.text(alphabet=FORMULA_ALPHABET, max_size=3)),
                         min_size=1, max_size=3))
def test_mutated_valid_formulas_compile_or_raise_formula_error(text, edits):
    """Valid text with a few characters deleted or inserted: near misses of real input."""
    for pos, delete, insert in edits:
        pos = min(pos, len(text))
        text = text[:pos] + insert + text[pos + delete:]
    result = try_compile(text)
    if not isinstance(result, FormulaError):
        evaluate_everything(result)
