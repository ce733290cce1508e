"""Numbers for one batch: the forward pass and the reverse sweep (δ accumulation).

The backward loop below is what the tutor teaches: walk the equations from the
loss back to the inputs; each node's δ = ∂E/∂node is the sum, over the nodes
that use it, of their δ times the local partial; each parameter's gradient is
the same sum over the equations that use it.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from math import isfinite
from operator import add
from typing import Any, Callable

from .arith import FloatSource, NotFinite, compile_expr, ordered_sum
from .derive import Derivation, Edge
from .errors import DivergenceError

# Python's own arithmetic errors, met when a float computation leaves the reals.
ARITHMETIC_ERRORS = (NotFinite, OverflowError, ZeroDivisionError, ValueError)

# Batches an evaluator computes with its closures before it generates its float code
# (`Evaluator._generate`): for a problem of a step or two, writing and compiling the
# code would cost more than it saves. -1: never generated.
GENERATE_AFTER_BATCHES = 4


@dataclass
class SampleTrace:
    """Everything computed for one sample in one step."""

    index: int                      # 1-based position in the problem's data
    values: dict[str, Any]          # leaves, then nodes in forward order (the loss node last)
    partials: dict[Edge, Any]       # value of each local partial ∂node/∂dep
    deltas: dict[str, Any]          # δ = ∂E/∂node for every node (E's is 1)
    gradients: dict[str, Any]       # this sample's ∂E/∂θ
    leaf_derivatives: dict[str, Any] = field(default_factory=dict)  # ∂E/∂input and ∂E/∂constant

    @property
    def loss(self):
        return self.values[next(reversed(self.values))]


# Called in sequential mode when a parameter's gradient is complete: receives the
# batch gradients of the parameters completed at one node, returns their new values.
OnComplete = Callable[[dict[str, Any]], dict[str, Any]]

# Sees each quantity as it is computed, (kind, sample, name, value), and returns the
# value to carry on with: the checker substitutes a student's own answers this way.
# Kinds: "values" (a forward value), "loss", "gradient", "parameters".
Observe = Callable[[str, Any, Any, Any], Any]


@dataclass(frozen=True)
class _Backward:
    """What the reverse sweep does at one node, compiled."""

    name: str
    param_edges: tuple[tuple[str, Any], ...]  # (parameter, compiled ∂node/∂parameter)
    node_edges: tuple[tuple[str, Any], ...]   # (node, compiled ∂node/∂node)
    completes: tuple[str, ...]                # parameters whose gradient is complete here


def _values_of(names: tuple[str, ...]) -> Callable[[dict], tuple]:
    """mapping -> the tuple of its values for ``names``, in that order."""
    if len(names) == 1:
        (name,) = names
        return lambda mapping: (mapping[name],)
    return operator.itemgetter(*names) if names else (lambda mapping: ())


def _describe(what: tuple) -> str:
    """Name a quantity for an error message; built only when one is raised."""
    kind, name, index = what[0], what[1], what[2]
    texts = {"node": f"{name}", "delta": f"δ_{name}", "grad": f"∂E/∂{name}", "loss": "loss"}
    text = texts.get(kind) or f"∂{name}/∂{kind}"
    return f"{text} (sample {index})" if index is not None else text


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
        partial_code = {edge: compile_expr(expr, by_symbol, domain) for edge, expr in derivation.partials.items()}
        self.params = params = set(graph.params)
        # In the reverse sweep a parameter's gradient is complete at its first user.
        completes_at: dict[str, list[str]] = {}
        for p in graph.params:
            users = derivation.consumers.get(p)
            if users:
                completes_at.setdefault(users[0], []).append(p)
        # Float arithmetic without rounding runs a fast path: no check per value, one
        # check of every value at the end; only a failing batch is redone value by value,
        # for the message naming the first quantity that failed. The numbers are the same.
        self.fast = domain.name == "float"
        self._node_values = operator.itemgetter(*(i for _, i, _ in self.forward_code), 0)
        self.backward_plan = [
            _Backward(name,
                      tuple((dep, partial_code[(name, dep)]) for dep in derivation.deps[name] if dep in params),
                      tuple((dep, partial_code[(name, dep)]) for dep in derivation.deps[name] if dep not in params),
                      tuple(completes_at.get(name, ())))
            for name in reversed(graph.node_names)
        ]
        completed = [p for node in self.backward_plan for p in node.completes]
        self.gradient_order = completed + [p for p in graph.params if p not in completed]
        self.leaf_plan = [(node, leaf, compile_expr(expr, by_symbol, domain))
                          for (node, leaf), expr in derivation.leaf_partials.items()]
        self.leaf_names = graph.problem.inputs + tuple(graph.problem.constants)
        self._partial_keys = [(node.name, dep) for node in self.backward_plan
                              for dep, _ in node.param_edges + node.node_edges]
        self._leaf_partial_keys = [(node, leaf) for node, leaf, _ in self.leaf_plan]
        self._delta_names = [node.name for node in self.backward_plan]
        self._node_names = graph.node_names
        self._param_values, self._leaf_values = _values_of(graph.params), _values_of(graph.leaf_names)
        # Float batches run one generated function per sample (see `_generate`).
        self._uses_before_generating = GENERATE_AFTER_BATCHES if self.fast else -1
        self._sample_code: Callable | None = None

    # ------------------------------------------------------------ forward

    def forward(self, params: dict[str, Any], leaves: dict[str, Any], index: int, step: int | None,
                observe: Observe | None = None):
        env: list[Any] = [None] * len(self.slot)
        slot = self.slot
        for name, value in leaves.items():
            env[slot[name]] = value if observe is None else observe("values", index, name, value)
        for name, value in params.items():
            env[slot[name]] = value
        if observe is None and self.fast and self._forward_fast(env):
            values = {name: env[slot[name]] for name in leaves}
            values.update((name, env[i]) for name, i, _ in self.forward_code)
            return env, values
        rnd, loss_name = self.domain.round, self.graph.loss_name
        for name, i, code in self.forward_code:
            value = rnd(self._value(code, env, ("node", name, index), step))
            if observe is not None:
                value = observe("loss", index, None, value) if name == loss_name else \
                    observe("values", index, name, value)
            env[i] = value
        values = {name: env[slot[name]] for name in leaves}
        values.update((name, env[i]) for name, i, _ in self.forward_code)
        return env, values

    def _forward_fast(self, env: list) -> bool:
        """The forward pass without checks; False if any value is not finite (or an
        operation failed): then the caller redoes it value by value."""
        try:
            for _, i, code in self.forward_code:
                env[i] = code(env)
        except ARITHMETIC_ERRORS:
            return False
        return all(map(isfinite, self._node_values(env)))

    def _value(self, code, env, what: tuple, step: int | None):
        try:
            value = code(env)
        except ARITHMETIC_ERRORS as exc:
            raise DivergenceError(_describe(what), str(exc) or type(exc).__name__, step,
                                  self._inputs(what, env)) from None
        if not self.domain.is_finite(value):
            raise DivergenceError(_describe(what), f"evaluates to {self.domain.show(value)}", step,
                                  self._inputs(what, env))
        return value

    def _finite(self, value, what: tuple, step: int | None):
        if not self.domain.is_finite(value):
            raise DivergenceError(_describe(what), f"evaluates to {self.domain.show(value)}", step)
        return value

    def _inputs(self, what: tuple, env) -> dict[str, float | None]:
        """The values a failing equation or partial derivative was given."""
        kind, name = what[0], what[1]
        if kind == "node":
            expr = next(eq.expr for eq in self.graph.equations if eq.name == name)
        else:
            expr = self.derivation.partials[(name, kind)]
        names = sorted((s.name for s in expr.free_symbols), key=self.slot.__getitem__)
        return {n: self.domain.to_float(env[self.slot[n]]) for n in names}

    # ------------------------------------------------------------ backward

    def run_batch(self, params: dict[str, Any], samples: list[tuple[int, dict[str, Any]]], reduction: str,
                  step: int | None = None, on_complete: OnComplete | None = None, observe: Observe | None = None,
                  details: bool = True):
        """Forward and backward over a batch. Returns the sample traces and the batch
        gradients (``reduction`` of the per-sample gradients). Without ``details`` the
        traces may leave out the local partials and the per-sample gradients."""
        if on_complete is None and observe is None and self._uses_before_generating >= 0:
            if self._uses_before_generating == 0:
                self._uses_before_generating = -1
                self._sample_code = self._generate()
            else:
                self._uses_before_generating -= 1
        if self._sample_code is not None and on_complete is None and observe is None:
            done = self._run_batch_generated(params, samples, reduction, details)
            if done is not None:
                return done
        envs, traces = [], []
        for index, leaves in samples:
            env, values = self.forward(params, leaves, index, step, observe)
            envs.append(env)
            traces.append(SampleTrace(index, values, {}, {}, {}))
        return traces, self.backward(envs, traces, reduction, step, on_complete)

    def backward(self, envs: list[list], traces: list[SampleTrace], reduction: str, step: int | None = None,
                 on_complete: OnComplete | None = None) -> dict[str, Any]:
        """The reverse sweep over forward environments (one per sample of the batch);
        fills each trace's partials, δs and gradients; returns the batch gradients."""
        if self.fast and on_complete is None:
            batch = self._backward_fast(envs, traces, reduction)
            if batch is not None:
                self._leaf_derivatives(envs, traces, step)
                return batch
            for trace in traces:  # redone value by value, to name what failed
                trace.partials, trace.deltas, trace.gradients = {}, {}, {}
        d = self.domain
        zero, rnd = d.const(0), d.round
        for trace in traces:
            trace.deltas[self.graph.loss_name] = d.const(1)
        accum = [{} for _ in envs]   # δ contributions so far, per sample
        grads = [{} for _ in envs]   # gradient contributions so far, per sample
        batch: dict[str, Any] = {}
        for node in self.backward_plan:
            name = node.name
            for trace, env, acc, grad in zip(traces, envs, accum, grads):
                delta = trace.deltas.get(name)
                if delta is None:  # every user of this node is behind us: δ is complete
                    delta = trace.deltas[name] = rnd(self._finite(acc.pop(name, zero), ("delta", name, trace.index),
                                                                  step))
                for dep, code in node.param_edges:
                    grad[dep] = grad.get(dep, zero) + delta * self._partial(name, dep, code, env, trace, step)
            for p in node.completes:
                for trace, grad in zip(traces, grads):
                    trace.gradients[p] = rnd(self._finite(grad[p], ("grad", p, trace.index), step))
                total = self._finite(ordered_sum((t.gradients[p] for t in traces), zero), ("grad", p, None), step)
                batch[p] = rnd(total if reduction == "sum" else total / len(traces))
            if on_complete and node.completes:
                updated = on_complete({p: batch[p] for p in node.completes})
                for env in envs:  # later partials see the new values: the sequential mistake
                    for p, value in updated.items():
                        env[self.slot[p]] = value
            for trace, env, acc in zip(traces, envs, accum):
                delta = trace.deltas[name]
                for dep, code in node.node_edges:
                    acc[dep] = acc.get(dep, zero) + delta * self._partial(name, dep, code, env, trace, step)
        for p in self.graph.params:  # parameters no equation uses (possible in the model form)
            if p not in batch:
                for trace in traces:
                    trace.gradients[p] = zero
                batch[p] = zero
        self._leaf_derivatives(envs, traces, step)
        return {p: batch[p] for p in self.graph.params}

    def _backward_fast(self, envs: list[list], traces: list[SampleTrace], reduction: str) -> dict[str, Any] | None:
        """`backward` in float arithmetic, simultaneous updates: each sample's sweep in
        one pass, the same operations in the same order; None if any value is not finite."""
        try:
            for trace, env in zip(traces, envs):
                partials, deltas, grads = trace.partials, trace.deltas, trace.gradients
                deltas[self.graph.loss_name] = 1.0
                acc: dict[str, float] = {}
                for node in self.backward_plan:
                    name = node.name
                    delta = deltas.get(name)
                    if delta is None:
                        delta = deltas[name] = acc.pop(name, 0.0)
                    for dep, code in node.param_edges:
                        partials[(name, dep)] = value = code(env)
                        grads[dep] = grads.get(dep, 0.0) + delta * value
                    for dep, code in node.node_edges:
                        partials[(name, dep)] = value = code(env)
                        acc[dep] = acc.get(dep, 0.0) + delta * value
                if not (all(map(isfinite, partials.values())) and all(map(isfinite, deltas.values()))
                        and all(map(isfinite, grads.values()))):
                    return None
        except ARITHMETIC_ERRORS:
            return None
        for trace in traces:  # in the order `backward` completes them; unused parameters: 0
            grads = trace.gradients
            trace.gradients = {p: grads.get(p, 0.0) for p in self.gradient_order}
        batch: dict[str, Any] = {}
        for p in self.graph.params:
            total = ordered_sum((t.gradients[p] for t in traces), 0.0)
            if not isfinite(total):
                return None
            batch[p] = total if reduction == "sum" else total / len(traces)
        return batch

    # ------------------------------------------------------------ generated

    def _generate(self) -> Callable | None:
        """One Python function for a sample's forward pass, reverse sweep and ∂E/∂leaf
        in float arithmetic: the operations of `forward`, `_backward_fast` and
        `_leaf_derivatives`, in the same order, so the numbers are the same; None
        when Python cannot compile it (an expression nested too deeply).

        It takes the parameters and the leaves as tuples, and returns the node values,
        the local partials, the δs (the loss's first), this sample's gradients (in
        `gradient_order`, then in the parameters' order), the ∂node/∂leaf partials,
        the ∂E/∂leaf, and the sum of all of them, which is finite only if each is."""
        graph, derivation = self.graph, self.derivation
        var = {name: f"v{i}" for i, name in enumerate(graph.symbols)}
        source = FloatSource({sym: var[name] for name, sym in graph.symbols.items()})
        body = []
        if graph.params:
            body.append(f"{', '.join(var[p] for p in graph.params)}, = P")
        if graph.leaf_names:
            body.append(f"{', '.join(var[n] for n in graph.leaf_names)}, = L")
        body += [f"{var[eq.name]} = {source.expr(eq.expr)}" for eq in graph.equations]
        delta = {name: f"d{i}" for i, name in enumerate(graph.symbols)}
        partials, reached = [], set()

        def accumulate(target: str, term: str) -> None:
            body.append(f"{target} = {target} + {term}" if target in reached else f"{target} = 0.0 + {term}")
            reached.add(target)

        gradient = {p: f"g{i}" for i, p in enumerate(graph.params)}
        for node in self.backward_plan:
            d = delta[node.name]
            if node.name == graph.loss_name:
                body.append(f"{d} = 1.0")
            elif d not in reached:
                body.append(f"{d} = 0.0")
            for dep, _ in node.param_edges + node.node_edges:
                p = f"p{len(partials)}"
                partials.append(p)
                body.append(f"{p} = {source.expr(derivation.partials[(node.name, dep)])}")
                accumulate(gradient[dep] if dep in gradient else delta[dep], f"({d} * {p})")
        gradients = [gradient[p] if gradient[p] in reached else "0.0" for p in self.gradient_order]
        batch_gradients = [gradient[p] if gradient[p] in reached else "0.0" for p in graph.params]
        leaf_delta = {leaf: f"l{i}" for i, leaf in enumerate(self.leaf_names)}
        body += [f"{name} = 0.0" for name in leaf_delta.values()]
        leaf_partials = []
        for node, leaf, _ in self.leaf_plan:
            q = f"q{len(leaf_partials)}"
            leaf_partials.append(q)
            body.append(f"{q} = {source.expr(derivation.leaf_partials[(node, leaf)])}")
            body.append(f"{leaf_delta[leaf]} = {leaf_delta[leaf]} + ({delta[node]} * {q})")
        deltas = [delta[node.name] for node in self.backward_plan]
        groups = [[var[eq.name] for eq in graph.equations], partials, deltas, gradients, batch_gradients,
                  leaf_partials, list(leaf_delta.values())]
        tuples = [f"({', '.join(group)},)" if group else "()" for group in groups]
        every = [name for group in groups for name in group]
        body.append(f"return {', '.join(tuples)}, sum(({', '.join(every)},))")
        try:
            return source.function_of("sample", "P, L", body)
        except (RecursionError, MemoryError, SyntaxError):
            return None

    def _run_batch_generated(self, params: dict[str, Any], samples: list[tuple[int, dict[str, Any]]],
                             reduction: str, details: bool):
        """`run_batch` by the generated function; None if a value is not finite (or
        an operation failed): then the batch is redone by the checked path."""
        traces, totals = [], None
        code, node_names = self._sample_code, self._node_names
        try:
            theta = self._param_values(params)
            for index, leaves in samples:
                nodes, partials, deltas, grads, batch_grads, leaf_partials, leaf_deltas, total = code(
                    theta, self._leaf_values(leaves))
                if not isfinite(total):
                    return None
                values = dict(leaves)
                values.update(zip(node_names, nodes))
                partial, gradients = {}, {}
                if details:
                    partial = dict(zip(self._partial_keys, partials))
                    partial.update(zip(self._leaf_partial_keys, leaf_partials))
                    gradients = dict(zip(self.gradient_order, grads))
                traces.append(SampleTrace(index, values, partial, dict(zip(self._delta_names, deltas)), gradients,
                                          dict(zip(self.leaf_names, leaf_deltas))))
                # Left to right from 0.0, one rounding per addition, as `ordered_sum`.
                totals = [0.0 + g for g in batch_grads] if totals is None else list(map(add, totals, batch_grads))
        except (*ARITHMETIC_ERRORS, KeyError):
            return None
        if totals is None:
            return None
        if reduction != "sum":
            totals = [total / len(traces) for total in totals]
        if not isfinite(sum(totals)):
            return None
        return traces, dict(zip(self.graph.params, totals))

    def _leaf_derivatives(self, envs, traces: list[SampleTrace], step: int | None) -> None:
        """∂E/∂input and ∂E/∂constant, once every δ is known: Σ δ_node·∂node/∂leaf."""
        d = self.domain
        zero, rnd = d.const(0), d.round
        for trace, env in zip(traces, envs):
            acc = {leaf: zero for leaf in self.leaf_names}
            for node, leaf, code in self.leaf_plan:
                partial = trace.partials[(node, leaf)] = rnd(self._value(code, env, (leaf, node, trace.index), step))
                acc[leaf] = acc[leaf] + trace.deltas[node] * partial
            trace.leaf_derivatives = {leaf: rnd(self._finite(v, ("delta", leaf, trace.index), step))
                                      for leaf, v in acc.items()}

    def _partial(self, node: str, dep: str, code, env, trace: SampleTrace, step):
        value = self.domain.round(self._value(code, env, (dep, node, trace.index), step))
        trace.partials[(node, dep)] = value
        return value

    def batch_loss(self, traces: list[SampleTrace], reduction: str, step: int | None = None):
        d = self.domain
        total = self._finite(ordered_sum((t.loss for t in traces), d.const(0)), ("loss", None, None), step)
        return d.round(total if reduction == "sum" else total / len(traces))
