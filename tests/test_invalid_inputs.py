"""One test per invalid problem file: the exact message, its line and column, exit code 2.

Each case is tests/invalid/<case>.yaml (the input) and tests/invalid/<case>.err
(the exact stderr, with the file's path written as FILE). Inputs that a text
file in the repository cannot hold faithfully (bytes that are not UTF-8, a
control character, a byte-order mark, CRLF line endings) are generated here
and still have their .err file beside the others. Every case is run through
`tutor validate` and `tutor solve --format json`: both must print only that
line on stderr, nothing on stdout, and exit with 2.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tutor.cli import app

CASES = Path(__file__).parent / "invalid"

VALID = """\
title: A neuron
inputs: [x0, x1]
params: {w0: 2, w1: 1, b: 2}
model:
  z: w0*x0 + w1*x1 + b
  yhat: sigmoid(z)
outputs: [yhat]
targets: [y]
data:
  - {x0: 3, x1: -1, y: 1}
  - {x0: 1, x1: -2, y: 0}
loss: sse
optimizer: {name: sgd, lr: 0.001}
training: {epochs: 2, batch_size: 1}
"""

# case name -> the file's bytes, for inputs kept out of the repository as text.
GENERATED = {
    "not-utf8": VALID.replace("A neuron", "Caf\u00e9 neuron").encode("latin-1"),
    "bom-with-error": ("\ufeff" + VALID.replace("title: A neuron", "titel: A neuron")).encode("utf-8"),
    "control-character": VALID.replace("A neuron", "A\x00neuron").encode("utf-8"),
    "crlf-with-error": VALID.replace("w1*x1 + b", "w1*x1 + + * b").replace("\n", "\r\n").encode("utf-8"),
    "number-integer-5000-digits": VALID.replace("w0: 2,", "w0: " + "7" * 5000 + ",").encode(),
    "file-too-large": VALID.encode() + b"#" * 2_000_000,
}

CASE_NAMES = sorted({p.stem for p in CASES.glob("*.yaml")} | set(GENERATED))


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def case_file(name: str, tmp_path: Path) -> Path:
    if name in GENERATED:
        path = tmp_path / f"{name}.yaml"
        path.write_bytes(GENERATED[name])
        return path
    return CASES / f"{name}.yaml"


def test_every_case_has_its_message():
    assert len(CASE_NAMES) >= 35
    assert all((CASES / f"{name}.err").is_file() for name in CASE_NAMES)


@pytest.mark.parametrize("command", [("validate",), ("solve", "--format", "json")], ids=["validate", "solve"])
@pytest.mark.parametrize("name", CASE_NAMES)
def test_invalid_input(name: str, command: tuple[str, ...], tmp_path: Path):
    path = case_file(name, tmp_path)
    expected = (CASES / f"{name}.err").read_text(encoding="utf-8")
    assert expected.startswith("FILE:") and expected.endswith("\n") and expected.count("\n") == 1
    code, stdout, stderr = run(command[0], str(path), *command[1:])
    assert (code, stdout, stderr) == (2, "", str(path) + expected.removeprefix("FILE"))


# ---------------------------------------------------------------- inputs that must still work

def solution(text: bytes, tmp_path: Path, name: str) -> dict:
    path = tmp_path / name
    path.write_bytes(text)
    code, stdout, stderr = run("solve", str(path), "--format", "json")
    assert (code, stderr) == (0, "")
    return json.loads(stdout)


@pytest.mark.parametrize("variant", ["bom", "crlf", "bom-crlf"])
def test_bom_and_crlf_solve_like_plain_text(variant: str, tmp_path: Path):
    text = VALID.replace("\n", "\r\n") if "crlf" in variant else VALID
    text = "\ufeff" + text if "bom" in variant else text
    assert solution(text.encode("utf-8"), tmp_path, f"{variant}.yaml") == solution(VALID.encode(), tmp_path,
                                                                                   "plain.yaml")


def test_yaml_merge_keys_give_values(tmp_path: Path):
    merged = VALID.replace("  - {x0: 3, x1: -1, y: 1}", "  - &first {x0: 3, x1: -1, y: 1}").replace(
        "  - {x0: 1, x1: -2, y: 0}", "  - {<<: *first, x1: -2, y: 0}")
    written_out = VALID.replace("  - {x0: 1, x1: -2, y: 0}", "  - {x0: 3, x1: -2, y: 0}")
    assert solution(merged.encode(), tmp_path, "merged.yaml") == solution(written_out.encode(), tmp_path,
                                                                          "plain.yaml")


def test_dev_zero_is_refused_without_reading_it_whole():
    code, stdout, stderr = run("validate", "/dev/zero")
    assert (code, stdout, stderr) == (2, "", "/dev/zero:1:1: error: file is too large (more than 2,000,000 bytes)\n")


def values(text: str, tmp_path: Path, name: str = "p.yaml") -> dict:
    """The forward values of sample 1 at step 1."""
    return solution(text.encode(), tmp_path, name)["steps"][0]["samples"][0]["values"]


def test_persian_and_arabic_indic_digits_are_numbers(tmp_path: Path):
    ascii_digits = VALID.replace("x0: 3", "x0: 1.5")
    persian = VALID.replace("w0: 2", "w0: ۲").replace("x0: 3", "x0: ۱٫۵")
    arabic_indic = VALID.replace("w0: 2", 'w0: "٢"').replace("x0: 3", "x0: ١٫٥")
    expected = solution(ascii_digits.encode(), tmp_path, "ascii.yaml")
    assert solution(persian.encode(), tmp_path, "fa.yaml") == expected
    assert solution(arabic_indic.encode(), tmp_path, "ar.yaml") == expected


def test_a_constant_with_310_decimals_is_the_number_meant(tmp_path: Path):
    decimals = "1" * 310
    text = VALID.replace("yhat: sigmoid(z)", f"yhat: 1.{decimals}*z")
    # float arithmetic: the constant's nearest double, times z = 2*3 + 1*(-1) + 2 = 7 (sample 1)
    assert values(text, tmp_path)["yhat"] == float(Fraction(f"1.{decimals}")) * 7.0


def test_subnormal_numbers_read_back_as_written(tmp_path: Path):
    text = VALID.replace("yhat: sigmoid(z)", "yhat: z*1e-320").replace("x0: 3", "x0: 5e-324")
    got = values(text, tmp_path)
    assert got["x0"] == float("5e-324") and got["yhat"] == float("1e-320")  # z = 2*5e-324 - 1 + 2 = 1.0


def test_all_four_loss_names_taken_falls_back(tmp_path: Path):
    text = VALID.replace("loss: sse", "constants: {E: 0, L: 0, loss: 0, E_total: 0}\nloss: sse")
    result = solution(text.encode(), tmp_path, "names.yaml")
    assert result["steps"][0]["samples"][0]["loss"] == solution(VALID.encode(), tmp_path, "plain.yaml")[
        "steps"][0]["samples"][0]["loss"]


def test_steps_alone_runs_exactly_that_many(tmp_path: Path):
    text = """\
title: Steps
inputs: [x]
params: {w: 0.5}
model:
  yhat: w*x
outputs: [yhat]
targets: [y]
data: {x: 1, y: 2}
loss: mse
arithmetic: exact
training: {steps: 3}
"""
    steps = solution(text.encode(), tmp_path, "steps.yaml")["steps"]
    w, expected = Fraction(1, 2), []
    for _ in range(3):  # mse on one sample: dE/dw = 2(w·x − y)·x; sgd with the default lr 0.1
        w -= Fraction(1, 10) * 2 * (w - 2)
        expected.append(w)
    assert [s["parameters"]["w"] for s in steps] == [float(w) for w in expected]


def test_schedule_overflow_is_a_divergence(tmp_path: Path):
    path = tmp_path / "schedule.yaml"
    path.write_text(VALID.replace("lr: 0.001}", "lr: 0.001, schedule: {name: exponential, gamma: 1e300}}"))
    code, _, stderr = run("solve", str(path), "--format", "json")
    assert code == 1 and "the learning rate is not a finite number" in stderr and "Traceback" not in stderr


def test_square_root_of_a_negative_value_is_a_divergence_naming_the_node(tmp_path: Path):
    for arithmetic in ("float", "exact"):
        path = tmp_path / f"{arithmetic}.yaml"
        path.write_text(VALID.replace("yhat: sigmoid(z)", "yhat: relu(sqrt(z - 100))") + f"arithmetic: {arithmetic}\n")
        code, _, stderr = run("solve", str(path), "--format", "json")
        assert code == 1 and "yhat (sample 1) is not a finite number (square root of the negative number -93.0)" \
            in stderr, stderr  # z = 7 for sample 1


SUSPICIOUS = """\
title: Suspicious
inputs: [x0, x1, x2]
params: {w0: 2, w1: 1, unused: 3}
model:
  z: w0*x0 + w1*x1
  yhat: relu(z)
outputs: [yhat]
targets: [y]
data:
  - {x0: 3, x1: -1, x2: 0, y: 1}
  - {x0: 3, x1: -1, x2: 0, y: 1}
loss: bce
optimizer: {name: momentum, lr: 0.001, momentum: 1}
frozen: [w0, w1, unused]
training: {epochs: 2, batch_size: 8}
"""


def test_probable_mistakes_are_warned_on_stderr(tmp_path: Path):
    path = tmp_path / "suspicious.yaml"
    path.write_text(SUSPICIOUS)
    code, stdout, stderr = run("validate", str(path))
    assert (code, stdout) == (0, f"{path}: ok (Suspicious)\n")
    assert stderr.splitlines() == [f"{path}:{where}: warning: {message}" for where, message in [
        ("2:18", "input 'x2' is not used by any equation"),
        ("3:24", "parameter 'unused' is not used by any equation: its gradient is always 0"),
        ("11:5", "sample 2 repeats sample 1; each epoch uses both"),
        ("12:7", "bce takes log(yhat), but yhat comes from relu(…), which is not kept in (0, 1); "
                 "a sigmoid (or softmax) output is expected"),
        ("13:50", "momentum 1 never forgets a gradient: the velocity only grows; 0.9 is usual"),
        ("14:9", "every parameter is frozen: the updates change nothing"),
        ("15:35", "batch_size 8 is larger than the 2 samples: each step uses all of them (full batch)"),
    ]]


def test_shipped_problems_have_no_warnings():
    from tutor.problem import load_problem

    problems = sorted((Path(__file__).parent.parent / "problems").glob("*.yaml"))
    assert problems and all(load_problem(p).warnings == () for p in problems)


def test_the_value_budget_refuses_aliases_not_large_files(monkeypatch):
    from tutor import source

    monkeypatch.setattr(source, "MAX_NODES", 0)
    many = "[" + ", ".join(["0"] * 500) + "]"
    assert len(source.load_yaml(many, "many.yaml").value) == 500  # more values than MAX_NODES, no alias
    bomb = "a: &a [0, 0, 0, 0, 0, 0, 0, 0]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b]\n"
    with pytest.raises(source.ProblemError, match="its aliases"):
        source.load_yaml(bomb, "bomb.yaml")


def test_a_date_in_an_answers_file_is_refused(tmp_path: Path):
    problem = tmp_path / "p.yaml"
    problem.write_text(VALID)
    answers = tmp_path / "a.yaml"
    answers.write_text("answers:\n  - {step: 1, loss: 2024-01-01}\n")
    code, stdout, stderr = run("check", str(problem), str(answers))
    assert (code, stdout) == (2, "") and stderr.startswith(f"{answers}:2:")
    assert "found the date '2024-01-01', not a number" in stderr
