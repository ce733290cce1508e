"""Equations over vectors and matrices (spec: Vectors and grids) expand to the scalar
equations a student writes by hand, and `notation: matrix` never changes a number."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.api import solve_text
from tutor.errors import ProblemError
from tutor.ops import OPS
from tutor.problem import parse_problem

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "problems"
LAYERED = sorted(p for p in PROBLEMS.glob("*.yaml") if p.read_text(encoding="utf-8").startswith("network:", 0)
                 or "\nnetwork:" in p.read_text(encoding="utf-8"))

S = lambda name: sympy.Symbol(name, real=True)  # noqa: E731


def equations(model: str, declarations: str) -> dict[str, sympy.Expr]:
    """The scalar equations of a model over x (2), y (2), W (2×2), V (1×2), c."""
    text = f"""\
title: t
inputs: {{x: 2, y: 2}}
params: {{W: [[1, 2], [3, 4]], V: [[5, 6]], c: 7}}
{declarations}model:
{model}objective: f
data: {{x: [1, 2], y: [3, 4]}}
"""
    return {eq.name: eq.expr for eq in parse_problem(text).equations}


def model_of(lines: dict[str, str]) -> dict[str, sympy.Expr]:
    return equations("".join(f"  {k}: {v}\n" for k, v in lines.items()) + "  f: 1\n", "")


def test_matrix_twin_has_the_scalar_twins_equations():
    matrix = parse_problem((PROBLEMS / "sigmoid-2-2-1-matrix.yaml").read_text(encoding="utf-8"))
    scalar = parse_problem((PROBLEMS / "sigmoid-2-2-1-scalar.yaml").read_text(encoding="utf-8"))
    assert matrix.equations == scalar.equations
    assert (matrix.inputs, matrix.targets, matrix.outputs, matrix.params) == \
           (scalar.inputs, scalar.targets, scalar.outputs, scalar.params)
    assert list(matrix.shapes.items()) == [("x", (2,)), ("W", (2, 2)), ("b", (2,)), ("V", (1, 2)), ("c", (1,)),
                                          ("z", (2,)), ("h", (2,)), ("s", (1,)), ("o", (1,)), ("y", (1,))]
    assert matrix.notation == "matrix" and scalar.notation == "scalar"


def test_matrix_product_transpose_and_outer_product():
    eq = model_of({"q": "W @ x", "r": "W.T @ x", "u": "x.T @ W", "w": "x @ W", "o": "q @ x.T", "v": "V @ x", "t": "W.T"})
    x1, x2 = S("x1"), S("x2")
    W11, W12, W21, W22 = S("W11"), S("W12"), S("W21"), S("W22")
    q1, q2 = S("q1"), S("q2")
    assert (eq["q1"], eq["q2"]) == (W11 * x1 + W12 * x2, W21 * x1 + W22 * x2)
    assert (eq["r1"], eq["r2"]) == (W11 * x1 + W21 * x2, W12 * x1 + W22 * x2)
    assert (eq["u11"], eq["u12"]) == (eq["r1"], eq["r2"])      # x.T @ W: the 1×2 row xᵀW
    assert (eq["w1"], eq["w2"]) == (eq["r1"], eq["r2"])        # x @ W: the same, as a vector (numpy)
    assert (eq["o11"], eq["o12"], eq["o21"], eq["o22"]) == (q1 * x1, q1 * x2, q2 * x1, q2 * x2)
    assert "v2" not in eq and eq["v1"] == S("V11") * x1 + S("V12") * x2   # a 1×2 matrix by a vector: a vector of 1
    assert [eq[f"t{i}{j}"] for i in (1, 2) for j in (1, 2)] == [W11, W21, W12, W22]


def test_elementwise_operators_and_functions_broadcast_a_scalar():
    eq = model_of({"a": "2*x + c", "b": "x * y - x / 2", "p": "x^2", "s": "sigmoid(W @ x + c)",
                   "l": "leaky_relu(x, 0.2)", "m": "max(x, y)", "n": "-x"})
    x1, x2, y1, y2, c = S("x1"), S("x2"), S("y1"), S("y2"), S("c")
    assert (eq["a1"], eq["a2"]) == (2 * x1 + c, 2 * x2 + c)
    assert (eq["b1"], eq["b2"]) == (x1 * y1 - x1 / 2, x2 * y2 - x2 / 2)
    assert (eq["p1"], eq["p2"]) == (x1**2, x2**2)
    assert eq["s1"] == OPS["sigmoid"].sympy_fn(S("W11") * x1 + S("W12") * x2 + c)
    assert eq["l2"] == OPS["leaky_relu"].sympy_fn(x2, sympy.Rational(1, 5))
    assert eq["m1"] == OPS["max"].sympy_fn(x1, y1)
    assert (eq["n1"], eq["n2"]) == (-x1, -x2)


def test_reductions_and_softmax():
    eq = model_of({"s": "sum(W)", "m": "mean(x)", "d": "dot(x, y)", "p": "softmax(x)", "g": "max(x)",
                   "k": "min(V)", "one": "max(V @ x)"})
    x1, x2 = S("x1"), S("x2")
    assert eq["s"] == S("W11") + S("W12") + S("W21") + S("W22")
    assert eq["m"] == (x1 + x2) / 2
    assert eq["d"] == x1 * S("y1") + x2 * S("y2")
    softmax = OPS["softmax"].sympy_fn
    assert (eq["p1"], eq["p2"]) == (softmax(sympy.Integer(1), x1, x2), softmax(sympy.Integer(2), x1, x2))
    assert eq["g"] == OPS["max"].sympy_fn(x1, x2)
    assert eq["k"] == OPS["min"].sympy_fn(S("V11"), S("V12"))
    assert eq["one"] == S("V11") * x1 + S("V12") * x2       # the max of one component is that component


def test_softmax_of_a_vector_equals_a_softmax_layer():
    """A model's softmax(z) and a network's softmax layer give the same numbers."""
    model = solve_text("""\
title: t
inputs: {x: 2}
params: {W: [[1, -1], [0.5, 2], [-1, 0.25]]}
model:
  z: W @ x
  p: softmax(z)
outputs: [p]
targets: {y: 3}
data: {x: [0.3, -0.7], y: [0, 1, 0]}
loss: cce
""")
    network = solve_text("""\
title: t
network:
  inputs: {x: 2}
  layers:
    - units: [p1, p2, p3]
      net: [z1, z2, z3]
      activation: softmax
      weights: [[1, -1], [0.5, 2], [-1, 0.25]]
      names: {weights: [[W11, W12], [W21, W22], [W31, W32]]}
targets: {y: 3}
data: {x: [0.3, -0.7], y: [0, 1, 0]}
loss: cce
""")
    assert model == network


def test_at_and_transpose_are_not_number_grammar():
    """A number string is no equation: @ stays an unknown character there."""
    text = (PROBLEMS / "sigmoid-2-2-1-scalar.yaml").read_text(encoding="utf-8").replace("W11: 0.15", "W11: '1 @ 2'")
    with pytest.raises(ProblemError, match="unexpected character '@'"):
        parse_problem(text)


def test_a_custom_loss_over_vector_outputs_and_targets():
    matrix = (PROBLEMS / "sigmoid-2-2-1-matrix.yaml").read_text(encoding="utf-8")
    vector_loss = solve_text(matrix.replace("loss: mse", "loss: {expr: 'sum((o - y)^2)/1'}"))
    scalar_loss = solve_text(matrix.replace("loss: mse", "loss: {expr: '(o1 - y1)^2'}"))
    assert vector_loss == scalar_loss == solve_text(matrix)
    with pytest.raises(ProblemError, match="expected the loss to be a number per sample, found a vector of 1"):
        parse_problem(matrix.replace("loss: mse", "loss: {expr: '(o - y)^2'}"))


def test_vector_constants():
    problem = parse_problem("""\
title: t
inputs: {x: 2}
constants: {c: [1, 2]}
params: {w: 1}
model:
  f: w * dot(c, x)
objective: f
data: {x: [3, 4]}
""")
    assert {n: v.value for n, v in problem.constants.items()} == {"c1": 1, "c2": 2}
    assert problem.equations[0].expr == sympy.Symbol("w", real=True) * (
        sympy.Symbol("c1", real=True) * sympy.Symbol("x1", real=True)
        + sympy.Symbol("c2", real=True) * sympy.Symbol("x2", real=True))


def test_vector_names_stand_for_their_components_in_ask_and_frozen():
    text = (PROBLEMS / "sigmoid-2-2-1-matrix.yaml").read_text(encoding="utf-8")
    problem = parse_problem(text + "frozen: [V]\nask: [{gradient: [W, z]}, {update: [b]}]\n")
    assert problem.frozen == ("V11", "V12")
    assert problem.ask[0].names == ("W11", "W12", "W21", "W22", "z1", "z2")
    assert problem.ask[1].names == ("b1", "b2")


def test_layered_problems_are_found():
    assert len(LAYERED) >= 10


@pytest.mark.parametrize("path", LAYERED, ids=[p.stem for p in LAYERED])
def test_matrix_notation_gives_the_same_numbers(path: Path):
    text = path.read_text(encoding="utf-8")
    scalar = text.replace("notation: matrix\n", "")
    assert solve_text(scalar + "notation: matrix\n") == solve_text(scalar)


TOKENS = ["W", "V", "x", "y", "c", "2", "@", ".T", "+", "-", "*", "/", "^", "(", ")", ",", "sum(", "mean(",
          "dot(", "softmax(", "max(", "sigmoid(", "leaky_relu(", "x1", " "]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=14))
def test_vector_equations_parse_or_fail_with_a_located_error(tokens):
    """Whatever the tokens, an equation over vectors reads or is a located ProblemError."""
    text = "".join(tokens).replace("'", "")
    try:
        model_of({"q": repr(text)})
    except ProblemError as exc:
        assert exc.line >= 1 and exc.col >= 1
