"""SymPy side of the formula compiler: exact derivatives, CSE, lowering to a Program.

Imported lazily by compile_formula because importing SymPy takes a while.
The parse tree is turned into SymPy objects with explicit constructors (no
string ever reaches SymPy), the gradient is taken with sympy.diff and reduced
with sympy.cse, the Hessian is sympy.diff through the cse'd gradient (chain
rule over its temporaries), and all is lowered into straight-line programs of
the primitive operations in ops.py (no lambdify, no generated code).

Non-smooth functions are SymPy functions of our own with real-valued
derivatives: d relu = step (0 at 0), d abs = sign, d max(a, b) = step(a - b)
for a and 1 - step(a - b) for b (so at a tie the gradient goes to b, a valid
subgradient), and the derivative of a step is 0. SymPy's own Abs, sign,
Heaviside, DiracDelta (= 0), Max, Min and Piecewise are lowered too, in case
SymPy's simplification creates them.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from fractions import Fraction
from typing import Sequence

import numpy as np
import sympy as sp
from sympy.core.logic import fuzzy_and

from .program import Program
from .ops import OPS
from .parse import MAX_EXPONENT, FormulaError, Node

_INTEGER_POWER_LIMIT = MAX_EXPONENT      # x**k by repeated multiplication up to this k
MAX_HESSIAN_WORK = 20_000                # see _hessian_work; typical surfaces need < 3000


class _RealFunction(sp.Function):
    """A function that is real wherever its arguments are real."""

    def _eval_is_extended_real(self):
        return fuzzy_and(a.is_extended_real for a in self.args)


class sigmoid(_RealFunction):
    nargs = 1

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)


class softplus(_RealFunction):
    nargs = 1

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])


class step0(_RealFunction):
    """Heaviside step with step0(0) = 0; its derivative is taken as 0."""
    nargs = 1

    def fdiff(self, argindex=1):
        return sp.S.Zero


class sgn(_RealFunction):
    nargs = 1

    def fdiff(self, argindex=1):
        return sp.S.Zero


class absval(_RealFunction):
    nargs = 1

    def fdiff(self, argindex=1):
        return sgn(self.args[0])


class relu(_RealFunction):
    nargs = 1

    def fdiff(self, argindex=1):
        return step0(self.args[0])


class fmax(_RealFunction):
    nargs = 2

    def fdiff(self, argindex=1):
        a, b = self.args
        s = step0(a - b)
        return s if argindex == 1 else 1 - s


class fmin(_RealFunction):
    nargs = 2

    def fdiff(self, argindex=1):
        a, b = self.args
        s = step0(b - a)
        return s if argindex == 1 else 1 - s


class log1p(sp.Function):
    nargs = 1

    def fdiff(self, argindex=1):
        return 1 / (1 + self.args[0])


_CALLS = {
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "exp": sp.exp, "log": sp.log,
    "sqrt": sp.sqrt, "abs": absval, "tanh": sp.tanh, "sigmoid": sigmoid, "relu": relu,
    "softplus": softplus, "min": fmin, "max": fmax, "cosh": sp.cosh, "sinh": sp.sinh,
    "atan": sp.atan, "log1p": log1p,
}

# SymPy function class -> primitive operation key (one argument unless noted).
_FUNC_OPS = {
    sp.sin: "sin", sp.cos: "cos", sp.tan: "tan", sp.exp: "exp", sp.log: "log",
    sp.tanh: "tanh", sp.sinh: "sinh", sp.cosh: "cosh", sp.atan: "atan",
    sigmoid: "sigmoid", softplus: "softplus", relu: "relu", step0: "step", sgn: "sign",
    absval: "abs", fmax: "max", fmin: "min", log1p: "log1p",
    sp.Abs: "abs", sp.sign: "sign", sp.Heaviside: "step", sp.Max: "max", sp.Min: "min",
}
_RELATIONS = {
    sp.StrictLessThan: "lt", sp.LessThan: "le", sp.StrictGreaterThan: "gt",
    sp.GreaterThan: "ge", sp.Equality: "eq", sp.Unequality: "ne",
}


_EXACT_LIMIT = 2**31          # larger numbers, and fractions with big denominators, are Floats


def _number(value: float) -> sp.Expr:
    """A SymPy number whose float64 rounding is value.

    Small integers and short decimals stay exact (0.5 -> 1/2, so x**0.5 is
    sqrt(x)); anything else becomes a 53-bit sp.Float. SymPy computes with
    exact numbers exactly, so a big exact number raised to a power (which SymPy
    does by itself in places like (250*x)**0.84 or exp(n*log(3))) could take
    unbounded memory; Floats stay 53 bits.
    """
    if value.is_integer() and abs(value) <= _EXACT_LIMIT:
        return sp.Integer(int(value))
    frac = Fraction(repr(value))          # the shortest decimal that rounds to value
    if frac.denominator <= 10_000 and abs(frac.numerator) <= _EXACT_LIMIT:
        return sp.Rational(frac.numerator, frac.denominator)
    return sp.Float(value)


def _is_small_exact(e: sp.Expr) -> bool:
    return (e.is_Float or (e.is_Rational and abs(e.p) <= _EXACT_LIMIT and e.q <= 10_000)) \
        is True


def to_sympy(node: Node, symbols: dict[str, sp.Symbol], text: str = "") -> sp.Expr:
    """Build the SymPy expression of a parse tree with explicit constructors.

    Guards against SymPy's own simplifications, checked node by node:
    - a part that simplifies to a number (x - x + 3) is stored like a literal,
      as a small exact number or a Float (see _number);
    - a part that simplifies into something undefined (x/(y - y) is zoo*x,
      log(x - x) is zoo) is refused where it appears, because SymPy's
      assumption queries can fail on such objects further up;
    - an exponent that simplifies to a number must be within +-MAX_EXPONENT,
      and nested constant powers may multiply to at most MAX_POWER_PRODUCT
      (((2*x)**64)**64 makes SymPy compute 2**4096 exactly).
    """
    return _build(node, symbols, text)[0]


MAX_POWER_PRODUCT = 256


def _build(node: Node, symbols: dict[str, sp.Symbol], text: str) -> tuple[sp.Expr, float]:
    """(expression, product of the constant exponents SymPy may apply to its numbers)."""
    kind = node.kind
    if kind == "name":
        role = node.items[0][0]
        if role == "builtin":
            return (sp.pi if node.value == "pi" else sp.E), 1.0
        if node.const is None:
            return symbols[node.value], 1.0
    if node.const is not None:
        return _number(node.const), 1.0
    built = [_build(child, symbols, text) for _, child in node.items]
    children = [e for e, _ in built]
    power = max(m for _, m in built)
    snippet = text[node.pos:node.end]
    if kind == "sum":
        expr = sp.Add(*(c if op == "+" else sp.Mul(sp.S.NegativeOne, c)
                        for (op, _), c in zip(node.items, children)))
    elif kind == "prod":
        expr = _product(node, children, text)
    elif kind == "neg":
        expr = sp.Mul(sp.S.NegativeOne, children[0])
    elif kind == "pow":
        expr, power = _power(node, children, built[0][1], snippet)
    elif kind == "call":
        expr = _CALLS[node.value](*children)
    else:
        raise FormulaError(f"internal: unknown node kind {kind!r}", node.pos)
    if isinstance(expr, (sp.Add, sp.Function)):
        power = 1.0          # SymPy does not push powers into sums or through functions
    return _checked_constant(expr, snippet, node.pos), power


def _product(node: Node, children: list[sp.Expr], text: str) -> sp.Expr:
    """The factors of a product, each divisor inverted; a divisor that is 0 is an error."""
    factors = []
    for (op, child), c in zip(node.items, children):
        if op == "/":
            if c.is_zero:
                raise FormulaError(f"division by zero ('{text[child.pos:child.end]}' "
                                   "is 0)", child.pos)
            c = sp.Pow(c, sp.S.NegativeOne)
        factors.append(c)
    return sp.Mul(*factors)


def _power(node: Node, children: list[sp.Expr], power: float, snippet: str) -> tuple[sp.Expr, float]:
    """base**exponent, and the base's exponent product times a constant exponent (both capped)."""
    base, exponent = children
    if exponent.is_Number:
        value = constant_value(exponent)
        if not abs(value) <= MAX_EXPONENT:
            raise FormulaError(f"the exponent in '{snippet}' simplifies to {value:g}, which "
                               f"is too large (a constant exponent must be within "
                               f"+-{MAX_EXPONENT})", node.pos)
        if not (exponent.is_Integer or (2 * exponent).is_Integer):
            exponent = sp.Float(value)       # only x**k and x**(k/2) stay exact
        power *= max(1.0, abs(value))
        if power > MAX_POWER_PRODUCT:
            raise FormulaError(f"nested powers in '{snippet}' multiply to an exponent of "
                               f"{power:g}, which is too large (the limit is "
                               f"{MAX_POWER_PRODUCT})", node.pos)
    return sp.Pow(base, exponent), power


def _checked_constant(expr: sp.Expr, snippet: str, pos: int) -> sp.Expr:
    """expr, or its float64 value if it is a constant that is not small and exact; undefined is an error."""
    if expr.has(sp.S.ComplexInfinity, sp.S.NaN, sp.S.Infinity, sp.S.NegativeInfinity):
        raise FormulaError(f"'{snippet}' is undefined (it divides by zero or takes the log "
                           "of zero after simplification)", pos)
    if not expr.free_symbols and not _is_small_exact(expr):
        value = constant_value(expr)
        if not math.isfinite(value):
            raise FormulaError(f"'{snippet}' evaluates to {value} in float64 (after "
                               "simplification)", pos)
        expr = _number(value)
    return expr


def _unsupported(e: sp.Basic) -> FormulaError:
    return FormulaError(f"internal: the derivative contains {type(e).__name__}, which the "
                        "evaluator does not support")


def constant_value(e: sp.Basic) -> float:
    """Float64 value of an expression without free symbols (complex results are NaN)."""
    with np.errstate(all="ignore"):
        return float(_const(e))


def _const(e: sp.Basic) -> np.float64:
    if e is sp.S.true:
        return np.float64(1.0)
    if e is sp.S.false:
        return np.float64(0.0)
    if e is sp.S.NaN:
        return np.float64(math.nan)
    if e is sp.S.ComplexInfinity or e is sp.S.Infinity:     # x/0 -> zoo*x: like NumPy's inf
        return np.float64(math.inf)
    if e is sp.S.NegativeInfinity:
        return np.float64(-math.inf)
    if e.is_Number or e.is_NumberSymbol:
        try:
            return np.float64(float(e))
        except OverflowError:
            return np.float64(math.inf if e > 0 else -math.inf)
    if e is sp.S.ImaginaryUnit:
        return np.float64(math.nan)                 # real semantics: complex means NaN
    if isinstance(e, sp.Add):
        acc = np.float64(0.0)
        for a in e.args:
            acc = acc + _const(a)
        return acc
    if isinstance(e, sp.Mul):
        acc = np.float64(1.0)
        for a in e.args:
            acc = acc * _const(a)
        return acc
    if isinstance(e, sp.Pow):
        return np.power(_const(e.base), _const(e.exp))
    if isinstance(e, sp.DiracDelta):
        return np.float64(0.0)
    f = type(e)
    if f is sp.Heaviside:
        return np.float64(OPS["step"].numpy(_const(e.args[0])))
    if f in (sp.Max, sp.Min):
        vals = [_const(a) for a in e.args]
        acc = vals[0]
        for v in vals[1:]:
            acc = OPS[_FUNC_OPS[f]].numpy(acc, v)
        return np.float64(acc)
    if f in _FUNC_OPS:
        return np.float64(OPS[_FUNC_OPS[f]].numpy(*(_const(a) for a in e.args)))
    if f in _RELATIONS:
        return np.float64(OPS[_RELATIONS[f]].numpy(_const(e.lhs), _const(e.rhs)))
    if isinstance(e, sp.Piecewise):
        for expr, cond in e.args:
            if _const(cond):
                return _const(expr)
        return np.float64(math.nan)
    if isinstance(e, (sp.And, sp.Or, sp.Not)):
        vals = [bool(_const(a)) for a in e.args]
        return np.float64(all(vals) if isinstance(e, sp.And)
                          else any(vals) if isinstance(e, sp.Or) else not vals[0])
    raise _unsupported(e)


class _Lowering:
    """Turn SymPy expressions into one Program's instructions, sharing equal subterms."""

    def __init__(self, inputs: dict[sp.Symbol, int], replacements: dict[sp.Symbol, sp.Expr]):
        self.inputs = inputs
        self.replacements = replacements
        self.n_inputs = len(inputs)
        self.memo: dict[sp.Basic, int] = {}
        self.instr_memo: dict[tuple, int] = {}
        self.instructions: list[tuple[str, tuple[int, ...], int]] = []
        self.constants: list[float] = []
        self.const_index: dict[bytes, int] = {}

    # Constants get provisional negative ids; finish() moves them after the temporaries.
    def const(self, value: float) -> int:
        key = np.float64(value).tobytes()
        if key not in self.const_index:
            self.const_index[key] = -1 - len(self.constants)
            self.constants.append(value)
        return self.const_index[key]

    def emit(self, op: str, *args: int) -> int:
        key = (op, args)
        if key in self.instr_memo:
            return self.instr_memo[key]
        out = self.n_inputs + len(self.instructions)
        self.instructions.append((op, args, out))
        self.instr_memo[key] = out
        return out

    def reg(self, e: sp.Basic) -> int:
        if e in self.memo:
            return self.memo[e]
        if e in self.inputs:
            r = self.inputs[e]
        elif e in self.replacements:
            r = self.reg(self.replacements[e])
        elif not e.free_symbols:
            r = self.const(constant_value(e))
        else:
            r = self._lower(e)
        self.memo[e] = r
        return r

    def lower_outputs(self, exprs: list) -> list[int]:
        """Registers of exprs, lowering the cse temporaries they need first, in order.

        Going through the temporaries in their (topological) order keeps the
        recursion as shallow as one expression instead of as long as the chain of
        temporaries, and leaves out the temporaries these outputs do not need.
        """
        needed: set[sp.Symbol] = set()
        stack = [s for e in exprs for s in e.free_symbols if s in self.replacements]
        while stack:
            sym = stack.pop()
            if sym not in needed:
                needed.add(sym)
                stack.extend(s for s in self.replacements[sym].free_symbols
                             if s in self.replacements)
        for sym in self.replacements:                # insertion order is topological
            if sym in needed:
                self.reg(sym)
        return [self.reg(e) for e in exprs]

    def chain(self, op: str, regs: list[int]) -> int:
        acc = regs[0]
        for r in regs[1:]:
            acc = self.emit(op, acc, r)
        return acc

    def int_power(self, base: int, k: int) -> int:
        """base**k for 1 <= k by repeated squaring (shared subpowers)."""
        if k == 1:
            return base
        if k % 2 == 0:
            half = self.int_power(base, k // 2)
            return self.emit("mul", half, half)
        return self.emit("mul", self.int_power(base, k - 1), base)

    def _lower(self, e: sp.Basic) -> int:
        if isinstance(e, sp.Add):
            return self._add(e)
        if isinstance(e, sp.Mul):
            return self._mul(e)
        if isinstance(e, sp.Pow):
            return self._pow(e)
        f = type(e)
        if f is sp.DiracDelta:
            return self.const(0.0)
        if f in (sp.Max, sp.Min):
            return self.chain(_FUNC_OPS[f], [self.reg(a) for a in e.args])
        if f is sp.Heaviside:
            return self.emit("step", self.reg(e.args[0]))
        if f in _FUNC_OPS:
            return self.emit(_FUNC_OPS[f], *(self.reg(a) for a in e.args))
        if f in _RELATIONS:
            return self.emit(_RELATIONS[f], self.reg(e.lhs), self.reg(e.rhs))
        if isinstance(e, (sp.And, sp.Or)):
            return self.chain("and" if isinstance(e, sp.And) else "or",
                              [self.reg(a) for a in e.args])
        if isinstance(e, sp.Not):
            return self.emit("not", self.reg(e.args[0]))
        if isinstance(e, sp.Piecewise):
            acc = self.const(math.nan)
            for expr, cond in reversed(e.args):
                acc = self.emit("select", self.reg(cond), self.emit("pair", self.reg(expr), acc))
            return acc
        raise _unsupported(e)

    def _add(self, e: sp.Add) -> int:
        pos: list[int] = []
        neg: list[int] = []
        for term in e.args:
            c, rest = term.as_coeff_Mul()
            if c.is_extended_negative is True and c.is_finite:
                neg.append(self.reg(sp.Mul(-c, rest)))
            else:
                pos.append(self.reg(term))
        if pos:
            acc = self.chain("add", pos)
        else:
            acc = self.emit("neg", neg.pop(0))
        for r in neg:
            acc = self.emit("sub", acc, r)
        return acc

    def _mul(self, e: sp.Mul) -> int:
        coeff, factors = e.as_coeff_mul()
        num: list[int] = []
        den: list[int] = []
        for f in factors:
            if isinstance(f, sp.Pow) and f.exp.is_Number and f.exp.is_extended_negative:
                den.append(self.reg(sp.Pow(f.base, -f.exp)))
            else:
                num.append(self.reg(f))
        if num:
            acc = self.chain("mul", num)
            if den:
                acc = self.emit("div", acc, self.chain("mul", den))
        else:
            acc = self.emit("div", self.const(1.0), self.chain("mul", den))
        if coeff == 1:
            return acc
        if coeff == -1:
            return self.emit("neg", acc)
        if coeff.is_Rational and abs(coeff.p) == 1 and 1 < coeff.q < 2**53:   # x/3, not x*0.333
            return self.emit("div", acc, self.const(float(coeff.q * coeff.p)))
        return self.emit("mul", self.const(constant_value(coeff)), acc)

    def _pow(self, e: sp.Pow) -> int:
        base, ex = e.base, e.exp
        if ex.is_Integer and 1 <= abs(int(ex)) <= _INTEGER_POWER_LIMIT:
            k = int(ex)
            r = self.int_power(self.reg(base), abs(k))
            return r if k > 0 else self.emit("div", self.const(1.0), r)
        if ex.is_Rational and ex.q == 2 and abs(ex.p) <= 2 * _INTEGER_POWER_LIMIT + 1:
            r = self.int_power(self.emit("sqrt", self.reg(base)), abs(int(ex.p)))
            return r if ex.p > 0 else self.emit("div", self.const(1.0), r)
        if base is sp.E:
            return self.emit("exp", self.reg(ex))
        return self.emit("pow", self.reg(base), self.reg(ex))

    def finish(self, outputs: list[int], n_params: int, columns: Sequence[str],
               kind: str) -> Program:
        n_temps = len(self.instructions)
        first_const = self.n_inputs + n_temps

        def fix(r: int) -> int:
            return first_const + (-1 - r) if r < 0 else r

        instrs = [(op, tuple(fix(a) for a in args), out) for op, args, out in self.instructions]
        return Program(n_params, columns, instrs, n_temps, self.constants,
                       [fix(r) for r in outputs], kind)


def compile_programs(tree: Node, params: Sequence[str], columns: Sequence[str],
                     text: str = "") -> dict[str, Program]:
    """Differentiate, cse and lower the parse tree: one Program per public method."""
    symbols = {name: sp.Symbol(name, real=True) for name in (*params, *columns)}
    with _sympy_errors():
        f = to_sympy(tree, symbols, text)
    return programs_from_sympy(f, [symbols[n] for n in params], [symbols[n] for n in columns])


@contextmanager
def _sympy_errors():
    """Turn SymPy's own failures on degenerate input into FormulaError.

    Only wraps calls into SymPy (building, diff, cse), not our lowering, so that
    a bug of ours still shows up as one.
    """
    try:
        yield
    except FormulaError:
        raise
    except (TypeError, ValueError, ArithmeticError) as err:
        raise FormulaError(f"SymPy could not differentiate this formula "
                           f"({type(err).__name__}: {err})") from err


def programs_from_sympy(f: sp.Expr, psyms: Sequence[sp.Symbol],
                        csyms: Sequence[sp.Symbol] = ()) -> dict[str, Program]:
    """Exact gradient (sympy.diff) and Hessian of f, cse, and four lowered programs.

    The Hessian is sympy.diff applied through the cse'd gradient: each cse
    temporary s gets symbols for its total derivatives ds/dx_j (chain rule), so
    the Hessian grows linearly with the gradient. Differentiating the expanded
    gradient instead grows like k**3 for a product of k factors (a long product
    took seconds to minutes), which would let a formula hang the app.
    """
    p = len(psyms)
    with _sympy_errors():
        grads = [sp.diff(f, s) for s in psyms]
        cse_symbols = sp.numbered_symbols("_cse", cls=sp.Dummy, real=True)
        repl, reduced = sp.cse([f, *grads], order="none", symbols=cse_symbols)
        value_e, grad_e = reduced[0], list(reduced[1:1 + p])
        work = _hessian_work(grad_e, repl, psyms)
        if work > MAX_HESSIAN_WORK:
            raise FormulaError(f"the formula is too complex to differentiate twice (about "
                               f"{work} units of work; the limit is {MAX_HESSIAN_WORK}); long "
                               "products and deep nesting cost the most")
        hess_e, extra = _hessian_through_cse(grad_e, repl, psyms)
        undefined = (sp.S.ComplexInfinity, sp.S.NaN)
        if any(e.has(*undefined) for e in [*grads, *hess_e.values(), *extra.values()]):
            raise FormulaError("the derivative of this formula is undefined (SymPy finds a "
                               "division by zero or log(0) in it, as in (x - x)**y)")
    replacements = dict(repl)
    replacements.update(extra)
    hess_full: list = [None] * (p * p)
    for (i, j), h in hess_e.items():
        hess_full[i * p + j] = hess_full[j * p + i] = h
    inputs = {s: k for k, s in enumerate((*psyms, *csyms))}
    columns = [s.name for s in csyms]

    def program(exprs: list, kind: str) -> Program:
        low = _Lowering(inputs, replacements)
        outs = low.lower_outputs(exprs)
        return low.finish(outs, p, columns, kind)

    return {
        "value": program([value_e], "value"),
        "gradient": program(grad_e, "gradient"),
        "value_and_gradient": program([value_e, *grad_e], "value_and_gradient"),
        "hessian": program(hess_full, "hessian"),
    }


def _hessian_work(grads: list, repl: list, psyms: Sequence[sp.Symbol]) -> int:
    """Rough count of the node visits _hessian_through_cse will make.

    Each expression is differentiated once per parameter and once more per cse
    temporary in it; the cost of one sympy.diff is about the tree size. About
    40-80 microseconds per unit on a laptop, so the limit is ~1-2 s.
    """
    sizes: dict[sp.Basic, int] = {}

    def size(e: sp.Basic) -> int:
        r = sizes.get(e)
        if r is None:
            r = sizes[e] = 1 + sum(size(a) for a in e.args)
        return r

    temps = {s for s, _ in repl}
    work = 0
    for e in [*grads, *(e for _, e in repl)]:
        free = e.free_symbols
        work += size(e) * (1 + len(free & temps)) * len(psyms)
    return work


def _hessian_through_cse(grads: list, repl: list, psyms: Sequence[sp.Symbol]):
    """d grads[i] / d x_j for j >= i, by the chain rule over the cse temporaries.

    Returns ({(i, j): expr}, {new symbol: its definition}); the expressions use
    the cse temporaries and the new symbols, which the lowering resolves.
    """
    p = len(psyms)
    param_set = set(psyms)
    depends: dict[sp.Symbol, set[int]] = {}      # cse symbol -> params it depends on
    total: dict[tuple[sp.Symbol, int], sp.Expr] = {}
    extra: dict[sp.Symbol, sp.Expr] = {}
    new_symbols = sp.numbered_symbols("_d", cls=sp.Dummy, real=True)
    index = {s: k for k, s in enumerate(psyms)}

    def deps(e: sp.Expr) -> set[int]:
        out: set[int] = set()
        for s in e.free_symbols:
            if s in param_set:
                out.add(index[s])
            elif s in depends:
                out |= depends[s]
        return out

    def total_diff(e: sp.Expr, j: int) -> sp.Expr:
        d = sp.diff(e, psyms[j])
        for s in e.free_symbols:
            if s in depends and j in depends[s]:
                ds = total.get((s, j), sp.S.Zero)
                if ds != 0:
                    d = d + sp.diff(e, s) * ds
        return d

    for s, e in repl:                                # topological order
        depends[s] = deps(e)
        for j in depends[s]:
            d = total_diff(e, j)
            if d.is_Atom:
                total[(s, j)] = d
            else:
                t = next(new_symbols)
                extra[t] = d
                total[(s, j)] = t
    hess = {}
    for i in range(p):
        for j in range(i, p):
            hess[(i, j)] = total_diff(grads[i], j) if j in deps(grads[i]) else sp.S.Zero
    return hess, extra
