"""The terminal worked solution: goldens, substitutions that evaluate back, content, hygiene.

Regenerate the goldens with ``TUTOR_UPDATE_GOLDEN=1 pytest tests/test_terminal.py``
and read the diff before accepting it.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from functools import lru_cache
from pathlib import Path

import pytest
from rich.cells import cell_len

from tutor.api import solve_problem
from tutor.render.notation import MathPrinter, format_number, to_float
from conftest import check_golden, terminal_text as render_terminal
from tutor.render.notation import unicode_label, unicode_math
from tutor.render.walk import _Walk
from tutor.solution import Calc, build_solution

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = sorted((ROOT / "problems").glob("*.yaml"))
GOLDEN = Path(__file__).resolve().parent / "golden" / "terminal"
IDS = [p.stem for p in PROBLEMS]


@lru_cache(maxsize=None)
def run_of(path: Path):
    return solve_problem(path)


# ---------------------------------------------------------------- 1. goldens

@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("path", PROBLEMS, ids=IDS)
def test_golden(path: Path, width: int):
    check_golden(GOLDEN / f"{path.stem}.{width}.txt", render_terminal(run_of(path), width=width))


# ---------------------------------------------------------------- 2. substitutions evaluate back

class Arithmetic:
    """A tiny parser for the substituted lines: numbers (− as minus, 1/3, 2.5e−8), + − · /,
    superscript powers, √, |x| and the functions the printer names."""

    SUPER = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-"))
    FUNCS = {
        "σ": lambda x: 1 / (1 + math.exp(-x)), "relu": lambda x: max(x, 0.0),
        "relu'": lambda x: 1.0 if x > 0 else 0.0, "tanh": math.tanh, "exp": math.exp, "log": math.log,
        "softplus": lambda x: math.log1p(math.exp(x)), "silu": lambda x: x / (1 + math.exp(-x)),
        "gelu": lambda x: 0.5 * x * (1 + math.erf(x / math.sqrt(2))), "erf": math.erf,
        "leaky_relu": lambda x, s: x if x > 0 else s * x, "leaky_relu'": lambda x, s: 1.0 if x > 0 else s,
        "elu": lambda x, a: x if x > 0 else a * math.expm1(x),
        "elu'": lambda x, a: 1.0 if x > 0 else a * math.exp(x),
        "max": lambda *a: max(a), "min": lambda *a: min(a),
        "max_share": lambda i, *a: 1 / a.count(max(a)) if a[int(i) - 1] == max(a) else 0.0,
        "min_share": lambda i, *a: 1 / a.count(min(a)) if a[int(i) - 1] == min(a) else 0.0,
        "H": lambda x: 1.0 if x > 0 else (0.5 if x == 0 else 0.0),
        "sign": lambda x: float((x > 0) - (x < 0)),
    }
    TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d+)?(?:e[−-]?\d+)?)|(?P<sup>[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)"
                       r"|(?P<name>softmax[₀-₉]+|[A-Za-zσπ_]+'?)|(?P<op>[−+·/()|,√^]))")

    def __init__(self, text: str):
        self.tokens, pos = [], 0
        text = text.strip()
        while pos < len(text):
            m = self.TOKEN.match(text, pos)
            assert m and m.end() > pos, f"cannot read {text[pos:]!r} in {text!r}"
            kind = m.lastgroup
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0
        self.text = text

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        assert value is None or tok[1] == value, f"expected {value!r} at {tok} in {self.text!r}"
        self.i += 1
        return tok

    def parse(self) -> float:
        value = self.sum()
        assert self.i == len(self.tokens), f"trailing {self.tokens[self.i:]} in {self.text!r}"
        return value

    def sum(self) -> float:
        value = self.product()
        while self.peek()[1] in ("+", "−"):
            op = self.take()[1]
            rhs = self.product()
            value = value + rhs if op == "+" else value - rhs
        return value

    def product(self) -> float:
        if self.peek()[1] == "−":
            self.take()
            return -self.product()
        value = self.power()
        while self.peek()[1] in ("·", "/"):
            op = self.take()[1]
            rhs = self.power()
            value = value * rhs if op == "·" else value / rhs
        return value

    def power(self) -> float:
        base = self.atom()
        kind, text = self.peek()
        if kind == "sup":
            self.take()
            return base ** int("".join(self.SUPER[c] for c in text))
        if text == "^":
            self.take()
            return base ** self.atom()
        return base

    def atom(self) -> float:
        kind, text = self.take()
        if kind == "num":
            return float(text.replace("−", "-"))
        if text == "(":
            value = self.sum()
            self.take(")")
            return value
        if text == "|":
            value = self.sum()
            self.take("|")
            return abs(value)
        if text == "√":
            return math.sqrt(self.power())
        if text == "−":
            return -self.power()
        if kind == "name":
            if text == "e":
                return math.e
            if text == "π":
                return math.pi
            self.take("(")
            args = [self.sum()]
            while self.peek()[1] == ",":
                self.take()
                args.append(self.sum())
            self.take(")")
            if text.startswith("softmax"):
                k = int(text[len("softmax"):].translate(str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")))
                top = max(args)
                weights = [math.exp(a - top) for a in args]
                return weights[k - 1] / sum(weights)
            return self.FUNCS[text](*args)
        raise AssertionError(f"unexpected {text!r} in {self.text!r}")


def evaluate_text(text: str) -> float:
    return Arithmetic(text).parse()


def test_the_parser_reads_the_printer():
    assert evaluate_text("0.5·2 + (−0.5)·(−1) + 0.5") == pytest.approx(2.0)
    assert evaluate_text("(0 − 1)²/2 + (−1.5 − 0.5)²/2") == pytest.approx(2.5)
    assert evaluate_text("relu'(−0.5)") == 0
    assert evaluate_text("(1/2)·(−2)² + (−1/3)·(−2) + 0") == pytest.approx(8 / 3)
    assert evaluate_text("√(2.763e−5 + 1e−8)") == pytest.approx(math.sqrt(2.764e-5))


def calcs_of(solution):
    """Every Calc with a substitution, wherever it sits in the solution."""
    import dataclasses

    def walk(x):
        if isinstance(x, Calc):
            yield x
        elif dataclasses.is_dataclass(x):
            for f in dataclasses.fields(x):
                yield from walk(getattr(x, f.name))
        elif isinstance(x, (tuple, list)):
            for y in x:
                yield from walk(y)
    return [c for c in walk(solution) if c.expr is not None and c.values is not None]


@pytest.mark.parametrize("path", PROBLEMS, ids=IDS)
def test_every_substitution_evaluates_back(path: Path):
    """Printed with 12 digits, every substituted line gives the stored value (tight); printed
    as shown (4 digits), it gives the shown value within display rounding."""
    run = run_of(path)
    solution = build_solution(run, show_all=True)
    calcs = calcs_of(solution)
    assert calcs
    for digits, rel in ((12, 1e-7), (4, 2e-3)):
        walk = _Walk(dataclasses.replace(solution, digits=digits))
        for c in calcs:
            text = unicode_math(walk.numbers(c))
            got = evaluate_text(text)
            want = to_float(c.value)
            scale = max(1.0, abs(want), *(abs(to_float(v)) for v in c.values.values()
                                          if not isinstance(v, (str, tuple))))
            assert abs(got - want) <= rel * scale + 10.0 ** -digits, \
                f"{unicode_label(c.lhs)}: {unicode_math(walk.formula(c))} = {text} = {got}, stored {want}"


def test_substitutions_shown_are_the_printed_ones():
    """The lines checked above are the very lines of the output."""
    run = run_of(ROOT / "problems" / "mazur-2-2-2.yaml")
    text = render_terminal(run, width=200)
    solution = build_solution(run)
    walk = _Walk(solution)
    for c in calcs_of(solution):
        assert unicode_math(walk.numbers(c)) in text


# ---------------------------------------------------------------- 3. the relu example

def test_relu_one_step_content():
    text = render_terminal(run_of(ROOT / "problems" / "relu-2-2-2-one-step.yaml"), width=80)
    # forward values
    assert re.search(r"z1 +w11·i1 \+ w21·i2 \+ b1 +1·2 \+ 0\.5·\(−1\) \+ 0\.5 +2\n", text)
    assert re.search(r"z2 .*−0\.5\n", text)
    assert re.search(r"h1 +relu\(z1\) +relu\(2\) +2\n", text)
    assert re.search(r"h2 +relu\(z2\) +relu\(−0\.5\) +0\n", text)
    assert re.search(r"o2 +net_o2 +−1\.5\n", text)
    # the loss
    assert "E = (o1 − t1)²/2 + (o2 − t2)²/2 = (0 − 1)²/2 + (−1.5 − 0.5)²/2 = 2.5" in text
    assert "E = (1/K) Σₖ (oₖ − tₖ)²" in text
    # the gradient through both paths
    assert "∂E/∂w21 = (∂E/∂o1·∂o1/∂h1 + ∂E/∂o2·∂o2/∂h1)·∂h1/∂z1·∂z1/∂w21" in text
    assert "= ((−1)·0.5 + (−2)·(−1))·1·(−1)" in text
    assert re.search(r"∂E/∂w21 = .*\n *= .*\n *= −1\.5\n", text)
    assert "since z1 = 2 > 0" in text
    assert "since z2 = −0.5 < 0" in text
    # the updates
    assert "w21: 0.5 → 0.65" in text
    assert "w21 ← w21 − lr·g = 0.5 − 0.1·(−1.5) = 0.65" in text
    assert "w22: −1 → −1 (unchanged: its gradient is 0, because a factor of its chain rule is 0)" \
           in " ".join(text.split())
    assert "    ∂h2/∂z2 = relu'(z2) = relu'(−0.5) = 0  (since z2 = −0.5 < 0)\n" \
           "    w22 ← w22 − lr·g = −1 − 0.1·0 = −1" in text
    # nothing about parameters not asked for, after the model
    backward = text[text.index("Backward pass"):]
    for name in ("w11", "w12", "b1", "b2", "w31", "w32", "w41", "w42", "b3", "b4"):
        assert not re.search(rf"∂\w*/∂{name}\b|\b{name}:|\b{name} ←", backward), name
    assert "After training" not in text  # not asked


def test_show_all_shows_every_parameter():
    text = render_terminal(run_of(ROOT / "problems" / "relu-2-2-2-one-step.yaml"), show_all=True)
    for name in ("w11", "b4"):
        assert f"∂E/∂{name} =" in text and f"{name}: " in text


def test_numbers():
    assert format_number(2.5) == "2.5"
    assert format_number(-0.5) == "−0.5"
    assert format_number(0.73105857) == "0.7311"
    assert format_number(1e-8) == "1e−8"
    assert format_number(0.000123456) == "0.0001235"


def test_steps_argument_and_compact_log():
    run = run_of(ROOT / "problems" / "sigmoid-neuron-sgd.yaml")
    text = render_terminal(run, steps=[2])
    assert "Step 2 (" in text and "Step 1 (" not in text and "Step 4 (" not in text
    assert "Training log, step 1" in text and "Training log, steps 3–4" in text


def test_round_arithmetic_flags_values_that_differ(tmp_path):
    source = (ROOT / "problems" / "mazur-2-2-2.yaml").read_text() + "arithmetic: {round: 2}\n"
    problem = tmp_path / "mazur-round.yaml"
    problem.write_text(source)
    text = render_terminal(solve_problem(problem))
    assert "rounded to 2 decimals" in text
    assert "(unrounded " in text


# ---------------------------------------------------------------- 4. hygiene

@pytest.mark.parametrize("path", PROBLEMS, ids=IDS)
def test_deterministic_plain_and_narrow(path: Path):
    run = run_of(path)
    for width in (80, 120):
        a = render_terminal(run, width=width)
        assert a == render_terminal(run, width=width)
        assert "\x1b" not in a
        assert not set(a) & set("│┃─━┌┐└┘├┤┬┴┼╭╮╯╰═║")
        for line in a.splitlines():
            assert cell_len(line) <= width, line


def test_color_has_ansi():
    text = render_terminal(run_of(ROOT / "problems" / "relu-2-2-2-one-step.yaml"), color=True)
    assert "\x1b[" in text


def test_long_trainings_print_briefly(tmp_path):
    """2,000 steps: the first and last in full, the loss curve, and one log-spaced table of the
    epochs (1st to 5th, 10th, 20th, 50th, ..., 2000th), not the same table twice."""
    from tutor.problem import parse_problem
    from tutor.train import train

    text = (ROOT / "benchmarks/problems/sigmoid-2-2-2-10k.yaml").read_text().replace("epochs: 10000", "epochs: 2000")
    out = render_terminal(train(parse_problem(text, "long.yaml")), width=80)
    lines = out.splitlines()
    assert len(lines) < 400
    assert "1998 steps, not shown in full: the loss per epoch is in the table after training." in " ".join(out.split())
    epochs = [line.split()[1] for line in out[out.index("Loss per epoch"):].splitlines()
              if re.match(r"\s+\d+(–\d+)?\s+\d+\s", line)]
    assert epochs == ["1", "2", "3", "4", "5", "10", "20", "50", "100", "200", "500", "1000", "2000"]
    assert out.count("(4 epochs)") == 1 and "(999 epochs)" in out
    assert "loss per step: " in out and "|" in out   # the loss curve, drawn in plain characters
    assert "Step 2000 (epoch 2000" in out
