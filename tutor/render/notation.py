"""Numbers and mathematics as text: the one place every printer gets them from.

* `format_number` turns a value of any arithmetic domain (float, `Exact`) into
  text: ``digits`` decimals, trailing zeros trimmed, the minus sign −, exact
  rationals as fractions.
* `MathPrinter` is a SymPy printer that writes an expression in Unicode
  (∂, Σ, σ, ·, ², √, −) and, given ``values``, the same expression with the
  numbers in place of the names (the "substitution" line of a worked step).

Nothing else in the renderers builds mathematics by joining strings.
"""

from __future__ import annotations

import math
from typing import Any

import sympy
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.printer import Printer

from ..arith import Exact
from ..ops import OP_OF_CLASS, softmax

MINUS = "−"
SUPERSCRIPT = str.maketrans("0123456789-+()tn", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁽⁾ᵗⁿ")
SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")

# The optimizer's symbols (tutor/optim.py) as the textbooks write them.
OPTIMIZER_NAMES = {
    "theta": "θ", "mu": "μ", "beta1": "β₁", "beta2": "β₂", "eps": "ε", "alpha": "α", "rho": "ρ",
    "weight_decay": "λ", "m_hat": "m\u0302", "v_hat": "v\u0302", "s_hat": "s\u0302", "d": "Δθ",
    "r0": "r₀", "lr": "lr",
}
# Their order in a formula: hyper-parameters first (μ·v, lr·g), ε last (√v̂ + ε).
OPTIMIZER_RANK = {name: i for i, name in enumerate(
    ["lr", "mu", "beta1", "beta2", "alpha", "rho", "weight_decay", "r0", "theta", "v", "m", "s", "r", "u",
     "d", "m_hat", "v_hat", "s_hat", "g", "t", "eps"])}
OPTIMIZER_HYPERS = frozenset(["lr", "mu", "beta1", "beta2", "alpha", "rho", "weight_decay", "r0", "eps"])

MAX_FRACTION_CHARS = 15  # longer exact fractions are shown as decimals only


def superscript(text: str) -> str:
    return str(text).translate(SUPERSCRIPT)


def subscript(text: str) -> str:
    return str(text).translate(SUBSCRIPT)


# ---------------------------------------------------------------- numbers

def _float_text(x: float, digits: int) -> str:
    if x != x:
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else MINUS + "∞"
    if x == 0:
        return "0"
    ax = abs(x)
    if ax < 10.0 ** -max(digits, 4) or ax >= 1e9:
        mantissa, exponent = f"{x:.{max(digits - 1, 0)}e}".split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        text = f"{mantissa}e{int(exponent)}"
    else:
        decimals = digits
        if ax < 0.1:  # keep `digits` significant figures of small numbers
            decimals = max(digits, digits - 1 - math.floor(math.log10(ax)))
        text = f"{x:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        if text in ("-0", "0") and x != 0:
            text = f"{x:.{digits}e}"
    if text.startswith("-0") and set(text) <= set("-0."):
        text = "0"
    return text.replace("-", MINUS)


def exact_fraction(x) -> str | None:
    """An exact rational as a short fraction or integer ("1/3", "−2"), else None."""
    if isinstance(x, Exact) and x.expr.is_Rational:
        q = x.expr
        text = str(q.p) if q.q == 1 else f"{q.p}/{q.q}"
        if len(text) <= MAX_FRACTION_CHARS:
            return text.replace("-", MINUS)
    return None


def to_float(x) -> float:
    if isinstance(x, Exact):
        return float(x.approx)
    if isinstance(x, sympy.Basic):
        return float(x.evalf(30))
    return float(x)


def format_number(x: Any, digits: int = 4) -> str:
    """A number as a factor of a formula: exact short fractions as themselves, else decimals."""
    fraction = exact_fraction(x)
    if fraction is not None:
        return fraction
    return _float_text(to_float(x), digits)


def format_value(x: Any, digits: int = 4) -> str:
    """A result: like `format_number`, and an exact fraction also as a decimal (1/3 ≈ 0.3333)."""
    fraction = exact_fraction(x)
    if fraction is not None and "/" in fraction:
        return f"{fraction} ≈ {_float_text(to_float(x), digits)}"
    if fraction is not None:
        return fraction
    text = _float_text(to_float(x), digits)
    if isinstance(x, Exact):
        return "≈ " + text
    return text


def same_at(a: Any, b: Any, digits: int) -> bool:
    """Whether two values print the same at ``digits``."""
    return _float_text(to_float(a), digits) == _float_text(to_float(b), digits)


def is_negative(x: Any) -> bool:
    return to_float(x) < 0


# ---------------------------------------------------------------- the printer

def _terminating(q: sympy.Rational, max_decimals: int = 6) -> str | None:
    """1/5 -> "0.2"; 1/3 -> None."""
    den = int(q.q)
    for p in (2, 5):
        while den % p == 0:
            den //= p
    if den != 1:
        return None
    for decimals in range(1, max_decimals + 1):
        text = f"{float(q):.{decimals}f}"
        if sympy.Rational(text) == q:
            return text.replace("-", MINUS)
    return None


class MathPrinter(Printer):
    """Unicode mathematics; with ``values`` the same expression with numbers substituted.

    Settings:
      names   symbol name -> display name (default: the name itself)
      values  symbol name -> value; when given, every symbol prints as its number
      digits  decimals of substituted numbers
      rank    symbol name -> definition order; terms of a sum and factors of a
              product are ordered by it (None: the expression's own order)
      params  names of parameters (a weight is written before its source: w11·i1)
    """

    printmethod = "_tutor_math"
    _default_settings = {"names": {}, "values": None, "digits": 4, "rank": None, "params": frozenset()}

    def emptyPrinter(self, expr):
        raise TypeError(f"MathPrinter cannot print {type(expr).__name__}: {expr!r}")

    # ------------------------------------------------ helpers

    @property
    def _values(self):
        return self._settings["values"]

    def _value_of(self, expr: sympy.Symbol):
        values = self._values
        if values is None or expr.name not in values:
            return None
        return values[expr.name]

    def _prec(self, expr) -> int:
        if isinstance(expr, sympy.Symbol):
            value = self._value_of(expr)
            if value is not None:
                text = format_number(value, self._settings["digits"])
                if text.startswith(MINUS) or "/" in text or "e" in text:
                    return PRECEDENCE["Add"]
            return PRECEDENCE["Atom"]
        if isinstance(expr, sympy.Rational) and not expr.is_Integer:
            return PRECEDENCE["Add"] if expr < 0 or _terminating(expr) is None else PRECEDENCE["Atom"]
        if expr.is_Number and expr < 0:
            return PRECEDENCE["Add"]
        if isinstance(expr, sympy.Function):
            return PRECEDENCE["Func"]
        if isinstance(expr, sympy.Pow) and expr.exp == sympy.Rational(1, 2):
            return PRECEDENCE["Func"]
        if isinstance(expr, sympy.Mul) and self._negative_term(expr):
            return PRECEDENCE["Add"]
        return precedence(expr)

    def _paren(self, expr, level: int, strict: bool = False) -> str:
        text = self._print(expr)
        p = self._prec(expr)
        if p < level or (strict and p <= level):
            return f"({text})"
        return text

    def _rank(self, expr) -> tuple:
        rank = self._settings["rank"]
        params = self._settings["params"]
        names = [s.name for s in expr.free_symbols]
        ranks = [rank.get(n, len(rank)) for n in names]
        param_ranks = [rank.get(n, len(rank)) for n in names if n in params]
        return (min(param_ranks, default=math.inf), min(ranks, default=math.inf))

    @staticmethod
    def _negative_term(term) -> bool:
        if isinstance(term, sympy.Mul):
            first = term.args[0]
            return bool(first.is_Number and first < 0)
        return bool(term.is_Number and term < 0)

    def _add_terms(self, expr: sympy.Add) -> list:
        terms = list(expr.args)
        if self._settings["rank"] is not None:
            params = self._settings["params"]

            def key(a):
                if isinstance(a, sympy.Symbol) and a.name == "theta":
                    return (False, False, False, (-1, -1), False)  # θ + μ·v: the parameter leads
                lone = isinstance(a, sympy.Symbol) and a.name in params  # a bias: written last
                nested = isinstance(a, sympy.Mul) and any(isinstance(f, sympy.Add) for f in a.args)
                return (self._negative_term(a), bool(a.is_number), lone, self._rank(a), nested)
            terms.sort(key=key)
        return terms

    def _mul_factors(self, expr: sympy.Mul) -> list:
        factors = list(expr.args)
        if self._settings["rank"] is not None:
            params = self._settings["params"]

            def key(f):
                names = {s.name for s in f.free_symbols}
                return (not f.is_Number, not (names & params), self._rank(f)[1], isinstance(f, sympy.Add))
            factors.sort(key=key)
        return factors

    # ------------------------------------------------ atoms

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        if self._values is not None:
            if expr.name not in self._values:
                raise KeyError(f"no value for {expr.name} in a substitution")
            return format_number(self._values[expr.name], self._settings["digits"])
        return self._settings["names"].get(expr.name, expr.name)

    def _print_Integer(self, expr) -> str:
        return str(int(expr)).replace("-", MINUS)

    def _print_Rational(self, expr) -> str:
        decimal = _terminating(expr)
        if decimal is not None:
            return decimal
        return f"{expr.p}/{expr.q}".replace("-", MINUS)

    def _print_Float(self, expr) -> str:
        return _float_text(float(expr), self._settings["digits"])

    def _print_Exp1(self, expr) -> str:
        return "e"

    def _print_Pi(self, expr) -> str:
        return "π"

    def _print_Half(self, expr) -> str:
        return "0.5"

    def _print_NegativeOne(self, expr) -> str:
        return MINUS + "1"

    # ------------------------------------------------ operators

    def _print_Add(self, expr: sympy.Add) -> str:
        out = []
        for i, term in enumerate(self._add_terms(expr)):
            if self._negative_term(term):
                text = self._paren(-term if not isinstance(term, sympy.Mul) else _negate(term), PRECEDENCE["Add"],
                                   strict=True)
                out.append(f"{MINUS}{text}" if i == 0 else f" {MINUS} {text}")
            else:
                text = self._paren(term, PRECEDENCE["Add"])
                if i and text.startswith(MINUS):
                    text = f"({text})"
                out.append(text if i == 0 else f" + {text}")
        return "".join(out)

    def _print_Mul(self, expr: sympy.Mul) -> str:
        factors = self._mul_factors(expr)
        sign = ""
        numer, denom = [], []
        for f in factors:
            if f.is_Number and f < 0:
                sign = MINUS
                f = -f
            if f == 1:
                continue
            if isinstance(f, sympy.Rational) and not f.is_Integer:
                if f.p == 1 or _terminating(f) is None:
                    if f.p != 1:
                        numer.append(sympy.Integer(f.p))
                    denom.append(sympy.Integer(f.q))
                else:
                    numer.append(f)
            elif isinstance(f, sympy.Pow) and f.exp.is_Number and f.exp < 0:
                denom.append(f.base if f.exp == -1 else sympy.Pow(f.base, -f.exp, evaluate=False))
            else:
                numer.append(f)
        level = PRECEDENCE["Mul"]
        if numer:
            parts = [self._paren(f, level) for f in numer]
            top = "·".join(parts)
            if len(numer) == 1 and denom and self._prec(numer[0]) < level:
                top = parts[0]
        else:
            top = "1"
        if not denom:
            return sign + top
        if len(denom) == 1:
            bottom = self._paren(denom[0], level, strict=True)
        else:
            bottom = "(" + "·".join(self._paren(f, level) for f in denom) + ")"
        return f"{sign}{top}/{bottom}"

    def _print_Pow(self, expr: sympy.Pow) -> str:
        base, exp = expr.base, expr.exp
        if exp == sympy.Rational(1, 2):
            return "√" + self._paren(base, PRECEDENCE["Func"], strict=True)
        if exp.is_Number and exp < 0:
            return "1/" + self._paren(sympy.Pow(base, -exp, evaluate=False), PRECEDENCE["Mul"], strict=True)
        base_text = self._paren(base, PRECEDENCE["Pow"], strict=True)
        if exp.is_Integer and exp > 0:
            return base_text + superscript(int(exp))
        if isinstance(exp, sympy.Symbol):
            if self._values is not None and exp.name in self._values:
                text = format_number(self._values[exp.name], self._settings["digits"])
                if text.lstrip(MINUS).isdigit():
                    return base_text + superscript(text.replace(MINUS, "-"))
                return f"{base_text}^({text})"
            name = self._print(exp)
            if name in ("t", "n"):
                return base_text + superscript(name)
            return f"{base_text}^{name}"
        return f"{base_text}^({self._print(exp)})"

    def _print_Abs(self, expr) -> str:
        return f"|{self._print(expr.args[0])}|"

    def _print_Function(self, expr) -> str:
        op = OP_OF_CLASS.get(type(expr))
        if op is None:
            raise TypeError(f"MathPrinter: no display name for the function {type(expr).__name__}")
        args = list(expr.args)
        name = op.name
        if isinstance(expr, softmax):
            name = "softmax" + subscript(int(args[0]))
            args = args[1:]
        elif name == "sigmoid":
            name = "σ"
        return f"{name}({', '.join(self._print(a) for a in args)})"


def _negate(term: sympy.Mul) -> sympy.Expr:
    """−term for a product with a negative coefficient, keeping the factor order."""
    first, *rest = term.args
    coeff = -first
    factors = rest if coeff == 1 else [coeff, *rest]
    if len(factors) == 1:
        return factors[0]
    return sympy.Mul(*factors, evaluate=False)


def print_math(expr: sympy.Expr, **settings) -> str:
    return MathPrinter(settings).doprint(expr)


def substitute(expr: sympy.Expr, values: dict[str, Any], **settings) -> str:
    return MathPrinter({**settings, "values": values}).doprint(expr)
