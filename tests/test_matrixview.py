"""The matrix-notation view (tutor/matrixview.py): which maps a problem has at layer level,
and numbers that obey the textbook identities (checked here with plain arithmetic, not
taken from tutor): Z = WA + b, δ_z = δ_h ⊙ f′(z), ∂E/∂W = (1/m)·Δ_z Aᵀ, δ_a = Wᵀ δ_z."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tutor.matrixview import Activation, AffineMap, matrix_model, step_view
from tutor.problem import parse_problem
from tutor.train import train

PROBLEMS = Path(__file__).resolve().parent.parent / "problems"


def load(name: str, extra: str = ""):
    return parse_problem((PROBLEMS / name).read_text(encoding="utf-8") + extra)


def close(a, b) -> bool:
    return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-15)


def product(left, right):
    return [[sum(left[i][k] * right[k][j] for k in range(len(right))) for j in range(len(right[0]))]
            for i in range(len(left))]


def transpose(m):
    return [list(col) for col in zip(*m)]


def test_the_matrix_model_and_the_network_have_the_same_maps():
    model, network = matrix_model(load("sigmoid-2-2-1-matrix.yaml")), matrix_model(
        load("sigmoid-2-2-1-network-matrix.yaml"))
    kinds = [(type(m).__name__, m.out.names) for m in model.maps]
    assert kinds == [(type(m).__name__, m.out.names) for m in network.maps] == [
        ("AffineMap", ("z1", "z2")), ("Activation", ("h1", "h2")), ("AffineMap", ("s1",)), ("Activation", ("o1",))]
    first = model.maps[0]
    assert (first.weights.base, first.weights.rows, first.source.base, first.bias.base) == (
        "W", (("W11", "W12"), ("W21", "W22")), "x", "b")
    assert [(m.out.base, m.out.layer) for m in network.maps] == [("z", 1), ("a", 1), ("z", 2), ("a", 2)]
    assert network.maps[1].function == model.maps[1].function == "sigmoid"


def test_a_model_without_bias_and_an_unrecognised_equation():
    problem = parse_problem("""\
title: t
inputs: {x: 2}
params: {W: [[1, 2], [3, 4]], b: [1, 1]}
model:
  q: W @ x
  r: W @ x + 2*b
  u: tanh(q) + 1
  f: sum(q^2) + sum(r) + sum(u)
objective: f
data: {x: [1, 2]}
""")
    view = matrix_model(problem)
    assert [(type(m).__name__, m.out.base, getattr(m, "bias", None)) for m in view.maps] == [("AffineMap", "q", None)]
    assert view.covered == {"q1", "q2"}
    assert view.exclusive == frozenset()    # x feeds q and r: δ_x is not Wᵀδ_q alone


def step_numbers(problem, k: int = 0, inputs_too: bool = False):
    run = train(problem)
    return step_view(matrix_model(problem), problem, run.steps[k], inputs_too), run.steps[k]


@pytest.mark.parametrize("name", ["sigmoid-2-2-1-matrix.yaml", "sigmoid-2-2-1-network-matrix.yaml"])
def test_batch_numbers_obey_the_layer_identities(name: str):
    view, step = step_numbers(load(name))
    assert view.samples == (1, 2) and view.reduction == "mean"
    m = len(view.samples)
    for row in view.forward:
        if isinstance(row.map, AffineMap):   # Z = W A + b 1ᵀ, column by column
            expected = product([list(r) for r in row.weights.values], [list(r) for r in row.source.values])
            for i, out_row in enumerate(row.out.values):
                for j, value in enumerate(out_row):
                    assert close(value, expected[i][j] + row.bias.values[i][0])
    for row in view.backward:
        delta = [list(r) for r in row.delta_out.values]
        if isinstance(row.map, Activation):  # δ_z = δ_h ⊙ f′(z), with f′ = σ(1 − σ) from the forward values
            h = next(f.out.values for f in view.forward if f.map == row.map)
            for i, r in enumerate(delta):
                for j, d in enumerate(r):
                    assert close(row.derivative.values[i][j], h[i][j] * (1 - h[i][j]))
                    assert close(row.delta_source.values[i][j], d * h[i][j] * (1 - h[i][j]))
        else:                                # ∂E/∂W = (1/m) Δ Aᵀ, ∂E/∂b = (1/m) Δ 1, δ_a = Wᵀ Δ
            a = next(f.source.values for f in view.forward if f.map == row.map)
            weights = next(f.weights.values for f in view.forward if f.map == row.map)
            expected = product(delta, transpose([list(r) for r in a]))
            for i, grad_row in enumerate(row.weights_gradient.values):
                for j, g in enumerate(grad_row):
                    assert close(g, expected[i][j] / m)
                assert close(row.bias_gradient.values[i][0], sum(delta[i]) / m)
            assert row.identity
            if row.map.source.names == ("x1", "x2"):   # δ of the inputs: only when the problem asks for it
                assert row.delta_source is None
                continue
            back = product(transpose([list(r) for r in weights]), delta)
            for i, r in enumerate(row.delta_source.values):
                for j, d in enumerate(r):
                    assert close(d, back[i][j])


def test_cs231n_closed_forms_from_the_view():
    """∂f/∂q = 2q, ∂f/∂W = 2qxᵀ, ∂f/∂x = 2Wᵀq, from W and x as given (CS231n)."""
    view, _ = step_numbers(load("cs231n-norm-matrix.yaml"), inputs_too=True)
    W, x = [[0.1, 0.5], [-0.3, 0.8]], [0.2, 0.4]
    q = [W[0][0] * x[0] + W[0][1] * x[1], W[1][0] * x[0] + W[1][1] * x[1]]
    (row,) = view.backward
    assert [close(d, 2 * qi) for (d,), qi in zip(row.delta_out.values, q)] == [True, True]
    assert all(close(row.weights_gradient.values[i][j], 2 * q[i] * x[j]) for i in range(2) for j in range(2))
    assert all(close(row.delta_source.values[j][0], sum(2 * W[i][j] * q[i] for i in range(2))) for j in range(2))
    assert row.bias_gradient is None and row.identity


def test_a_softmax_layer_has_no_elementwise_derivative():
    problem = parse_problem("""\
title: t
network:
  inputs: {x: 2}
  layers:
    - {units: [p1, p2, p3], activation: softmax, weights: [[1, -1], [0.5, 2], [-1, 0.25]], bias: [0, 0, 1]}
targets: {y: 3}
data: {x: [0.3, -0.7], y: [0, 1, 0]}
loss: cce
""")
    view, _ = step_numbers(problem)
    softmax = view.backward[0]
    assert softmax.map.function == "softmax" and softmax.derivative is None
    p = [r[0] for r in view.forward[1].out.values]
    for (dz,), pk, yk in zip(softmax.delta_source.values, p, [0, 1, 0]):
        assert close(dz, pk - yk)              # softmax + cross-entropy: δ_z = p − y
