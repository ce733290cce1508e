"""Sizes and limits: costs that grow with the problem are bounded or refused with an estimate.

No wall-clock assertions here: benchmarks/limits.py measures the estimate against
the real time. These tests pin the shapes: what is refused, what stays linear.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tutor.api import solve_problem
from tutor.cli import app
from tutor.errors import DivergenceError
from tutor.limits import CHECK, JSON, LIMIT_SECONDS, MEMORY_BUDGET, STARTUP_SECONDS, Rendering, estimate
from tutor.problem import load_problem, parse_problem
from conftest import terminal_text as render_terminal
from tutor.render.terminal import condense

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


def softmax(classes: int, epochs: int = 1) -> str:
    units = ", ".join(f"o{k}" for k in range(1, classes + 1))
    weights = [[round(0.01 * ((7 * k) % 13 - 6), 2), round(0.01 * ((5 * k) % 11 - 5), 2)] for k in range(classes)]
    targets = ", ".join(f"t{k}" for k in range(1, classes + 1))
    sample = ", ".join(f"t{k}: {int(k == 1)}" for k in range(1, classes + 1))
    return (f"title: {classes} classes\nnetwork:\n  inputs: [x1, x2]\n  layers:\n    - units: [{units}]\n"
            f"      activation: softmax\n      weights: {weights}\n      bias: {[0.0] * classes}\n"
            f"targets: [{targets}]\ndata:\n  - {{x1: 1.0, x2: 0.5, {sample}}}\nloss: cce\n"
            f"optimizer: {{name: sgd, lr: 0.5}}\ntraining: {{epochs: {epochs}}}\n")


def sigmoid_steps(epochs: int) -> str:
    """The 2-2-2 sigmoid network of benchmarks/problems, one sample, ``epochs`` steps."""
    return ("title: long\nnetwork:\n  inputs: [x1, x2]\n  layers:\n"
            "    - {units: [h1, h2], activation: sigmoid, weights: [[0.15, 0.2], [0.25, 0.3]], bias: [0.35, 0.35]}\n"
            "    - {units: [o1, o2], activation: sigmoid, weights: [[0.4, 0.45], [0.5, 0.55]], bias: [0.6, 0.6]}\n"
            "targets: [t1, t2]\ndata: {x1: 0.05, x2: 0.1, t1: 0.01, t2: 0.99}\nloss: sse\n"
            f"optimizer: {{name: sgd, lr: 0.5}}\ntraining:\n  epochs: {epochs}\n")


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


# ------------------------------------------------ the estimate refuses what it cannot finish

def position_of(text: str, key: str) -> str:
    """LINE:COL of the first line of ``text`` that starts (after indentation) with ``key``."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith(key):
            return f"{number}:{len(line) - len(line.lstrip()) + 1}"
    raise AssertionError(key)


def test_a_run_that_cannot_fit_in_memory_is_refused_at_its_epochs(tmp_path):
    text = sigmoid_steps(600_000)  # estimated at 28 s by the old estimate; died of MemoryError
    path = write(tmp_path, "long.yaml", text)
    result = invoke("solve", str(path), "-f", "json")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"{path}:{position_of(text, 'epochs:')}: error: this problem asks for "
                                    f"600,000 update steps (epochs: 600,000), about ")
    assert "GiB of memory; pass --max-steps N" in result.stderr


def test_max_steps_makes_a_long_run_small_enough(tmp_path):
    path = write(tmp_path, "long.yaml", sigmoid_steps(600_000))
    result = invoke("solve", str(path), "-f", "json", "--max-steps", "200")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["steps"]) == 200


def test_a_large_softmax_is_refused_at_its_network(tmp_path):
    # 150² symbolic derivatives: minutes, against an old estimate of 0.1 s. Local derivatives:
    # 150 nets × (2 weights + 1 bias) + 150 units × 150 nets + the loss's 150 units = 23,100.
    text = softmax(150)
    path = write(tmp_path, "softmax.yaml", text)
    for args in (("solve", str(path)), ("export", str(path), "-o", str(tmp_path / "out.md"))):
        result = invoke(*args)
        assert result.exit_code == 2, result.stderr
        assert result.stderr.startswith(f"{path}:{position_of(text, 'network:')}: error: this problem's network "
                                        f"has 23,100 local derivatives to work out, about ")
    assert not (tmp_path / "out.md").exists()
    # Without the worked solution, 150 classes take about 50 s; 200 classes are over the minute.
    assert estimate(load_problem(path)).seconds < LIMIT_SECONDS
    path = write(tmp_path, "softmax200.yaml", softmax(200))
    result = invoke("solve", str(path), "-f", "json")
    assert result.exit_code == 2 and "has 40,800 local derivatives" in result.stderr


def test_a_long_product_is_refused_when_printing_it_would_take_minutes(tmp_path):
    # One expression is at most 4,000 characters (about 700 factors, a few seconds);
    # twenty products of 500 factors each print 20 × 500 derivatives of 499 factors.
    params = ", ".join(f"w{i}: 1" for i in range(1, 501))
    factors = "*".join(f"w{i}" for i in range(1, 501))
    model = "\n".join(f"  p{j}: x*{factors}" for j in range(1, 21))
    text = (f"title: products\ninputs: [x]\nparams: {{{params}}}\nmodel:\n{model}\n  y: "
            + " + ".join(f"p{j}" for j in range(1, 21)) +
            "\noutputs: [y]\ntargets: [t]\ndata: {x: 1, t: 0.5}\nloss: mse\n")
    path = write(tmp_path, "product.yaml", text)
    result = invoke("solve", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}:{position_of(text, 'model:')}: error: this problem's model has ")


def test_showing_every_step_is_part_of_the_estimate(tmp_path):
    text = sigmoid_steps(100_000)
    path = write(tmp_path, "long.yaml", text)
    assert estimate(load_problem(path), Rendering("terminal")).seconds < LIMIT_SECONDS
    result = invoke("solve", str(path), "--all")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}:{position_of(text, 'epochs:')}: error: this problem asks for "
                                    f"100,000 update steps (epochs: 100,000), about ")
    assert "pass --steps to show fewer steps in full" in result.stderr


def test_check_has_a_limit_too(tmp_path):
    path = write(tmp_path, "long.yaml", sigmoid_steps(100_000))
    answers = write(tmp_path, "answers.yaml", "answers:\n  - {final: {loss: 0.1}}\n")
    result = invoke("check", str(path), str(answers))
    assert result.exit_code == 2 and result.stdout == ""
    assert "update steps (epochs: 100,000)" in result.stderr and "pass --yes to check it all" in result.stderr


def test_every_shipped_problem_and_small_case_is_within_the_limit():
    for path in sorted(PROBLEMS.glob("*.yaml")):
        problem = load_problem(path)
        for rendering in (JSON, Rendering("terminal", "all"), Rendering("export"), CHECK):
            assert estimate(problem, rendering).seconds < LIMIT_SECONDS, (path.name, rendering)


def test_the_estimate_grows_with_each_cost():
    def seconds(text, rendering=JSON):
        return estimate(parse_problem(text, "p.yaml"), rendering).seconds

    assert seconds(softmax(40)) > 4 * seconds(softmax(20)) - 3 * STARTUP_SECONDS["json"]  # classes² × classes
    assert seconds(product(200)) > seconds(product(100))
    assert seconds(sigmoid_steps(20_000)) > seconds(sigmoid_steps(10_000))
    text = sigmoid_steps(1000)
    assert seconds(text, Rendering("terminal", "all")) > seconds(text, Rendering("terminal")) > seconds(text)
    assert seconds(text, CHECK) > seconds(text)
    assert seconds(text.replace("loss: sse", "loss: sse\narithmetic: exact")) > seconds(text)


def test_a_key_is_limited_by_its_problems_together(tmp_path):
    paths = [write(tmp_path, f"long{i}.yaml", sigmoid_steps(40_000)) for i in range(5)]
    assert all(estimate(load_problem(p)).memory < MEMORY_BUDGET for p in paths)
    result = invoke("key", *map(str, paths), "-o", str(tmp_path / "key.md"), "--answers-only")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(f"{paths[0]}: error: the 5 problems together are about ")
    assert "GiB of memory" in result.stderr and not (tmp_path / "key.md").exists()
    small = invoke("key", *map(str, paths), "-o", str(tmp_path / "key.md"), "--answers-only", "--max-steps", "3")
    assert small.exit_code == 0, small.stderr


def test_a_gradebook_has_a_limit_over_all_its_answers_files(tmp_path):
    """Each file alone is within the minute; a class of them is not: refused with the sum."""
    path = write(tmp_path, "long.yaml", sigmoid_steps(3_000))
    per_file = estimate(load_problem(path), CHECK).seconds - STARTUP_SECONDS["check"]
    assert per_file < LIMIT_SECONDS
    files = int(LIMIT_SECONDS / per_file) + 2
    answers = [str(write(tmp_path, f"a{k}.yaml", "answers:\n  - {final: {loss: 0.1}}\n")) for k in range(files)]
    result = invoke("check", str(path), *answers, "--gradebook", str(tmp_path / "grades.csv"))
    assert result.exit_code == 2, result.output
    assert f"checking {files} answers files is about" in result.stderr and "pass --yes" in result.stderr
    assert not (tmp_path / "grades.csv").exists()
