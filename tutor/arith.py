"""Arithmetic domains, and the compiler from SymPy expressions to fast closures.

The same solution can be computed four ways (the problem's `arithmetic`):

* ``float``  IEEE double, the default;
* ``round``  double, but every recorded intermediate value is rounded to N
             decimals before it is used, as textbooks do;
* ``significant``  the same, rounded to N significant figures;
* ``exact``  SymPy numbers: rationals stay rationals, e^-2 stays e^-2.

An expression is compiled once into a tree of Python closures over a list of
slots (no code generation, no ``eval``); evaluating it per sample costs a few
hundred nanoseconds per operation in float arithmetic.
"""

from __future__ import annotations

import io
import math
import re
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any, Callable, Iterable, Sequence

import sympy

from .errors import DivergenceError
from .ops import OP_OF_CLASS

Compiled = Callable[[Sequence[Any]], Any]


class NotFinite(ArithmeticError):
    """Raised inside a computation; the caller names the quantity."""


def _fpow(a: float, b: float) -> float:
    result = a ** b
    if isinstance(result, complex):
        raise NotFinite(f"{a!r} to the power {b!r} is not a real number")
    return result


def ordered_sum(values: Iterable[Any], start: Any = 0) -> Any:
    """Left to right, one rounding per addition, as written out by hand. Not the
    builtin sum(): from Python 3.12 it compensates float rounding errors, so its
    last bits, and the solution JSON, would depend on the Python version."""
    total = start
    for value in values:
        total = total + value
    return total


class FloatDomain:
    name = "float"
    exact = False

    def number(self, n) -> float:       # a problem Number
        return n.value

    def const(self, c: sympy.Expr) -> float:
        return float(c)

    def function(self, cls: type) -> Callable:
        return OP_OF_CLASS[cls].numeric

    pow = staticmethod(_fpow)

    def sqrt(self, x):
        if x < 0:
            raise NotFinite(f"square root of the negative number {x!r}")
        return math.sqrt(x)

    def round(self, x):
        return x

    is_finite = staticmethod(math.isfinite)
    show = staticmethod(repr)

    def check(self, x, quantity: str, step: int | None = None):
        if not math.isfinite(x):
            raise DivergenceError(quantity, f"evaluates to {x!r}", step)
        return x

    def to_float(self, x) -> float:
        return float(x)


WIDE = Context(prec=400)  # wide enough for any double: 1e308 has 309 digits


def round_half_up(x: float, decimals: int) -> float:
    """Round as by hand: the shortest decimal that denotes x, half away from zero."""
    if not math.isfinite(x):
        return x
    quantum = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(float(x))).quantize(quantum, rounding=ROUND_HALF_UP, context=WIDE))


class RoundDomain(FloatDomain):
    name = "round"

    def __init__(self, decimals: int):
        self.decimals = decimals

    def round(self, x: float) -> float:
        return round_half_up(x, self.decimals)


def round_significant(x: float, figures: int) -> float:
    """Round as by hand to `figures` significant figures: the shortest decimal that
    denotes x, half away from zero (as round_half_up)."""
    if not math.isfinite(x) or x == 0:
        return x
    written = Decimal(repr(float(x)))
    quantum = Decimal(1).scaleb(written.adjusted() - figures + 1)
    return float(written.quantize(quantum, rounding=ROUND_HALF_UP, context=WIDE))


class SignificantDomain(FloatDomain):
    name = "significant"

    def __init__(self, figures: int):
        self.figures = figures

    def round(self, x: float) -> float:
        return round_significant(x, self.figures)


DIGITS = 50  # precision of the decimal shadow every exact value carries


ZERO, ONE, MINUS_ONE = sympy.Integer(0), sympy.Integer(1), sympy.Integer(-1)


class Exact:
    """An exact value (a SymPy expression) with a high-precision decimal shadow.

    Exact values of a training run share subexpressions: as trees they grow
    exponentially with depth, so they are never evaluated or queried as trees.
    Branches (relu at 0, max), finiteness and printing use the shadow; rational
    values stay plain rationals, where the shadow is exact too.

    Only rationals are combined by SymPy's own arithmetic. Any other value is
    built unevaluated (``evaluate=False``): SymPy's automatic simplification
    would flatten and re-collect the whole history of the value on every
    operation, which makes a training run's cost grow about tenfold per step.
    The unevaluated tree denotes the same number; the few identities SymPy
    would have applied to reach a rational (0·x, x + 0, 1·x, x − x) are
    applied here, so rationals stay rationals.
    """

    __slots__ = ("expr", "approx")

    def __init__(self, expr: sympy.Expr | int, approx: sympy.Float | None = None):
        expr = sympy.Integer(expr) if isinstance(expr, int) else expr
        self.expr = expr
        self.approx = approx if approx is not None else sympy.Float(expr.evalf(DIGITS), DIGITS)

    @staticmethod
    def of(x) -> "Exact":
        return x if isinstance(x, Exact) else Exact(sympy.Integer(x) if isinstance(x, int) else x)

    def __add__(self, other):
        other = Exact.of(other)
        return Exact(_add(self.expr, other.expr), self.approx + other.approx)

    __radd__ = __add__

    def __sub__(self, other):
        other = Exact.of(other)
        a, b = self.expr, other.expr
        expr = ZERO if a is b else _add(a, _neg(b))
        return Exact(expr, self.approx - other.approx)

    def __rsub__(self, other):
        return Exact.of(other) - self

    def __mul__(self, other):
        other = Exact.of(other)
        return Exact(_mul(self.expr, other.expr), self.approx * other.approx)

    __rmul__ = __mul__

    def __truediv__(self, other):
        other = Exact.of(other)
        if other.is_zero():
            raise NotFinite("division by zero")
        a, b = self.expr, other.expr
        if a.is_Rational and b.is_Rational:
            expr = a / b
        elif a is b:
            expr = ONE
        else:
            expr = _mul(a, b ** -1 if b.is_Rational else sympy.Pow(b, MINUS_ONE, evaluate=False))
        return Exact(expr, self.approx / other.approx)

    def __rtruediv__(self, other):
        return Exact.of(other) / self

    def __neg__(self):
        return Exact(_neg(self.expr), -self.approx)

    def __pow__(self, other):
        other = Exact.of(other)
        if self.is_zero() and other.approx < 0:
            raise NotFinite("division by zero")
        rational = self.expr.is_Rational and other.expr.is_Rational
        expr = self.expr ** other.expr if rational else sympy.Pow(self.expr, other.expr, evaluate=False)
        return Exact(expr, self.approx ** other.approx)

    def __rpow__(self, other):
        return Exact.of(other) ** self

    def is_zero(self) -> bool:
        return self.expr.is_zero if self.expr.is_Rational else abs(self.approx) < 1e-45

    def __repr__(self) -> str:
        return f"Exact({self.expr})"


def _add(a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
    if a.is_Rational and b.is_Rational:
        return a + b
    if a is ZERO or (a.is_Rational and a.is_zero):
        return b
    if b.is_Rational and b.is_zero:
        return a
    return sympy.Add(a, b, evaluate=False)


def _mul(a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
    if a.is_Rational and b.is_Rational:
        return a * b
    if (a.is_Rational and a.is_zero) or (b.is_Rational and b.is_zero):
        return ZERO
    if a.is_Rational and a == 1:
        return b
    if b.is_Rational and b == 1:
        return a
    return sympy.Mul(a, b, evaluate=False)


def _neg(a: sympy.Expr) -> sympy.Expr:
    return -a if a.is_Rational else sympy.Mul(MINUS_ONE, a, evaluate=False)


class ExactDomain:
    name = "exact"
    exact = True

    def number(self, n) -> Exact:
        return Exact(n.exact)

    def const(self, c: sympy.Expr) -> Exact:
        return Exact(c)

    def function(self, cls: type) -> Callable:
        def apply(*args: Exact) -> Exact:
            approx = cls(*(a.approx for a in args))
            if any(a.approx.is_extended_real is False for a in (*args, Exact(approx, approx))):
                shown = ", ".join(str(sympy.N(a.approx, 6)) for a in args)
                raise NotFinite(f"{cls.__name__} of {shown} is not a finite real number")
            if not approx.is_Float:  # settled exactly (relu → 0), or left symbolic (softplus(0) = log 2)
                approx = sympy.Float(approx.evalf(DIGITS), DIGITS)
            if all(a.expr.is_Rational for a in args):
                return Exact(cls(*(a.expr for a in args)), approx)  # SymPy simplifies σ(0) = 1/2 etc.
            return Exact(cls(*(a.expr for a in args), evaluate=False), approx)
        return apply

    @staticmethod
    def pow(a: Exact, b: Exact) -> Exact:
        return a ** b

    def sqrt(self, x: Exact) -> Exact:
        if x.approx < 0:  # as in float arithmetic, not an imaginary number carried on
            raise NotFinite(f"square root of the negative number {float(x.approx)!r}")
        return x ** Exact(sympy.Rational(1, 2))

    def round(self, x):
        return x

    def wrap(self, expr: sympy.Expr) -> Exact:
        return Exact(expr)

    @staticmethod
    def is_finite(x: Exact) -> bool:
        # The shadow is a Float, or an Integer where SymPy settles a value exactly
        # (max(z, 0) = 0, 0 · x = 0); nan and zoo are Numbers that are not finite.
        return x.approx.is_Number and x.approx.is_finite is True

    @staticmethod
    def show(x: Exact) -> str:
        return str(x.approx)

    def check(self, x: Exact, quantity: str, step: int | None = None):
        if not self.is_finite(x):
            raise DivergenceError(quantity, f"evaluates to {x.approx}", step)
        return x

    def to_float(self, x: Exact) -> float | None:
        return float(x.approx)


def make_domain(arithmetic: str, decimals: int | None = None):
    if arithmetic == "exact":
        return ExactDomain()
    if arithmetic == "round":
        return RoundDomain(decimals or 0)
    if arithmetic == "significant":  # `decimals` holds the number of significant figures
        return SignificantDomain(decimals or 1)
    return FloatDomain()


# ---------------------------------------------------------------- compiler

def compile_expr(expr: sympy.Expr, slots: dict[sympy.Symbol, int], domain) -> Compiled:
    """Compile ``expr`` into ``f(env)`` where ``env[slots[symbol]]`` is each symbol's value."""
    if isinstance(expr, sympy.Symbol):
        i = slots[expr]
        return lambda env: env[i]
    if expr.is_Number or (expr.is_number and not expr.free_symbols and domain.exact):
        c = domain.const(expr)
        return lambda env: c
    if isinstance(expr, sympy.Add):
        parts = [compile_expr(a, slots, domain) for a in expr.args]
        if len(parts) == 2:
            a, b = parts
            return lambda env: a(env) + b(env)
        return lambda env: ordered_sum(p(env) for p in parts)
    if isinstance(expr, sympy.Mul):
        return _compile_mul(expr, slots, domain)
    if isinstance(expr, sympy.Pow):
        return _compile_pow(expr.base, expr.exp, slots, domain)
    if isinstance(expr, sympy.Function):
        fn = domain.function(type(expr))
        args = [compile_expr(a, slots, domain) for a in expr.args]
        if len(args) == 1:
            (a,) = args
            return lambda env: fn(a(env))
        return lambda env: fn(*[a(env) for a in args])
    if expr.is_number:  # pi, E, exp(2) in float arithmetic
        c = domain.const(expr)
        return lambda env: c
    raise TypeError(f"cannot compile {type(expr).__name__}: {expr}")  # a bug: the grammar admits no such thing


def _compile_mul(expr: sympy.Mul, slots, domain) -> Compiled:
    # a*b/c is computed as a*b/c, not a*b*(1/c): one rounding less, as a person would.
    numer, denom = [], []
    for factor in expr.args:
        if isinstance(factor, sympy.Pow) and factor.exp.is_Number and factor.exp < 0:
            denom.append(compile_expr(factor.base ** -factor.exp, slots, domain))
        elif factor.is_Rational and factor.q != 1 and not domain.exact and _exact_in_double(factor):
            numer.append(compile_expr(sympy.Integer(factor.p), slots, domain))
            denom.append(compile_expr(sympy.Integer(factor.q), slots, domain))
        else:
            numer.append(compile_expr(factor, slots, domain))
    top = _product(numer, domain)
    if not denom:
        return top
    bottom = _product(denom, domain)

    if domain.exact:  # Exact checks its own divisions
        return lambda env: top(env) / bottom(env)

    def divide(env):
        b = bottom(env)
        if b == 0:
            raise NotFinite("division by zero")
        return top(env) / b

    return divide


def _exact_in_double(r: sympy.Rational) -> bool:
    """Whether a fraction's numerator and denominator are each exactly a double, so
    that dividing them is one rounding (a 310-decimal constant's are not: inf/inf)."""
    return abs(r.p) <= 2 ** 53 and r.q <= 2 ** 53


def _product(parts: list[Compiled], domain) -> Compiled:
    if not parts:
        one = domain.const(sympy.Integer(1))
        return lambda env: one
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        a, b = parts
        return lambda env: a(env) * b(env)

    def product(env):
        value = parts[0](env)
        for p in parts[1:]:
            value = value * p(env)
        return value

    return product


def _compile_pow(base: sympy.Expr, exp: sympy.Expr, slots, domain) -> Compiled:
    b = compile_expr(base, slots, domain)
    if exp == 2:
        return lambda env: (lambda x: x * x)(b(env))
    if exp == sympy.Rational(1, 2):
        return lambda env: domain.sqrt(b(env))
    if exp == -1 and not domain.exact:
        def reciprocal(env):
            x = b(env)
            if x == 0:
                raise NotFinite("division by zero")
            return 1 / x
        return reciprocal
    e = compile_expr(exp, slots, domain)
    pw = domain.pow
    return lambda env: pw(b(env), e(env))


# ---------------------------------------------------------------- generated float code

class FloatSource:
    """Python source for float expressions: the same operations, in the same order,
    as `compile_expr` builds for the float domain, but as one generated function per
    use, whose intermediate values are local variables (no closure call per
    operation). The source holds only names made here (a symbol's variable, a
    constant's, a function's), operators and parentheses: never text from a problem
    file. Constants and functions are handed over in the function's namespace."""

    def __init__(self, variables: dict[sympy.Symbol, str]):
        self.variables = variables      # symbol -> the local variable holding its value
        self.namespace: dict[str, Any] = {"_fpow": _fpow, "_sqrt": FloatDomain().sqrt}
        self._constants: dict[float, str] = {}
        self._functions: dict[type, str] = {}
        self._temporaries = 0

    def constant(self, value: float) -> str:
        key = (value, math.copysign(1.0, value))  # 0.0 and -0.0 are different constants
        name = self._constants.get(key)
        if name is None:
            name = self._constants[key] = f"c{len(self._constants)}"
            self.namespace[name] = value
        return name

    def function(self, cls: type) -> str:
        name = self._functions.get(cls)
        if name is None:
            name = self._functions[cls] = f"f{len(self._functions)}"
            self.namespace[name] = OP_OF_CLASS[cls].numeric
        return name

    def temporary(self) -> str:
        self._temporaries += 1
        return f"_t{self._temporaries}"

    def expr(self, expr: sympy.Expr) -> str:
        """Mirrors `compile_expr` for the float domain, case by case."""
        if isinstance(expr, sympy.Symbol):
            return self.variables[expr]
        if expr.is_Number:
            return self.constant(float(expr))
        if isinstance(expr, sympy.Add):  # ordered_sum from 0 for three or more terms
            parts = [self.expr(a) for a in expr.args]
            return f"({parts[0]} + {parts[1]})" if len(parts) == 2 else f"(0 + {' + '.join(parts)})"
        if isinstance(expr, sympy.Mul):
            return self._mul(expr)
        if isinstance(expr, sympy.Pow):
            return self._pow(expr.base, expr.exp)
        if isinstance(expr, sympy.Function):
            return f"{self.function(type(expr))}({', '.join(self.expr(a) for a in expr.args)})"
        if expr.is_number:
            return self.constant(float(expr))
        raise TypeError(f"cannot compile {type(expr).__name__}: {expr}")

    def _mul(self, expr: sympy.Mul) -> str:
        numer, denom = [], []
        for factor in expr.args:
            if isinstance(factor, sympy.Pow) and factor.exp.is_Number and factor.exp < 0:
                denom.append(self.expr(factor.base ** -factor.exp))
            elif factor.is_Rational and factor.q != 1 and _exact_in_double(factor):
                numer.append(self.constant(float(sympy.Integer(factor.p))))
                denom.append(self.constant(float(sympy.Integer(factor.q))))
            else:
                numer.append(self.expr(factor))
        top = self._product(numer)
        # Division by zero raises ZeroDivisionError, one of the arithmetic errors the
        # fast paths catch (the checked closures raise NotFinite instead).
        return f"({top} / {self._product(denom)})" if denom else top

    def _product(self, parts: list[str]) -> str:
        if not parts:
            return self.constant(1.0)
        return parts[0] if len(parts) == 1 else f"({' * '.join(parts)})"

    def _pow(self, base: sympy.Expr, exp: sympy.Expr) -> str:
        b = self.expr(base)
        if exp == 2:  # x·x, x computed once
            if b.isidentifier():
                return f"({b} * {b})"
            t = self.temporary()
            return f"(({t} := {b}) * {t})"
        if exp == sympy.Rational(1, 2):
            return f"_sqrt({b})"
        if exp == -1:
            return f"(1 / {b})"
        return f"_fpow({b}, {self.expr(exp)})"

    def function_of(self, name: str, arguments: str, body: list[str]) -> Callable:
        """Define ``name(arguments)`` from its body lines, in this source's namespace
        (its constants, the functions of the operator table, and ``sum``: no other
        builtin). The one place tutor compiles code; `generated_source` checks that
        the code is made only of the names made here, operators and 0, 1, 0.0, 1.0."""
        source = generated_source(f"def {name}({arguments}):\n" + "".join(f"    {line}\n" for line in body))
        namespace = {**self.namespace, "__builtins__": {"sum": sum}}
        exec(compile(source, f"<tutor: generated {name}>", "exec"), namespace)  # noqa: S102 - checked above
        return namespace[name]


# What generated code may hold: the names FloatSource and its callers make (a letter
# or two and a number), a few fixed names, operators, and the numbers 0 and 1.
_GENERATED_NAME = re.compile(r"(?:_t|[vdgpqlcfhxr]|th|s)[0-9]+(?:_[0-9]+)?|P|L|TH|G|S|lr|t|sum|_fpow|_sqrt|"
                             r"def|return|sample|update")
_GENERATED_OPERATORS = {"(", ")", "[", "]", ",", ":", "=", ":=", "+", "-", "*", "/"}
_GENERATED_NUMBER = re.compile(r"0|1|0\.0|1\.0|[0-9]+(?=\])")  # S[j]: an index


def generated_source(source: str) -> str:
    """``source``, if it holds only what generated code may hold; else a ValueError
    (a bug in tutor: text from a problem file must never reach compiled code)."""
    import tokenize  # only when code is generated: a millisecond of every start-up otherwise

    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        kind, text = token.type, token.string
        if kind in (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER) or \
                (kind == tokenize.OP and text in _GENERATED_OPERATORS) or \
                (kind == tokenize.NAME and _GENERATED_NAME.fullmatch(text)) or \
                (kind == tokenize.NUMBER and _GENERATED_NUMBER.fullmatch(text)):
            continue
        raise ValueError(f"generated code holds {text!r}: only its own names, operators, 0 and 1 may appear")
    return source
