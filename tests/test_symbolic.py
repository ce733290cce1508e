"""arithmetic: symbolic (docs/symbolic.md): symbolic results are checked, not trusted.

Every symbolic gradient of every symbolic shipped problem, and of a symbolic version
of every scalar shipped problem, is evaluated at random numbers and compared with
tutor's numeric engine (float64) at the same numbers (rel 1e-9). Every formula of
the JSON is read back by tutor's own parser and must be the same expression.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
from pathlib import Path

import pytest
import sympy

from tutor.api import solve_file, solve_text
from tutor.problem import Number, Training, load_problem
from tutor.problem.records import SymbolicSpec
from tutor.formula import BatchSum, Product, Sum, factored, parse_formula, product, sum_i, to_sympy
from tutor.render.formula_text import format_text, latex_text, pretty_text
from tutor.symbolic import solve_symbolic
from tutor.train import train

ROOT = Path(__file__).resolve().parent.parent
# The symbolic problems live apart (problems/symbolic/): they have no numbers for the
# printers, keys and checks that every problem of problems/ goes through.
SYMBOLIC = sorted((ROOT / "problems/symbolic").glob("*.yaml"))
# A symbolic version of each scalar problem, except where the gradient holds a number
# symbolic mode refuses (a penalty's λ).
# Batch normalization couples the samples: refused in symbolic mode (tests/invalid/symbolic-batchnorm).
SCALAR = [p for p in sorted((ROOT / "problems").glob("*.yaml"))
          if load_problem(p).loss.penalty is None and not load_problem(p).batch_stats]
BATCH = 3  # samples drawn for a symbolic batch


def numeric_twin(problem, rng: random.Random, samples: int):
    """The problem with random numbers for every parameter and sample, solved by the
    numeric engine with no training step: (values used, its run)."""
    def draw() -> Number:
        x = rng.uniform(-1.5, 1.5)
        return Number(sympy.Float(x, 30), x)

    one_hot = problem.symbolic.one_hot if problem.symbolic else ()
    data = []
    for _ in range(samples):
        sample = {n: draw() for n in problem.inputs}
        if one_hot:
            k = rng.randrange(len(one_hot))
            sample |= {t: Number(sympy.Integer(int(j == k)), float(j == k)) for j, t in enumerate(one_hot)}
        else:
            for t in problem.targets:  # probabilities suit every loss (bce, cce need them)
                x = rng.uniform(0.05, 0.95)
                sample[t] = Number(sympy.Float(x, 30), x)
        data.append(sample)
    twin = dataclasses.replace(problem, arithmetic="float", symbolic=None, ask=None, frozen=(),
                               params={p: draw() for p in problem.params}, samples=tuple(data),
                               training=Training(0, 1 << 62, None, "simultaneous"))
    return twin, train(twin)


def at(expr: sympy.Expr, values: dict[str, float], samples: list[dict[str, float]], batch: str | None) -> float:
    """The formula's value: Σᵢ over the samples, every name by its value."""
    def each_sample(e: sympy.Expr) -> sympy.Expr:
        return sympy.Add(*(e.xreplace({sympy.Symbol(n + "_i", real=True): sympy.Float(v, 30)
                                       for n, v in s.items()}) for s in samples))

    expr = expr.replace(lambda e: isinstance(e, sum_i), lambda e: each_sample(e.args[0]))
    subs = {sympy.Symbol(n, real=True): sympy.Float(v, 30) for n, v in values.items()}
    if batch:
        subs[sympy.Symbol(batch, real=True)] = sympy.Integer(len(samples))
    return float(expr.xreplace(subs).evalf(30))


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def check_against_numbers(problem, seed: int) -> int:
    """Every gradient and δ of the derivation against the numeric engine; returns how
    many were compared."""
    solution = solve_symbolic(problem)
    batch = solution.batch
    twin, run = numeric_twin(problem, random.Random(seed), BATCH if batch else 1)
    params = {p: n.value for p, n in twin.params.items()}
    constants = {c: n.value for c, n in problem.constants.items()}
    samples = [{n: float(v) for n, v in t.values.items()} for t in run.final_samples]
    compared = 0
    for p, formula in solution.gradients.items():
        own = {} if batch else samples[0]  # one sample: its names stand alone
        got = at(to_sympy(formula), params | constants | own, samples, batch)
        assert close(got, float(run.final_gradients[p])), (p, format_text(formula), got, run.final_gradients[p])
        compared += 1
    first = run.final_samples[0]
    numeric_deltas = {**first.leaf_derivatives, **first.deltas}
    for name, formula in solution.deltas.items():
        got = at(to_sympy(formula), params | constants | samples[0], samples, None)
        assert close(got, float(numeric_deltas[name])), (name, format_text(formula), got, numeric_deltas[name])
        compared += 1
    return compared


def test_every_symbolic_problem_has_its_expected_solution():
    assert len(SYMBOLIC) >= 2
    for path in SYMBOLIC:
        assert load_problem(path).arithmetic == "symbolic"
        assert (path.parent / "expected" / f"{path.stem}.json").exists()


@pytest.mark.parametrize("path", SYMBOLIC, ids=[p.stem for p in SYMBOLIC])
def test_symbolic_problem_matches_expected(path: Path):
    """The expected formulas were written by hand and checked with torch autograd
    (tests/oracle/symbolic_oracle.py); tutor must print exactly them."""
    from test_problems import mismatches

    expected = json.loads((path.parent / "expected" / f"{path.stem}.json").read_text())
    bad = mismatches(expected, solve_file(path))
    assert not bad, "\n".join(bad[:20])


@pytest.mark.parametrize("path", SYMBOLIC, ids=[p.stem for p in SYMBOLIC])
@pytest.mark.parametrize("seed", [1, 2])
def test_symbolic_problem_agrees_with_the_numeric_engine(path: Path, seed: int):
    assert check_against_numbers(load_problem(path), seed) > 0


@pytest.mark.parametrize("path", SCALAR, ids=[p.stem for p in SCALAR])
def test_symbolic_version_of_scalar_problem_agrees(path: Path):
    problem = load_problem(path)
    symbolic = dataclasses.replace(problem, arithmetic="symbolic", symbolic=SymbolicSpec())
    assert check_against_numbers(symbolic, 7) > 0


def formulas(solution_json: dict):
    """Every (where, formula text) of a symbolic solution JSON."""
    def walk(value, where):
        if isinstance(value, dict):
            for k, v in value.items():
                yield from walk(v, f"{where}.{k}")
        elif isinstance(value, list):
            for k, v in enumerate(value):
                yield from walk(v, f"{where}[{k}]")
        elif isinstance(value, str) and where not in (".title", ".arithmetic") and not where.endswith(".reduction"):
            yield where, value
    yield from walk(solution_json, "")


@pytest.mark.parametrize("path", SYMBOLIC, ids=[p.stem for p in SYMBOLIC])
def test_json_formulas_read_back_as_the_same_expression(path: Path):
    problem = load_problem(path)
    solution = solve_symbolic(problem)
    data = solve_file(path)
    step = data["steps"][0]
    records = {f".steps[0].gradients.{p}": f for p, f in solution.gradients.items()}
    records |= {f".steps[0].parameters.{p}": f for p, f in solution.updates.items()}
    records |= {f".steps[0].samples[0].derivatives.{n}": f for n, f in solution.deltas.items()
                if n != solution.graph.loss_name}
    records[".steps[0].loss"] = solution.loss
    texts = dict(formulas(data))
    for where, record in records.items():
        assert sympy.expand(parse_formula(texts[where]) - to_sympy(record)) == 0, where
    for where, text in texts.items():  # everything else parses, and prints back the same
        parse_formula(text)
    assert step["gradients"]


def test_round_trip_of_the_printer_on_every_shape():
    o, y, m = (sympy.Symbol(n, real=True) for n in ("o", "y", "m"))
    body = factored([product(2 * (o - y) * o * (1 - o)), product(-y / o)])
    cases = [body, Product(sympy.Rational(-3, 4), (m**-1, BatchSum(body))), product(-y / (2 * o)),
             Sum((product(o), Product(sympy.Integer(-1), (sympy.Symbol("lr", real=True), body))))]
    for f in cases:
        assert sympy.expand(parse_formula(format_text(f)) - to_sympy(f)) == 0, format_text(f)


def test_cs229_gradient_is_the_textbook_formula():
    solution = solve_symbolic(load_problem(ROOT / "problems/symbolic/cs229-2-3-1-symbolic.yaml"))
    assert format_text(solution.gradients["w1_12"]) == \
        "2/m*sum_i((o_i - y_i)*o_i*(1 - o_i)*w2_2*h2_i*(1 - h2_i)*x1_i)"
    assert pretty_text(solution.gradients["w1_12"]) == "(2/m)·Σᵢ (oᵢ − yᵢ)·oᵢ(1 − oᵢ)·w2_2·h2ᵢ(1 − h2ᵢ)·x1ᵢ"
    assert latex_text(solution.gradients["w1_12"]) == (
        r"\frac{2}{m} \, \sum_{i} \left(o_{i} - y_{i}\right) \, o_{i} \, \left(1 - o_{i}\right) \, \mathit{w2\_2} \, "
        r"h_{2,i} \, \left(1 - h_{2,i}\right) \, x_{1,i}")


def test_softmax_cross_entropy_gives_p_minus_y():
    solution = solve_symbolic(load_problem(ROOT / "problems/symbolic/softmax-cce-symbolic.yaml"))
    for k in (1, 2, 3):
        assert format_text(solution.deltas[f"z{k}"]) == f"p{k} - y{k}"


def test_without_one_hot_softmax_cross_entropy_keeps_the_targets_sum():
    text = (ROOT / "problems/symbolic/softmax-cce-symbolic.yaml").read_text().replace(
        "targets: {one_hot: [y1, y2, y3]}", "targets: [y1, y2, y3]")
    data = solve_text(text)
    assert data["steps"][0]["samples"][0]["derivatives"]["z1"] != "p1 - y1"


def test_values_given_in_symbolic_mode_are_not_used():
    text = (ROOT / "problems/symbolic/cs229-2-3-1-symbolic.yaml").read_text()
    names = text.split("params: [", 1)[1].split("]", 1)[0].split(", ")
    without = text.replace("data: {samples: m}\n", "")
    with_values = without.replace(f"params: [{', '.join(names)}]",
                                  "params: {" + ", ".join(f"{n}: {k / 10}" for k, n in enumerate(names)) + "}")
    with_values += "data:\n  - {x1: 1, x2: 2, y: 1}\n  - {x1: -1, x2: 0.5, y: 0}\n"
    assert with_values != without
    assert solve_text(with_values) == solve_text(without)


def test_json_is_byte_identical_between_runs(tmp_path):
    from typer.testing import CliRunner

    from tutor.cli import app

    path = str(ROOT / "problems/symbolic/cs229-2-3-1-symbolic.yaml")
    first = CliRunner().invoke(app, ["solve", path, "--format", "json"])
    second = CliRunner().invoke(app, ["solve", path, "--format", "json"])
    assert first.exit_code == 0 and first.stdout == second.stdout
    assert json.loads(first.stdout)["arithmetic"] == "symbolic"


# ---------------------------------------------------------------- printing

def cli(*args: str):
    from typer.testing import CliRunner

    from tutor.cli import app

    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_terminal_shows_the_derivation_at_80_columns():
    code, out, err = cli("solve", str(ROOT / "problems/symbolic/cs229-2-3-1-symbolic.yaml"))
    assert (code, err) == (0, "")
    assert "  ∂l/∂w1_12 = (1/m)·Σᵢ ∂Eᵢ/∂w1_12\n            = (2/m)·Σᵢ (oᵢ − yᵢ)·oᵢ(1 − oᵢ)·w2_2·h2ᵢ(1 − h2ᵢ)·x1ᵢ\n" in out
    assert "  ∂h2/∂w1_12 = h2(1 − h2)·x1\n" in out
    assert "  δ_h2 = δ_o·∂o/∂h2 = 2(o − y)·o(1 − o)·w2_2\n" in out
    assert "  w1_12 ← w1_12 − lr·(2/m)·Σᵢ (oᵢ − yᵢ)·oᵢ(1 − oᵢ)·w2_2·h2ᵢ(1 − h2ᵢ)·x1ᵢ\n" in out
    assert "∂l/∂w1_11" not in out  # not asked
    assert all(len(line) <= 80 for line in out.splitlines())
    assert "\x1b" not in out


def test_terminal_all_shows_every_gradient():
    code, out, _ = cli("solve", str(ROOT / "problems/symbolic/cs229-2-3-1-symbolic.yaml"), "--all")
    assert code == 0 and "∂l/∂w1_11" in out and "w2_3 ← w2_3 − lr·(2/m)" in out


def test_softmax_terminal_shows_p_minus_y():
    code, out, _ = cli("solve", str(ROOT / "problems/symbolic/softmax-cce-symbolic.yaml"))
    assert code == 0
    assert "  δ_z1 = δ_p3·∂p3/∂z1 + δ_p2·∂p2/∂z1 + δ_p1·∂p1/∂z1 = p1 − y1\n" in out


@pytest.mark.parametrize("fmt", ["md", "tex", "html"])
def test_exports_hold_the_textbook_formula(fmt: str, tmp_path: Path):
    pytest.importorskip("latex2mathml") if fmt == "html" else None
    target = tmp_path / f"cs229.{fmt}"
    code, _, err = cli("export", str(ROOT / "problems/symbolic/cs229-2-3-1-symbolic.yaml"), "-o", str(target))
    assert (code, err) == (0, "")
    text = target.read_text(encoding="utf-8")
    if fmt == "html":
        assert "<math" in text and "&#x02211;" in text  # Σ
    else:
        assert (r"\frac{2}{m} \, \sum_{i} \left(o_{i} - y_{i}\right) \, o_{i} \, \left(1 - o_{i}\right) \, "
                r"\mathit{w2\_2} \, h_{2,i} \, \left(1 - h_{2,i}\right) \, x_{1,i}") in text


def test_export_json_is_the_solve_json(tmp_path: Path):
    path = str(ROOT / "problems/symbolic/softmax-cce-symbolic.yaml")
    target = tmp_path / "s.json"
    assert cli("export", path, "-o", str(target))[0] == 0
    assert target.read_text(encoding="utf-8") == cli("solve", path, "--format", "json")[1]


def test_commands_without_numbers_refuse_a_symbolic_problem(tmp_path: Path):
    path = str(ROOT / "problems/symbolic/softmax-cce-symbolic.yaml")
    code, out, err = cli("key", path, "-o", str(tmp_path / "key.md"))
    assert (code, out) == (2, "")
    assert err == f"{path}: arithmetic: symbolic has no numbers for this command; `tutor solve` and " \
                  f"`tutor export` write its derivation\n"
    code, out, err = cli("solve", path, "--exact")
    assert (code, out) == (2, "") and "leave out --exact" in err


@pytest.mark.parametrize("path", SYMBOLIC, ids=[p.stem for p in SYMBOLIC])
def test_symbolic_problems_are_valid_under_the_schema(path: Path):
    jsonschema = pytest.importorskip("jsonschema")
    from ruamel.yaml import YAML

    schema = json.loads((ROOT / "docs/problem.schema.json").read_text(encoding="utf-8"))
    document = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    assert [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(document)] == []


def test_a_summed_batch_has_no_one_over_m(tmp_path: Path):
    text = (ROOT / "problems/symbolic/cs229-2-3-1-symbolic.yaml").read_text().replace(
        "loss: {name: sse, reduction: mean}", "loss: {name: sse, reduction: sum}")
    path = tmp_path / "summed.yaml"
    path.write_text(text)
    problem = load_problem(path)
    assert format_text(solve_symbolic(problem).gradients["w2_0"]) == "2*sum_i((o_i - y_i)*o_i*(1 - o_i))"
    assert check_against_numbers(problem, 3) > 0


def test_an_objective_is_derived_in_its_names(tmp_path: Path):
    path = tmp_path / "circuit.yaml"
    path.write_text("title: f = (x + y)z\narithmetic: symbolic\ninputs: [x, y, z]\nmodel:\n  q: x + y\n  f: q*z\n"
                    "objective: f\n")
    solution = solve_symbolic(load_problem(path))
    assert {n: format_text(solution.deltas[n]) for n in ("x", "y", "z", "q")} == {"x": "z", "y": "z", "z": "q",
                                                                                    "q": "z"}


@pytest.mark.parametrize("path", SCALAR, ids=[p.stem for p in SCALAR])
def test_every_formula_of_a_scalar_problem_reads_back(path: Path):
    """The printer over every function of the op table that the shipped problems use
    (relu', elu', gelu's erf and √, max's shares, |x|'s sign, ...)."""
    problem = dataclasses.replace(load_problem(path), arithmetic="symbolic", symbolic=SymbolicSpec())
    solution = solve_symbolic(problem)
    records = [*solution.gradients.values(), *solution.deltas.values(), *solution.updates.values(),
               *(d.formula for d in solution.local)]
    for record in records:
        text = format_text(record)
        assert sympy.expand(parse_formula(text) - to_sympy(record)) == 0, text


GOLDEN = ROOT / "tests/golden/symbolic"


@pytest.mark.parametrize("path", SYMBOLIC, ids=[p.stem for p in SYMBOLIC])
@pytest.mark.parametrize("fmt", ["txt", "md", "tex"])
def test_symbolic_golden(path: Path, fmt: str):
    """The derivation as each printer writes it, reviewed like code (TUTOR_UPDATE_GOLDEN=1 rewrites)."""
    from conftest import check_golden

    from tutor.render.symbolic_doc import render_symbolic_export, render_symbolic_terminal

    solution = solve_symbolic(load_problem(path))
    text = render_symbolic_terminal(solution) if fmt == "txt" else render_symbolic_export(solution, fmt)
    check_golden(GOLDEN / f"{path.stem}.{fmt}", text)


def test_a_frozen_parameter_has_a_gradient_and_no_update():
    text = (ROOT / "problems/symbolic/softmax-cce-symbolic.yaml").read_text() + "frozen: [w11]\n"
    step = solve_text(text)["steps"][0]
    assert step["gradients"]["w11"] == "(p1 - y1)*x1"
    assert step["parameters"]["w11"] == "w11" and step["parameters"]["w12"] == "w12 - lr*(p1 - y1)*x2"


def test_a_sum_that_meets_itself_in_a_product_is_written_twice():
    o, y = sympy.Symbol("o", real=True), sympy.Symbol("y", real=True)
    s = factored([product(o), product(-y)])
    assert format_text(factored([Product(sympy.Integer(1), (s, s))])) == "(o - y)*(o - y)"


def test_a_problem_that_names_something_lr_keeps_its_name_apart():
    text = (ROOT / "problems/symbolic/softmax-cce-symbolic.yaml").read_text().replace("w11", "lr")
    step = solve_text(text)["steps"][0]
    assert step["lr"] == "eta" and step["parameters"]["lr"] == "lr - eta*(p1 - y1)*x1"
