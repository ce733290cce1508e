"""Graph -> Derivation: every local partial derivative, and the chain rule as data.

This is the only caller of ``sympy.diff``, and it differentiates each equation
only with respect to the names it uses, and splits each sum once: the cost is
linear in the number of edges, whatever a unit's fan-in. The composed loss is
never differentiated.

Local partials are rewritten in the problem's names: ∂a1/∂z1 is computed by
SymPy as σ(z1)(1 − σ(z1)) and then stated as a1·(1 − a1), since a1 = σ(z1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import sympy

from .graph import Graph

Edge = tuple[str, str]  # (node, something it uses): ∂node/∂dep


@dataclass(frozen=True)
class Derivation:
    graph: Graph
    deps: dict[str, tuple[str, ...]]        # node -> differentiable names it uses (nodes, params)
    partials: dict[Edge, sympy.Expr]        # ∂node/∂dep, in the problem's names
    consumers: dict[str, tuple[str, ...]]   # node or param -> nodes that use it, in forward order
    # ∂node/∂leaf for the inputs and constants a node uses: only for ∂E/∂input
    # (asked gradients, the JSON's derivatives); the chain rule never passes through them.
    leaf_partials: dict[Edge, sympy.Expr] = field(default_factory=dict)

    def paths(self, name: str, limit: int = 64) -> list[tuple[str, ...]] | None:
        """Every chain from the loss down to ``name`` (loss first), or None when there
        are more than ``limit`` (then the δ form is the readable one)."""
        found: list[tuple[str, ...]] = []
        for path in self._paths_up(name):
            found.append(tuple(reversed(path)))
            if len(found) > limit:
                return None
        return found

    def _paths_up(self, name: str) -> Iterator[list[str]]:
        if name == self.graph.loss_name:
            yield [name]
            return
        for consumer in self.consumers.get(name, ()):
            for rest in self._paths_up(consumer):
                yield [name, *rest]


def derive(graph: Graph) -> Derivation:
    differentiable = set(graph.params) | set(graph.node_names)
    by_expression = {eq.expr: graph.symbol(eq.name) for eq in graph.equations
                     if isinstance(eq.expr, sympy.Function)}
    deps: dict[str, tuple[str, ...]] = {}
    partials: dict[Edge, sympy.Expr] = {}
    consumers: dict[str, list[str]] = {}
    order = {name: i for i, name in enumerate(graph.symbols)}
    for eq in graph.equations:
        terms = terms_by_symbol(eq.expr)
        used = sorted((s.name for s in terms if s.name in differentiable), key=order.__getitem__)
        deps[eq.name] = tuple(used)
        for dep in used:
            x = graph.symbol(dep)
            local = sympy.Add(*(local_partial(term, x) for term in terms[x]))
            partials[(eq.name, dep)] = local.xreplace(by_expression)
            consumers.setdefault(dep, []).append(eq.name)
    return Derivation(graph, deps, partials, {k: tuple(v) for k, v in consumers.items()},
                      _leaf_partials(graph, by_expression))


def _leaf_partials(graph: Graph, by_expression) -> dict[Edge, sympy.Expr]:
    leaves = set(graph.problem.inputs) | set(graph.problem.constants)
    out: dict[Edge, sympy.Expr] = {}
    order = {name: i for i, name in enumerate(graph.symbols)}
    for eq in graph.equations:
        terms = terms_by_symbol(eq.expr)  # split once: each input's terms, not a search of all n per input
        for leaf in sorted((s.name for s in terms if s.name in leaves), key=order.__getitem__):
            x = graph.symbol(leaf)
            out[(eq.name, leaf)] = sympy.Add(*(local_partial(term, x) for term in terms[x])).xreplace(by_expression)
    return out


def terms_by_symbol(expr: sympy.Expr) -> dict[sympy.Symbol, list[sympy.Expr]]:
    """Each symbol of ``expr`` -> the terms of the sum ``expr`` that contain it, in order.

    The sum is split here, once per equation: a net input Σ w·s of fan-in n has n
    terms, and looking for each weight's terms among all of them would cost n²."""
    terms = expr.args if isinstance(expr, sympy.Add) else (expr,)
    found: dict[sympy.Symbol, list[sympy.Expr]] = {}
    for term in terms:
        for symbol in term.free_symbols:
            found.setdefault(symbol, []).append(term)
    return found


def local_partial(expr: sympy.Expr, x: sympy.Symbol) -> sympy.Expr:
    """∂expr/∂x. Sums and products are split here so that sympy.diff only sees
    the terms that contain x: SymPy's general machinery is slow on many small
    derivatives."""
    if expr == x:
        return sympy.Integer(1)
    if isinstance(expr, sympy.Add):
        return sympy.Add(*(local_partial(term, x) for term in expr.args if x in term.free_symbols))
    if isinstance(expr, sympy.Abs):  # |u|' = sign(u)·u', whatever SymPy can tell of u's sign
        inner = expr.args[0]
        return sympy.sign(inner) * local_partial(inner, x)
    if isinstance(expr, sympy.Mul):
        with_x = [f for f in expr.args if x in f.free_symbols]
        if len(with_x) == 1:
            rest = [f for f in expr.args if f is not with_x[0]]
            return sympy.Mul(*rest) * local_partial(with_x[0], x)
    if isinstance(expr, sympy.Pow) and x not in expr.exp.free_symbols:
        # SymPy's own rule for u^n, u^n·(u'·n/u), without the n'·log(u) term that it
        # builds and then multiplies by n' = 0: building log(u) asks SymPy to decide
        # u's sign, most of the time a small problem's derivation takes.
        return expr * (sympy.diff(expr.base, x) * expr.exp / expr.base)
    return sympy.diff(expr, x)


def worked_partial(expr: sympy.Expr, x: sympy.Symbol) -> sympy.Expr:
    """∂expr/∂x as a student writes it by the chain rule, before simplifying: each rule's
    factor kept where it arises, (t1 − o1)²/2 -> 2·(t1 − o1)·(−1)/2 (the power rule's 2,
    the inner derivative −1 and the ½ that cancels the 2). For showing where a partial
    comes from; `local_partial` is the one the numbers use."""
    if expr == x:
        return sympy.Integer(1)
    if x not in expr.free_symbols:
        return sympy.Integer(0)
    if isinstance(expr, sympy.Add):
        parts = [worked_partial(term, x) for term in expr.args if x in term.free_symbols]
        return parts[0] if len(parts) == 1 else sympy.Add(*parts, evaluate=False)
    if isinstance(expr, sympy.Mul):
        with_x = [f for f in expr.args if x in f.free_symbols]
        if len(with_x) > 1:   # the product rule: one term per factor that holds x
            return sympy.Add(*(_worked_product([g for g in expr.args if g is not f] + [worked_partial(f, x)])
                               for f in with_x), evaluate=False)
        rest = [f for f in expr.args if f is not with_x[0]]
        return _worked_product(rest + [worked_partial(with_x[0], x)])
    if isinstance(expr, sympy.Pow) and x not in expr.exp.free_symbols:   # the power rule
        n, base = expr.exp, expr.base
        outer = base if n - 1 == 1 else sympy.Pow(base, n - 1, evaluate=False)
        return _worked_product([n, outer, worked_partial(base, x)])
    if isinstance(expr, sympy.Function) and len(expr.args) == 1:   # f(u)' = f'(u)·u'
        u = sympy.Dummy("u")
        outer = local_partial(expr.func(u), u).xreplace({u: expr.args[0]})
        return _worked_product([outer, worked_partial(expr.args[0], x)])
    return local_partial(expr, x)


def _worked_product(factors: list[sympy.Expr]) -> sympy.Expr:
    """A product of the chain rule's factors as written: 1's dropped, an inner derivative
    of −1 kept in its place as (−1) (not pulled in front as a sign)."""
    out: list[sympy.Expr] = []
    for k, f in enumerate(factors):
        if f == 1:
            continue
        if f.is_zero:
            return sympy.Integer(0)
        if isinstance(f, sympy.Mul):
            out.extend(f.args)
        elif f.is_Number and f < 0 and k == len(factors) - 1:
            out.append(sympy.UnevaluatedExpr(f))
        else:
            out.append(f)
    if not out:
        return sympy.Integer(1)
    return out[0] if len(out) == 1 else sympy.Mul(*out, evaluate=False)
