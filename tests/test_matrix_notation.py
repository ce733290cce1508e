"""`notation: matrix` in every format: the worked solution at layer level, matrices with
their numbers (rows in the terminal, bmatrix in LaTeX and Markdown, MathML tables in
HTML), and nothing else about the solution changed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tutor.api import solve_problem
from tutor.problem import parse_problem
from tutor.render.html import render_html
from tutor.render.latex import render_latex
from tutor.render.markdown import render_markdown
from tutor.render.terminal import beside, matrix_box, render_terminal
from tutor.solution import build_solution
from tutor.train import train

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "problems"
LAYERED = sorted(p for p in PROBLEMS.glob("*.yaml") if "\nnetwork:" in "\n" + p.read_text(encoding="utf-8"))


def solution_of(text: str):
    return build_solution(train(parse_problem(text)))


def terminal(name: str, width: int = 80) -> str:
    return render_terminal(build_solution(solve_problem(PROBLEMS / name)), width=width)


def test_matrix_box_and_beside():
    assert matrix_box([["0.1", "−0.5"], ["1", "2.25"]]) == ["⎡0.1  −0.5⎤", "⎣  1  2.25⎦"]
    assert matrix_box([["1", "2"]]) == ["[1  2]"]
    assert matrix_box([["1"], ["2"], ["3"]]) == ["⎡1⎤", "⎢2⎥", "⎣3⎦"]
    assert beside([["a ="], ["⎡1⎤", "⎣2⎦"], [" = "], ["⎡1⎤", "⎢2⎥", "⎣3⎦"]]) == [
        "   ⎡1⎤   ⎡1⎤", "a =⎣2⎦ = ⎢2⎥", "         ⎣3⎦"]


def test_cs231n_in_the_terminal_shows_2qxT_and_2WTq():
    text = terminal("cs231n-norm-matrix.yaml")
    assert "  q = W x\n" in text                          # the model at layer level
    assert "q1 = W11·x1" not in text                      # ... not component by component
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "∂E/∂W = δ_q xᵀ" in line)
    assert lines[at:at + 2] == ["  ∂E/∂W = δ_q xᵀ = ⎡0.44⎤[0.2  0.4] = ⎡0.088  0.176⎤",
                                "                   ⎣0.52⎦             ⎣0.104  0.208⎦"]
    at = next(i for i, line in enumerate(lines) if "δ_x = Wᵀ δ_q" in line)
    assert "⎡−0.112⎤" in lines[at] and "⎣ 0.636⎦" in lines[at + 1]


def test_a_batch_is_a_matrix_whose_columns_are_the_samples():
    text = terminal("sigmoid-2-2-1-network-matrix.yaml")
    assert "Forward pass, layer by layer (columns: samples 1, 2)" in text
    assert "⎡0.05     1⎤" in text and "⎣ 0.1  −0.5⎦" in text      # x: samples 1 and 2 side by side
    assert "∂E/∂W⁽²⁾ = (1/2) δ_z⁽²⁾ a⁽¹⁾ᵀ" in text
    assert "δ_z⁽¹⁾ = δ_a⁽¹⁾ ⊙ σ′(z⁽¹⁾)" in text
    assert "Gradients (chain rule)" not in text               # every gradient is in the matrix lines


def test_the_matrix_model_and_the_network_print_the_same_working():
    """The model's own names (z, h, W, V) against the layers' (z⁽¹⁾, a⁽¹⁾, W⁽¹⁾): the same
    numbers in the same order in step 1's working (the updates list the parameters in each
    form's own order)."""
    def numbers(name: str) -> list[str]:
        text = terminal(name, width=200)
        working = text[text.index("Forward pass, layer by layer"):text.index("Update")]
        return re.findall(r"−?[0-9]+(?:\.[0-9]+)?", working)
    assert numbers("sigmoid-2-2-1-matrix.yaml") == numbers("sigmoid-2-2-1-network-matrix.yaml")


@pytest.mark.parametrize("render, marks", [(render_latex, [r"\begin{bmatrix}", r"\odot", r"^{(1) \top}"]),
                                           (render_markdown, [r"\begin{bmatrix}", r"\odot"]),
                                           (render_html, ["<mtable", "&#x02299;"])])
def test_documents_write_matrices(render, marks):
    text = render(build_solution(solve_problem(PROBLEMS / "sigmoid-2-2-1-network-matrix.yaml")))
    for mark in marks:
        assert mark in text


@pytest.mark.parametrize("path", LAYERED, ids=[p.stem for p in LAYERED])
def test_every_layered_problem_prints_in_matrix_notation(path: Path):
    """Layer-level working for every shipped network of dense layers (the others print as in
    scalar notation), within 80 columns; the answers the solution boxes are those of scalar notation."""
    text = path.read_text(encoding="utf-8").replace("notation: matrix\n", "")
    scalar, matrix = solution_of(text), solution_of(text + "notation: matrix\n")
    printed = render_terminal(matrix, width=80)
    if matrix.model.matrix is None:      # no dense layer to show at layer level (conv, pooling, recurrent): as scalar
        assert printed == render_terminal(scalar, width=80)
    else:
        assert "Backward pass in matrix form" in printed or not matrix.steps or matrix.steps[0].backward is None
    assert max(len(line) for line in printed.splitlines()) <= 80
    assert matrix.answers == scalar.answers


@pytest.mark.parametrize("change", ["training: {epochs: 2, update: sequential}",
                                    "optimizer: {name: nesterov, form: lookahead, lr: 0.5, momentum: 0.9}"])
def test_no_layer_level_working_where_its_identities_would_not_hold(change: str):
    """Sequential updates and a look-ahead point take δ and ∂E/∂W with other parameters than
    the step shows: the working stays scalar there (and says every line)."""
    text = (PROBLEMS / "sigmoid-2-2-1-network-matrix.yaml").read_text(encoding="utf-8")
    key = change.split(":")[0]
    lines = [line for line in text.splitlines() if not line.startswith(key + ":")]
    solution = solution_of("\n".join(lines) + f"\n{change}\n")
    assert solution.model.matrix is not None
    assert all(step.matrix is None for step in solution.steps)
    assert "Backward pass in matrix form" not in render_terminal(solution)


def test_without_training_steps_the_gradients_are_at_layer_level_too():
    text = (PROBLEMS / "cs231n-norm-matrix.yaml").read_text(encoding="utf-8")
    solution = solution_of(text + "training: {epochs: 0}\nask: [forward, loss, gradient]\n")
    assert solution.evaluation.matrix is not None and not solution.steps
    printed = render_terminal(solution)
    assert "Backward pass in matrix form" in printed and "δ_x = Wᵀ δ_q" in printed


def test_initial_parameters_as_matrices_of_names_and_numbers():
    text = terminal("sigmoid-2-2-1-network-matrix.yaml")
    assert "  W⁽²⁾ = [V11  V12] = [0.4  −0.45]\n" in text
    assert "  W⁽¹⁾ = ⎡W11  W12⎤ = ⎡0.15  −0.2⎤\n" in text
    assert "  W11  0.15" not in text                          # not listed again, one by one
    frozen = render_terminal(solution_of(
        (PROBLEMS / "sigmoid-2-2-1-network-matrix.yaml").read_text(encoding="utf-8") + "frozen: [W11]\n"))
    assert "W11  0.15 (frozen)" in frozen                      # a remark keeps its parameter in the table


def test_plain_sgd_updates_a_matrix_at_a_time():
    text = terminal("sigmoid-2-2-1-network-matrix.yaml")
    assert "  b⁽²⁾ ← b⁽²⁾ − lr ∂E/∂b⁽²⁾ = [0.6] − 0.5 [0.06804] = [0.566]\n" in text
    assert "V11: 0.4 → 0.3756" not in text                    # not again one by one
    source = (PROBLEMS / "sigmoid-2-2-1-network-matrix.yaml").read_text(encoding="utf-8")
    for change in ("ask: [forward, loss, gradient, {update: [V11]}]\n",          # not every parameter asked
                   "optimizer: {name: sgd, lr: 0.5, weight_decay: 0.01}\n"):     # g is not ∂E/∂W alone
        lines = [line for line in source.splitlines(keepends=True) if not line.startswith("optimizer:")]
        printed = render_terminal(solution_of("".join(lines) + change + (
            "optimizer: {name: sgd, lr: 0.5}\n" if change.startswith("ask") else "")))
        assert "a matrix at a time" not in printed and "V11: 0.4 → " in printed
