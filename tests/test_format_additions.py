"""Format additions (v2, part B) that no shipped problem or oracle test covers by itself:
the constant pi, and its reservation as a name."""

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
