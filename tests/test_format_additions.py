"""Format additions (v2, part B) that no shipped problem or oracle test covers by itself:
the constant pi, and its reservation as a name; optimizer state with an objective."""

from __future__ import annotations

import math

import pytest

from tutor.api import solve_text
from tutor.errors import ProblemError
from tutor.problem import parse_problem

TEMPLATE = """\
title: pi
inputs: [x]
params: {{{param}: 0.5}}
model:
  y: {equation}
outputs: [y]
targets: [t]
data: {{x: "{x}", t: 0}}
loss: half_sse
training: {{epochs: 0}}
"""


def test_pi_is_a_constant_in_numbers_and_equations():
    sol = solve_text(TEMPLATE.format(param="w", equation="w*sin(pi*x/6) + cos(pi)", x="pi/2"))
    x = math.pi / 2
    assert sol["final"]["samples"][0]["values"]["x"] == pytest.approx(x, rel=1e-15)
    assert sol["final"]["samples"][0]["values"]["y"] == pytest.approx(0.5 * math.sin(math.pi * x / 6) - 1,
                                                                      rel=1e-13)


def test_pi_cannot_name_a_parameter():
    with pytest.raises(ProblemError, match="'pi' is a constant of equations and cannot name a parameter"):
        parse_problem(TEMPLATE.format(param="pi", equation="pi*x", x="1"))


OBJECTIVE_WITH_STATE = """\
title: momentum from a previous iterate, on f(x, y)
params: {x: 1, y: 1}
model:
  f: 3*x^2 + y^2 + 2*x*y + x - 3*y + 1
objective: f
optimizer: {name: momentum, form: sutskever, lr: 0.2, momentum: 0.3, state: {v: {x: -1, y: -1}}}
training: {steps: 1}
"""


def test_optimizer_state_with_an_objective():
    """The spec's example. By hand: g = (6x + 2y + 1, 2y + 2x − 3) = (9, 1) at (1, 1);
    v = 0.3·(−1) − 0.2·g = (−2.1, −0.5); θ + v = (−1.1, 0.5)."""
    step = solve_text(OBJECTIVE_WITH_STATE)["steps"][0]
    assert step["gradients"] == pytest.approx({"x": 9.0, "y": 1.0}, rel=1e-12)
    assert step["state"]["v"] == pytest.approx({"x": -2.1, "y": -0.5}, rel=1e-12)
    assert step["parameters"] == pytest.approx({"x": -1.1, "y": 0.5}, rel=1e-12)


PENALTY_WITHOUT_STEPS = """\
title: gradients of a penalized loss, no training step
inputs: [x1, x2]
params: {a: 0.5, b: 0, c: 0.1}
model:
  y: a*x1 + b*x2 + c
outputs: [y]
targets: [t]
data:
  - {x1: 1, x2: 2, t: 1.5}
  - {x1: -1, x2: 0.5, t: -0.25}
loss: {name: mse, penalty: {l1: 0.05, l2: 0.2, on: [a, b]}}
optimizer: {name: sgd, lr: 0.1}
training: {epochs: 0}
ask: [forward, {gradient: [a, b]}]
"""


def test_final_gradients_include_the_penalty_and_the_shown_chain_rule_does_not():
    """By hand: y = (0.6, −0.4), ∂E/∂y = 2(y − t) = (−1.8, −0.3); mean over the batch:
    ∂/∂a = (−1.8 + 0.3)/2 = −0.75, ∂/∂b = (−3.6 − 0.15)/2 = −1.875, ∂/∂c = (−1.8 − 0.3)/2 = −1.05.
    The penalty (on a and b only) adds
    0.2·a + 0.05·sign(a) = 0.15 to a, and 0 to b (b = 0, sign(0) = 0)."""
    from tutor.problem import parse_problem
    from tutor.solution import build_solution
    from tutor.train import train

    final = solve_text(PENALTY_WITHOUT_STEPS)["final"]
    assert final["gradients"] == pytest.approx({"a": -0.6, "b": -1.875, "c": -1.05}, rel=1e-12)
    solution = build_solution(train(parse_problem(PENALTY_WITHOUT_STEPS)), show_all=True)
    shown = dict(solution.evaluation.backward.batch)  # the batch mean of the per-sample terms
    assert shown["a"].value == pytest.approx(-0.75, rel=1e-12)
    assert shown["b"].value == pytest.approx(-1.875, rel=1e-12)
