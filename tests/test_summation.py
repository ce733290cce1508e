"""Sums of floats are added left to right, whatever the Python version.

Python 3.12 made the builtin sum() of floats compensated (its result is that of
exact addition, rounded once); 3.10 and 3.11 add left to right, rounding after
every addition. tutor adds left to right itself (arith.ordered_sum), so the
full-precision JSON is the same on every supported Python. These tests run
tutor under a builtin sum() that compensates, as 3.12's does, on any Python.
"""

from __future__ import annotations

import builtins
import math
from pathlib import Path

import pytest
import sympy

from tutor.api import solve_text
from tutor.arith import FloatDomain, compile_expr, ordered_sum

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = sorted((ROOT / "problems").glob("*.yaml"))

# 1e16 + 1 is not a double: left to right, the 1 is lost before -1e16 cancels
# the rest (0.0); added exactly, it survives (1.0).
BIG, ONE = 1e16, 1.0
LEFT_TO_RIGHT = (BIG + ONE) + -BIG
EXACT = 1.0


def test_the_example_tells_the_two_sums_apart():
    assert LEFT_TO_RIGHT == 0.0
    assert math.fsum([BIG, ONE, -BIG]) == EXACT


BUILTIN_SUM = builtins.sum


def sum_as_in_python_3_12(items, /, start=0):
    """The builtin sum() as Python 3.12 and later compute it for floats."""
    items = list(items)
    if items and all(type(x) is float for x in items) and type(start) in (int, float):
        return math.fsum([start, *items])
    return BUILTIN_SUM(items, start)


@pytest.fixture
def compensated_sum(monkeypatch):
    monkeypatch.setattr(builtins, "sum", sum_as_in_python_3_12)
    assert sum([BIG, ONE, -BIG]) == EXACT


def test_ordered_sum_adds_left_to_right(compensated_sum):
    assert ordered_sum([BIG, ONE, -BIG]) == LEFT_TO_RIGHT
    assert ordered_sum([ONE, -BIG], BIG) == LEFT_TO_RIGHT


def test_an_equation_adds_its_terms_left_to_right(compensated_sum):
    a, b, c = sympy.symbols("a b c", real=True)
    expr = a + b + c
    values = {a: BIG, b: ONE, c: -BIG}
    slots = {s: i for i, s in enumerate(expr.args)}
    env = [values[s] for s in expr.args]
    terms = [values[s] for s in expr.args]  # the order the expression holds its terms in
    expected = (terms[0] + terms[1]) + terms[2]
    assert compile_expr(expr, slots, FloatDomain())(env) == expected


SUMMED_OVER_A_BATCH = """
title: a batch whose sum loses the 1 when added in file order
inputs: [x]
params: {w: 1}
model:
  yhat: w*x
outputs: [yhat]
targets: [y]
data:
  - {x: 1e16, y: 0}
  - {x: 1, y: 0}
  - {x: -1e16, y: 0}
loss: {expr: "yhat", reduction: sum}
optimizer: {name: sgd, lr: 0.5}
"""


def test_batch_loss_and_gradient_add_the_samples_in_file_order(compensated_sum):
    step = solve_text(SUMMED_OVER_A_BATCH)["steps"][0]
    # loss = Σ w·x over the samples and ∂loss/∂w = Σ x, added in file order.
    assert [s["loss"] for s in step["samples"]] == [BIG, ONE, -BIG]
    assert step["loss"] == LEFT_TO_RIGHT
    assert step["gradients"]["w"] == LEFT_TO_RIGHT


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_solution_json_does_not_depend_on_the_builtin_sum(path, monkeypatch):
    text = path.read_text(encoding="utf-8")
    plain = solve_text(text, str(path))
    monkeypatch.setattr(builtins, "sum", sum_as_in_python_3_12)
    assert solve_text(text, str(path)) == plain
