"""tutor check: answers files, verdicts, error carried forward, the catalogue of slips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sympy

from tutor.check import (Answer, Answers, Tolerance, check, check_command, load_answers, parse_answers,
                         replay, template_yaml, variant_world, world_of_run)
from tutor.errors import ProblemError
from tutor.problem import Number, load_problem
from tutor.render.check_report import check_report_dict, render_check_json, render_check_text
from tutor.slips import CATALOGUE, SLIPS
from tutor.train import train

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "problems"
HERE = Path(__file__).resolve().parent / "check"


def problem(name: str):
    return load_problem(PROBLEMS / f"{name}.yaml")


def by_name(report, kind, name=None, step=1, sample=None):
    return next(r for r in report.results
                if (r.step, r.kind, r.name, r.sample) == (step, kind, name, sample))


def answers_of(world, keys, tolerance=Tolerance(rel=1e-9, abs=1e-12)) -> Answers:
    return Answers("<test>", tolerance, tuple(
        Answer(k, Number(sympy.Rational(repr(world[k])), world[k]), 1, 1) for k in keys))


# ---------------------------------------------------------------- acceptance

def test_quadratic_momentum_published_solution():
    report = check(PROBLEMS / "quadratic-momentum.yaml",
                   load_answers(HERE / "quadratic-published.yaml", problem("quadratic-momentum")))
    w1, w2 = by_name(report, "gradient", "w1"), by_name(report, "gradient", "w2")
    assert (w1.verdict, w1.expected, w2.verdict, w2.expected) == ("wrong", -40, "wrong", -8)
    assert [d.rule for d in w1.diagnoses] == ["power_of_input"]
    assert [d.rule for d in w2.diagnoses] == ["power_of_input"]
    assert "x1 used in place of x1²" in w1.diagnoses[0].explanation
    assert "x2 used in place of x2²" in w2.diagnoses[0].explanation
    assert by_name(report, "gradient", "w3").verdict == "correct"
    assert by_name(report, "gradient", "b").verdict == "correct"
    params = {r.name: r.verdict for r in report.results if r.kind == "parameters"}
    assert params == {"w1": "consistent", "w2": "consistent", "w3": "correct", "b": "correct"}
    assert (report.first_wrong.kind, report.first_wrong.name) == ("gradient", "w1")
    assert report.exit_code == 1


def test_mazur_published_error_is_the_sequential_update():
    report = check(PROBLEMS / "mazur-2-2-2.yaml",
                   load_answers(HERE / "mazur-published.yaml", problem("mazur-2-2-2")))
    (loss,) = report.results
    assert loss.verdict == "wrong"
    assert loss.expected == pytest.approx(0.291027774, abs=1e-9)
    assert [d.rule for d in loss.diagnoses] == ["sequential_update"]


# Each rule, applied to a reference problem, is diagnosed by itself and no other rule.
CASES = [
    ("factor_2", "mazur-2-2-2", 0),
    ("factor_half", "relu-2-2-2-one-step", 0),
    ("batch_size", "adamw-linear-regression", 0),
    ("outputs_k", "softmax-cce-2-3-3", 0),
    ("sign", "mazur-2-2-2", 0),
    ("activation_derivative_forgotten", "mazur-2-2-2", 0),
    ("derivative_at_kink", "functions-custom-loss-capped", 0),
    ("derivative_at_kink", "functions-custom-loss-capped", 1),
    ("preactivation_for_activation", "mazur-2-2-2", 0),
    ("preactivation_for_activation", "mazur-2-2-2", 1),
    ("activation_for_preactivation", "mazur-2-2-2", 0),
    ("path_term_missing", "mazur-2-2-2", 0),
    ("path_term_missing", "rnn-shared-weights-nesterov", 0),
    ("power_of_input", "quadratic-momentum", 0),
    ("sequential_update", "mazur-2-2-2", 0),
    ("learning_rate", "mazur-2-2-2", 0),
    ("learning_rate", "mazur-2-2-2", 1),
    ("momentum_convention", "momentum-ema-3-2-1", 0),
    ("momentum_convention", "exact-quadratic-sutskever", 2),
    ("bias_correction", "xor-bce-adam-minibatch", 0),
    ("rounding_too_early", "mazur-2-2-2", 1),
]


@pytest.mark.parametrize("rule, name, index", CASES, ids=[f"{r}-{n}-{i}" for r, n, i in CASES])
def test_each_slip_is_diagnosed_by_its_own_rule(rule, name, index):
    p = problem(name)
    run = train(p)
    reference = world_of_run(run)
    variant = list(SLIPS[rule].variants(p, run.derivation))[index]
    world = variant_world(p, run.derivation, variant, {}, reference)
    keys = [k for k in reference if k[0] in (1, "final") and k in world]
    report = check(p, answers_of(world, keys))
    wrong = [r for r in report.results if r.verdict == "wrong"]
    assert wrong, "the slip changes no answer"
    for r in wrong:
        assert [d.rule for d in r.diagnoses] == [rule], (r.key, r.diagnoses)


def test_every_rule_is_tested_and_explained():
    assert {rule for rule, _, _ in CASES} == set(SLIPS)
    for slip in CATALOGUE:
        assert slip.explanation.endswith(".") and len(slip.explanation.split()) >= 4


def test_reference_answers_get_no_diagnosis():
    p = problem("mazur-2-2-2")
    reference = world_of_run(train(p))
    report = check(p, answers_of(reference, list(reference)))
    assert report.count("correct") == len(reference) and report.exit_code == 0


# ---------------------------------------------------------------- tolerance

MAZUR_3_DECIMALS = """
tolerance: {digits: 3}
answers:
  - {step: 1, sample: 1, values: {h1: %s, o2: %s}}
  - {step: 1, loss: %s}
  - {step: 1, parameters: {w5: %s, w1: %s}}
"""


def test_three_decimals_accepted_with_digits():
    p = problem("mazur-2-2-2")
    text = MAZUR_3_DECIMALS % ("0.593", "0.773", "0.298", "0.359", "0.150")
    report = check(p, parse_answers(text, p))
    assert [r.verdict for r in report.results] == ["correct"] * 5


@pytest.mark.parametrize("position", range(5))
def test_wrong_third_decimal_rejected_with_digits(position):
    p = problem("mazur-2-2-2")
    right = ["0.593", "0.773", "0.298", "0.359", "0.150"]
    wrong = ["0.594", "0.772", "0.299", "0.358", "0.151"]
    values = right[:position] + [wrong[position]] + right[position + 1:]
    report = check(p, parse_answers(MAZUR_3_DECIMALS % tuple(values), p))
    rejected = [r for r in report.results if r.verdict != "correct"]
    assert len(rejected) == 1 and f"{rejected[0].given:.3f}" == wrong[position]


def test_tolerance_rules():
    assert Tolerance(digits=3).matches(0.332, 0.33208) and not Tolerance(digits=3).matches(0.33, 0.33208)
    assert Tolerance(digits=2).matches(0.13, 0.125)           # half away from zero, as by hand
    assert Tolerance().matches(100.05, 100.0) and not Tolerance().matches(100.2, 100.0)
    assert Tolerance().matches(0.0004, 0.0) and not Tolerance().matches(0.001, 0.0)


# ---------------------------------------------------------------- error carried forward

def test_forward_error_carried_forward():
    p = problem("relu-2-2-2-one-step")
    text = """
answers:
  - {step: 1, sample: 1, values: {z1: 3, h1: 3, o1: 0.5}}
  - {step: 1, loss: 4.625}
"""
    report = check(p, parse_answers(text, p))
    verdicts = {(r.kind, r.name): r.verdict for r in report.results}
    # z1 wrong (2); h1 = relu(3), o1 = 0.5·3 − 0.5·h2 − 1 and the loss
    # ((0.5 − 1)² + (−3 + 0 + 0.5 − 0.5)²)/2 = 4.625 follow from it.
    assert verdicts == {("values", "z1"): "wrong", ("values", "h1"): "consistent",
                        ("values", "o1"): "consistent", ("loss", None): "consistent"}
    assert by_name(report, "values", "h1", sample=1).recomputed == 3
    assert report.first_wrong.name == "z1"


def test_replay_reproduces_the_engine_bit_for_bit():
    for path in sorted(PROBLEMS.glob("*.yaml")):
        p = load_problem(path)
        run = train(p)
        assert replay(p, run.derivation) == world_of_run(run), path.name


# ---------------------------------------------------------------- reports and command

def test_json_report_shape():
    text, code = check_command(PROBLEMS / "quadratic-momentum.yaml", HERE / "quadratic-published.yaml", "json")
    data = json.loads(text)
    assert code == 1
    assert (data["correct"], data["wrong"], data["consistent"]) == (4, 2, 2)
    assert data["first_wrong"]["name"] == "w1" and data["first_wrong"]["step"] == 1
    entry = data["answers"][0]
    assert {"step", "kind", "sample", "name", "given", "expected", "verdict", "diagnoses"} <= set(entry)
    assert entry["diagnoses"][0]["rule"] == "power_of_input"
    assert {e["verdict"] for e in data["answers"]} == {"correct", "consistent", "wrong"}


def test_text_report():
    p = problem("quadratic-momentum")
    report = check(p, load_answers(HERE / "quadratic-published.yaml", p))
    text = render_check_text(report, width=100)
    assert "First wrong: step 1 · ∂E/∂w1" in text
    assert "[power_of_input]" in text and "consistent with your earlier answers" in text
    assert "\x1b[" not in text and "\x1b[" in render_check_text(report, color=True)
    assert render_check_json(report) == render_check_json(report)
    assert check_report_dict(report)["wrong"] == 2


def test_all_correct_exit_code_zero(tmp_path):
    answers = tmp_path / "a.yaml"
    answers.write_text("answers:\n  - {step: 1, loss: 2.5, gradient: {w21: -1.5, w22: 0}}\n"
                       "  - {step: 1, parameters: {w21: 0.65, w22: -1}}\n  - {final: {loss: 0.74425}}\n")
    text, code = check_command(PROBLEMS / "relu-2-2-2-one-step.yaml", answers)
    assert code == 0 and "6 correct, 0 wrong" in text


def test_template_lists_what_is_asked_and_reads_back():
    p = problem("relu-2-2-2-one-step")
    text = template_yaml(p)
    assert "gradient: {w21: , w22: }" in text and "parameters: {w21: , w22: }" in text
    assert "final" not in text.split("answers:")[1]
    assert parse_answers(text, p).answers == ()        # blanks are not answers
    filled = text.replace("loss: }", "loss: 2.5}").replace("gradient: {w21: , w22: }", "gradient: {w21: -1.5, w22: 0}")
    report = check(p, parse_answers(filled, p))
    assert report.count("correct") == 3 and report.exit_code == 0


def test_template_of_every_problem_reads_back():
    for path in sorted(PROBLEMS.glob("*.yaml")):
        p = load_problem(path)
        assert parse_answers(template_yaml(p), p, "t.yaml").answers == ()


# ---------------------------------------------------------------- invalid answers files

INVALID = [
    ("answers:\n  - {step: 1, gradient: {w9: 1}}\n", 2, 26, "unknown name 'w9'"),
    ("answers:\n  - {step: 3, loss: 1}\n", 2, 12, "step 3 does not exist: the training has 1 step"),
    ("answers:\n  - {step: 1, sample: 2, values: {z1: 1}}\n", 2, 23, "sample 2 is not in step 1"),
    ("answers:\n  - {step: 1, loss: 1}\n  - {step: 1, loss: 2}\n", 3, 21, "already answered at line 2"),
    ("tolerance: {digits: 3, rel: 0.1}\nanswers: []\n", 1, 13, "either digits or rel/abs"),
    ("answers:\n  - {step: 1, loss: abc}\n", 2, 21, "expected a number for the loss (step 1), found the text 'abc'"),
    ("answers:\n  - {step: 1, los: 1}\n", 2, 15, "unknown key 'los'"),
    ("answers:\n  - {step: 1}\n", 2, 5, "expected at least one of values"),
    ("answers:\n  - {final: {loss: 1}, step: 1}\n", 2, 24, "unknown key 'step'"),
    ("answer: []\n", 1, 1, "unknown key 'answer'"),
    ("tolerance: {rel: -1}\nanswers: []\n", 1, 18, "expected rel in [0, ∞)"),
]


@pytest.mark.parametrize("text, line, col, message", INVALID, ids=[m for *_, m in INVALID])
def test_invalid_answers_are_located(text, line, col, message):
    p = problem("relu-2-2-2-one-step")
    with pytest.raises(ProblemError) as info:
        parse_answers(text, p, "a.yaml")
    err = info.value
    assert message in err.message
    assert (err.path, err.line, err.col) == ("a.yaml", line, col), str(err)
