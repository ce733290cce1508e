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
