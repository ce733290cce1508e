"""Sizes and limits: costs that grow with the problem are bounded or refused with an estimate.

No wall-clock assertions here: benchmarks/limits.py measures the estimate against
the real time. These tests pin the shapes: what is refused, what stays linear.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tutor.api import solve_problem
from tutor.cli import app
from tutor.errors import DivergenceError
from tutor.render.terminal import condense, render_terminal

runner = CliRunner()
PROBLEMS = Path(__file__).resolve().parent.parent / "problems"


def invoke(*args: str):
    return runner.invoke(app, list(args))


def diamond_chain(lines: int, used: bool) -> str:
    """A chain of diamonds c(i) = c(i-1) + 2·c(i-1): the number of paths doubles per level."""
    model = ["  y: w*x", "  c0: w*x"]
    for i in range(1, lines // 2):
        model += [f"  a{i}: 2*c{i - 1}", f"  c{i}: c{i - 1} + a{i}"]
    last = f"c{lines // 2 - 1}"
    return ("title: diamonds\ninputs: [x]\nparams: {w: 0.5}\nmodel:\n" + "\n".join(model) +
            f"\noutputs: [{last if used else 'y'}]\ntargets: [t]\ndata: {{x: 1, t: 0}}\nloss: mse\n"
            "optimizer: {name: sgd, lr: 1e-40}\n")


def product(n: int) -> str:
    params = ", ".join(f"w{i}: 1" for i in range(1, n + 1))
    return (f"title: product\ninputs: [x]\nparams: {{{params}}}\nmodel:\n  y: x*" +
            "*".join(f"w{i}" for i in range(1, n + 1)) +
            "\noutputs: [y]\ntargets: [t]\ndata: {x: 1, t: 0.5}\nloss: mse\noptimizer: {name: sgd, lr: 1e-5}\n")


def write(tmp_path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ------------------------------------------------ chain-rule paths

def test_an_unused_diamond_chain_does_not_explode_the_paths(tmp_path):
    # 2^47 paths from the chain's end down to w, none of them reaching the loss.
    text = render_terminal(solve_problem(write(tmp_path, "d.yaml", diamond_chain(95, used=False))))
    assert "∂E/∂w = ∂E/∂y·∂y/∂w" in text  # the one path that reaches the loss, in the paths form


def test_a_used_diamond_chain_is_shown_in_delta_form(tmp_path):
    text = render_terminal(solve_problem(write(tmp_path, "d.yaml", diamond_chain(95, used=True))))
    assert "Gradients from the δ's" in text and "Gradients (chain rule)" not in text


# ------------------------------------------------ output proportional to the input

def test_long_products_and_sums_are_shown_elided():
    assert condense("·".join(f"w{i}" for i in range(2, 351))) == "w2·w3·w4·w5·…(343 more)…·w349·w350"
    assert condense(" + ".join(f"e(a{i}·b)" for i in range(20))) == \
        "e(a0·b) + e(a1·b) + e(a2·b) + e(a3·b) + …(14 more)… + e(a18·b) + e(a19·b)"
    assert condense("a·(b + c + d)") == "a·(b + c + d)"


def test_the_worked_solution_of_a_product_grows_linearly(tmp_path):
    sizes = [len(render_terminal(solve_problem(write(tmp_path, f"p{n}.yaml", product(n))))) for n in (40, 80)]
    assert sizes[1] < 2.3 * sizes[0]  # every ∂y/∂wi printed in full made it grow as n²


def test_a_divergence_message_names_a_few_inputs_not_all():
    error = DivergenceError("y", "evaluates to inf", 1, {f"w{i}": 1.0 for i in range(351)})
    assert str(error).endswith("w7 = 1.0, … (343 more)")
