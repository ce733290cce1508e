"""`arithmetic: symbolic`: the derivation with no numbers (docs/symbolic.md).

The graph and its local partials are the ones the numeric engine uses (graph.py,
derive.py: every ∂node/∂dep already written in the problem's names, σ′ as o(1 − o)).
Here the reverse sweep composes them symbolically instead of numerically:

    δ_E = 1;   δ_n = Σ_c δ_c·∂c/∂n   (c: the nodes that use n, latest first)
    ∂E/∂θ = Σ_c δ_c·∂c/∂θ

Node names stay symbols (o, h2), never replaced by their definitions: that is what
keeps each formula in the textbook's form. The formulas and their algebra (factoring
by shared factors, cancelling, one-hot targets) are in formula.py; their spellings
(the format's text for the JSON, Unicode, LaTeX) in render/formula_text.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from .derive import Derivation, derive
from .formula import ONE, ZERO, BatchSum, Formula, Product, Sum, as_product, factored, formula, map_atoms, simplified, times
from .graph import Graph, build_graph
from .problem import Problem
from .problem.records import SymbolicSpec
from .problem.symbolic_input import PER_SAMPLE_SUFFIX

# The learning rate's symbol in the update rule: sgd's hyper-parameter name, unless the problem uses it.
LEARNING_RATE_NAMES = ("lr", "eta", "lr_")


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
    lr: str = LEARNING_RATE_NAMES[0]          # the learning rate's name in the update rules

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
    lr = next(n for n in LEARNING_RATE_NAMES if n not in graph.symbols)
    updates = {p: _update(p, g, lr) for p, g in gradients.items() if p not in problem.frozen}
    asked = next((item.names for item in problem.ask or () if item.kind == "gradient" and item.names), ())
    return SymbolicSolution(problem, graph, {eq.name: eq.expr for eq in graph.equations}, loss, tuple(local),
                            deltas, sample_gradients, gradients, updates, spec.batch, reduction,
                            asked or tuple(graph.params), lr)


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


def _update(param: str, gradient: Formula, lr: str) -> Formula:
    step = Product(sympy.Integer(-1), (sympy.Symbol(lr, real=True), gradient))
    return Sum((Product(sympy.Integer(1), (sympy.Symbol(param, real=True),)), step))
