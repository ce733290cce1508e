"""Vector, matrix and grid names (spec: Vectors and grids): component names, shaped
declarations and values read into the ordinary scalar names, and Problem.shapes."""

from __future__ import annotations

import pytest

from tutor.problem import parse_problem
from tutor.problem.shapes import component_names, shape_text

SCALAR_CS231N = """\
title: f = ||Wx||^2 written out
inputs: [x1, x2]
params: {W11: 0.1, W12: 0.5, W21: -0.3, W22: 0.8}
model:
  q1: W11*x1 + W12*x2
  q2: W21*x1 + W22*x2
  f: q1**2 + q2**2
objective: f
data: {x1: 0.2, x2: 0.4}
"""

SHAPED_CS231N = """\
title: f = ||Wx||^2 written out
inputs: {x: 2}
params:
  W: [[0.1, 0.5], [-0.3, 0.8]]
model:
  q1: W11*x1 + W12*x2
  q2: W21*x1 + W22*x2
  f: q1**2 + q2**2
objective: f
data: {x: [0.2, 0.4]}
"""


@pytest.mark.parametrize("name, shape, components", [
    ("x", (3,), ("x1", "x2", "x3")),
    ("W", (2, 3), ("W11", "W12", "W13", "W21", "W22", "W23")),
    ("x", (10,), tuple(f"x_{i}" for i in range(1, 11))),
    ("W", (1, 10), tuple(f"W_1_{j}" for j in range(1, 11))),
    ("W", (10, 1), tuple(f"W_{i}_1" for i in range(1, 11))),
    ("K", (2, 1, 2), ("K111", "K112", "K211", "K212")),
])
def test_component_names_are_row_major_and_joined_from_index_10(name, shape, components):
    assert component_names(name, shape) == components


def test_grid_components_run_to_I46():
    names = component_names("I", (4, 6))
    assert (len(names), names[0], names[5], names[6], names[-1]) == (24, "I11", "I16", "I21", "I46")


@pytest.mark.parametrize("shape, text", [((), "a scalar"), ((3,), "a vector of 3"), ((2, 3), "a 2×3 matrix"),
                                         ((2, 3, 4), "a 2×3×4 grid")])
def test_shape_words(shape, text):
    assert shape_text(shape) == text


def test_shaped_declarations_are_their_scalar_components():
    shaped, scalar = parse_problem(SHAPED_CS231N), parse_problem(SCALAR_CS231N)
    assert shaped.inputs == scalar.inputs == ("x1", "x2")
    assert shaped.params == scalar.params
    assert shaped.samples == scalar.samples
    assert shaped.shapes == {"x": (2,), "W": (2, 2)}
    assert scalar.shapes == {}


def test_shapes_keep_the_order_of_definition_and_targets_expand():
    problem = parse_problem("""\
title: t
inputs: {x: 2, I: [2, 3]}
params: {b: [1, 2], w: 3, V: [[1, 2, 3]]}
model:
  o1: b1*x1 + b2*x2 + w*I23 + V13
  o2: o1 * 2
outputs: [o1, o2]
targets: {y: 2}
data:
  - {x: [1, 2], I: [[1, 2, 3], [4, 5, 6]], y: [0, 1]}
  - {I: [[0, 0, 0], [0, 0, 7]], y: [1, 0], x: [3, 4]}
loss: mse
""")
    assert list(problem.shapes.items()) == [("x", (2,)), ("I", (2, 3)), ("b", (2,)), ("V", (1, 3)), ("y", (2,))]
    assert problem.inputs == ("x1", "x2", "I11", "I12", "I13", "I21", "I22", "I23")
    assert problem.targets == ("y1", "y2")
    assert list(problem.params) == ["b1", "b2", "w", "V11", "V12", "V13"]
    second = problem.samples[1]
    assert [second[n].value for n in ("x1", "x2", "I23", "I11", "y1", "y2")] == [3, 4, 7, 0, 1, 0]
    assert list(second) == [*problem.inputs, *problem.targets]


def test_network_inputs_may_be_a_vector():
    layered = """\
title: t
network:
  inputs: INPUTS
  layers:
    - {units: [o], activation: sigmoid, weights: [[0.5, -1]], bias: [0.1]}
targets: [y]
data: DATA
loss: mse
"""
    shaped = parse_problem(layered.replace("INPUTS", "{x: 2}").replace("DATA", "{x: [1, 2], y: 1}"))
    scalar = parse_problem(layered.replace("INPUTS", "[x1, x2]").replace("DATA", "{x1: 1, x2: 2, y: 1}"))
    assert shaped.inputs == scalar.inputs == ("x1", "x2")
    assert shaped.layers == scalar.layers and shaped.samples == scalar.samples
    assert shaped.shapes == {"x": (2,)}
