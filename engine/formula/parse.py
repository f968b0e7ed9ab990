"""Tokenizer and recursive-descent parser for the formula language.

A scenario file is untrusted input, so its formula is read by this small parser
(never by eval, exec, ast or sympify) into a whitelisted tree: numbers, known
names, + - * / ** (or ^), unary signs, parentheses and calls of a fixed set of
functions. Everything else is a FormulaError that says what and where.
Constant subtrees are folded here in float64, which is also where the size of
constant exponents is checked (so 9**9**9 is an error, never a hang).
"""

from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from ..errors import nearest
from .ops import OPS

MAX_LENGTH = 2000          # characters of formula text
# Nesting, counted twice: parentheses/calls/signs/powers while parsing, and levels of
# operations as SymPy will nest them. SymPy's diff recurses ~8 Python frames per level,
# so 48 keeps the deepest accepted formula under ~450 frames (the default limit is 1000).
MAX_DEPTH = 48
MAX_NODES = 500            # numbers, names and operations in the tree
MAX_EXPONENT = 64          # |constant exponent|, e.g. x**64 is fine, x**65 is not
MAX_PARAMS = 64            # parameters (the Hessian has MAX_PARAMS**2 entries)

# Callable names -> (number of arguments, operation key in OPS).
FUNCTIONS: dict[str, tuple[int, str]] = {
    "sin": (1, "sin"), "cos": (1, "cos"), "tan": (1, "tan"),
    "exp": (1, "exp"), "log": (1, "log"), "sqrt": (1, "sqrt"),
    "abs": (1, "abs"), "tanh": (1, "tanh"), "sigmoid": (1, "sigmoid"),
    "relu": (1, "relu"), "softplus": (1, "softplus"),
    "min": (2, "min"), "max": (2, "max"),
    "cosh": (1, "cosh"), "sinh": (1, "sinh"), "atan": (1, "atan"),
    "log1p": (1, "log1p"),
}
BUILTIN_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER_RE = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SPACE = " \t\r\n\f\v"
_TWO_CHAR_BAD = {"//", "==", "!=", "<=", ">=", "<<", ">>", ":=", "->"}


class FormulaError(ValueError):
    """A formula that cannot be accepted; .message says why, .position where (0-based)."""

    def __init__(self, message: str, position: int | None = None) -> None:
        self.message = message
        self.position = position
        where = "" if position is None else f" (at position {position})"
        super().__init__(message + where)


@dataclass(frozen=True)
class Token:
    kind: str      # "num", "name", "op", "str", "bad", "end"
    text: str
    pos: int


@dataclass
class Node:
    """One tree node. kind: num, name, sum, prod, neg, pow, call.

    sum.items / prod.items are (op, Node) pairs with op in "+-" or "*/";
    const is the float64 value when the whole subtree is constant.
    """
    kind: str
    pos: int
    end: int
    value: str = ""                       # name, function name or number text
    items: list = field(default_factory=list)
    const: float | None = None
    height: int = 0                       # levels of operations below (as SymPy will nest them)


def tokenize(text: str) -> list[Token]:
    """Split text into tokens; unknown characters become "bad" tokens for the parser to explain."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in _SPACE:
            i += 1
            continue
        if c.isascii() and (c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isascii()
                                            and text[i + 1].isdigit())):
            m = _NUMBER_RE.match(text, i)
            assert m is not None
            tokens.append(Token("num", m.group(), i))
            i = m.end()
            continue
        if c.isascii() and (c.isalpha() or c == "_"):
            m = _NAME_RE.match(text, i)
            assert m is not None
            tokens.append(Token("name", m.group(), i))
            i = m.end()
            continue
        if text.startswith("**", i):
            tokens.append(Token("op", "**", i))
            i += 2
            continue
        if text[i:i + 2] in _TWO_CHAR_BAD:
            tokens.append(Token("bad", text[i:i + 2], i))
            i += 2
            continue
        if c in "+-*/^(),":
            tokens.append(Token("op", c, i))
            i += 1
            continue
        if c in "'\"":
            j = text.find(c, i + 1)
            j = n if j < 0 else j + 1
            tokens.append(Token("str", text[i:j], i))
            i = j
            continue
        tokens.append(Token("bad", c, i))
        i += 1
    tokens.append(Token("end", "", n))
    return tokens


_BAD_MESSAGES = {
    ".": "attribute access ('.') is not allowed",
    "[": "subscripts and lists ('[') are not allowed",
    "]": "unexpected ']'",
    "{": "sets and dicts ('{') are not allowed",
    "}": "unexpected '}'",
    "//": "floor division '//' is not supported; use '/'",
    "%": "the modulo operator '%' is not supported",
    "=": "assignments and keyword arguments ('=') are not allowed",
    ":": "':' is not allowed (no lambdas, slices or dicts)",
    ";": "';' is not allowed: a formula is one expression",
    "@": "the '@' operator is not supported",
    "\\": "a backslash is not allowed",
}


def _describe(tok: Token) -> str:
    if tok.kind == "end":
        return "the end of the formula"
    return f"'{tok.text}'"


class _Parser:
    """Recursive descent over the token list; builds and folds Nodes."""

    def __init__(self, text: str, names: Mapping[str, tuple[str, float | None]]) -> None:
        self.text = text
        self.names = names            # name -> (role, constant value or None)
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0
        self.nodes = 0

    # --- helpers -------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def bad_token(self, tok: Token, after_operand: bool) -> FormulaError:
        """Explain why a token that cannot start or continue an expression is refused."""
        if tok.kind == "str":
            return FormulaError("strings are not allowed in a formula", tok.pos)
        if tok.kind == "bad":
            if tok.text == "[" and after_operand:
                return FormulaError("subscripts ('[') are not allowed", tok.pos)
            if tok.text == "[":
                return FormulaError("lists and comprehensions ('[') are not allowed", tok.pos)
            if tok.text == "." and not after_operand:
                return FormulaError("unexpected '.'", tok.pos)
            msg = _BAD_MESSAGES.get(tok.text)
            if msg is None:
                if tok.text in ("==", "!=", "<=", ">=", "<", ">"):
                    msg = f"comparisons ('{tok.text}') are not supported"
                elif tok.text in ("<<", ">>", ":=", "->"):
                    msg = f"'{tok.text}' is not supported"
                elif tok.text in "!&|~":
                    msg = f"comparison and logic operators ('{tok.text}') are not supported"
                else:
                    msg = f"unexpected character {tok.text!r}"
            return FormulaError(msg, tok.pos)
        if tok.kind == "name" and keyword.iskeyword(tok.text):
            return FormulaError(f"the keyword '{tok.text}' is not allowed: a formula is "
                                "arithmetic only", tok.pos)
        if after_operand and tok.kind in ("num", "name"):
            return FormulaError(f"missing operator before {_describe(tok)} "
                                "(write '*' for multiplication)", tok.pos)
        if after_operand and tok.text == "(":
            return FormulaError("missing operator before '(' (only functions can be called; "
                                "write '*' for multiplication)", tok.pos)
        if tok.kind == "end":
            return FormulaError("the formula ends too early: expected a number, name or '('",
                                tok.pos)
        if after_operand:
            return FormulaError(f"unexpected {_describe(tok)}", tok.pos)
        return FormulaError(f"expected a number, name or '(' but found {_describe(tok)}", tok.pos)

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaError(f"the formula is nested too deeply (more than {MAX_DEPTH} "
                               "levels of parentheses, calls, signs or powers)", pos)

    def count(self, pos: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise FormulaError(f"the formula is too large (more than {MAX_NODES} numbers, "
                               "names and operations)", pos)

    def measure(self, node: Node, extra: int = 0) -> Node:
        """Set and bound the node's height; SymPy recurses about 7 frames per level."""
        if node.const is None:
            node.height = 1 + extra + max(child.height for _, child in node.items)
            if node.height > MAX_DEPTH:
                raise FormulaError(f"the formula is nested too deeply (more than {MAX_DEPTH} "
                                   "levels of operations)", node.pos)
        return node

    def fold(self, node: Node, op: str, *args: float) -> Node:
        """Compute a constant node in float64 and require a finite result."""
        with np.errstate(all="ignore"):
            value = float(OPS[op].numpy(*(np.float64(a) for a in args)))
        if not math.isfinite(value):
            snippet = self.text[node.pos:node.end]
            raise FormulaError(f"the constant expression '{snippet}' evaluates to {value} "
                               "in float64", node.pos)
        node.const = value
        return node

    # --- grammar -------------------------------------------------------
    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise FormulaError("the formula is empty", 0)
        node = self.sum()
        if self.tok.kind != "end":
            tok = self.tok
            if tok.text == ")":
                raise FormulaError("unmatched ')'", tok.pos)
            if tok.text == ",":
                raise FormulaError("unexpected ',' (commas only separate function arguments)",
                                   tok.pos)
            raise self.bad_token(tok, after_operand=True)
        return node

    def sum(self) -> Node:
        return self.chain("+-", self.product, "sum", ("add", "sub"))

    def product(self) -> Node:
        return self.chain("*/", self.unary, "prod", ("mul", "div"))

    def chain(self, ops: str, operand: Callable[[], Node], kind: str, names: tuple[str, str]) -> Node:
        """A left-to-right chain `a op b op c ...` of one precedence level (+- or */)."""
        first = operand()
        if not (self.tok.kind == "op" and self.tok.text in ops):
            return first
        items = [(ops[0], first)]
        while self.tok.kind == "op" and self.tok.text in ops:
            op = self.tok.text
            self.i += 1
            self.count(self.tok.pos)
            items.append((op, operand()))
        node = Node(kind, first.pos, items[-1][1].end, items=items)
        if all(n.const is not None for _, n in items):
            self.fold(node, "identity", _chain(items, ops[0], *names))
        return self.measure(node, any(op == ops[1] for op, _ in items))

    def unary(self) -> Node:
        tok = self.tok
        if tok.kind == "op" and tok.text in "+-":
            self.enter(tok.pos)
            self.i += 1
            operand = self.unary()
            self.depth -= 1
            if tok.text == "+":
                return operand
            self.count(tok.pos)
            node = Node("neg", tok.pos, operand.end, items=[("-", operand)])
            if operand.const is not None:
                self.fold(node, "neg", operand.const)
            return self.measure(node)
        return self.power()

    def power(self) -> Node:
        base = self.primary()
        tok = self.tok
        if not (tok.kind == "op" and tok.text in ("**", "^")):
            self.check_postfix(base)
            return base
        self.enter(tok.pos)
        self.i += 1
        self.count(tok.pos)
        exponent = self.unary()                    # right associative; 2**-1 is fine
        self.depth -= 1
        if exponent.const is not None and not abs(exponent.const) <= MAX_EXPONENT:
            snippet = self.text[exponent.pos:exponent.end]
            raise FormulaError(f"the exponent '{snippet}' = {exponent.const:g} is too large "
                               f"(a constant exponent must be within +-{MAX_EXPONENT})",
                               exponent.pos)
        node = Node("pow", base.pos, exponent.end, items=[("b", base), ("e", exponent)])
        if base.const is not None and exponent.const is not None:
            self.fold(node, "pow", base.const, exponent.const)
        return self.measure(node)

    def check_postfix(self, node: Node) -> None:
        """Refuse x.y, x[0] and x(1) with a message about what was tried."""
        tok = self.tok
        if tok.kind == "bad" and tok.text in (".", "["):
            raise self.bad_token(tok, after_operand=True)
        if tok.kind == "op" and tok.text == "(":
            if node.kind == "name":
                raise FormulaError(f"'{node.value}' is not a function; write '*' for "
                                   "multiplication", tok.pos)
            raise self.bad_token(tok, after_operand=True)

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind == "num":
            self.i += 1
            self.count(tok.pos)
            value = float(tok.text)
            if not math.isfinite(value):
                raise FormulaError(f"the number {tok.text} is too large for float64", tok.pos)
            return Node("num", tok.pos, tok.pos + len(tok.text), value=tok.text, const=value)
        if tok.kind == "op" and tok.text == "(":
            self.enter(tok.pos)
            self.i += 1
            inner = self.sum()
            if not (self.tok.kind == "op" and self.tok.text == ")"):
                if self.tok.kind == "end":
                    raise FormulaError("missing ')' for the '(' here", tok.pos)
                if self.tok.text == ",":
                    raise FormulaError("tuples are not allowed (',' outside a function call)",
                                       self.tok.pos)
                raise self.bad_token(self.tok, after_operand=True)
            self.i += 1
            self.depth -= 1
            inner.pos, inner.end = tok.pos, self.tokens[self.i - 1].pos + 1
            return inner
        if tok.kind == "name" and not keyword.iskeyword(tok.text):
            nxt = self.tokens[self.i + 1]
            if nxt.kind == "op" and nxt.text == "(":
                return self.call()
            return self.name()
        raise self.bad_token(tok, after_operand=False)

    def name(self) -> Node:
        tok = self.tok
        entry = self.names.get(tok.text)
        if entry is None:
            if tok.text in FUNCTIONS:
                raise FormulaError(f"the function '{tok.text}' needs its argument in "
                                   f"parentheses, e.g. {tok.text}(x)", tok.pos)
            raise FormulaError(_unknown_name_message(tok.text, self.names), tok.pos)
        self.i += 1
        self.count(tok.pos)
        role, value = entry
        return Node("name", tok.pos, tok.pos + len(tok.text), value=tok.text,
                    items=[(role, None)], const=value)

    def call(self) -> Node:
        tok = self.tok
        spec = FUNCTIONS.get(tok.text)
        if spec is None:
            if tok.text in self.names:
                raise FormulaError(f"'{tok.text}' is not a function; write '*' for "
                                   "multiplication", tok.pos)
            msg = f"unknown function '{tok.text}'"
            close = nearest(tok.text, FUNCTIONS)
            if close:
                msg += close
            else:
                msg += "; the functions are " + ", ".join(sorted(FUNCTIONS))
            raise FormulaError(msg, tok.pos)
        arity, op = spec
        self.enter(tok.pos)
        self.count(tok.pos)
        self.i += 2                                   # name and '('
        args: list[Node] = []
        if not (self.tok.kind == "op" and self.tok.text == ")"):
            while True:
                args.append(self.sum())
                if self.tok.kind == "op" and self.tok.text == ",":
                    self.i += 1
                    continue
                break
        if not (self.tok.kind == "op" and self.tok.text == ")"):
            if self.tok.kind == "end":
                raise FormulaError(f"missing ')' to close {tok.text}(", tok.pos)
            raise self.bad_token(self.tok, after_operand=True)
        end = self.tok.pos + 1
        self.i += 1
        self.depth -= 1
        if len(args) != arity:
            plural = "argument" if arity == 1 else "arguments"
            raise FormulaError(f"{tok.text}() takes {arity} {plural}, got {len(args)}", tok.pos)
        node = Node("call", tok.pos, end, value=op, items=[("a", a) for a in args])
        if all(a.const is not None for a in args):
            self.fold(node, op, *(a.const for a in args))
        return self.measure(node)


def _chain(items: list, first_op: str, op_a: str, op_b: str) -> float:
    """Left-to-right float64 value of a constant sum or product."""
    with np.errstate(all="ignore"):
        acc = np.float64(items[0][1].const)
        for op, n in items[1:]:
            acc = OPS[op_a if op == first_op else op_b].numpy(acc, np.float64(n.const))
    return float(acc)


def _unknown_name_message(name: str, names: Mapping[str, object]) -> str:
    msg = f"unknown name '{name}'"
    valid = list(names)
    close = nearest(name, valid)
    if close:
        return msg + close
    return msg + "; the names you can use are " + ", ".join(valid)


def build_namespace(params: Sequence[str], constants: Mapping[str, float],
                    columns: Sequence[str]) -> dict[str, tuple[str, float | None]]:
    """Check the declared names and map each to (role, constant value)."""
    if isinstance(params, str) or isinstance(columns, str):
        raise FormulaError("params and columns must be sequences of names, not one string")
    params = list(params)
    if not params:
        raise FormulaError("a formula needs at least one parameter")
    if len(params) > MAX_PARAMS:
        raise FormulaError(f"too many parameters ({len(params)}; the limit is {MAX_PARAMS})")
    names: dict[str, tuple[str, float | None]] = {}
    seen: set[str] = set()
    declared = ([(p, "param") for p in params] + [(c, "column") for c in columns]
                + [(k, "const") for k in constants])
    for name, role in declared:
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            raise FormulaError(f"{role} name {name!r} is not a valid name (letters, digits "
                               "and '_', not starting with a digit)")
        if keyword.iskeyword(name):
            raise FormulaError(f"{role} name '{name}' is a reserved keyword")
        if name in FUNCTIONS:
            raise FormulaError(f"{role} name '{name}' is the name of a function")
        if name in seen:
            raise FormulaError(f"the name '{name}' is declared twice")
        seen.add(name)
        if role == "const":
            raw = constants[name]
            try:
                value = float(raw)
            except (TypeError, ValueError):
                raise FormulaError(f"constant '{name}' must be a number, not {raw!r}") from None
            if not math.isfinite(value):
                raise FormulaError(f"constant '{name}' must be finite, not {value}")
            names[name] = ("const", value)
        else:
            names[name] = (role, None)
    for name, value in BUILTIN_CONSTANTS.items():   # a declared 'e' or 'pi' shadows these
        names.setdefault(name, ("builtin", value))
    return names


def parse_formula(text: str, names: Mapping[str, tuple[str, float | None]]) -> Node:
    """Parse text into a folded, bounded Node tree (raises FormulaError)."""
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is too long ({len(text)} characters; the limit is "
                           f"{MAX_LENGTH})", MAX_LENGTH)
    return _Parser(text, names).parse()
