"""Objectives (no targets, no loss), gradients on any name, the gradient check.

The shipped problems (circuit-cs231n, sigmoid-neuron-cs231n, objective-quadratic-momentum,
gradient-check-tanh-neuron) are checked against the oracle in test_problems.py and
against finite differences in test_gradients_fd.py; these are the rules around them,
with numbers worked by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tutor.api import solve_file, solve_text

ROOT = Path(__file__).resolve().parent.parent

UPSTREAM = """\
title: The gradient from the layer above is given
inputs: [x1, x2]
params: {w11: 1, w12: 2, w21: -1, w22: 0.5}
model:
  Y11: w11*x1 + w12*x2
  Y12: relu(w21*x1 + w22*x2)
objective: {upstream: {Y11: 1, Y12: -2}}
data: {x1: 2, x2: 1}
training: {epochs: 0}
"""


def test_upstream_objective_by_hand():
    # Y11 = 1·2 + 2·1 = 4; Y12 = relu(−2 + 0.5) = 0; E = 1·Y11 − 2·Y12 = 4.
    # ∂E/∂x1 = 1·w11 + (−2)·relu'(−1.5)·w21 = 1; ∂E/∂x2 = 1·w12 + 0 = 2.
    sol = solve_text(UPSTREAM)
    final = sol["final"]
    assert final["loss"] == 4.0
    assert final["samples"][0]["derivatives"] == {"x1": 1.0, "x2": 2.0, "Y11": 1.0, "Y12": -2.0}
    assert final["gradients"] == {"w11": 2.0, "w12": 1.0, "w21": 0.0, "w22": 0.0}


def test_gradient_on_inputs_and_nodes_in_a_problem_with_a_loss():
    """ask: {gradient: [...]} takes inputs and nodes in every problem, not only with an objective."""
    text = """\
title: A linear neuron
inputs: [x]
params: {w: 3, b: 1}
model:
  yhat: w*x + b
outputs: [yhat]
targets: [y]
data: {x: 2, y: 5}
loss: half_sse
ask: [{gradient: [x, yhat, w]}]
"""
    # yhat = 7, E = ½(5 − 7)² = 2; ∂E/∂yhat = 2, ∂E/∂x = 2·w = 6, ∂E/∂w = 2·x = 4
    sol = solve_text(text)
    sample = sol["steps"][0]["samples"][0]
    assert sample["derivatives"] == {"x": 6.0, "yhat": 2.0}
    assert sol["steps"][0]["gradients"] == {"w": 4.0, "b": 2.0}


def test_rel_error_is_the_relative_difference_of_numeric_and_analytic():
    check = solve_file(ROOT / "problems" / "gradient-check-tanh-neuron.yaml")["gradient_check"]
    assert check["eps"] == 1e-4
    assert list(check["parameters"]) == ["w1", "w2", "b", "v", "c"]
    for row in check["parameters"].values():
        n, a = row["numeric"], row["analytic"]
        assert row["rel_error"] == pytest.approx(abs(n - a) / max(abs(n), abs(a)), rel=1e-12)
        assert row["rel_error"] < 1e-6


def test_gradient_check_of_chosen_parameters_by_hand():
    text = """\
title: f = x² at x = 3
params: {x: 3, y: 1}
model:
  f: x^2 + y
objective: f
training: {epochs: 0}
ask: [{gradient_check: {eps: 0.5, parameters: [x]}}]
"""
    # E(3.5) = 13.25, E(2.5) = 7.25: numeric (13.25 − 7.25)/1 = 6 = 2x, exact for a quadratic
    check = solve_text(text)["gradient_check"]
    assert check == {"eps": 0.5, "parameters": {"x": {"plus": 13.25, "minus": 7.25, "numeric": 6.0,
                                                      "analytic": 6.0, "rel_error": 0.0}}}


def test_a_function_of_parameters_only_evaluates_once_per_step():
    sol = solve_file(ROOT / "problems" / "objective-quadratic-momentum.yaml")
    assert [s["batch"] for s in sol["steps"]] == [[1], [1], [1]]
    assert sol["steps"][0]["samples"][0]["values"] == {"f": 5.0}   # 3 + 1 + 2 + 1 − 3 + 1 at (1, 1)


def test_circuit_shows_the_gradients_flowing_back():
    from tutor.api import solve_problem
    from conftest import terminal_text as render_terminal

    text = render_terminal(solve_problem(ROOT / "problems" / "circuit-cs231n.yaml"))
    for line in ("∂f/∂q = z = −4", "∂f/∂z = q = 3", "∂f/∂x = ∂f/∂q·∂q/∂x = (−4)·1 = −4"):
        assert line in text
    assert "Initial parameters" not in text   # a circuit has none


def test_expected_json_of_the_cs231n_examples_matches_the_notes():
    """The published numbers (CS231n notes), to their printed precision."""
    circuit = json.loads((ROOT / "problems/expected/circuit-cs231n.json").read_text())["final"]
    assert circuit["samples"][0]["derivatives"] == {"x": -4.0, "y": -4.0, "z": 3.0, "q": -4.0, "f": 1.0}
    neuron = json.loads((ROOT / "problems/expected/sigmoid-neuron-cs231n.json").read_text())["final"]
    d = neuron["samples"][0]["derivatives"]
    assert [d["x0"], d["x1"]] == pytest.approx([0.393, -0.590], abs=1e-3)
    assert [neuron["gradients"][w] for w in ("w0", "w1", "w2")] == pytest.approx([-0.196, -0.393, 0.196], abs=1e-3)


def test_gradient_on_a_hidden_unit_of_a_layered_network(tmp_path):
    """Asked on a node of a network: the stages use the names of the chain rule above
    (o1 for its net under a linear unit), with the hand-computed values of
    relu-2-2-2-one-step: ∂E/∂o1 = −1, ∂E/∂o2 = −2, w31 = 0.5, w32 = −1."""
    from tutor.api import solve_problem
    from conftest import terminal_text as render_terminal

    text = (ROOT / "problems" / "relu-2-2-2-one-step.yaml").read_text()
    text = "\n".join(line for line in text.splitlines() if not line.startswith("ask:"))
    path = tmp_path / "p.yaml"
    path.write_text(text + "\nask: [{gradient: [h1]}]\n")
    out = render_terminal(solve_problem(path))
    assert "∂E/∂h1 = ∂E/∂o1·∂o1/∂h1 + ∂E/∂o2·∂o2/∂h1 = (−1)·0.5 + (−2)·(−1) = 1.5" in out
