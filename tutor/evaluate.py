"""Numbers for one batch: the forward pass and the reverse sweep (δ accumulation).

The backward loop below is what the tutor teaches: walk the equations from the
loss back to the inputs; each node's δ = ∂E/∂node is the sum, over the nodes
that use it, of their δ times the local partial; each parameter's gradient is
the same sum over the equations that use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .arith import NotFinite, compile_expr
from .derive import Derivation, Edge
from .errors import DivergenceError

# Python's own arithmetic errors, met when a float computation leaves the reals.
ARITHMETIC_ERRORS = (NotFinite, OverflowError, ZeroDivisionError, ValueError)


@dataclass
class SampleTrace:
    """Everything computed for one sample in one step."""

    index: int                      # 1-based position in the problem's data
    values: dict[str, Any]          # leaves, then nodes in forward order (the loss node last)
    partials: dict[Edge, Any]       # value of each local partial ∂node/∂dep
    deltas: dict[str, Any]          # δ = ∂E/∂node for every node (E's is 1)
    gradients: dict[str, Any]       # this sample's ∂E/∂θ

    @property
    def loss(self):
        return self.values[next(reversed(self.values))]


# Called in sequential mode when a parameter's gradient is complete: receives the
# batch gradients of the parameters completed at one node, returns their new values.
OnComplete = Callable[[dict[str, Any]], dict[str, Any]]


class Evaluator:
    """The derivation compiled once, for one arithmetic domain."""

    def __init__(self, derivation: Derivation, domain):
        self.derivation = derivation
        self.graph = graph = derivation.graph
        self.domain = domain
        self.slot = {name: i for i, name in enumerate(graph.symbols)}
        by_symbol = {sym: i for i, sym in enumerate(graph.symbols.values())}
        self.forward_code = [(eq.name, self.slot[eq.name], compile_expr(eq.expr, by_symbol, domain))
                             for eq in graph.equations]
        self.partial_code = {edge: compile_expr(expr, by_symbol, domain)
                             for edge, expr in derivation.partials.items()}
        self.params = set(graph.params)
        # In the reverse sweep a parameter's gradient is complete at its first user.
        self.completes_at: dict[str, list[str]] = {}
        for p in graph.params:
            users = derivation.consumers.get(p)
            if users:
                self.completes_at.setdefault(users[0], []).append(p)

    # ------------------------------------------------------------ forward

    def forward(self, params: dict[str, Any], leaves: dict[str, Any], index: int, step: int | None):
        env: list[Any] = [None] * len(self.slot)
        for name, value in leaves.items():
            env[self.slot[name]] = value
        for name, value in params.items():
            env[self.slot[name]] = value
        d = self.domain
        for name, slot, code in self.forward_code:
            env[slot] = d.round(self._value(code, env, f"{name} (sample {index})", step))
        values = {name: env[self.slot[name]] for name in leaves}
        values.update((name, env[slot]) for name, slot, _ in self.forward_code)
        return env, values

    def _value(self, code, env, quantity: str, step: int | None):
        try:
            value = code(env)
        except ARITHMETIC_ERRORS as exc:
            raise DivergenceError(quantity, str(exc) or type(exc).__name__, step) from None
        return self.domain.check(value, quantity, step)

    # ------------------------------------------------------------ backward

    def run_batch(self, params: dict[str, Any], samples: list[tuple[int, dict[str, Any]]], reduction: str,
                  step: int | None = None, on_complete: OnComplete | None = None):
        """Forward and backward over a batch. Returns the sample traces and the batch
        gradients (``reduction`` of the per-sample gradients)."""
        d = self.domain
        envs, traces = [], []
        for index, leaves in samples:
            env, values = self.forward(params, leaves, index, step)
            envs.append(env)
            traces.append(SampleTrace(index, values, {}, {self.graph.loss_name: d.const(1)}, {}))
        accum = [{} for _ in samples]          # δ contributions, per sample
        grads = [{} for _ in samples]          # gradient contributions, per sample
        batch: dict[str, Any] = {}
        for name in reversed(self.derivation.graph.node_names):
            for trace, env, acc, grad in zip(traces, envs, accum, grads):
                delta = trace.deltas.get(name)
                if delta is None:  # every user of this node is behind us: δ is complete
                    delta = trace.deltas[name] = d.round(self._sum(acc.pop(name, []), f"δ_{name}", step))
                for dep in self.derivation.deps[name]:
                    if dep in self.params:
                        local = self._partial(name, dep, env, trace, step)
                        grad.setdefault(dep, []).append(delta * local)
            for p in self.completes_at.get(name, ()):
                for trace, grad in zip(traces, grads):
                    trace.gradients[p] = d.round(self._sum(grad[p], f"∂E/∂{p} (sample {trace.index})", step))
                batch[p] = d.round(self._reduce([t.gradients[p] for t in traces], reduction, f"∂E/∂{p}", step))
            if on_complete and name in self.completes_at:
                updated = on_complete({p: batch[p] for p in self.completes_at[name]})
                for env in envs:  # later partials see the new values: the sequential mistake
                    for p, value in updated.items():
                        env[self.slot[p]] = value
            for trace, env, acc in zip(traces, envs, accum):
                delta = trace.deltas[name]
                for dep in self.derivation.deps[name]:
                    if dep not in self.params:
                        acc.setdefault(dep, []).append(delta * self._partial(name, dep, env, trace, step))
        for p in self.graph.params:  # parameters no equation uses (possible in the model form)
            if p not in batch:
                for trace in traces:
                    trace.gradients[p] = d.const(0)
                batch[p] = d.const(0)
        return traces, {p: batch[p] for p in self.graph.params}

    def _partial(self, node: str, dep: str, env, trace: SampleTrace, step):
        value = self.domain.round(self._value(self.partial_code[(node, dep)], env,
                                              f"∂{node}/∂{dep} (sample {trace.index})", step))
        trace.partials[(node, dep)] = value
        return value

    def _sum(self, terms: list, quantity: str, step):
        d = self.domain
        total = d.const(0)
        for term in terms:
            total = total + term
        return d.check(total, quantity, step)

    def _reduce(self, values: list, reduction: str, quantity: str, step):
        total = self._sum(values, quantity, step)
        return total if reduction == "sum" else self.domain.check(total / len(values), quantity, step)

    def batch_loss(self, traces: list[SampleTrace], reduction: str, step: int | None = None):
        return self.domain.round(self._reduce([t.loss for t in traces], reduction, "loss", step))
