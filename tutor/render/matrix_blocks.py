"""The worked solution at layer level (`notation: matrix`) as document blocks: the walk's
part for the records of `tutor.matrixview`. Wording and order are decided here, once;
the printers spell `Matrix` and `Tensor` like any other maths.

    z⁽¹⁾ = W⁽¹⁾a⁽⁰⁾ + b⁽¹⁾ = [W][A] + [b] = [Z]          forward, a batch's samples as columns
    δ_z⁽²⁾ = δ_a⁽²⁾ ⊙ σ′(z⁽²⁾) = [..] ⊙ [..] = [..]       backward, from the loss down
    ∂E/∂W⁽²⁾ = (1/m) δ_z⁽²⁾ a⁽¹⁾ᵀ = …
    δ_a⁽¹⁾ = W⁽²⁾ᵀ δ_z⁽²⁾ = …
"""

from __future__ import annotations

import dataclasses

from ..document import Block, EqRow, Equations, Heading, Matrix, Notation, Num, Sym, Text, math
from ..matrixview import Activation, AffineMap, MatrixModel, Numbers, Quantity, StepView
from ..records import Backward, Delta, Name, Partial, SampleForward, Tensor

PLUS, MINUS = Notation(" + ", " + "), Notation(" − ", " - ")
HADAMARD = Notation(" ⊙ ", r" \odot ")
ONES = Notation("𝟏", r"\mathbf{1}")
APPLY = Notation(" ", r"\,")   # between juxtaposed factors: δ_z aᵀ, not δ_zaᵀ


def tensor(q: Quantity, role: str = "value", transpose: bool = False) -> Sym:
    return Sym(Tensor(q.base, q.layer, role, transpose))


def call(function: str, argument: Sym, prime: bool = False) -> tuple:
    """f(z) or f′(z), the function's name as the model writes it (σ for sigmoid)."""
    shown = {"sigmoid": ("σ", r"\sigma")}.get(function, (function, rf"\operatorname{{{function}}}".replace("_", r"\_")))
    mark = ("′", "'") if prime else ("", "")
    return (Notation(f"{shown[0]}{mark[0]}(", f"{shown[1]}{mark[1]}("), argument, Notation(")", ")"))


def model_blocks(model: MatrixModel) -> list[Block]:
    """The model at layer level: one line per map."""
    rows = []
    for m in model.maps:
        rows.append(EqRow(math(tensor(m.out)), "=", (math(*_formula(m)),)))
    return [Equations(tuple(rows))] if rows else []


def parameter_blocks(model: MatrixModel, values, digits: int) -> list[Block]:
    """The maps' weight matrices and bias vectors: their parameters by name, then their initial
    ``values`` (name -> value)."""
    rows, seen = [], set()
    for m in model.maps:
        if not isinstance(m, AffineMap):
            continue
        for q in (m.weights, m.bias):
            if q is not None and (q.base, q.layer) not in seen:
                seen.add((q.base, q.layer))
                names = Matrix(tuple(tuple(Sym(Name(n)) for n in row) for row in q.rows))
                numbers = Matrix(tuple(tuple(Num(values[n], digits) for n in row) for row in q.rows))
                rows.append(EqRow(math(tensor(q)), "=", (math(names), math(numbers))))
    return [Equations(tuple(rows))] if rows else []


def _formula(m) -> tuple:
    if isinstance(m, AffineMap):
        items = (tensor(m.weights), APPLY, tensor(m.source))
        return items + ((MINUS if m.subtract else PLUS, tensor(m.bias)) if m.bias is not None else ())
    if m.function == "linear":
        return (tensor(m.source),)
    return call(m.function, tensor(m.source))


class _Numbers:
    def __init__(self, digits: int):
        self.digits = digits

    def matrix(self, numbers: Numbers, transpose: bool = False) -> Matrix:
        rows = numbers.values if not transpose else tuple(zip(*numbers.values))
        return Matrix(tuple(tuple(Num(v, self.digits) for v in row) for row in rows))


def uncovered_forward(f: SampleForward, covered) -> SampleForward | None:
    """A sample's forward rows of the nodes no map shows (f = sum(q²)), or None."""
    rows = tuple(c for c in f.rows if c.lhs.name not in covered)
    return dataclasses.replace(f, rows=rows) if rows else None


def uncovered_backward(b: Backward, covered, parameters) -> Backward | None:
    """The scalar backward lines no map shows: local derivatives and δ's of the other nodes,
    gradients of the other parameters; None when nothing is left."""
    def kept(calc) -> bool:
        label = calc.lhs
        if isinstance(label, Partial):
            return label.of not in covered
        if isinstance(label, Delta):
            return label.node not in covered
        return True
    samples = tuple(dataclasses.replace(s, locals=tuple(c for c in s.locals if kept(c)),
                                        deltas=tuple(c for c in s.deltas if kept(c)),
                                        gradients=tuple((q, c) for q, c in s.gradients if q not in parameters))
                    for s in b.samples)
    batch = tuple((q, c) for q, c in b.batch if q not in parameters)
    if not batch and not any(s.locals or s.deltas or s.gradients for s in samples):
        return None
    return dataclasses.replace(b, samples=samples, batch=batch,
                               chains=tuple((q, c) for q, c in b.chains if q not in parameters))


def step_blocks(view: StepView, digits: int) -> tuple[list[Block], list[Block], list[Block]]:
    """(forward, backward, update) blocks of one step at layer level; the update only for
    plain SGD (``view.lr`` set), W ← W − lr·∂E/∂W."""
    n = _Numbers(digits)
    m = len(view.samples)
    columns = f" (columns: samples {', '.join(map(str, view.samples))})" if m > 1 else ""
    forward: list[Block] = [Heading(2, (Text(f"Forward pass, layer by layer{columns}"),))]
    rows = []
    for row in view.forward:
        mp = row.map
        if isinstance(mp, AffineMap):
            numbers = (n.matrix(row.weights), n.matrix(row.source))
            if row.bias is not None:
                numbers += (MINUS if mp.subtract else PLUS, n.matrix(row.bias))
            note = (math(tensor(mp.bias)), Text(" added to every column")) if m > 1 and row.bias is not None else ()
            rows.append(EqRow(math(tensor(mp.out)), "=", (math(*_formula(mp)), math(*numbers),
                                                          math(n.matrix(row.out))), note))
        else:
            rows.append(EqRow(math(tensor(mp.out)), "=", (math(*_formula(mp)), math(n.matrix(row.out)))))
    forward.append(Equations(tuple(rows)))

    backward: list[Block] = [Heading(2, (Text(f"Backward pass in matrix form{columns}"),))]
    rows = []
    scale = (Notation(f"(1/{m}) ", rf"\frac{{1}}{{{m}}}"),) if m > 1 and view.reduction == "mean" else ()
    for k, row in enumerate(view.backward):
        mp = row.map
        if k == 0:
            rows.append(EqRow(math(tensor(mp.out, "delta")), "=", (math(n.matrix(row.delta_out)),),
                              (Text("from the loss"),)))
        if isinstance(mp, Activation):
            if row.delta_source is None or not row.identity:
                continue
            delta_z = math(tensor(mp.source, "delta"))
            if mp.function == "softmax":
                rows.append(EqRow(delta_z, "=", (math(n.matrix(row.delta_source)),),
                                  (Text("through the softmax's Jacobian: δ_z = Jᵀ δ_a"),)))
            elif mp.function == "linear":
                rows.append(EqRow(delta_z, "=", (math(tensor(mp.out, "delta")), math(n.matrix(row.delta_source)))))
            else:
                rows.append(EqRow(delta_z, "=", (
                    math(tensor(mp.out, "delta"), HADAMARD, *call(mp.function, tensor(mp.source), prime=True)),
                    math(n.matrix(row.delta_out), HADAMARD, n.matrix(row.derivative)),
                    math(n.matrix(row.delta_source)))))
            continue
        fwd = next(f for f in view.forward if f.map == mp)
        rows.append(EqRow(math(tensor(mp.weights, "gradient")), "=", (
            math(*scale, tensor(mp.out, "delta"), APPLY, tensor(mp.source, transpose=True)),
            math(*scale, n.matrix(row.delta_out), n.matrix(fwd.source, transpose=True)),
            math(n.matrix(row.weights_gradient)))))
        if row.bias_gradient is not None:
            sign = (Notation("−", "-"),) if mp.subtract else ()
            if m > 1:
                rows.append(EqRow(math(tensor(mp.bias, "gradient")), "=", (
                    math(*sign, *scale, tensor(mp.out, "delta"), APPLY, ONES), math(n.matrix(row.bias_gradient)))))
            else:
                rows.append(EqRow(math(tensor(mp.bias, "gradient")), "=", (
                    math(*sign, tensor(mp.out, "delta")), math(n.matrix(row.bias_gradient)))))
        if row.delta_source is not None and row.identity:
            rows.append(EqRow(math(tensor(mp.source, "delta")), "=", (
                math(tensor(mp.weights, transpose=True), APPLY, tensor(mp.out, "delta")),
                math(n.matrix(fwd.weights, transpose=True), n.matrix(row.delta_out)),
                math(n.matrix(row.delta_source)))))
    backward.append(Equations(tuple(rows)))
    return forward, backward, _update_blocks(view, n)


def _update_blocks(view: StepView, n: _Numbers) -> list[Block]:
    if view.lr is None:
        return []
    rows = []
    lr = Sym(Name("lr"))
    for row in reversed(view.backward):      # in the forward order of the layers
        if not isinstance(row.map, AffineMap):
            continue
        fwd = next(f for f in view.forward if f.map == row.map)
        pairs = [(row.map.weights, fwd.weights, row.weights_gradient, row.weights_after)]
        if row.map.bias is not None:
            pairs.append((row.map.bias, fwd.bias, row.bias_gradient, row.bias_after))
        for q, before, gradient, after in pairs:
            rows.append(EqRow(math(tensor(q)), "←", (
                math(tensor(q), MINUS, lr, APPLY, tensor(q, "gradient")),
                math(n.matrix(before), MINUS, Num(view.lr, n.digits, result=False), APPLY, n.matrix(gradient)),
                math(n.matrix(after)))))
    return [Heading(2, (Text("Update (SGD), a matrix at a time"),)), Equations(tuple(rows))]
