"""tutor check: answers files, verdicts, error carried forward, the catalogue of slips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sympy

from tutor.answers import KINDS, Answer, Answers, load_answers, parse_answers, template_yaml
from tutor.check import check, check_command, replay, tolerance_option, variant_world, world_of_run
from tutor.errors import ProblemError
from tutor.problem import Number, load_problem, parse_problem
from tutor.render.check_report import check_report_dict, render_check_json, render_check_text
from tutor.slips import CATALOGUE, SLIPS
from tutor.tolerance import Tolerance
from tutor.train import train

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "problems"
HERE = Path(__file__).resolve().parent / "check"


def problem(name: str):
    return load_problem(PROBLEMS / f"{name}.yaml")


def by_name(report, kind, name=None, step=1, sample=None):
    return next(r for r in report.results
                if (r.step, r.kind, r.name, r.sample) == (step, kind, name, sample))


TIGHT = Tolerance(rel=1e-9, abs=1e-12)


def answers_of(world, keys) -> Answers:
    return Answers("<test>", tuple(Answer(k, Number(sympy.Rational(repr(world[k])), world[k]), 1, 1) for k in keys))


def verdicts(report, kind, step=1, sample=None):
    return {r.name: r.verdict for r in report.results if (r.step, r.kind, r.sample) == (step, kind, sample)}


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
                   load_answers(HERE / "mazur-published.yaml", problem("mazur-2-2-2")), Tolerance(digits=9))
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
    keys = [k for k in reference if k[0] in (1, "final") and k in world and k[1] in KINDS]
    report = check(p, answers_of(world, keys), TIGHT)
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
    keys = [k for k in reference if k[1] in KINDS]
    report = check(p, answers_of(reference, keys), TIGHT)
    assert report.count("correct") == len(keys) and report.exit_code == 0
    assert {k[1] for k in keys} == set(KINDS) - {"state"}  # plain SGD keeps no state


# ---------------------------------------------------------------- tolerance

MAZUR_3_DECIMALS = """
answers:
  - {step: 1, sample: 1, values: {h1: %s, o2: %s}}
  - {step: 1, loss: %s}
  - {step: 1, parameters: {w5: %s, w1: %s}}
"""


def test_three_decimals_accepted_with_digits():
    p = problem("mazur-2-2-2")
    text = MAZUR_3_DECIMALS % ("0.593", "0.773", "0.298", "0.359", "0.150")
    report = check(p, parse_answers(text, p), Tolerance(digits=3))
    assert [r.verdict for r in report.results] == ["correct"] * 5


@pytest.mark.parametrize("position", range(5))
def test_wrong_third_decimal_rejected_with_digits(position):
    p = problem("mazur-2-2-2")
    right = ["0.593", "0.773", "0.298", "0.359", "0.150"]
    wrong = ["0.594", "0.772", "0.299", "0.358", "0.151"]
    values = right[:position] + [wrong[position]] + right[position + 1:]
    report = check(p, parse_answers(MAZUR_3_DECIMALS % tuple(values), p), Tolerance(digits=3))
    rejected = [r for r in report.results if r.verdict != "correct"]
    assert len(rejected) == 1 and f"{rejected[0].given:.3f}" == wrong[position]


def test_tolerance_rules():
    assert Tolerance(digits=3).matches(0.332, 0.33208) and not Tolerance(digits=3).matches(0.33, 0.33208)
    assert Tolerance(digits=2).matches(0.13, 0.125)           # half away from zero, as by hand
    assert Tolerance().matches(100.05, 100.0) and not Tolerance().matches(100.2, 100.0)
    # Zero, or negligible against the problem's scale (here 2): a given value must be
    # negligible too (1e-9 × scale), unless the instructor sets the floor (abs).
    assert Tolerance().matches(1e-9, 0.0, scale=2) and not Tolerance().matches(1e-6, 0.0, scale=2)
    assert Tolerance().matches(0.0, 1e-17, scale=2) and not Tolerance().matches(1e-6, 1e-17, scale=2)
    assert Tolerance(abs=1e-6).matches(5e-7, 0.0, scale=2) and not Tolerance(abs=1e-6).matches(2e-6, 0.0, scale=2)


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
    ("answers:\n  - {step: 1, loss: abc}\n", 2, 21, "expected a number for the loss (step 1), found the text 'abc'"),
    ("answers:\n  - {step: 1, los: 1}\n", 2, 15, "unknown key 'los'"),
    ("answers:\n  - {step: 1}\n", 2, 5, "expected at least one of values"),
    ("answers:\n  - {final: {loss: 1}, step: 1}\n", 2, 24, "unknown key 'step'"),
    ("answer: []\n", 1, 1, "unknown key 'answer'"),
    ("tolerance: {rel: 1e300}\nanswers: []\n", 1, 1, "an answers file cannot set the tolerance"),
    ("answers: []\ntolerance: {digits: 3}\n", 2, 1, "an answers file cannot set the tolerance"),
    ("answers:\n  - {step: 1, state: {v: {w21: 1}}}\n", 2, 23, "unknown optimizer state 'v' in step 1 (sgd keeps none)"),
    ("answers:\n  - {step: 1, sample: 1, parameters: {w21: 1}}\n", 2, 26, "parameters belong to the step"),
    ("answers:\n  - {step: 1, sample: 1, partials: {o1/w9: 1}}\n", 2, 37, "unknown name 'o1/w9' in partials"),
    ("answers:\n  - {step: 1, sample: 1, deltas: {q: 1}}\n", 2, 35, "unknown name 'q' in deltas"),
]


@pytest.mark.parametrize("text, line, col, message", INVALID, ids=[m for *_, m in INVALID])
def test_invalid_answers_are_located(text, line, col, message):
    p = problem("relu-2-2-2-one-step")
    with pytest.raises(ProblemError) as info:
        parse_answers(text, p, "a.yaml")
    err = info.value
    assert message in err.message
    assert (err.path, err.line, err.col) == ("a.yaml", line, col), str(err)


# ---------------------------------------------------------------- issue 9 §2: the acceptance cases
# Expected verdicts come from the reasoning in each comment and from the
# independent computations behind the answers files (plain Python floats).

def test_sigmoid_homework_negative_loss_is_a_sign_error():
    # The homework wrote the step-3 loss as −8.3e−7; E = (ŷ − y)² = 8.32e−7 > 0.
    # Everything else it wrote (tests/check/sigmoid-homework.yaml) is right.
    p = problem("sigmoid-neuron-sgd")
    report = check(p, load_answers(HERE / "sigmoid-homework.yaml", p))
    wrong = [r for r in report.results if r.verdict == "wrong"]
    assert [(r.step, r.kind) for r in wrong] == [(3, "loss")]
    assert {d.rule for d in wrong[0].diagnoses} == {"sign", "negative_loss"}
    assert "cannot be negative" in render_check_text(report)


def test_mazur_sequential_update_hidden_gradients_are_wrong():
    # Hidden gradients taken with the updated w5..w8 are 17% smaller (0.000364723
    # against 0.000438568 for w1): wrong, whatever their absolute size. Output
    # gradients and updates come before any update: right. The hidden updates follow
    # from the student's own gradients: consistent.
    p = problem("mazur-2-2-2")
    report = check(p, load_answers(HERE / "mazur-sequential.yaml", p))
    assert verdicts(report, "gradient") == {"w5": "correct", "w6": "correct", "w7": "correct", "w8": "correct",
                                            "w1": "wrong", "w2": "wrong", "w3": "wrong", "w4": "wrong"}
    assert verdicts(report, "parameters") == {**{w: "consistent" for w in ("w1", "w2", "w3", "w4")},
                                              **{w: "correct" for w in ("w5", "w6", "w7", "w8")}}
    assert (report.first_wrong.kind, report.first_wrong.name) == ("gradient", "w1")
    (finding,) = report.findings
    assert finding.rule == "sequential_update"
    assert [r.name for r in finding.results] == ["w1", "w2", "w3", "w4"]
    # Mazur's post: w5 = 0.40 before the step, 0.35891648 after; w7 = 0.50, 0.511301270.
    (diagnosis,) = finding.results[0].diagnoses
    assert diagnosis.detail == "the chain rule uses w5 = 0.4 (not the updated 0.3589), w7 = 0.5 (not the updated 0.5113)"


def test_all_zero_gradients_and_no_update_are_wrong():
    # Step 1 of the sigmoid neuron: the gradients are about 5e−6 and 1.7e−6, tiny
    # against 1 but not zero; 0 is wrong. Not moving the parameters is what a zero
    # gradient gives: consistent with it, and wrong.
    p = problem("sigmoid-neuron-sgd")
    text = "answers:\n  - {step: 1, gradient: {w0: 0, w1: 0, b: 0}}\n  - {step: 1, parameters: {w0: 2, w1: 1, b: 2}}\n"
    report = check(p, parse_answers(text, p))
    assert verdicts(report, "gradient") == {"w0": "wrong", "w1": "wrong", "b": "wrong"}
    assert verdicts(report, "parameters") == {"w0": "consistent", "w1": "consistent", "b": "consistent"}
    assert report.exit_code == 1


def test_an_update_is_judged_by_its_step():
    # Right gradients, but θ not moved: the step −lr·g ≈ 5e−9 is missing entirely,
    # though θ itself is within 0.1% of the expected value.
    p = problem("sigmoid-neuron-sgd")
    text = ("answers:\n  - {step: 1, gradient: {w0: -4.97554856e-6, w1: 1.65851619e-6, b: -1.65851619e-6}}\n"
            "  - {step: 1, parameters: {w0: 2, w1: 1, b: 2}}\n")
    report = check(p, parse_answers(text, p))
    assert verdicts(report, "gradient") == {"w0": "correct", "w1": "correct", "b": "correct"}
    assert verdicts(report, "parameters") == {"w0": "wrong", "w1": "wrong", "b": "wrong"}
    assert all(d.rule == "too_few_digits" for r in report.results if r.kind == "parameters" for d in r.diagnoses)
    # The step 2.0000000049755 − 2 = 4.9755e−9 written to 5 significant digits is right.
    right = text.replace("{w0: 2, w1: 1, b: 2}", "{w0: 2.0000000049755, w1: 0.99999999834148, b: 2.0000000016585}")
    assert check(p, parse_answers(right, p)).exit_code == 0


def test_a_wrong_sign_is_never_accepted():
    # Step 1 of the sigmoid neuron: ∂E/∂w1 = 2(ŷ − y)·ŷ(1 − ŷ)·x1 = 1.6585e−6 > 0.
    # −1.6585e−6 is far inside an absolute tolerance like 0.0005, and wrong.
    p = problem("sigmoid-neuron-sgd")
    report = check(p, parse_answers("answers:\n  - {step: 1, gradient: {w1: -1.6585e-6}}\n", p))
    (r,) = report.results
    assert r.verdict == "wrong" and [d.rule for d in r.diagnoses] == ["sign"]
    assert not Tolerance(rel=0.5).matches(-1.0, 1.0, scale=1.0)
    assert not Tolerance(digits=3).matches(0.0002, -0.0002, scale=1.0)
    assert Tolerance(digits=3).matches(0.0, -0.0002, scale=1.0)


def test_sigmoid_output_outside_0_1_and_frozen_parameter_moving_are_diagnosed():
    p = problem("mazur-2-2-2")
    text = "answers:\n  - {step: 1, sample: 1, values: {o1: 1.2}}\n  - {step: 1, parameters: {b1: 0.36}}\n"
    report = check(p, parse_answers(text, p))
    o1, b1 = report.results
    assert o1.verdict == "wrong" and "sigmoid_range" in [d.rule for d in o1.diagnoses]
    assert b1.verdict == "wrong" and "frozen_moved" in [d.rule for d in b1.diagnoses]
    assert "b1 is frozen" in render_check_text(report)


# ---------------------------------------------------------------- the tolerance is the instructor's

LOOSE = "answers:\n  - {step: 1, loss: 12345}\n"


def test_answers_file_cannot_set_its_tolerance(tmp_path):
    p = problem("relu-2-2-2-one-step")
    with pytest.raises(ProblemError) as info:
        parse_answers("tolerance: {rel: 1e300}\n" + LOOSE, p, "a.yaml")
    assert (info.value.line, info.value.col) == (1, 1) and "instructor" in info.value.message
    report = check(p, parse_answers(LOOSE, p))       # without it, 12345 is simply wrong
    assert report.results[0].verdict == "wrong"


def test_problem_file_and_command_line_set_the_tolerance():
    text = (PROBLEMS / "mazur-2-2-2.yaml").read_text() + "check: {tolerance: {digits: 9}}\n"
    p = parse_problem(text, "mazur.yaml")
    answers = load_answers(HERE / "mazur-published.yaml", p)
    # Mazur's 0.291027924 is within 0.1% of 0.291027774 (default), not at 9 decimals.
    assert check(p, answers).results[0].verdict == "wrong"
    assert check(p, answers).tolerance == Tolerance(digits=9)
    assert check(p, answers, tolerance_option("rel: 0.001")).results[0].verdict == "correct"
    assert check(problem("mazur-2-2-2"), answers).results[0].verdict == "correct"


@pytest.mark.parametrize("text, message", [
    ("rel: 1", "expected rel in [0, 1), found 1"),
    ("{digits: 3, rel: 0.1}", "either digits or rel/abs"),
    ("digits: 16", "at most 15 digits"),
    ("{relative: 0.1}", "unknown key 'relative'"),
])
def test_invalid_tolerance_option(text, message):
    with pytest.raises(ProblemError) as info:
        tolerance_option(text)
    assert message in info.value.message and info.value.path == "--tolerance"


def test_digits_accepts_both_neighbours_of_a_rounding_boundary():
    # net_h2 = 0.05·0.25 + 0.10·0.30 + 0.35 = 0.3925 exactly (0.39249999999999996 as a
    # double): at 3 decimals a hand solution writes 0.393, a program 0.392. Both are
    # right; neither is "rounding too early". 0.391 is wrong.
    p = problem("mazur-2-2-2")
    for given, verdict in (("0.393", "correct"), ("0.392", "correct"), ("0.391", "wrong")):
        report = check(p, parse_answers(f"answers:\n  - {{step: 1, sample: 1, values: {{net_h2: {given}}}}}\n", p),
                       Tolerance(digits=3))
        (r,) = report.results
        assert r.verdict == verdict, given
        assert "rounding_too_early" not in [d.rule for d in r.diagnoses]


# ---------------------------------------------------------------- the new slots

def test_quadratic_momentum_state_is_entered_and_checked():
    # Classic momentum from v = 0: V₁ = g. The student's g for w1, w2 are wrong
    # (−24, 8 for −40, −8), so V₁ = (−24, 8, 8, −16) follows from them: consistent;
    # w3, b are right.
    p = problem("quadratic-momentum")
    text = (HERE / "quadratic-published.yaml").read_text() + "  - {step: 1, state: {v: {w1: -24, w2: 8, w3: 8, b: -16}}}\n"
    report = check(p, parse_answers(text, p))
    assert {r.name: r.verdict for r in report.results if r.kind == "state"} == {
        "v:w1": "consistent", "v:w2": "consistent", "v:w3": "correct", "v:b": "correct"}
    wrong_v = parse_answers("answers:\n  - {step: 1, state: {v: {w3: -8}}}\n", p)
    assert check(p, wrong_v).results[0].verdict == "wrong"


def test_per_sample_gradients_within_a_batch():
    # Batch 1 of the quadratic model: sample 1 (x = (1, −1), y = 10) gives ŷ = 2,
    # dE/dŷ = 2(2 − 10) = −16 and ∂E/∂w1 = x1²·(−16) = −16; sample 2 (x = (2, 0),
    # y = 13) gives ŷ = 5, −16, and ∂E/∂w1 = 4·(−16) = −64. With x1 for x1²: −32.
    p = problem("quadratic-momentum")
    text = "answers:\n  - {step: 1, sample: 1, gradient: {w1: -16}}\n  - {step: 1, sample: 2, gradient: {w1: -32}}\n"
    report = check(p, parse_answers(text, p))
    first, second = report.results
    assert (first.verdict, first.expected) == ("correct", -16)
    assert (second.verdict, second.expected) == ("wrong", -64)
    assert [d.rule for d in second.diagnoses] == ["power_of_input"]


def test_deltas_and_local_derivatives():
    # Mazur: ∂o1/∂net_o1 = o1(1 − o1) = 0.186815602 and δ_net_o1 = (o1 − t1)·o1(1 − o1)
    # = 0.138498562 (his post); ∂E/∂o1 = o1 − t1 = 0.741365070.
    p = problem("mazur-2-2-2")
    text = ("answers:\n  - {step: 1, sample: 1, deltas: {net_o1: 0.138498562, o1: 0.741365070},\n"
            "     partials: {o1/net_o1: 0.186815602, E/o1: 0.741365070}}\n"
            "  - {step: 1, sample: 1, deltas: {net_h1: 0.5}}\n")
    report = check(p, parse_answers(text, p))
    assert [(r.kind, r.name, r.verdict) for r in report.results] == [
        ("partial", "E/o1", "correct"), ("delta", "o1", "correct"), ("partial", "o1/net_o1", "correct"),
        ("delta", "net_o1", "correct"), ("delta", "net_h1", "wrong")]


# ---------------------------------------------------------------- feedback

def test_left_out_factor_is_named_with_its_value():
    p = problem("mazur-2-2-2")
    run = train(p)
    reference = world_of_run(run)
    variant = next(SLIPS["activation_derivative_forgotten"].variants(p, run.derivation))
    world = variant_world(p, run.derivation, variant, {}, reference)
    grads = [k for k in reference if k[:3] == (1, "gradient", None) and k[3] not in ("b1", "b2")]
    report = check(p, answers_of(world, grads), TIGHT)
    (finding,) = report.findings
    assert finding.rule == "activation_derivative_forgotten" and len(finding.results) == 8
    w5 = by_name(report, "gradient", "w5")
    # o1(1 − o1) = 0.75136507·0.24863493 = 0.1868 (Mazur's post: 0.186815602).
    assert w5.diagnoses[0].detail == "you left out ∂o1/∂net_o1 = o1·(1 − o1) = 0.1868"
    text = render_check_text(report)
    assert text.count("[activation_derivative_forgotten]") == 1


def test_a_slip_already_made_is_preferred():
    # lr = 0.5. Doubling ∂E/∂o (factor_2) doubles ∂E/∂w5; an update by lr·2g = g is
    # also what forgetting lr gives. The student's doubled w5 gradient shows the
    # first slip, so the w6 update is put down to it too.
    p = problem("mazur-2-2-2")
    g5, g6, w6 = 0.082167041, 0.082667628, 0.45        # Mazur's post
    text = f"answers:\n  - {{step: 1, gradient: {{w5: {2 * g5}}}}}\n  - {{step: 1, parameters: {{w6: {w6 - g6}}}}}\n"
    report = check(p, parse_answers(text, p))
    grad, update = report.results
    assert [d.rule for d in grad.diagnoses] == ["factor_2"]
    assert [d.rule for d in update.diagnoses] == ["factor_2"]


def test_template_has_the_new_slots_and_reads_back():
    p = problem("quadratic-momentum")
    text = template_yaml(p)
    assert "  - {step: 1, state: {v: {w1: , w2: , w3: , b: }}}\n" in text
    assert "  - {step: 1, sample: 2, gradient: {w1: , w2: , w3: , b: }}\n" in text
    assert "  - {step: 1, sample: 1, partials: {E/yhat: }}\n" in text
    filled = text.replace("{step: 1, state: {v: {w1: , w2: , w3: , b: }}}",
                          "{step: 1, state: {v: {w1: -40, w2: -8, w3: 8, b: -16}}}")
    report = check(p, parse_answers(filled, p))
    assert verdicts(report, "state") == {"v:w1": "correct", "v:w2": "correct", "v:w3": "correct", "v:b": "correct"}
    mazur = template_yaml(problem("mazur-2-2-2"))
    assert "deltas: {o2: , o1: , net_o2: , net_o1: , h2: , h1: , net_h2: , net_h1: }" in mazur


def test_command_line_tolerance(tmp_path):
    from typer.testing import CliRunner

    from tutor.cli import app

    problem_path = str(PROBLEMS / "mazur-2-2-2.yaml")
    answers = str(HERE / "mazur-published.yaml")
    runner = CliRunner()
    assert runner.invoke(app, ["check", problem_path, answers]).exit_code == 0
    strict = runner.invoke(app, ["check", problem_path, answers, "--tolerance", "digits: 9"])
    assert strict.exit_code == 1 and "rounded to 9 decimals" in strict.stdout
    bad = runner.invoke(app, ["check", problem_path, answers, "--tolerance", "rel: 2"])
    assert bad.exit_code == 2 and bad.stderr.startswith("--tolerance:1:6: error: expected rel in [0, 1)")
    assert check_command(problem_path, answers, "text", Tolerance(digits=9))[1] == 1


@pytest.mark.parametrize("text", ["2.05170519", "-3.034730378", "0.1", "1e-5", "-0.0", "+1.5", ".5", "5.", "1E+3",
                                  "0.000123", "12345678901234567890.5", "7", "-2", "1/3", "sqrt(2)/2", "1e400",
                                  "0.30000000000000004", "6.02214076e23", "-1.5e-300", "4.9e-324", ".inf", "1_0.5"])
def test_a_plain_decimal_answer_is_read_as_need_number_reads_it(text: str):
    """answers.answer_number skips the expression parser for plain decimals: the same
    Number (fraction and double), and the same message for what is not a number."""
    from tutor.answers import answer_number
    from tutor.problem import need_number
    from tutor.source import load_yaml

    node = load_yaml(f"x: {text}\n", "a.yaml").value["x"]

    def outcome(read):
        try:
            n = read(node, "a number")
            return type(n.exact), n.exact, repr(n.value)
        except Exception as exc:  # noqa: BLE001 - the message is compared
            return type(exc), str(exc)

    assert outcome(answer_number) == outcome(need_number)


def test_plain_table_lays_out_as_rich_table():
    """The answers table is written as plain text (rich's Table costs ~0.3 ms a row);
    where it fits, its layout is rich's, character for character."""
    import io

    from rich.console import Console

    from tutor.render.check_report import _plain_table, _rich_table
    rows = [("step 1 · ∂E/∂w1", "0.5", "—", "wrong"), ("final · w1", "12.25", "0.125", "consistent"),
            ("step 2 · loss", "0", "0", "correct")]
    buffer = io.StringIO()
    Console(file=buffer, width=80, color_system=None, no_color=True).print(_rich_table(rows))
    rich_lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
    assert [line.rstrip() for line in _plain_table(rows, 80, False).splitlines()] == rich_lines
    coloured = _plain_table(rows, 80, True)
    assert "\x1b[1;31mwrong\x1b[0m" in coloured and "\x1b[" not in _plain_table(rows, 80, False)


def test_long_plain_table_folds_a_wide_quantity_column():
    rows = [("step 1 · " + "x" * 90, "0.5", "0.5", "correct")] * 300
    table = _plain_table_of(rows)
    assert max(len(line) for line in table.splitlines()) <= 80
    assert table.count("x") == 90 * 300 + len("expected".split("x")) - 1


def _plain_table_of(rows):
    from tutor.render.check_report import _plain_table
    return _plain_table(rows, 80, False)


QUICK_YAML = """answers:
  - {step: 1, sample: 1, values: {"net_h1": 0.3775, h1: 1e-3}}
  - {step: 2, loss: .inf, note: 'quoted', other: "x\\u00e9"}
  - step: final
    parameters: {w1: -2, w2: 0x1F, w3: 1_000, w4: ~, w5: true, w6: 2024-01-01}
  - [1, [2, 3]]
  - note: |
      literal, kept
       as written
    more: >-
      folded
      text

    plain: w*x? 50% of it, say Note!
"""


def _same_tree(a, b):
    assert (type(a.value), a.line, a.col, a.style, a.text, a.key_pos) == \
        (type(b.value), b.line, b.col, b.style, b.text, b.key_pos)
    if isinstance(a.value, dict):
        assert list(a.value) == list(b.value)
        for k in a.value:
            _same_tree(a.value[k], b.value[k])
    elif isinstance(a.value, list):
        assert len(a.value) == len(b.value)
        for x, y in zip(a.value, b.value):
            _same_tree(x, y)
    else:
        assert a.value == b.value


def test_quick_yaml_reading_gives_the_located_loaders_tree(monkeypatch):
    """A long answers file is read by composing with ruamel's safe loader (no
    comment bookkeeping); the tree, numbers and every position are the located loader's."""
    from tutor import source
    quick = source._load_plain_yaml(QUICK_YAML, "a.yaml")
    assert quick is not None
    monkeypatch.setattr(source, "_load_plain_yaml", lambda text, path: None)
    _same_tree(quick, source.load_yaml(QUICK_YAML, "a.yaml"))


@pytest.mark.parametrize("text", ["a: 1\na: 2\n", "true: 1\n", "x: &a 1\ny: *a\n", "x: !!str 5\n",
                                  "x: 1\n---\ny: 2\n", 'x: "\\ud800"\n', "x: [1, 2\n", '{"x":*a}\n',
                                  "%YAML 1.1\n---\nx: 1\n", "? [a]\n: 1\n"])
def test_quick_yaml_reading_leaves_the_rest_to_the_located_loader(text):
    from tutor import source
    assert source._load_plain_yaml(text, "a.yaml") is None


def test_long_answers_file_error_located_exactly():
    p = problem("quadratic-momentum")
    lines = ["answers:"] + [f"  - {{step: 1, loss: {i}}}" for i in range(3000)] + ["  - {step: 1, loss: [}"]
    with pytest.raises(ProblemError) as err:
        parse_answers("\n".join(lines) + "\n", p, "a.yaml")
    assert (err.value.line, err.value.col) == (3002, 22)
