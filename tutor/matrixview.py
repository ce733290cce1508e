"""The worked solution in matrix notation (`notation: matrix`), as data: which vectors and
matrices a step shows, which products relate them, and their numbers. Nothing here
formats; the printers spell these records (and never compute).

The structure comes from the problem, never from equation text:

- a layered network gives, per layer k, z⁽ᵏ⁾ = W⁽ᵏ⁾a⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾ and a⁽ᵏ⁾ = f(z⁽ᵏ⁾), with a⁽⁰⁾
  the inputs;
- a model's vector equations are recognised by what they expand to: a vector node z whose
  components are Σⱼ Wᵢⱼaⱼ (+ bᵢ) over a matrix W and vectors a (and b) is an affine map; a
  vector node h with hᵢ = f(zᵢ) for one function f (or softmax(z)) is an activation.

Backward, each map shows the textbook identities with the step's numbers: at an activation
δ_z = δ_h ⊙ f′(z); at an affine map ∂E/∂W = δ_z aᵀ, ∂E/∂b = δ_z, δ_a = Wᵀδ_z. A batch is a
matrix whose columns are its samples; the batch gradient is then Δ_z Aᵀ reduced over the
samples (× 1/m for the mean). The identities for δ_a and δ_z are shown only where they hold
in full: where a (or z) feeds nothing but this map.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

import sympy

from .ops import OPS
from .problem.shapes import component_names

if TYPE_CHECKING:   # the printers read these records: they must not import the problem reader (or the engine)
    from .problem import Problem

INPUTS = "x"  # the layered form's input vector (a⁽⁰⁾), unless the inputs are declared as one vector


# ---------------------------------------------------------------- structure

@dataclass(frozen=True)
class Quantity:
    """A vector or matrix as the solution writes it: W⁽²⁾ is base W, layer 2; a model's own
    vector names have no layer. ``rows`` are its scalar components (a vector is a column)."""

    base: str
    layer: int | None
    rows: tuple[tuple[str, ...], ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for row in self.rows for n in row)

    @property
    def is_vector(self) -> bool:
        return all(len(row) == 1 for row in self.rows)


def vector(base: str, layer: int | None, names) -> Quantity:
    return Quantity(base, layer, tuple((n,) for n in names))


@dataclass(frozen=True)
class AffineMap:
    """out = W·source + bias (− bias: thresholds θ, subtracted)."""

    out: Quantity
    weights: Quantity
    source: Quantity
    bias: Quantity | None
    subtract: bool = False


@dataclass(frozen=True)
class Activation:
    """out = f(source) component by component; softmax over the whole vector."""

    out: Quantity
    function: str        # an op name, softmax, or linear (out = source)
    source: Quantity


Map = Union[AffineMap, Activation]


@dataclass(frozen=True)
class MatrixModel:
    """The problem at layer level: its maps in forward order, and the scalar nodes they
    account for (any other node is shown as its scalar equation)."""

    maps: tuple[Map, ...]
    covered: frozenset[str]
    exclusive: frozenset[str]   # quantities (by base, layer) whose components feed only the next map

    @property
    def parameters(self) -> frozenset[str]:
        """The parameters the maps show as matrices (W, b)."""
        return frozenset(n for m in self.maps if isinstance(m, AffineMap)
                         for q in (m.weights, m.bias) if q is not None for n in q.names)


def matrix_model(problem: Problem) -> MatrixModel:
    maps = _layered_maps(problem) if problem.layers is not None else _model_maps(problem)
    covered = frozenset(n for m in maps for n in m.out.names)
    return MatrixModel(tuple(maps), covered, _exclusive(problem, maps))


def _layered_maps(problem: Problem) -> list[Map]:
    shaped_inputs = [n for n, s in problem.shapes.items() if component_names(n, s) == problem.inputs]
    source = vector(shaped_inputs[0] if shaped_inputs else INPUTS, None, problem.inputs)
    maps: list[Map] = []
    for k, layer in enumerate(problem.layers, 1):
        net = vector("z", k, layer.nets)
        bias = vector("θ" if layer.thresholds else "b", k, layer.bias) if layer.bias is not None else None
        maps.append(AffineMap(net, Quantity("W", k, layer.weights), source, bias, layer.thresholds))
        units = vector("a", k, layer.units)
        maps.append(Activation(units, layer.activation, net))
        source = units
    return maps


def _model_maps(problem: Problem) -> list[Map]:
    by_name = {eq.name: eq.expr for eq in problem.equations}
    quantities = {name: _quantity(name, shape) for name, shape in problem.shapes.items() if len(shape) <= 2}
    maps: list[Map] = []
    for name, q in quantities.items():
        if not q.names[0] in by_name or not q.is_vector:
            continue
        found = _as_affine(q, by_name, quantities) or _as_activation(q, by_name, quantities)
        if found:
            maps.append(found)
    return maps


def _quantity(name: str, shape: tuple[int, ...]) -> Quantity:
    names = component_names(name, shape)
    if len(shape) == 1:
        return vector(name, None, names)
    cols = shape[1]
    return Quantity(name, None, tuple(names[i * cols:(i + 1) * cols] for i in range(shape[0])))


def _symbol(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, real=True)


def _as_affine(out: Quantity, by_name, quantities) -> AffineMap | None:
    """out = W @ a (+ b): tried for every matrix W of out's height whose first component
    appears in out's first equation, and every vector a of W's width."""
    first = by_name[out.names[0]].free_symbols
    height = len(out.rows)
    for w in quantities.values():
        if len(w.rows) != height or w.is_vector and len(w.rows[0]) != 1 or _symbol(w.rows[0][0]) not in first:
            continue
        width = len(w.rows[0])
        for a in quantities.values():
            if not a.is_vector or len(a.rows) != width or a is w or _symbol(a.names[0]) not in first:
                continue
            rests = [by_name[z] - sympy.Add(*(_symbol(wij) * _symbol(aj) for wij, aj in zip(row, a.names)))
                     for z, row in zip(out.names, w.rows)]
            if all(r == 0 for r in rests):
                return AffineMap(out, w, a, None)
            for b in quantities.values():
                if b.is_vector and len(b.rows) == height and b not in (a, w, out):
                    if all(r == _symbol(bi) for r, bi in zip(rests, b.names)):
                        return AffineMap(out, w, a, b)
                    if all(r == -_symbol(bi) for r, bi in zip(rests, b.names)):
                        return AffineMap(out, w, a, b, subtract=True)
    return None


def _as_activation(out: Quantity, by_name, quantities) -> Activation | None:
    """out = f(z) for one function f of one argument, or softmax(z)."""
    exprs = [by_name[n] for n in out.names]
    first = exprs[0]
    if not first.args or not isinstance(first, sympy.Function):
        return None
    arguments = first.args[1:] if first.func is OPS["softmax"].sympy_fn else first.args[:1]
    source = next((z for z in quantities.values() if z.is_vector and len(z.rows) == len(out.rows)
                   and z is not out and _symbol(z.names[0]) == arguments[0]), None)
    if source is None:
        return None
    zs = [_symbol(n) for n in source.names]
    if first.func is OPS["softmax"].sympy_fn:
        expected = [first.func(sympy.Integer(k), *zs) for k in range(1, len(zs) + 1)]
        return Activation(out, "softmax", source) if exprs == expected else None
    if len(first.args) != 1:
        return None
    if all(e.func is first.func and e.args == (z,) for e, z in zip(exprs, zs)):
        name = next((n for n, op in OPS.items() if op.sympy_fn is first.func), None)
        return Activation(out, name, source) if name else None
    return None


def _exclusive(problem: Problem, maps) -> frozenset[str]:
    """The sources (as `_key`) whose every component is used by its map's output and by
    nothing else (no other equation, not the loss): there δ of the source is the map's
    identity in full. In a layered network every source is."""
    if problem.layers is not None:
        return frozenset(_key(m.source) for m in maps)
    users: dict[str, set[str]] = {}
    for eq in problem.equations:
        for s in eq.expr.free_symbols:
            users.setdefault(str(s), set()).add(eq.name)
    outputs = set(problem.outputs)
    return frozenset(_key(m.source) for m in maps
                     if all(n not in outputs and users.get(n, set()) <= set(m.out.names) for n in m.source.names))


def _key(q: Quantity) -> str:
    return f"{q.base}/{q.layer}"


# ---------------------------------------------------------------- numbers

@dataclass(frozen=True)
class Numbers:
    """A quantity's numbers: a parameter as its matrix; a vector over a batch as a matrix
    with one column per sample (rows: its components)."""

    quantity: Quantity
    values: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class ForwardRow:
    map: Map
    out: Numbers
    weights: Numbers | None     # affine maps
    source: Numbers
    bias: Numbers | None


@dataclass(frozen=True)
class BackwardRow:
    """One map, backward: δ of its output (Δ: one column per sample), and then
    - an activation: f′(z) (None for softmax, whose Jacobian is not elementwise) and δ_z;
    - an affine map: ∂E/∂W and ∂E/∂b of the batch, and δ of its source (if it is a node)."""

    map: Map
    delta_out: Numbers
    derivative: Numbers | None = None
    delta_source: Numbers | None = None
    weights_gradient: Numbers | None = None
    bias_gradient: Numbers | None = None
    identity: bool = True        # the source feeds only this map: δ_source is the identity in full
    weights_after: Numbers | None = None   # plain SGD: W ← W − lr·∂E/∂W, as matrices
    bias_after: Numbers | None = None


@dataclass(frozen=True)
class StepView:
    step: int
    samples: tuple[int, ...]     # the batch's sample indices: the columns
    reduction: str               # mean or sum: ∂E/∂W = (1/m)·ΔAᵀ or ΔAᵀ
    forward: tuple[ForwardRow, ...]
    backward: tuple[BackwardRow, ...]   # from the loss back to the inputs
    lr: Any = None               # set when the update is shown as matrices (plain SGD)


def step_view(model: MatrixModel, problem: Problem, step, inputs_too: bool = False,
              sgd_update: bool = False) -> StepView:
    """The numbers of one step (a `train.Step` computed with details) for every map; δ of the
    inputs only ``inputs_too`` (a problem that asks for them: ∂f/∂x = Wᵀδ_q); with
    ``sgd_update`` (plain SGD, nothing frozen in a map) the parameters after the step too."""
    traces = step.samples
    params = step.parameters_before

    def over_batch(q: Quantity, table: str) -> Numbers:
        rows = []
        for (name,) in q.rows:
            rows.append(tuple(_lookup(trace, table, name) for trace in traces))
        return Numbers(q, tuple(rows))

    def parameter(q: Quantity, values) -> Numbers:
        return Numbers(q, tuple(tuple(values[n] for n in row) for row in q.rows))

    forward = []
    for m in model.maps:
        if isinstance(m, AffineMap):
            forward.append(ForwardRow(m, over_batch(m.out, "values"), parameter(m.weights, params),
                                      over_batch(m.source, "values"),
                                      parameter(m.bias, params) if m.bias is not None else None))
        else:
            forward.append(ForwardRow(m, over_batch(m.out, "values"), None, over_batch(m.source, "values"), None))

    backward = []
    for m in reversed(model.maps):
        identity = _key(m.source) in model.exclusive
        delta_out = over_batch(m.out, "deltas")
        wanted = inputs_too or not set(m.source.names) <= set(problem.inputs)
        delta_source = over_batch(m.source, "deltas") if wanted and _has_deltas(m.source, traces) else None
        if isinstance(m, Activation):
            derivative = None
            if m.function != "softmax":
                derivative = Numbers(m.source, tuple(
                    tuple(_partial(trace, h, z) for trace in traces) for h, z in zip(m.out.names, m.source.names)))
            backward.append(BackwardRow(m, delta_out, derivative, delta_source, identity=identity))
        else:
            after = step.parameters if sgd_update else None
            backward.append(BackwardRow(
                m, delta_out, None, delta_source, parameter(m.weights, step.raw_gradients),
                parameter(m.bias, step.raw_gradients) if m.bias is not None else None, identity,
                parameter(m.weights, after) if after else None,
                parameter(m.bias, after) if after and m.bias is not None else None))
    return StepView(step.step, tuple(step.batch), problem.loss.reduction, tuple(forward), tuple(backward),
                    step.lr if sgd_update else None)


def _lookup(trace, table: str, name: str):
    if table == "values":
        return trace.values[name]
    if name in trace.deltas:
        return trace.deltas[name]
    return trace.leaf_derivatives.get(name)


def _has_deltas(q: Quantity, traces) -> bool:
    return all(n in t.deltas or n in t.leaf_derivatives for n in q.names for t in traces)


def _partial(trace, node: str, dep: str):
    """∂node/∂dep at this sample: f′(z) for h = f(z); 1 for linear."""
    return trace.partials.get((node, dep), 1)
