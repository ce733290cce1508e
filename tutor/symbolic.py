"""`arithmetic: symbolic`: the derivation with no numbers (docs/symbolic.md).

The graph and its local partials are the ones the numeric engine uses (graph.py,
derive.py: every ∂node/∂dep already written in the problem's names, σ′ as o(1 − o)).
Here the reverse sweep composes them symbolically instead of numerically:

    δ_E = 1;   δ_n = Σ_c δ_c·∂c/∂n   (c: the nodes that use n, latest first)
    ∂E/∂θ = Σ_c δ_c·∂c/∂θ

Node names stay symbols (o, h2), never replaced by their definitions: that is what
keeps each formula in the textbook's form. Formulas are kept as products of
factors in chain order (`Product`), sums of them (`Sum`), and batch sums Σᵢ
(`BatchSum`); a sum is factored by pulling out the factors its terms share, so
(o − y)·o(1 − o) is never multiplied out. Only formulas with a denominator
(cross-entropy) are put over one denominator and cancelled, and one-hot targets
(Σ y_k = 1) are used where they shorten a formula: softmax + cross-entropy gives
p_k − y_k.

Printers only spell these records: `format_text` in the problem format's own
equation syntax (what the JSON holds, read back by `parse_formula`), `pretty_text`
for the terminal and Markdown, `latex_text` for LaTeX and HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import gcd
from typing import Any, Callable, Union

import sympy
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from .derive import Derivation, derive
from .graph import Graph, build_graph
from .ops import OP_OF_CLASS
from .problem import Problem
from .problem.records import SymbolicSpec
from .problem.symbolic_input import PER_SAMPLE_SUFFIX

LR = "lr"  # the learning rate's symbol in the update rule (sgd's hyper-parameter name)


# ---------------------------------------------------------------- formulas

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
        return normal(coef, [*common, inner if isinstance(inner, Sum) else inner])
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
        key = frozenset(t.factors)
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


# ---------------------------------------------------------------- the derivation

@dataclass(frozen=True)
class LocalDerivative:
    node: str
    wrt: str
    formula: Formula


@dataclass(frozen=True)
class SymbolicSolution:
    """The records a symbolic solution is made of; every formula in the problem's names."""

    problem: Problem
    graph: Graph
    equations: dict[str, sympy.Expr]          # node -> its right side (forward), the loss last
    loss: Formula | BatchSum                  # the batch loss (one sample: the sample's loss)
    local: tuple[LocalDerivative, ...]        # every ∂node/∂dep, in backward order
    deltas: dict[str, Formula]                # ∂E/∂name of one sample, for nodes and inputs
    sample_gradients: dict[str, Formula]      # ∂E/∂θ of one sample
    gradients: dict[str, Formula]             # ∂l/∂θ of the batch loss
    updates: dict[str, Formula]               # θ ← θ − lr·∂l/∂θ
    batch: str | None = None                  # the batch size's name (data: {samples: m})
    reduction: str = "mean"
    asked: tuple[str, ...] = field(default=())  # names whose gradient the problem asks (default: params)

    @property
    def diverged(self) -> None:
        """A derivation has no numbers that could overflow (the CLI asks every solution)."""
        return None


def solve_symbolic(problem: Problem) -> SymbolicSolution:
    graph = build_graph(problem)
    derivation = derive(graph)
    spec = problem.symbolic or SymbolicSpec()
    one_hot = tuple(graph.symbol(t) for t in spec.one_hot)
    local = _local_derivatives(graph, derivation)
    partial = {(d.node, d.wrt): d.formula for d in local}
    deltas = _backward(graph, derivation, partial, one_hot)
    sample_gradients = {p: _gradient(p, derivation.consumers.get(p, ()), deltas, partial, one_hot)
                        for p in graph.params}
    # ∂E/∂input and ∂E/∂constant: asked gradients, the JSON's derivatives (no chain passes through them)
    for (node, leaf), expr in derivation.leaf_partials.items():
        partial[(node, leaf)] = formula(expr, graph.symbol(node))
    for leaf in problem.inputs + tuple(problem.constants):
        users = [n for (n, d) in derivation.leaf_partials if d == leaf]
        deltas[leaf] = _gradient(leaf, users, deltas, partial, one_hot)
    reduction = problem.loss.reduction
    per_sample = _per_sample_names(graph)
    gradients = {p: _batch(g, spec.batch, reduction, per_sample) for p, g in sample_gradients.items()}
    loss = _batch(formula(graph.equations[-1].expr), spec.batch, reduction, per_sample)
    updates = {p: _update(p, g) for p, g in gradients.items() if p not in problem.frozen}
    asked = next((item.names for item in problem.ask or () if item.kind == "gradient" and item.names), ())
    return SymbolicSolution(problem, graph, {eq.name: eq.expr for eq in graph.equations}, loss, tuple(local),
                            deltas, sample_gradients, gradients, updates, spec.batch, reduction,
                            asked or tuple(graph.params))


def _local_derivatives(graph: Graph, derivation: Derivation) -> list[LocalDerivative]:
    out = []
    for eq in reversed(graph.equations):
        for dep in derivation.deps[eq.name]:
            out.append(LocalDerivative(eq.name, dep, formula(derivation.partials[(eq.name, dep)],
                                                             graph.symbol(eq.name))))
    return out


def _backward(graph: Graph, derivation: Derivation, partial, one_hot) -> dict[str, Formula]:
    """The visible loop: δ of every node, from the loss back to the first equation."""
    deltas: dict[str, Formula] = {graph.loss_name: ONE}
    for eq in reversed(graph.equations[:-1]):
        deltas[eq.name] = _gradient(eq.name, derivation.consumers.get(eq.name, ()), deltas, partial, one_hot)
    return deltas


def _gradient(name: str, users, deltas, partial, one_hot) -> Formula:
    """Σ over the nodes c that use ``name`` of δ_c·∂c/∂name, factored and simplified."""
    return simplified(factored([times(deltas[c], partial[(c, name)]) for c in users]), one_hot)


def _per_sample_names(graph: Graph) -> dict[sympy.Symbol, sympy.Symbol]:
    p = graph.problem
    names = (*p.inputs, *p.targets, *graph.node_names)
    return {graph.symbol(n): sympy.Symbol(n + PER_SAMPLE_SUFFIX, real=True) for n in names}


def _batch(f: Formula, batch: str | None, reduction: str, per_sample) -> Formula:
    """The batch's reduction of a per-sample formula: (1/m)·Σᵢ f_i (mean) or Σᵢ f_i
    (sum), with f's coefficient in front of the Σ; one sample: f itself."""
    if batch is None:
        return f
    p = as_product(f)
    if p.coef == 0:
        return ZERO
    body = map_atoms(Product(sympy.Integer(1), p.factors), lambda e: e.xreplace(per_sample))
    if isinstance(body, Product) and body.coef == 1 and len(body.factors) == 1 and isinstance(body.factors[0], Sum):
        body = body.factors[0]
    size = [sympy.Symbol(batch, real=True) ** -1] if reduction == "mean" else []
    return Product(p.coef, (*size, BatchSum(body)))


def _update(param: str, gradient: Formula) -> Formula:
    step = Product(sympy.Integer(-1), (sympy.Symbol(LR, real=True), gradient))
    return Sum((Product(sympy.Integer(1), (sympy.Symbol(param, real=True),)), step))


# ---------------------------------------------------------------- spelling

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

    def atom(self, expr: sympy.Expr) -> str:
        raise NotImplementedError

    def number(self, q: sympy.Rational) -> str:
        return str(q)

    def fraction(self, numerator: str, denominator: str) -> str:
        return f"{numerator}/{denominator}"

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
            return self.batch_sum(self.formula(f.body), isinstance(f.body, Sum))
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
            top_factors = shown if p.coef.p == 1 else [top, *shown]  # y/p, 2·y/(3·p)
            over = self.join(bottom)
            return self.fraction(self.join(top_factors) if len(top_factors) == 1 else self.paren(self.join(top_factors)),
                                 over if len(bottom) == 1 else self.paren(over))
        if bottom:
            lead = self.fraction(top, self.join(bottom) if len(bottom) == 1 else self.paren(self.join(bottom)))
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
        from .render.notation import print_math

        names = {s.name: s.name[: -len(PER_SAMPLE_SUFFIX)] + "ᵢ"
                 for s in expr.free_symbols if s.name.endswith(PER_SAMPLE_SUFFIX)}
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
    times = r" \, "
    minus = "-"

    def atom(self, expr):
        from .render.notation import LatexMathPrinter

        return LatexMathPrinter(dict(self.settings)).doprint(expr)

    def fraction(self, numerator, denominator):
        return rf"\frac{{{numerator}}}{{{denominator}}}"

    def paren(self, text):
        return rf"\left({text}\right)"

    def batch_sum(self, body, is_sum):
        return rf"\sum_{{i}} {self.paren(body) if is_sum else body}"

    def join(self, factors):
        return " ".join(factors)


def format_text(f) -> str:
    return FormatSpelling().formula(f)


def pretty_text(f, settings: dict | None = None) -> str:
    return PrettySpelling(settings).formula(f).replace(WORD_JOINER, "")


def latex_text(f, settings: dict | None = None) -> str:
    return LatexSpelling(settings).formula(f)


def spelling_settings(solution: "SymbolicSolution") -> dict:
    """The order in which the solution writes terms within a sum (the problem's own
    order, a weight before its source), for `pretty_text` and `latex_text`."""
    return {"rank": {name: k for k, name in enumerate(solution.graph.symbols)},
            "params": frozenset(solution.graph.params)}


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


__all__ = ["BatchSum", "Product", "Sum", "SymbolicSolution", "factored", "format_text", "formula", "latex_text",
           "parse_formula", "pretty_text", "product", "solve_symbolic", "to_sympy"]
