"""Problem -> Graph: the ordered single-assignment equations, layers expanded.

Layers expand to ``net_j = Σ_i w_ji·s_i + b_j`` and ``unit_j = activation(net_j)``
(nets of a layer first, then its units, so softmax can see every net). The
per-sample loss is the last equation, so the backward sweep starts at δ_E = 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from .ops import LOSSES
from .problem import Equation, Problem
from .problem.layers import dense_equations

LOSS_NAME_CHOICES = ("E", "L", "loss", "E_total")


@dataclass(frozen=True)
class Graph:
    problem: Problem
    symbols: dict[str, sympy.Symbol]        # every name: inputs, targets, constants, params, nodes, loss
    equations: tuple[Equation, ...]          # forward order; the loss equation last
    loss_name: str
    unit_weights: tuple[tuple[str, ...], ...]  # per unit of a layered network: its incoming weights

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(self.problem.params)

    @property
    def node_names(self) -> tuple[str, ...]:
        return tuple(eq.name for eq in self.equations)

    @property
    def leaf_names(self) -> tuple[str, ...]:
        """Names whose values a sample or the problem gives: inputs, targets, constants."""
        p = self.problem
        return p.inputs + p.targets + tuple(p.constants)

    def symbol(self, name: str) -> sympy.Symbol:
        return self.symbols[name]


def build_graph(problem: Problem) -> Graph:
    taken = set(problem.inputs) | set(problem.targets) | set(problem.constants) | set(problem.params)
    taken |= {name for stat in problem.batch_stats for name in (stat.mean, stat.var)}
    if problem.layers is not None:
        equations = _expand_layers(problem)
        unit_weights = tuple(row for layer in problem.layers for row in layer.weights)
    else:
        equations = list(problem.equations)
        unit_weights = ()
    taken |= {eq.name for eq in equations}
    shared = [name for stat in problem.batch_stats for name in (stat.mean, stat.var)]  # batch norm's μ, σ²
    symbols = {name: sympy.Symbol(name, real=True) for name in
               [*problem.inputs, *problem.targets, *problem.constants, *problem.params, *shared,
                *(eq.name for eq in equations)]}
    fallbacks = (f"E_{k}" for k in range(1, len(taken) + 2))  # when the problem uses all four
    loss_name = next(n for n in (*LOSS_NAME_CHOICES, *fallbacks) if n not in taken)
    symbols[loss_name] = sympy.Symbol(loss_name, real=True)
    outputs = [symbols[o] for o in problem.outputs]
    targets = [symbols[t] for t in problem.targets]
    spec = problem.loss
    loss_expr = LOSSES[spec.name].build(outputs, targets) if spec.name else spec.expr
    equations.append(Equation(loss_name, loss_expr))
    return Graph(problem, symbols, tuple(equations), loss_name, unit_weights)


def _expand_layers(problem: Problem) -> list[Equation]:
    return [eq for layer in problem.layers for eq in dense_equations(layer)]
