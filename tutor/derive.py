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
