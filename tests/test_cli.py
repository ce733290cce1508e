"""The command line: exit codes, what goes to stdout and what to stderr."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tutor.cli import app

PROBLEMS = Path(__file__).resolve().parent.parent / "problems"
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_solve_json_prints_only_json():
    result = invoke("solve", str(PROBLEMS / "relu-2-2-2-one-step.yaml"), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["steps"][0]["loss"] == 2.5
    assert result.stderr == ""


def test_solve_is_byte_identical_across_runs():
    path = str(PROBLEMS / "momentum-ema-3-2-1.yaml")
    assert invoke("solve", path, "--format", "json").stdout == invoke("solve", path, "--format", "json").stdout


def test_validate_ok():
    result = invoke("validate", str(PROBLEMS / "mazur-2-2-2.yaml"))
    assert result.exit_code == 0
    assert "ok" in result.stdout


def test_missing_file_is_a_located_error(tmp_path):
    missing = tmp_path / "nope.yaml"
    result = invoke("solve", str(missing), "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"{missing}:1:1: error: cannot read file")


def test_divergence_exits_1_with_a_report(tmp_path):
    path = tmp_path / "diverge.yaml"
    text = (PROBLEMS / "quadratic-momentum.yaml").read_text()
    path.write_text(text.replace("lr: 0.1", "lr: 1.0").replace("epochs: 1", "epochs: 200"))
    result = invoke("solve", str(path), "--format", "json")
    assert result.exit_code == 1
    solution = json.loads(result.stdout)
    assert solution["diverged"]["step"] == 382 == len(solution["steps"]) + 1  # the loss overflows at step 382
    assert solution["diverged"]["quantity"].startswith("E ")
    assert "learning rate" in solution["diverged"]["suggestion"]
    assert "not a finite number" in result.stderr


def test_exact_division_by_zero_is_reported_as_divergence(tmp_path):
    path = tmp_path / "zero.yaml"
    path.write_text("title: t\ninputs: [x]\nparams: {w: 1}\nmodel:\n  y: x/(w - 1)\noutputs: [y]\n"
                    "targets: [t]\ndata: {x: 1, t: 0}\nloss: mse\narithmetic: exact\n")
    for fmt in ("json", "text"):
        result = invoke("solve", str(path), "--format", fmt)
        assert result.exit_code == 1, result.stderr
        assert "division by zero" in result.stderr and "internal error" not in result.stderr
    diverged = json.loads(invoke("solve", str(path), "--format", "json").stdout)["diverged"]
    assert diverged["inputs"] == {"x": 1.0, "w": 1.0}


def test_internal_errors_become_one_line_and_exit_1(monkeypatch):
    import tutor.api

    def broken(*args, **options):
        raise RuntimeError("boom")

    monkeypatch.setattr(tutor.api, "_load", broken)  # every solve, streamed or not, loads through it
    result = invoke("solve", str(PROBLEMS / "relu-2-2-2-one-step.yaml"), "--format", "json")
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "internal error" in result.stderr and "bug" in result.stderr


def test_check_reports_wrong_answers_with_exit_1():
    result = invoke("check", str(PROBLEMS / "quadratic-momentum.yaml"),
                    str(PROBLEMS.parent / "tests/check/quadratic-published.yaml"), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["correct"], report["wrong"]) == (4, 2)


def test_check_all_correct_exits_0(tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text("answers:\n  - {step: 1, loss: 2.5}\n  - {step: 1, gradient: {w21: -1.5, w22: 0}}\n")
    result = invoke("check", str(PROBLEMS / "relu-2-2-2-one-step.yaml"), str(answers))
    assert result.exit_code == 0, result.stdout + result.stderr


def test_check_template_writes_a_file_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "answers.yaml"
    problem = str(PROBLEMS / "relu-2-2-2-one-step.yaml")
    assert invoke("check", "--template", problem, "-o", str(out)).exit_code == 0
    first = out.read_text()
    assert "gradient: {w21: , w22: }" in first
    out.write_text("my answers")
    again = invoke("check", "--template", problem, "-o", str(out))
    assert again.exit_code == 2 and "--force" in again.stderr
    assert out.read_text() == "my answers"
    assert invoke("check", "--template", problem, "-o", str(out), "--force").exit_code == 0
    assert out.read_text() == first


def test_check_without_answers_is_a_usage_error():
    assert invoke("check", str(PROBLEMS / "relu-2-2-2-one-step.yaml")).exit_code == 2


def test_no_command_writes_onto_its_input(tmp_path):
    problem = tmp_path / "p.yaml"
    text = (PROBLEMS / "relu-2-2-2-one-step.yaml").read_text()
    problem.write_text(text)
    for args in (("check", "--template", str(problem), "-o", str(problem), "--force"),
                 ("export", str(problem), "-o", str(problem), "-f", "md", "--force"),
                 ("key", str(PROBLEMS / "mazur-2-2-2.yaml"), str(problem), "-o", str(problem), "-f", "md",
                  "--force")):
        result = invoke(*args)
        assert result.exit_code == 2 and "is the input file" in result.stderr, result.stderr
        assert result.stdout == ""
    assert problem.read_text() == text


def test_steps_past_the_end_is_an_error_not_an_empty_solution():
    path = PROBLEMS / "relu-2-2-2-one-step.yaml"
    result = invoke("solve", str(path), "--steps", "5")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"{path}: error: --steps 5: there is no such step; this problem has 1 update step\n"
    forward_only = PROBLEMS / "relu-forward-only.yaml"
    result = invoke("export", str(forward_only), "-o", "-", "-f", "md", "--steps", "1,2")
    assert result.exit_code == 2
    assert result.stderr.endswith("--steps 1, 2: there is no such step; this problem has no update steps\n")
