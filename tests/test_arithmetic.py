"""The three arithmetics: exact fractions stay exact, textbook rounding rounds every
intermediate value, and the sequential-update mistake reproduces Mazur's number."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from tutor.api import solve_problem, solve_text
from tutor.problem import parse_problem
from tutor.render.json import solution_dict
from conftest import terminal_text as render_terminal
from tutor.train import train

PROBLEMS = Path(__file__).resolve().parent.parent / "problems"


def _fraction(exact_value) -> Fraction:
    expr = exact_value.expr
    assert expr.is_Rational, f"{expr} is not an exact rational"
    return Fraction(int(expr.p), int(expr.q))


def test_exact_fractions_match_a_hand_computation():
    """exact-quadratic-sutskever.yaml redone with Python's Fraction, independently."""
    run = solve_problem(PROBLEMS / "exact-quadratic-sutskever.yaml")
    data = [(Fraction(1), Fraction(2)), (Fraction(-2), Fraction(1, 2)), (Fraction(1, 2), Fraction(1))]
    theta = {"a": Fraction(1, 2), "b": Fraction(-1, 3), "c": Fraction(0)}
    velocity = {k: Fraction(0) for k in theta}
    batches = [[0, 1], [2], [0, 1], [2]]
    for step, batch in enumerate(batches, 1):
        lr = Fraction(1, 10) * Fraction(1, 2) ** ((step - 1) // 2)
        grads = {k: Fraction(0) for k in theta}
        for i in batch:
            x, y = data[i]
            residual = theta["a"] * x * x + theta["b"] * x + theta["c"] - y
            for k, dyhat in (("a", x * x), ("b", x), ("c", Fraction(1))):
                grads[k] += 2 * residual * dyhat / len(batch)
        for k in theta:
            velocity[k] = Fraction(1, 2) * velocity[k] - lr * grads[k]
            theta[k] += velocity[k]
        got = run.steps[step - 1]
        assert {k: _fraction(v) for k, v in got.gradients.items()} == grads
        assert {k: _fraction(v) for k, v in got.parameters.items()} == theta
        assert _fraction(got.lr) == lr


def test_exact_transcendental_values_are_carried_exactly_and_shown_in_full_precision():
    text = (PROBLEMS / "mazur-2-2-2.yaml").read_text() + "arithmetic: exact\n"
    exact = solve_text(text.replace("update: sequential", "update: simultaneous"), "mazur-exact.yaml")
    floating = solve_text(text.replace("arithmetic: exact\n", "").replace("update: sequential",
                                                                            "update: simultaneous"))
    assert math.isclose(exact["final"]["loss"], floating["final"]["loss"], rel_tol=1e-12)


def _round(x: float, n: int) -> float:
    return float(Decimal(repr(x)).quantize(Decimal(1).scaleb(-n), rounding=ROUND_HALF_UP))


def test_textbook_rounding_rounds_every_intermediate_value():
    text = """
title: rounded neuron
inputs: [x]
params: {w: 0.3, b: -0.1}
model:
  z: w*x + b
  a: sigmoid(z)
outputs: [a]
targets: [y]
data: {x: 1.7, y: 1}
loss: half_sse
optimizer: {name: sgd, lr: 0.5}
arithmetic: {round: 3}
"""
    got = solve_text(text)["steps"][0]
    # By hand, rounding each value to 3 decimals before it is used.
    z = _round(0.3 * 1.7 - 0.1, 3)
    a = _round(1 / (1 + math.exp(-z)), 3)
    dE_da = _round(a - 1, 3)
    da_dz = _round(a * (1 - a), 3)
    delta_z = _round(dE_da * da_dz, 3)
    grad_w = _round(delta_z * 1.7, 3)
    assert got["samples"][0]["values"]["z"] == z
    assert got["samples"][0]["values"]["a"] == a
    assert got["gradients"]["w"] == grad_w
    assert got["parameters"]["w"] == _round(0.3 - 0.5 * grad_w, 3)  # one assignment, one rounding
    for value in got["samples"][0]["values"].values():
        assert value == _round(value, 3)


@pytest.mark.parametrize("update, published", [("sequential", 0.291027924), ("simultaneous", 0.291027774)])
def test_mazur_sequential_mistake_reproduces_his_published_error(update, published):
    text = (PROBLEMS / "mazur-2-2-2.yaml").read_text()
    text = text.replace("training: {epochs: 1}", f"training: {{epochs: 1, update: {update}}}")
    assert f"update: {update}" in text
    assert round(solve_text(text)["final"]["loss"], 9) == published


def _numbers_differ(exact, floating, where=""):
    """Where two solution JSONs differ beyond rel 1e-9 (abs 1e-12); the arithmetic's name aside."""
    if isinstance(floating, dict):
        return [m for key in floating.keys() - {"arithmetic"} | exact.keys() - {"arithmetic"}
                for m in _numbers_differ(exact.get(key), floating.get(key), f"{where}.{key}")]
    if isinstance(floating, list):
        if not isinstance(exact, list) or len(exact) != len(floating):
            return [f"{where}: {len(floating)} items in float, {exact!r:.60} in exact"]
        return [m for i, (e, f) in enumerate(zip(exact, floating)) for m in _numbers_differ(e, f, f"{where}[{i}]")]
    if where.endswith(".rel_error"):
        # A gradient check's relative error of a correct backward pass is float64's rounding noise
        # (exactly 0 in exact arithmetic): what must agree are its plus, minus, numeric and analytic.
        return [] if abs(exact - floating) < 1e-9 else [f"{where}: {exact} != {floating}"]
    if isinstance(floating, float) and isinstance(exact, (int, float)):
        return [] if math.isclose(exact, floating, rel_tol=1e-9, abs_tol=1e-12) else [f"{where}: {exact} != {floating}"]
    return [] if exact == floating else [f"{where}: {exact!r} != {floating!r}"]


@pytest.mark.parametrize("path", sorted(PROBLEMS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_problem_solves_in_exact_arithmetic_as_in_float(path: Path):
    """A dead ReLU or a max gives exact integers (0, 1): they are finite numbers, and
    every shipped problem solves exactly, agreeing with float64 to rel 1e-9."""
    exact = solution_dict(solve_problem(path, arithmetic="exact", details=False))
    floating = solution_dict(solve_problem(path, arithmetic="float", details=False))
    assert "diverged" not in exact
    assert exact["arithmetic"] == "exact"
    bad = _numbers_differ(exact, floating)
    assert not bad, "\n".join(bad[:20])


def test_exact_values_build_on_the_previous_step_without_resimplifying_it():
    """Ten exact steps of a sigmoid neuron (SymPy's re-simplification of the whole
    history made each step ~13× the cost of the one before: years for ten). Each new
    parameter is an unevaluated tree over the previous step's value, the same object."""
    text = (PROBLEMS / "sigmoid-neuron-sgd.yaml").read_text().replace("epochs: 2,", "epochs: 5,")
    assert "epochs: 5," in text
    run = train(parse_problem(text + "arithmetic: exact\n", "ten.yaml"), details=False)
    assert len(run.steps) == 10 and run.diverged is None
    for before, after in zip(run.steps, run.steps[1:]):
        w_before, w_after = before.parameters["w0"].expr, after.parameters["w0"].expr
        assert any(arg is w_before for arg in w_after.args)
    floating = solution_dict(train(parse_problem(text, "ten.yaml"), details=False))
    assert not _numbers_differ(solution_dict(run), floating)


def test_exact_nary_max_splits_a_three_way_tie_in_thirds():
    text = """
title: three-way tie
inputs: [x]
params: {a: 0.5, b: 0.5, c: 0.5}
model:
  yhat: max(a*x, b*x, c*x) + min(a, b, c, x)
outputs: [yhat]
targets: [y]
data: {x: 2, y: 3}
loss: mse
arithmetic: exact
"""
    run = train(parse_problem(text, "tie.yaml"))
    # By hand: yhat = 1 + 1/2; each of a, b, c gets 1/3 of the max's x and 1/3 of the min's 1.
    a, x, y = Fraction(1, 2), Fraction(2), Fraction(3)
    residual = (a * x + a) - y
    expected = 2 * residual * (x / 3 + Fraction(1, 3))
    assert {k: _fraction(v) for k, v in run.steps[0].gradients.items()} == {"a": expected, "b": expected,
                                                                         "c": expected}



def _significant(x: float, n: int) -> float:
    """x to n significant figures, by hand: its shortest decimal, half away from zero."""
    written = Decimal(repr(x))
    return float(written.quantize(Decimal(1).scaleb(written.adjusted() - n + 1), rounding=ROUND_HALF_UP))


def test_significant_figures_round_every_intermediate_value():
    text = """
title: three significant figures
inputs: [x]
params: {w: 1.25, b: -0.035}
model:
  z: w*x + b
  yhat: z*z
outputs: [yhat]
targets: [y]
data: {x: 2, y: 5}
loss: sse
optimizer: {name: sgd, lr: 0.01}
arithmetic: {significant: 3}
"""
    got = solve_text(text)["steps"][0]
    # By hand, rounding each value to 3 significant figures before it is used.
    z = _significant(1.25 * 2 - 0.035, 3)         # 2.465: a half, rounded up (to even would be 2.46)
    yhat = _significant(z * z, 3)                 # 6.1009 -> 6.10
    dE_dyhat = _significant(2 * yhat - 2 * 5, 3)
    dyhat_dz = _significant(2 * z, 3)
    delta_z = _significant(dE_dyhat * dyhat_dz, 3)  # 2.2 · 4.94 = 10.868 -> 10.9
    grad_w = _significant(delta_z * 2, 3)
    assert (z, yhat, delta_z) == (2.47, 6.1, 10.9)
    assert got["samples"][0]["values"]["z"] == z
    assert got["samples"][0]["values"]["yhat"] == yhat
    assert got["gradients"] == {"w": grad_w, "b": delta_z}
    assert got["parameters"]["w"] == _significant(1.25 - 0.01 * grad_w, 3)  # one assignment, one rounding
    banner = " ".join(render_terminal(train(parse_problem(text, "significant.yaml"))).split())
    assert "every intermediate value rounded to 3 significant figures" in banner
