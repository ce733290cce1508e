"""Formulas of a symbolic derivation as records, and their algebra (docs/symbolic.md).

A formula is a product of factors kept in chain order (`Product`), a sum of
products (`Sum`), or Σᵢ over the samples of a symbolic batch (`BatchSum`). A sum
is factored by pulling out the factors its terms share (`factored`), so that
(o − y)·o(1 − o) is never multiplied out; only a formula whose denominators
cancel, and one with one-hot targets, is rewritten through SymPy (`simplified`).
Records convert to SymPy (`to_sympy`) for checking, and are read back from the
format's text by `parse_formula`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from math import gcd
from typing import Any, Callable, Union

import sympy

from .ops import OP_OF_CLASS


@dataclass(frozen=True)
class Product:
    """coef · factor₁ · factor₂ ⋯, the factors in chain order: sympy expressions that
    are not products (a sum among them has no numeric content: (o − y), not (2o − 2y)),
    `Sum`s and `BatchSum`s."""

    coef: sympy.Rational
    factors: tuple = ()


@dataclass(frozen=True)
class Sum:
    terms: tuple[Product, ...]


@dataclass(frozen=True)
class BatchSum:
    """Σᵢ body over the samples i = 1..m of a symbolic batch; the body's per-sample
    names carry the suffix _i (o_i, x1_i)."""

    body: Union[Product, Sum]


Formula = Union[Product, Sum]
ZERO = Product(sympy.Integer(0))
ONE = Product(sympy.Integer(1))


class sum_i(sympy.Function):  # noqa: N801 - the name the format's text uses
    """Σᵢ as a SymPy function, for checking formulas: it is never evaluated here."""


def as_product(f: Formula | BatchSum) -> Product:
    if isinstance(f, Product):
        return f
    return Product(sympy.Integer(1), (f,))


def product(expr: sympy.Expr, first: sympy.Symbol | None = None) -> Product:
    """A SymPy expression as a `Product`; the factors that involve ``first`` (a local
    partial's own node: o and 1 − o of ∂o/∂h = o(1 − o)·w) lead."""
    coef, rest = expr.as_coeff_mul()
    factors = []
    for f in rest:
        if isinstance(f, sympy.Add):
            content, f = f.as_content_primitive()
            coef *= content
            if any(t.is_Number and t < 0 for t in f.args):  # 1 − y, not y − 1: as the formulas write it
                coef, f = -coef, -f
        factors.append(f)
    if first is not None:
        factors.sort(key=lambda f: first not in f.free_symbols)
    return normal(coef, factors)


def formula(expr: sympy.Expr, first: sympy.Symbol | None = None) -> Formula:
    """A SymPy expression as a formula: a sum term by term (each as `product`)."""
    if isinstance(expr, sympy.Add):
        return factored([product(term, first) for term in expr.args])
    return product(expr, first)


def normal(coef, factors) -> Product:
    """Numbers into the coefficient, equal bases into one power (p·p⁻¹ = 1), in order."""
    coef = sympy.Rational(coef)
    powers: dict[Any, sympy.Expr] = {}
    for f in factors:
        if isinstance(f, Product):  # a product factor joins this one
            coef *= f.coef
            for g in f.factors:
                base, exp = _base_exp(g)
                powers[base] = powers.get(base, 0) + exp
            continue
        if isinstance(f, sympy.Expr) and f.is_Number:
            coef *= f
            continue
        base, exp = _base_exp(f)
        powers[base] = powers.get(base, 0) + exp
    if coef == 0:
        return ZERO
    out = []
    for base, exp in powers.items():
        if exp == 0:
            continue
        if not isinstance(base, sympy.Expr):  # a Sum or a BatchSum twice: written twice
            out += [base] * int(exp)
            continue
        out.append(base if exp == 1 else sympy.Pow(base, exp))
    return Product(coef, tuple(out))


def _base_exp(f) -> tuple[Any, sympy.Expr]:
    if isinstance(f, sympy.Pow):
        return f.base, f.exp
    return f, sympy.Integer(1)


def times(a: Formula, b: Formula) -> Product:
    pa, pb = as_product(a), as_product(b)
    return normal(pa.coef * pb.coef, pa.factors + pb.factors)


def terms_of(f: Formula) -> tuple[Product, ...]:
    if isinstance(f, Sum):
        return f.terms
    if f.coef == 0:
        return ()
    if f.coef == 1 and len(f.factors) == 1 and isinstance(f.factors[0], Sum):
        return f.factors[0].terms
    return (f,)


def factored(terms) -> Formula:
    """The sum of ``terms`` (Products), its shared factors pulled out, and the rest
    grouped by the factor most terms share: Σ_k a·b·c_k = a·b·Σ_k c_k."""
    terms = _collect([t for term in terms for t in terms_of(term)])
    if not terms:
        return ZERO
    if len(terms) == 1:
        return terms[0]
    common = [f for f in terms[0].factors if all(f in t.factors for t in terms[1:])]
    coef = _common_coef([t.coef for t in terms])
    if common or coef != 1:
        inner = factored(Product(t.coef / coef, tuple(f for f in t.factors if f not in common)) for t in terms)
        return normal(coef, [*common, inner])
    shared = _most_shared(terms)
    if shared is None:
        return Sum(tuple(terms))
    with_it = [t for t in terms if shared in t.factors]
    others = [t for t in terms if shared not in t.factors]
    return Sum((as_product(factored(with_it)), *terms_of(factored(others))))


def _collect(terms: list[Product]) -> list[Product]:
    """Like terms added (same factors in any order), zeros dropped; first order kept,
    except that subtracted terms come last (o − y, not −y + o)."""
    by_key: dict[frozenset, Product] = {}
    for t in terms:
        key = frozenset(Counter(t.factors).items())
        if key in by_key:
            by_key[key] = Product(by_key[key].coef + t.coef, by_key[key].factors)
        else:
            by_key[key] = t
    return sorted((t for t in by_key.values() if t.coef != 0), key=lambda t: bool(t.coef < 0))


def _common_coef(coefs: list[sympy.Rational]) -> sympy.Rational:
    numerator = 0
    denominator = 1
    for c in coefs:
        numerator = gcd(numerator, int(c.p))
        denominator = denominator * int(c.q) // gcd(denominator, int(c.q))
    g = sympy.Rational(numerator, denominator)
    return -g if all(c < 0 for c in coefs) else g


def _most_shared(terms: list[Product]):
    counts: dict[Any, int] = {}
    for t in terms:
        for f in t.factors:
            counts[f] = counts.get(f, 0) + 1
    best = max(counts.values(), default=0)
    return next(f for f, n in counts.items() if n == best) if best >= 2 else None


def to_sympy(f: Formula | BatchSum) -> sympy.Expr:
    """The formula as one (evaluated) SymPy expression; Σᵢ as `sum_i`."""
    if isinstance(f, Product):
        return f.coef * sympy.Mul(*(to_sympy(g) for g in f.factors))
    if isinstance(f, Sum):
        return sympy.Add(*(to_sympy(t) for t in f.terms))
    if isinstance(f, BatchSum):
        return sum_i(to_sympy(f.body))
    return f


def from_sympy(expr: sympy.Expr) -> Formula:
    return factored([product(term) for term in sympy.Add.make_args(expr)])


def map_atoms(f, change: Callable[[sympy.Expr], sympy.Expr]):
    if isinstance(f, Product):
        return normal(f.coef, [map_atoms(g, change) for g in f.factors])
    if isinstance(f, Sum):
        return Sum(tuple(map_atoms(t, change) for t in f.terms))
    if isinstance(f, BatchSum):
        return BatchSum(map_atoms(f.body, change))
    return change(f)


def simplified(f: Formula, one_hot: tuple[sympy.Symbol, ...]) -> Formula:
    """The textbook form: a formula whose denominators cancel is written without them
    (bce: (−t/o + (1 − t)/(1 − o))·o(1 − o) = o − t), and Σ y_k = 1 is used where it
    shortens a formula. Kept as it is otherwise (∂E/∂o = −t/o + (1 − t)/(1 − o))."""
    expr = to_sympy(f)
    if _has_denominator(expr):
        cancelled = sympy.expand(sympy.cancel(expr))
        if not _has_denominator(cancelled):
            f, expr = from_sympy(cancelled), cancelled
    if len([y for y in one_hot if expr.has(y)]) >= 2:
        reduced = _use_one_hot(sympy.expand(expr), one_hot)
        if reduced is not None:
            f = reduced
    return f


def _has_denominator(expr: sympy.Expr) -> bool:
    return any(p.exp.is_negative for p in expr.atoms(sympy.Pow))


def _use_one_hot(expr: sympy.Expr, ys: tuple[sympy.Symbol, ...]) -> Formula | None:
    """c₀ + Σ_k c_k·y_k = c₀ + c + Σ_k (c_k − c)·y_k, for Σ y_k = 1, with c the most
    common c_k; None when expr is not linear in the y's or nothing gets shorter."""
    coefs = [expr.coeff(y) for y in ys]
    rest = sympy.expand(expr - sum(c * y for c, y in zip(coefs, ys)))
    if any(rest.has(y) or c.has(*ys) for y, c in zip(ys, coefs)):
        return None
    c = max(coefs, key=coefs.count)  # the first of the most common
    reduced = sympy.expand(rest + c + sum((ck - c) * y for ck, y in zip(coefs, ys)))
    if len(sympy.Add.make_args(reduced)) >= len(sympy.Add.make_args(expr)):
        return None
    return from_sympy(reduced)


# ---------------------------------------------------------------- reading back

# Functions a symbolic formula may hold beyond an equation's: Σᵢ and the derivative helpers.
FORMULA_FUNCTIONS = {"sum_i": sum_i} | {type_.__name__: type_ for type_ in OP_OF_CLASS if not OP_OF_CLASS[type_].user}


def parse_formula(text: str) -> sympy.Expr:
    """A formula written by `format_text`, read with tutor's own expression parser;
    every name is a (real) symbol."""
    from .errors import ProblemError
    from .expr import parse_expression

    def fail(offset: int, message: str) -> ProblemError:
        return ProblemError("<formula>", 1, offset + 1, message)

    return parse_expression(text, lambda name, offset: sympy.Symbol(name, real=True), fail,
                            functions=FORMULA_FUNCTIONS)

