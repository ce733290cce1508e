"""The whitelist expression grammar: equation and number text -> SymPy.

A small recursive-descent parser, so that nothing from a problem file ever
reaches ``eval``, ``sympify`` or ``parse_expr``, and every error has a column:

    expr   := term (("+" | "-") term)*
    term   := unary (("*" | "/" | "@") unary)*
    unary  := ("+" | "-") unary | power
    power  := atom (("**" | "^") unary)?          right-associative, as in Python
    atom   := (NUMBER | NAME | NAME "(" expr ("," expr)* ")" | "(" expr ")") ".T"*

``@`` (matrix product), ``.T`` (transpose) and the functions sum, mean, dot and softmax
exist only in equations over vectors and matrices (`parse_shaped_expression`, spec:
Vectors and grids). There a value is a scalar or an `Array`; the elementwise operators
and functions broadcast a scalar, and every shape is checked where it is combined, so
a mismatch is an error at its operator that names both shapes. An `Array` is only ever
a table of scalar expressions: equations over it expand to the scalar equations a
student would write by hand (W @ x gives W11*x1 + W12*x2, ...).

Limits keep parsing cheap whatever the input: length, nesting depth, and the
size of constant powers (``10**10**10`` is refused, not computed).
Errors are reported in reading order: a character the grammar does not know is
refused only when the parser reaches it, so ``__import__('os')`` is an unknown
function, not a stray quote.

Numbers are read by the rules of docs/numbers.md: exactly as written, in ASCII,
Persian or Arabic-Indic digits; every constant must be a finite real number
whose nearest double is finite, and not 0 unless the constant is 0.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Union

import sympy

from .ops import NAMED_CONSTANTS, OPS, USER_FUNCTIONS
from .source import did_you_mean

MAX_LENGTH = 4000
MAX_DEPTH = 60
MAX_CONSTANT_POWER_DIGITS = 400  # |base|**exponent may have at most this many digits
OPERATORS = "+ - * / **"
# Argument names of the functions over vectors, for messages (an op's own are in its entry
# in tutor/ops.py; default: x).
ARGUMENT_NAMES = {"sum": "v", "mean": "v", "dot": "a, b", "softmax": "v"}
SHAPED_ONLY = ("@", ".T")  # operators of equations over vectors and matrices

_DIGIT = "0-9\u06f0-\u06f9\u0660-\u0669"  # ASCII, Persian (Extended Arabic-Indic), Arabic-Indic
_POINT = ".\u066b"                          # the decimal point, and the Arabic decimal separator ٫
_TO_ASCII = str.maketrans({**{chr(0x06F0 + d): str(d) for d in range(10)},
                           **{chr(0x0660 + d): str(d) for d in range(10)}, "\u066b": "."})
_DATE = re.compile(r"\s*[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ][0-9:.]+(?:Z|[-+][0-9:]+)?)?\s*\Z")
_WRITTEN_NUMBER = re.compile(r"[0-9_]*\.?[0-9_]*(?:[eE][-+]?[0-9_]+)?")  # with '_', to quote it back
_TOKEN = re.compile(
    rf"""(?P<space>\s+)
      | (?P<number>(?:[{_DIGIT}]+[{_POINT}]?[{_DIGIT}]*|[{_POINT}][{_DIGIT}]+)(?:[eE][+-]?[{_DIGIT}]+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>\*\*|\.T(?![A-Za-z0-9_])|[-+*/^(),@])""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str   # number, name, op, end, or bad (a character outside the grammar)
    text: str
    offset: int


def tokenize(text: str, shaped: bool = False) -> list[Token]:
    """Tokens up to the first character outside the grammar (a "bad" token). ``@`` and
    ``.T`` belong to the grammar only with ``shaped``."""
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or (not shaped and match.group() in SHAPED_ONLY):
            tokens.append(Token("bad", text[pos], pos))
            break
        if match.lastgroup != "space":
            tokens.append(Token(match.lastgroup, match.group(), pos))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


@dataclass(frozen=True)
class Array:
    """A vector (shape (n,)) or matrix ((m, n)) of scalar expressions, in row-major order."""

    shape: tuple[int, ...]
    items: tuple[sympy.Expr, ...]

    def row(self, i: int) -> tuple[sympy.Expr, ...]:
        width = self.shape[-1]
        return self.items[i * width: (i + 1) * width]


Value = Union[sympy.Expr, Array]


def shape_of(value: Value) -> tuple[int, ...]:
    return value.shape if isinstance(value, Array) else ()


def shape_dims(shape: tuple[int, ...]) -> str:
    return "×".join(str(n) for n in shape)


def shape_word(shape: tuple[int, ...]) -> str:
    return {0: "scalar", 1: "vector", 2: "matrix"}.get(len(shape), "grid")


def shape_text(shape: tuple[int, ...]) -> str:
    """A shape in the words of a message: a scalar, a vector of 3, a 2×3 matrix."""
    if not shape:
        return "a scalar"
    if len(shape) == 1:
        return f"a vector of {shape[0]}"
    return f"a {shape_dims(shape)} {shape_word(shape)}"


class _Parser:
    def __init__(self, text: str, resolve_name, fail, shaped: bool = False, functions=None):
        self.fail = fail
        self.functions = functions or {}  # name -> SymPy callable, beyond USER_FUNCTIONS (any arity)
        self.resolve_name = resolve_name  # (name, offset) -> sympy.Expr (or an Array if shaped), raising on unknown
        self.text = text
        self.shaped = shaped
        self.tokens = tokenize(text, shaped)
        self.pos = 0
        self.depth = 0

    # -- token helpers
    @property
    def tok(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind == "bad":
            if unicodedata.category(tok.text) in ("Nd", "No"):
                raise self.fail(tok.offset, f"the digit {tok.text!r} ({unicodedata.name(tok.text, 'unnamed')}) "
                                            f"is not read as a number; write numbers with the digits 0-9 "
                                            f"(Persian and Arabic-Indic digits are read too)")
            raise self.fail(tok.offset, f"unexpected character {tok.text!r}: an expression holds only numbers, "
                                        f"names, {OPERATORS}, parentheses and commas")
        return tok

    def take(self, *texts: str) -> Token | None:
        if self.tok.kind == "op" and self.tok.text in texts:
            self.pos += 1
            return self.tokens[self.pos - 1]
        return None

    def expect_close(self, what: str) -> None:
        if not self.take(")"):
            raise self.fail(self.tok.offset, f"expected {what}, found {self._found()}")

    def _found(self) -> str:
        return "end of expression" if self.tok.kind == "end" else repr(self.tok.text)

    def nested(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(self.tok.offset, f"expression nested too deeply (more than {MAX_DEPTH} levels)")

    # -- grammar
    def parse(self) -> Value:
        value = self.expr()
        tok = self.tok
        if tok.kind in ("number", "name") or tok.text == "(":
            raise self.fail(tok.offset, f"expected an operator ({OPERATORS}) before {self._found()}")
        if tok.text == ")":
            raise self.fail(tok.offset, "unexpected ')': there is no '(' for it to close")
        if tok.kind != "end":
            raise self.fail(tok.offset, f"unexpected {self._found()} in expression")
        return value

    def expr(self) -> Value:
        value = self.term()
        while op := self.take("+", "-"):
            rhs = self.term()
            value = self.elementwise(op, value, rhs, (lambda a, b: a + b) if op.text == "+" else (lambda a, b: a - b))
        return value

    def term(self) -> Value:
        value = self.unary()
        while op := self.take("*", "/", "@"):
            rhs_at = self.tok.offset
            rhs = self.unary()
            if op.text == "@":
                value = self.matmul(op, value, rhs)
            elif op.text == "*":
                value = self.elementwise(op, value, rhs, lambda a, b: a * b)
            else:
                value = self.elementwise(op, value, rhs, lambda a, b: self.divide(a, b, rhs_at))
        return value

    def divide(self, a: sympy.Expr, b: sympy.Expr, at: int) -> sympy.Expr:
        if b.is_zero:
            raise self.fail(at, "division by zero")
        return a / b

    def unary(self) -> Value:
        if op := self.take("+", "-"):
            self.nested()
            operand = self.unary()
            self.depth -= 1
            return _map(operand, lambda a: -a) if op.text == "-" else operand
        return self.power()

    def power(self) -> Value:
        base = self.atom()
        if op := self.take("**", "^"):
            self.nested()
            exponent = self.unary()
            self.depth -= 1
            return self.elementwise(op, base, exponent, lambda b, e: self.raise_to(b, e, op))
        return base

    def raise_to(self, base: sympy.Expr, exponent: sympy.Expr, op: Token) -> sympy.Expr:
        _check_constant_power(base, exponent, lambda msg: self.fail(op.offset, msg))
        if base.is_zero and exponent.is_number and exponent.is_negative:
            raise self.fail(op.offset, "division by zero (0 to a negative power)")
        return _real(base ** exponent, lambda msg: self.fail(op.offset, f"this power {msg}"))

    def atom(self) -> Value:
        value = self.operand()
        while op := self.take(".T"):
            value = self.transpose(op, value)
        return value

    def operand(self) -> Value:
        tok = self.tok
        if tok.kind == "number":
            self.pos += 1
            return self.number(tok)
        if tok.kind == "name":
            self.pos += 1
            if self.tokens[self.pos].text == "(":  # peek without refusing a bad character yet
                return self.call(tok)
            if tok.text in NAMED_CONSTANTS:
                return NAMED_CONSTANTS[tok.text]
            return self.resolve_name(tok.text, tok.offset)
        if self.take("("):
            self.nested()
            value = self.expr()
            self.depth -= 1
            self.expect_close("')' to close '('")
            return value
        raise self.fail(tok.offset, f"expected a number, a name or '(', found {self._found()}")

    # -- vectors and matrices
    def elementwise(self, op: Token, a: Value, b: Value, combine) -> Value:
        """``combine`` applied to a and b, component by component; a scalar broadcasts."""
        if not isinstance(a, Array) and not isinstance(b, Array):
            return combine(a, b)
        if isinstance(a, Array) and isinstance(b, Array) and a.shape != b.shape:
            raise self.fail(op.offset, f"elementwise {op.text} needs equal shapes (or a scalar), found "
                                       f"{shape_text(a.shape)} and {shape_text(b.shape)}")
        shape = shape_of(a) or shape_of(b)
        left = a.items if isinstance(a, Array) else (a,) * len(b.items)
        right = b.items if isinstance(b, Array) else (b,) * len(a.items)
        return Array(shape, tuple(combine(x, y) for x, y in zip(left, right)))

    def matmul(self, op: Token, a: Value, b: Value) -> Value:
        """a @ b as numpy reads it (W @ x and x @ W are vectors, a matrix with one row times a
        vector is a vector of 1), and a vector times a one-row matrix is the outer product
        (q @ x.T, as a textbook writes q xᵀ). The inner product of two vectors is dot(a, b)."""
        sa, sb = shape_of(a), shape_of(b)
        if not sa or not sb or len(sa) > 2 or len(sb) > 2:
            raise self.fail(op.offset, f"@ multiplies vectors and matrices, found {shape_text(sa)} @ "
                                       f"{shape_text(sb)}" + (" (write * to multiply by a scalar)"
                                                              if not sa or not sb else ""))
        if len(sa) == 1 and len(sb) == 1:
            raise self.fail(op.offset, f"@ of two vectors ({shape_text(sa)} and {shape_text(sb)}) is ambiguous: "
                                       f"write dot(a, b) for the inner product, or a @ b.T for the outer product")
        rows = [a.row(i) for i in range(sa[0])] if len(sa) == 2 else None
        if len(sb) == 1:                             # matrix @ vector: a vector
            columns, squeeze = [b.items], "column"
        else:
            columns, squeeze = [tuple(b.row(k)[j] for k in range(sb[0])) for j in range(sb[1])], None
        if rows is None:                             # vector @ matrix: the vector is a row, or (outer) a column
            if sa[0] == sb[0]:
                rows, squeeze = [a.items], "row"
            elif sb[0] == 1:
                rows = [(x,) for x in a.items]
        if rows is None or len(rows[0]) != len(columns[0]):
            inner = sa[-1] if len(sa) == 2 else sa[0]
            raise self.fail(op.offset, f"cannot multiply {shape_text(sa)} by {shape_text(sb)}: @ needs as many "
                                       f"columns on the left ({inner}) as rows on the right ({sb[0]})")
        table = [[sympy.Add(*(x * y for x, y in zip(row, column))) for column in columns] for row in rows]
        if squeeze == "column":
            return Array((len(rows),), tuple(r[0] for r in table))
        if squeeze == "row":
            return Array((len(columns),), tuple(table[0]))
        return Array((len(rows), len(columns)), tuple(x for r in table for x in r))

    def transpose(self, op: Token, value: Value) -> Value:
        shape = shape_of(value)
        if len(shape) == 1:                           # a column becomes a row
            return Array((1, shape[0]), value.items)
        if len(shape) != 2:
            raise self.fail(op.offset, f".T transposes a vector or matrix, found {shape_text(shape)}")
        rows, cols = shape
        return Array((cols, rows), tuple(value.items[i * cols + j] for j in range(cols) for i in range(rows)))

    def number(self, tok: Token) -> sympy.Expr:
        after = self.tokens[self.pos]
        if after.kind == "name" and after.offset == tok.offset + len(tok.text) and after.text.startswith("_"):
            written = _WRITTEN_NUMBER.match(self.text, tok.offset).group()
            raise self.fail(tok.offset, f"{written!r} is not a number: YAML 1.2 and tutor do not read '_' "
                                        f"between digits; write {written.replace('_', '')}")
        text = tok.text.translate(_TO_ASCII)
        mantissa, _, power = text.lower().partition("e")
        if power and abs(int(power)) > MAX_CONSTANT_POWER_DIGITS and sympy.Rational(mantissa) != 0:
            raise self.fail(tok.offset, _range_problem(math.inf if int(power) > 0 else 0.0, tok.text))
        value = sympy.Rational(mantissa) * sympy.Integer(10) ** int(power or 0)  # exact: "0.1" is 1/10
        problem = _range_problem(float(value), tok.text) if value != 0 else None
        if problem:
            raise self.fail(tok.offset, problem)
        return value

    def call(self, name: Token) -> Value:
        if name.text in self.functions:
            return self.functions[name.text](*self.arguments(name))
        known = {**USER_FUNCTIONS, **(ARRAY_FUNCTIONS if self.shaped else {})}
        if name.text not in known:
            hint = did_you_mean(name.text, known)
            listed = f"did you mean {hint!r}?" if hint else f"known: {', '.join(known)}"
            raise self.fail(name.offset, f"unknown function {name.text!r} ({listed})")
        args = self.arguments(name)
        if name.text in ARRAY_FUNCTIONS:
            return self.array_function(name, args)
        op = USER_FUNCTIONS[name.text]
        if op.variadic and len(args) == 1 and isinstance(args[0], Array):  # max(v): over the components
            items = args[0].items
            return items[0] if len(items) == 1 else op.sympy_fn(*items)
        if len(args) != op.arity and not (op.variadic and len(args) > op.arity):
            raise self.fail(name.offset, f"expected {_count(op.arity, op.variadic)} for {_signature(name.text)}, "
                                         f"found {len(args)}")
        apply = lambda *xs: _real(op.sympy_fn(*xs), lambda msg: self.fail(name.offset, f"{name.text}(…) {msg}"))  # noqa: E731
        arrays = [a for a in args if isinstance(a, Array)]
        if not arrays:
            return apply(*args)
        shape = arrays[0].shape
        if any(a.shape != shape for a in arrays):
            shapes = " and ".join(shape_text(a.shape) for a in arrays)
            raise self.fail(name.offset, f"{name.text}(…) applies elementwise and needs equal shapes (or "
                                         f"scalars), found {shapes}")
        columns = [a.items if isinstance(a, Array) else (a,) * len(arrays[0].items) for a in args]
        return Array(shape, tuple(apply(*xs) for xs in zip(*columns)))

    def arguments(self, name: Token) -> list[Value]:
        self.take("(")
        self.nested()
        args = [self.expr()]
        while self.take(","):
            args.append(self.expr())
        self.depth -= 1
        self.expect_close(f"',' or ')' to close {name.text}(")
        return args

    def array_function(self, name: Token, args: list[Value]) -> Value:
        """sum(v), mean(v), dot(a, b), softmax(v): over all the components of their arguments."""
        arity = 2 if name.text == "dot" else 1
        if len(args) != arity:
            raise self.fail(name.offset, f"expected {_count(arity)} for {_signature(name.text)}, found {len(args)}")
        if not all(isinstance(a, Array) for a in args):
            found = " and ".join(shape_text(shape_of(a)) for a in args)
            raise self.fail(name.offset, f"{_signature(name.text)} takes {'vectors or matrices' if arity > 1 else 'a vector or matrix'}, "
                                         f"found {found}")
        if name.text == "dot":
            a, b = args
            if a.shape != b.shape:
                raise self.fail(name.offset, f"dot(a, b) needs equal shapes, found {shape_text(a.shape)} and "
                                             f"{shape_text(b.shape)}")
            return sympy.Add(*(x * y for x, y in zip(a.items, b.items)))
        (v,) = args
        if name.text == "sum":
            return sympy.Add(*v.items)
        if name.text == "mean":
            return sympy.Add(*v.items) / len(v.items)
        if len(v.shape) != 1 or v.shape[0] < 2:
            raise self.fail(name.offset, f"softmax(v) takes a vector of at least 2, found {shape_text(v.shape)}")
        return Array(v.shape, tuple(OPS["softmax"].sympy_fn(sympy.Integer(k), *v.items)
                                    for k in range(1, len(v.items) + 1)))


ARRAY_FUNCTIONS = dict.fromkeys(("sum", "mean", "dot", "softmax"))  # only in equations over vectors


def _signature(name: str) -> str:
    op = USER_FUNCTIONS.get(name)
    if op is not None and op.arguments:
        return f"{name}({op.arguments})"
    return f"{name}({ARGUMENT_NAMES.get(name, 'x' if op is None or op.arity == 1 else '…')})"


def _count(arity: int, variadic: bool = False) -> str:
    return f"{arity}{' or more' * variadic} argument{'s' * (arity > 1)}"


def _map(value: Value, fn) -> Value:
    return Array(value.shape, tuple(fn(x) for x in value.items)) if isinstance(value, Array) else fn(value)


def _real(value: sympy.Expr, fail) -> sympy.Expr:
    """A constant result must be a finite real number: sqrt(-4) is not silently
    dropped by a later relu, log(0) is not left to the evaluator."""
    if value.is_number:
        if value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            raise fail("is infinite or undefined here, not a finite number")
        if value.is_extended_real is False:
            raise fail(f"is the complex number {_clip(str(value))}, not a real number")
    return value


def _range_problem(value: float, written: str) -> str | None:
    """Why the nearest double of a nonzero constant cannot stand for it, or None.
    (Subnormal doubles, 5e-324 to 2.2e-308, are kept: every double's repr reads back.)"""
    if math.isinf(value) or math.isnan(value):
        return f"the number {_clip(written)} is out of range for a double (at most about 1.8e308)"
    if value == 0:
        return (f"the number {_clip(written)} is too small for a double: it would be 0 (the smallest "
                f"double is about 4.9e-324); write 0 if you mean zero")
    return None


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_constants(expr: sympy.Expr, fail) -> None:
    """Constants folded while parsing (1e-200*1e-200, exp(-1000)) obey the same range."""
    for sub in sympy.preorder_traversal(expr):
        if sub.is_number and not sub.is_zero:
            try:
                value = float(sub)
            except (TypeError, ValueError, OverflowError):
                raise fail(0, f"the constant {_clip(str(sub))} is not a finite real number") from None
            problem = _range_problem(value, str(sub) if len(str(sub)) <= 20 else str(sympy.N(sub, 3)))
            if problem:
                raise fail(0, problem.replace("the number", "the constant", 1))


def _check_constant_power(base: sympy.Expr, exponent: sympy.Expr, fail) -> None:
    """Refuse constant powers too large to compute quickly (10**10**10)."""
    if not (base.is_number and exponent.is_number):
        return
    try:
        size = abs(float(exponent)) * max(math.log10(abs(float(base))), 1.0) if base != 0 else 0.0
    except (OverflowError, TypeError, ValueError):
        size = math.inf
    if size > MAX_CONSTANT_POWER_DIGITS:
        raise fail(f"constant power too large (about {size:.3g} digits; at most {MAX_CONSTANT_POWER_DIGITS})")


def parse_expression(text: str, resolve_name, fail, functions=None) -> sympy.Expr:
    """Parse equation text. ``resolve_name(name, offset)`` maps a name to its symbol
    (raising for unknown ones); ``fail(offset, message)`` builds the located error;
    ``functions`` (name -> SymPy callable) adds functions that only tutor's own output
    uses (a symbolic solution's sum_i and derivative helpers)."""
    return _parse(text, resolve_name, fail, shaped=False, functions=functions)


def parse_shaped_expression(text: str, resolve_name, fail) -> Value:
    """Parse an equation over vectors and matrices: ``resolve_name`` may give an `Array`
    (a vector or matrix name's component symbols); the result is a scalar or an `Array`."""
    return _parse(text, resolve_name, fail, shaped=True)


def _parse(text: str, resolve_name, fail, shaped: bool, functions=None) -> Value:
    if len(text) > MAX_LENGTH:
        raise fail(0, f"expression too long ({len(text)} characters; at most {MAX_LENGTH})")
    if not text.strip():
        raise fail(0, "expected an expression, found empty text")
    if _DATE.match(text):
        raise fail(0, f"found the date {text.strip()!r}, not a number (YAML 1.2 has no dates, and as "
                      f"arithmetic it would be {text.strip().split('-')[0]} minus the rest); write the number meant")
    value = _Parser(text, resolve_name, fail, shaped, functions).parse()
    for expr in value.items if isinstance(value, Array) else (value,):
        _check_constants(expr, fail)
    return value


def parse_constant(text: str, fail) -> sympy.Expr:
    """Parse a number string such as "1/3" or "sqrt(2)/2": an expression with no names."""

    def no_names(name: str, offset: int):
        raise fail(offset, f"a number cannot refer to a name ({name!r}); "
                           f"write an arithmetic expression such as \"1/3\" or \"sqrt(2)/2\"")

    return parse_expression(text, no_names, fail)

