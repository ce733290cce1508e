"""Spelling the formulas of a symbolic derivation (`tutor.formula`): one walk over a
formula's records (`Spelling`), three token tables. `format_text` writes the problem
format's own equation syntax (the JSON's strings, read back by `formula.parse_formula`),
`pretty_text` Unicode for the terminal (`(2/m)·Σᵢ (oᵢ − yᵢ)·oᵢ(1 − oᵢ)`), `latex_text`
LaTeX for the document formats. Atoms (a name, 1 − o, σ(z)) go through the one
math printer of `notation`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from ..formula import BatchSum, Product, Sum
from ..ops import OP_OF_CLASS
from ..problem.symbolic_input import PER_SAMPLE_SUFFIX

if TYPE_CHECKING:
    from ..symbolic import SymbolicSolution


class _FormatAtoms(StrPrinter):
    """SymPy atoms in the problem format's equation syntax (expr.py reads it back).
    Derivative helpers that no equation may call are written by their class names
    (relu_prime, step_half, sign, ...), which `parse_formula` reads."""

    def _print_Function(self, expr):
        op = OP_OF_CLASS.get(type(expr))
        name = op.name if op is not None and op.user else type(expr).__name__
        return f"{name}({', '.join(self._print(a) for a in expr.args)})"

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_Exp1(self, expr):
        return "exp(1)"

    def _print_Pi(self, expr):
        return "pi"

    def _print_ExpBase(self, expr):
        return f"exp({self._print(expr.args[0])})"

    def _print_Symbol(self, expr):
        return expr.name


class Spelling:
    """How one output spells a formula; subclasses change the tokens only.
    ``settings``: notation.MathPrinter's (rank, params), for the sums within atoms."""

    times = "*"
    minus = "-"

    def __init__(self, settings: dict | None = None):
        self.settings = settings or {}
        self.in_batch = False  # inside Σᵢ: names ending in _i are sample i's

    def atom(self, expr: sympy.Expr) -> str:
        raise NotImplementedError

    def number(self, q: sympy.Rational) -> str:
        return str(q)

    def fraction(self, numerator: list[str], denominator: list[str]) -> str:
        """a/b, (a·b)/(c·d): factors over factors."""
        top, bottom = (self.join(part) if len(part) == 1 else self.paren(self.join(part))
                       for part in (numerator, denominator))
        return f"{top}/{bottom}"

    def batch_sum(self, body: str, is_sum: bool) -> str:
        return f"sum_i({body})"

    def lead(self, fraction: str) -> str:
        """A coefficient with a denominator, before other factors."""
        return fraction

    def paren(self, text: str) -> str:
        return f"({text})"

    def join(self, factors: list[str]) -> str:
        return self.times.join(factors)

    # -- the walk, shared by every spelling
    def formula(self, f) -> str:
        if isinstance(f, Sum):
            return self.sum(f.terms)
        if isinstance(f, BatchSum):
            self.in_batch = True
            body = self.formula(f.body)
            self.in_batch = False
            return self.batch_sum(body, isinstance(f.body, Sum))
        if isinstance(f, Product):
            return self.sum((f,))
        return self.atom(f)

    def sum(self, terms) -> str:
        out = ""
        for k, t in enumerate(terms):
            negative = t.coef < 0
            text = self.product(Product(-t.coef if negative else t.coef, t.factors))
            if negative and t.coef == -1 and len(t.factors) == 1 and isinstance(t.factors[0], Sum):
                text = self.paren(text)  # −(a + b)
            if k == 0:
                out = f"{self.minus}{text}" if negative else text
            else:
                out += f" {self.minus} {text}" if negative else f" + {text}"
        return out or "0"

    def product(self, p: Product) -> str:
        """A product with a non-negative coefficient: (coef/denominators)·factors."""
        numerators = [f for f in p.factors if not _is_reciprocal(f)]
        denominators = [_reciprocal(f) for f in p.factors if _is_reciprocal(f)]
        shown = [self.factor(f, len(p.factors) > 1 or p.coef != 1) for f in numerators]
        top = self.number(sympy.Integer(p.coef.p))
        bottom = [self.number(sympy.Integer(p.coef.q))] if p.coef.q != 1 else []
        bottom += [self.factor(d, True) for d in denominators]
        if denominators and shown and all(isinstance(f, sympy.Expr) for f in numerators):
            return self.fraction(shown if p.coef.p == 1 else [top, *shown], bottom)  # y/p, 2·y/(3·p)
        if bottom:  # (2/m)·Σᵢ …: the coefficient leads
            lead = self.fraction([top], bottom)
            return self.join([self.lead(lead) if shown else lead, *shown])
        if p.coef == 1:
            return self.join(shown) if shown else "1"
        return self.join([top, *shown])

    def factor(self, f, among_others: bool) -> str:
        if isinstance(f, Sum):
            return self.paren(self.formula(f)) if among_others else self.formula(f)
        if isinstance(f, Product):
            text = self.formula(f)
            return self.paren(text) if f.coef < 0 else text
        if isinstance(f, BatchSum):
            return self.formula(f)
        text = self.atom(f)
        if among_others and precedence(f) < PRECEDENCE["Mul"]:
            return self.paren(text)
        return text


def _is_reciprocal(f) -> bool:
    return isinstance(f, sympy.Pow) and f.exp.is_negative


def _reciprocal(f: sympy.Pow) -> sympy.Expr:
    return f.base ** -f.exp


class FormatSpelling(Spelling):
    """The problem format's equation syntax: the JSON's strings."""

    _atoms = _FormatAtoms({"order": "none"})

    def atom(self, expr):
        return self._atoms.doprint(expr)


WORD_JOINER = "\u2060"  # a mark inside PrettySpelling only; never in its output


class PrettySpelling(Spelling):
    """Unicode for the terminal and Markdown: (2/m)·Σᵢ (oᵢ − yᵢ)·oᵢ(1 − oᵢ)·…"""

    times = "·"
    minus = "−"

    def atom(self, expr):
        from .notation import print_math

        names = {s.name: s.name[: -len(PER_SAMPLE_SUFFIX)] + "ᵢ"
                 for s in expr.free_symbols if self.in_batch and s.name.endswith(PER_SAMPLE_SUFFIX)}
        return print_math(expr, **self.settings, names=names)

    def number(self, q):
        return str(q).replace("-", self.minus)

    def lead(self, fraction):
        return WORD_JOINER + "(" + fraction + ")"  # marks a coefficient: a dot precedes it

    def batch_sum(self, body, is_sum):
        return f"Σᵢ ({body})" if is_sum else f"Σᵢ {body}"

    def join(self, factors):
        """o(1 − o), 2(o − y): a sum in parentheses follows a number, or the name it
        holds, without a dot; w·(1 + z) keeps it (w(…) would read as a function)."""
        out = factors[0] if factors else ""
        for before, f in zip(factors, factors[1:]):
            tight = f.startswith("(") and (before.isdigit() or f"({before} " in f or f" {before})" in f)
            out += f if tight else self.times + f
        return out


class LatexSpelling(Spelling):
    times = r" \, "  # a thin space: w2_2 h_2 would run together
    minus = "-"

    def atom(self, expr):
        from .notation import LatexMathPrinter

        return LatexMathPrinter(dict(self.settings)).doprint(expr)

    def fraction(self, numerator, denominator):
        return rf"\frac{{{self.join(numerator)}}}{{{self.join(denominator)}}}"

    def paren(self, text):
        return rf"\left({text}\right)"

    def batch_sum(self, body, is_sum):
        return rf"\sum_{{i}} {self.paren(body) if is_sum else body}"


def format_text(f) -> str:
    return FormatSpelling().formula(f)


def pretty_text(f, settings: dict | None = None) -> str:
    return PrettySpelling(settings).formula(f).replace(WORD_JOINER, "")


def latex_text(f, settings: dict | None = None) -> str:
    return LatexSpelling(settings).formula(f)


def spelling_settings(solution: SymbolicSolution) -> dict:
    """The order in which the solution writes terms within a sum (the problem's own
    order, a weight before its source), for `pretty_text` and `latex_text`."""
    return {"rank": {name: k for k, name in enumerate(solution.graph.symbols)},
            "params": frozenset(solution.graph.params)}
