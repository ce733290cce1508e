"""A batch as one computation, for batch normalization (training mode).

The problem's per-sample graph uses each normalized unit's batch mean μ and
variance σ² as names the samples share. Here a batch of m samples becomes one
graph: every per-sample name x is written x[s] for s = 1..m, μ and σ² become
nodes over all of them, and the last node is the sum of the samples' losses
Σ_s E[s]. That graph is evaluated by the ordinary Evaluator as one sample, so
the forward pass, the backward sweep (through μ and σ²) and the arithmetic are
the engine's own; its numbers are then handed back per sample, under the
problem's names. A sample's δ of a node is ∂(Σ_s E_s)/∂node (for its own
nodes after the normalization, simply ∂E_s/∂node); its gradient terms are its
nodes' share, and the batch gradient is their reduction (mean or sum), as for
independent samples.

Every other problem never comes here (`evaluator_for`)."""

from __future__ import annotations

import dataclasses
from typing import Any

import sympy

from .arith import ordered_sum
from .derive import Derivation, derive
from .evaluate import Evaluator, SampleTrace
from .graph import Graph
from .problem import Equation


def evaluator_for(derivation: Derivation, domain):
    """The evaluator of a problem: the ordinary one, or the batch one with batch norm."""
    if derivation.graph.problem.batch_stats:
        return BatchEvaluator(derivation, domain)
    return Evaluator(derivation, domain)


def per_sample(name: str, s: int) -> str:
    return f"{name}[{s}]"


class BatchEvaluator:
    """Evaluator's interface (run_batch, batch_loss) over batches made one computation."""

    def __init__(self, derivation: Derivation, domain):
        self.derivation = derivation
        self.graph = derivation.graph
        self.domain = domain
        self._by_size: dict[int, Evaluator] = {}

    def coupled(self, m: int) -> Evaluator:
        if m not in self._by_size:
            self._by_size[m] = Evaluator(derive(coupled_graph(self.graph, m)), self.domain)
        return self._by_size[m]

    def run_batch(self, params: dict[str, Any], samples: list[tuple[int, dict[str, Any]]], reduction: str,
                  step: int | None = None, on_complete=None, observe=None, details: bool = True):
        # ``details`` as Evaluator.run_batch takes it (train's fast path passes it); a coupled batch
        # always keeps them: each sample's share of the trace is cut from the whole one.
        graph, m = self.graph, len(samples)
        evaluator = self.coupled(m)
        constants = set(graph.problem.constants)
        leaves: dict[str, Any] = {}
        for s, (_, given) in enumerate(samples, 1):
            for name, value in given.items():
                if name in constants:
                    leaves[name] = value
                else:
                    leaves[per_sample(name, s)] = value
        (whole,), _ = evaluator.run_batch(params, [(None, leaves)], "sum", step,
                                          observe=self._observer(observe, samples))
        traces = [self._sample(whole, s, index) for s, (index, _) in enumerate(samples, 1)]
        d = self.domain
        batch = {}
        for p in graph.params:  # the reduction of the samples' terms, as the ordinary evaluator takes it
            total = d.check(ordered_sum((t.gradients[p] for t in traces), d.const(0)), f"∂E/∂{p}", step)
            batch[p] = d.round(total if reduction == "sum" else total / m)
        return traces, batch

    def _observer(self, observe, samples):
        """The checker's observer, told each value under the problem's own name and sample
        (a sample's loss E[s] as that sample's loss; μ and σ² in every sample, as the values
        list them); the batch's total loss passes as it is."""
        if observe is None:
            return None
        index_of = {str(s): index for s, (index, _) in enumerate(samples, 1)}
        loss_name = self.graph.loss_name
        shared = {n for stat in self.graph.problem.batch_stats for n in (stat.mean, stat.var)}

        def seen(kind, _index, name, value):
            if name in shared:  # in every sample's values: each sample is told; the first one's answer is used
                return [observe(kind, index, name, value) for index in index_of.values()][0]
            base, _, s = (name or "").rpartition("[")
            if not base or not s.endswith("]"):
                return value
            index = index_of[s[:-1]]
            return observe("loss", index, None, value) if base == loss_name else observe(kind, index, base, value)

        return seen

    def _sample(self, whole: SampleTrace, s: int, index: int) -> SampleTrace:
        """Sample s's share of the batch's trace, under the problem's own names."""
        graph = self.graph
        shared = {name for stat in graph.problem.batch_stats for name in (stat.mean, stat.var)}
        constants = set(graph.problem.constants)

        params = set(graph.params)

        def own(name: str) -> str:  # what the batch's graph calls this sample's `name`
            return name if name in constants or name in shared or name in params else per_sample(name, s)

        values = {name: whole.values[own(name)] for name in graph.leaf_names}
        for stat in graph.problem.batch_stats:
            values[stat.mean], values[stat.var] = whole.values[stat.mean], whole.values[stat.var]
        values.update((eq.name, whole.values[own(eq.name)]) for eq in graph.equations)  # the loss E[s] last
        deltas = {name: whole.deltas[own(name)] for name in graph.node_names}
        partials = {(node, dep): whole.partials[(own(node), own(dep))]
                    for node, dep in self.derivation.partials if (own(node), own(dep)) in whole.partials}
        partials.update(((node, leaf), whole.partials[(own(node), own(leaf))])
                        for node, leaf in self.derivation.leaf_partials if (own(node), own(leaf)) in whole.partials)
        for stat in graph.problem.batch_stats:  # the backward through the batch: δμ, δσ² and their edges
            deltas[stat.mean], deltas[stat.var] = whole.deltas[stat.mean], whole.deltas[stat.var]
            for edge in ((stat.normalized, stat.mean), (stat.normalized, stat.var), (stat.mean, stat.source),
                         (stat.var, stat.source), (stat.var, stat.mean)):
                partials[edge] = whole.partials[(own(edge[0]), own(edge[1]))]
        zero = self.domain.const(0)
        gradients = {}
        for p in graph.params:  # this sample's terms of the batch gradient: its nodes' edges into p
            terms = [deltas[node] * partials[(node, p)] for node in self.derivation.consumers.get(p, ())]
            gradients[p] = self.domain.round(sum(terms, zero))
        leaf_derivatives = {name: whole.leaf_derivatives[own(name)]
                            for name in graph.problem.inputs + tuple(graph.problem.constants)
                            if own(name) in whole.leaf_derivatives}
        return SampleTrace(index, values, partials, deltas, gradients, leaf_derivatives)

    def batch_loss(self, traces: list[SampleTrace], reduction: str, step: int | None = None):
        """The reduction of the samples' losses, added as the ordinary evaluator adds them."""
        d = self.domain
        total = d.check(ordered_sum((t.loss for t in traces), d.const(0)), "the loss", step)
        return d.round(total if reduction == "sum" else total / len(traces))


def coupled_graph(graph: Graph, m: int) -> Graph:
    """The per-sample graph written out for a batch of m samples, with batch norm's μ and σ²
    as nodes over the batch and the sum of the samples' losses E[s] last."""
    problem = graph.problem
    constants = set(problem.constants)
    stats = {stat.mean: stat for stat in problem.batch_stats} | {stat.var: stat for stat in problem.batch_stats}
    sym = lambda name: sympy.Symbol(name, real=True)  # noqa: E731 - local shorthand

    def renamed(expr: sympy.Expr, s: int) -> sympy.Expr:
        return expr.xreplace({x: sym(per_sample(x.name, s)) for x in expr.free_symbols
                              if x.name not in constants and x.name not in stats and x.name not in problem.params})

    equations, made = [], set()
    for eq in graph.equations:
        for name in sorted((x.name for x in eq.expr.free_symbols if x.name in stats), key=list(stats).index):
            stat = stats[name]
            if stat.mean not in made:  # μ and σ² just before their first use, once every x[s] is known
                xs = [sym(per_sample(stat.source, s)) for s in range(1, m + 1)]
                mean = sym(stat.mean)
                equations.append(Equation(stat.mean, sympy.Add(*xs) / m))
                equations.append(Equation(stat.var, sympy.Add(*[(x - mean) ** 2 for x in xs]) / m))
                made.add(stat.mean)
        for s in range(1, m + 1):
            equations.append(Equation(per_sample(eq.name, s), renamed(eq.expr, s)))
    losses = [sym(per_sample(graph.loss_name, s)) for s in range(1, m + 1)]
    equations.append(Equation(graph.loss_name, sympy.Add(*losses)))
    leaves = [per_sample(n, s) for n in (*problem.inputs, *problem.targets) for s in range(1, m + 1)]
    coupled = dataclasses.replace(problem, inputs=tuple(per_sample(n, s) for n in problem.inputs
                                                        for s in range(1, m + 1)),
                                  targets=tuple(per_sample(n, s) for n in problem.targets for s in range(1, m + 1)),
                                  batch_stats=())
    names = [*leaves, *problem.constants, *problem.params, *(eq.name for eq in equations)]
    return Graph(coupled, {n: sym(n) for n in names}, tuple(equations), graph.loss_name, ())
