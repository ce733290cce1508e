"""The drawing of a problem, as data: nodes at positions, edges with labels.

Two views, both taken from a solved `Run` (never recomputed here or in a speller):

- a layered ``network`` (``network:`` problems): inputs, then one column per
  layer; each unit shows its value, and its δ = ∂E/∂net (the textbook δ_j), its
  bias by name; each edge is labelled with its weight by the problem's name (w21);
- a ``graph`` (``model:`` problems), the computational graph as in the CS231n
  circuit figures: every leaf the model uses (inputs, parameters, constants,
  targets) and every stage, the loss last; a stage's column is its longest path
  from the leaves, a leaf sits just before its first consumer; each node shows
  its forward value (above) and ∂E/∂node (below).

The numbers are those of the first sample of the first step shown (the forward
pass with the parameters before the update), or of the forward pass with the
initial parameters when there are no steps.

Large networks: a drawing keeps its edge labels while every column holds at
most ``LABELLED_COLUMN`` nodes and there are at most ``LABELLED_EDGES`` edges
(beyond that the labels would overlap: the edges are drawn bare, with a note);
past ``DRAWN_COLUMN`` nodes in a column or ``DRAWN_EDGES`` edges nothing is
drawn (`build_diagram` returns None) and the printers say so in a sentence.

Positions are abstract: column ``x`` (0, 1, ...) and ``y`` (rows, a column
centred on 0, downwards); each speller scales them to its own units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

from typing import TYPE_CHECKING

if TYPE_CHECKING:   # the type only: the printers that read these figures never import the engine
    from .train import Run

LABELLED_COLUMN = 12
LABELLED_EDGES = 60
DRAWN_COLUMN = 30
DRAWN_EDGES = 400


@dataclass(frozen=True)
class DiagramNode:
    name: str
    kind: str                       # input, unit, param, constant, target, stage, loss
    x: int                          # column
    y: float                        # row, a column centred on 0
    value: float | None             # forward value
    grad: float | None              # δ (network: ∂E/∂net) or ∂E/∂node (graph)
    bias: tuple[str, float, str] | None = None   # a unit's bias: name, value, sign ("−": a threshold)


@dataclass(frozen=True)
class DiagramEdge:
    source: str
    target: str
    label: str | None               # the weight's name (network) or None
    value: float | None             # the weight's value
    at: float = 0.5                 # where its label sits, from the source's border (0) to the target's (1)


@dataclass(frozen=True)
class Diagram:
    kind: str                       # network or graph
    nodes: tuple[DiagramNode, ...]
    edges: tuple[DiagramEdge, ...]
    grad_label: str                 # "δ" (∂E/∂net) or "∂E/∂" (∂E/∂node, with the loss's name)
    caption: str
    edge_labels: bool               # False: too many edges to label them legibly
    columns: int
    rows: int                       # the tallest column

    def node(self, name: str) -> DiagramNode:
        return next(n for n in self.nodes if n.name == name)


def diagram_note(run: Run) -> str:
    """The sentence printed instead of a drawing too large to draw."""
    return (f"The network is too large to draw (more than {DRAWN_COLUMN} units in a column or "
            f"{DRAWN_EDGES} connections).")


def build_diagram(run: Run) -> Diagram | None:
    """The drawing of ``run``'s problem with the values of its first step; None if too large."""
    problem = run.problem
    values, grads, params, where = _numbers(run)
    if problem.layers is not None:
        columns, edges, biases = _network(run, params)
        grad_of = {unit: grads.get(net) for layer in problem.layers for unit, net in zip(layer.units, layer.nets)}
        kinds = {n: "input" for n in problem.inputs}
        grad_label = "δ"
        caption = (f"The network with the values of {where}: each unit's value, its δ = ∂E/∂net, and the "
                   f"weights by name and value.")
    else:
        columns, edges = _graph(run)
        biases = {}
        grad_of = {**grads, **{p: grads.get(p) for p in params}}
        kinds = _leaf_kinds(run)
        grad_label = f"∂{run.graph.loss_name}/∂"
        caption = (f"The computational graph with the values of {where}: each node's forward value (above) "
                   f"and {grad_label}node (below).")
    tallest = max(len(c) for c in columns)
    if tallest > DRAWN_COLUMN or len(edges) > DRAWN_EDGES:
        return None
    known = {**values, **params}
    nodes = tuple(
        DiagramNode(name, kinds.get(name, "loss" if name == run.graph.loss_name else
                                    ("unit" if problem.layers is not None else "stage")),
                    x, row - (len(column) - 1) / 2, known.get(name), grad_of.get(name), biases.get(name))
        for x, column in enumerate(columns) for row, name in enumerate(column))
    labelled = tallest <= LABELLED_COLUMN and len(edges) <= LABELLED_EDGES
    if not labelled:
        caption += f" (The {len(edges)} connections are drawn without their labels.)"
    return Diagram("network" if problem.layers is not None else "graph", nodes,
                   tuple(_label_positions(edges, columns)), grad_label, caption, labelled, len(columns), tallest)


def _numbers(run: Run) -> tuple[dict[str, float | None], dict[str, float | None], dict[str, float | None], str]:
    """Forward values, ∂E/∂name and parameters of the first sample shown, and where they come from."""
    to_float = run.domain.to_float
    floats = lambda mapping: {k: _finite(to_float(v)) for k, v in mapping.items()}  # noqa: E731
    if run.steps:
        step = run.steps[0]
        trace = step.samples[0]
        where = f"sample {trace.index} in step 1, before the update"
        params = floats(step.parameters_before)
    else:
        trace = run.final_samples[0] if run.final_samples else None
        where = f"sample {trace.index if trace else 1} with the initial parameters"
        params = floats(run.initial)
    if trace is None:
        return {}, {}, params, where
    grads = floats(trace.deltas) | floats(trace.gradients)
    return floats(trace.values), grads, params, where


def _finite(x: Any) -> float | None:
    return x if isinstance(x, float) and x == x and abs(x) != float("inf") else None


def _network(run: Run, params: dict[str, float | None]):
    problem = run.problem
    columns = [list(problem.inputs)] + [list(layer.units) for layer in problem.layers]
    edges, biases = [], {}
    for layer in problem.layers:
        for j, (unit, row) in enumerate(zip(layer.units, layer.weights)):
            edges += [DiagramEdge(source, unit, weight, params.get(weight)) for source, weight in zip(layer.sources, row)]
            if layer.bias is not None:
                sign = "−" if layer.thresholds else "+"  # net = Σ w·s − θ with thresholds
                biases[unit] = (layer.bias[j], params.get(layer.bias[j]), sign)
    return columns, edges, biases


def _graph(run: Run):
    """Columns by longest path from the leaves; each leaf just before its first consumer."""
    graph = run.graph
    order = list(graph.leaf_names) + list(graph.params)
    stages = [eq.name for eq in graph.equations]
    deps: dict[str, list[str]] = {}
    for eq in graph.equations:
        used = {s.name for s in eq.expr.free_symbols if isinstance(s, sympy.Symbol)}
        deps[eq.name] = [n for n in order + stages if n in used]
    depth: dict[str, int] = {}
    for name in stages:
        depth[name] = 1 + max((depth.get(d, 0) for d in deps[name]), default=0)
    for name in order:
        consumers = [depth[s] for s in stages if name in deps[s]]
        if consumers:
            depth[name] = min(consumers) - 1
    shown = [n for n in order if n in depth] + stages
    columns: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
    for name in shown:
        columns[depth[name]].append(name)
    edges = [DiagramEdge(d, s, None, None) for s in stages for d in deps[s]]
    return [c for c in columns if c], edges


def _leaf_kinds(run: Run) -> dict[str, str]:
    p = run.problem
    return ({n: "input" for n in p.inputs} | {n: "target" for n in p.targets}
            | {n: "constant" for n in p.constants} | {n: "param" for n in p.params})


def _label_positions(edges: list[DiagramEdge], columns: list[list[str]]) -> list[DiagramEdge]:
    """Each edge's label at its own distance along the edge: the edges into one
    node then carry their labels at different heights, and none sits where two
    edges cross (the middle, between two fully connected columns)."""
    row = {name: i for column in columns for i, name in enumerate(column)}
    out = []
    for e in edges:
        siblings = sorted({f.source for f in edges if f.target == e.target}, key=lambda s: row[s])
        n = len(siblings)
        at = 0.5 if n == 1 else 0.25 + 0.5 * siblings.index(e.source) / (n - 1)
        out.append(DiagramEdge(e.source, e.target, e.label, e.value, at))
    return out


__all__ = ["Diagram", "DiagramEdge", "DiagramNode", "build_diagram", "diagram_note"]
