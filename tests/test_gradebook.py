"""`tutor check ... --gradebook`: a class's answers files, one CSV row each.

The answers files are written here from an independent computation of each
variant (exact fractions in plain Python), and the expected scores are
reasoned from them: a slot right is 1, consistent with the student's earlier
mistake 0.5 (the default credit), wrong or blank 0."""

from __future__ import annotations

import csv
import io
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relu_by_hand import relu_forward
from tutor.cli import app
from tutor.gradebook import parse_credit

ROOT = Path(__file__).resolve().parent.parent
RELU = ROOT / "problems" / "vary" / "relu-2-2-2-one-step.yaml"
SLOTS = 31   # the relu template: 8 values, the loss, 8 δs, 10 partials, 2 gradients, 2 parameters


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def by_hand(path: Path, half_gradient: bool = False) -> dict:
    """Every slot of the template for the 2-2-2 ReLU network (linear outputs,
    E = Σ(o−t)²/2, one SGD step with lr 0.1). ``half_gradient``: the slip of
    forgetting the 2 of d(o − t)²/do, so ∂E/∂o is halved and the gradients with it."""
    n = relu_forward(path)
    w21, w22, w31, w41, w32, w42, i2, t1, t2, z1, z2, h1, h2, o1, o2 = (
        n.w21, n.w22, n.w31, n.w41, n.w32, n.w42, n.i2, n.t1, n.t2, n.z1, n.z2, n.h1, n.h2, n.o1, n.o2)
    factor = Fraction(1, 2) if half_gradient else 1
    e_o1, e_o2 = (o1 - t1) * factor, (o2 - t2) * factor
    r1, r2 = (1 if z1 > 0 else 0), (1 if z2 > 0 else 0)
    d_h1, d_h2 = e_o1 * w31 + e_o2 * w32, e_o1 * w41 + e_o2 * w42
    g21, g22 = d_h1 * r1 * i2, d_h2 * r2 * i2
    return {
        "values": {"z1": z1, "z2": z2, "h1": h1, "h2": h2, "net_o1": o1, "net_o2": o2, "o1": o1, "o2": o2},
        "loss": ((o1 - t1) ** 2 + (o2 - t2) ** 2) / 2,
        "deltas": {"o2": e_o2, "o1": e_o1, "net_o2": e_o2, "net_o1": e_o1, "h2": d_h2, "h1": d_h1,
                   "z2": d_h2 * r2, "z1": d_h1 * r1},
        "partials": {"E/o2": e_o2, "E/o1": e_o1, "o2/net_o2": 1, "o1/net_o1": 1, "net_o2/h2": w42,
                     "net_o2/h1": w32, "net_o1/h2": w41, "net_o1/h1": w31, "h2/z2": r2, "h1/z1": r1},
        "gradient": {"w21": g21, "w22": g22},
        "parameters": {"w21": w21 - g21 / 10, "w22": w22 - g22 / 10},
    }


def number(x) -> str:
    return repr(float(x))


def answers_text(student: str, variant: str, q: dict, parts=("values", "loss", "deltas", "partials", "gradient",
                                                             "parameters")) -> str:
    lines = [f"student: {student}", f"variant: {variant}", "answers:"]
    for part in parts:
        if part == "loss":
            lines.append(f"  - {{step: 1, loss: {number(q['loss'])}}}")
            continue
        sample = "sample: 1, " if part in ("values", "deltas", "partials") else ""
        inner = ", ".join(f"{k}: {number(v)}" for k, v in q[part].items())
        lines.append(f"  - {{step: 1, {sample}{part}: {{{inner}}}}}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """Two variants and five answers files: alice right, bob one slip carried forward,
    carol blank, dave malformed, erin right for the other variant."""
    base = tmp_path_factory.mktemp("class")
    variants = base / "variants"
    assert run("vary", str(RELU), "-n", "2", "--seed", "7", "-o", str(variants))[0] == 0
    v1, v2 = sorted(variants.glob("*.yaml"))
    answers = base / "answers"
    answers.mkdir()
    right = by_hand(v1)
    (answers / "alice.yaml").write_text(answers_text("alice", "v01", right), encoding="utf-8")
    # bob forgets the 2 of d(o − t)²/do: his gradients are halved (wrong), and he updates
    # with them (consistent with his gradients, not right); he leaves δs and partials blank.
    slip = by_hand(v1, half_gradient=True)
    bob = {**right, "gradient": slip["gradient"], "parameters": slip["parameters"]}
    (answers / "bob.yaml").write_text(answers_text("bob", "v01", bob, ("values", "loss", "gradient", "parameters")),
                                      encoding="utf-8")
    assert run("check", "--template", str(v1), "-o", str(answers / "carol.yaml"))[0] == 0
    (answers / "dave.yaml").write_text("student: dave\nvariant: v01\nanswers:\n  - {step: 1, loss: 2..5}\n",
                                       encoding="utf-8")
    (answers / "erin.yaml").write_text(answers_text("erin", "v02", by_hand(v2)), encoding="utf-8")
    return base, variants, v1, sorted(answers.glob("*.yaml")), right, slip


def rows_of(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_gradebook_scores(klass):
    base, variants, _, files, right, slip = klass
    out = base / "grades.csv"
    code, _, err = run("check", str(variants), *map(str, files), "--gradebook", str(out))
    assert code == 0, err
    rows = {r["student"]: r for r in rows_of(out.read_text(encoding="utf-8"))}
    assert list(rows) == ["alice", "bob", "carol", "dave", "erin"]
    # bob: 8 values and the loss right; both gradients wrong (the slip changes them:
    # they are ≥ 1e-3 by the vary rules); both updates consistent; 20 blanks.
    assert all(right["gradient"][p] != slip["gradient"][p] for p in ("w21", "w22"))
    expected = {"alice": "31", "bob": f"{8 + 1 + 0 + 0.5 * 2:g}", "carol": "0", "dave": "", "erin": "31"}
    assert {s: r["score"] for s, r in rows.items()} == expected
    assert all(r["out_of"] == str(SLOTS) for r in rows.values())
    assert rows["erin"]["variant"] == "v02" and rows["alice"]["variant"] == "v01"


def test_gradebook_verdicts_first_slip_and_notes(klass):
    base, variants, _, files, *_ = klass
    code, stdout, _ = run("check", str(variants), *map(str, files), "--gradebook", "-")
    assert code == 0
    rows = {r["student"]: r for r in rows_of(stdout)}
    bob = rows["bob"]
    assert bob["the gradient of w21 (step 1)"] == "wrong"
    assert bob["w21 after the update (step 1)"] == "consistent"
    assert bob["δ of z1 (step 1, sample 1)"] == "blank"
    assert bob["h1 (step 1, sample 1)"] == "correct"
    assert bob["first_slip"] == "the gradient of w21 (step 1): factor_half"
    assert rows["alice"]["first_slip"] == "" and rows["alice"]["notes"] == ""
    assert rows["carol"]["notes"] == "no answers"
    dave = files[3]
    # "2." reads as a number; the located error is at the second dot, column 23
    assert rows["dave"]["notes"] == f"{dave}:4:23: error: expected an operator (+ - * / **) before '.5'"
    assert rows["dave"]["the loss (step 1)"] == ""


def test_columns_in_a_fixed_order(klass):
    base, variants, _, files, *_ = klass
    header = run("check", str(variants), *map(str, files), "--gradebook", "-")[1].splitlines()[0]
    cells = next(csv.reader([header]))
    assert cells[:5] == ["student", "variant", "answers", "score", "out_of"]
    assert cells[-2:] == ["first_slip", "notes"] and len(cells) == 5 + SLOTS + 2
    assert cells[5] == "z1 (step 1, sample 1)" and cells[-4] == "w21 after the update (step 1)"


def test_against_one_variant_the_other_is_not_graded(klass):
    base, _, v1, files, *_ = klass
    rows = {r["student"]: r for r in rows_of(run("check", str(v1), *map(str, files), "--gradebook", "-")[1])}
    assert rows["erin"]["score"] == "" and rows["erin"]["notes"] == "written for variant v02, not v01 (the problem given)"
    assert rows["alice"]["score"] == "31"


def test_the_instructor_sets_the_credit(klass):
    base, variants, _, files, *_ = klass
    stdout = run("check", str(variants), *map(str, files), "--gradebook", "-", "--credit", "correct=2,consistent=1")[1]
    rows = {r["student"]: r for r in rows_of(stdout)}
    assert rows["bob"]["score"] == str(2 * 9 + 1 * 2) and rows["alice"]["score"] == str(2 * SLOTS)


@pytest.mark.parametrize("text, message", [
    ("right=1", "--credit expects verdict=number pairs"),
    ("correct=-1", "--credit correct must be a number ≥ 0"),
    ("consistent=nan", "--credit consistent must be a number ≥ 0"),
])
def test_bad_credit(text, message):
    with pytest.raises(Exception, match=message):
        parse_credit(text)


def test_several_answers_files_need_a_gradebook(klass):
    base, variants, v1, files, *_ = klass
    code, _, err = run("check", str(v1), str(files[0]), str(files[1]))
    assert code == 2 and "--gradebook" in err


def test_gradebook_is_not_overwritten_without_force(klass):
    base, variants, _, files, *_ = klass
    out = base / "existing.csv"
    out.write_text("keep\n", encoding="utf-8")
    code, _, err = run("check", str(variants), str(files[0]), "--gradebook", str(out))
    assert code == 2 and "file exists" in err and out.read_text(encoding="utf-8") == "keep\n"


def test_a_missing_answers_file_is_a_note(klass):
    base, variants, _, files, *_ = klass
    missing = base / "answers" / "frank.yaml"
    rows = rows_of(run("check", str(variants), str(files[0]), str(missing), "--gradebook", "-")[1])
    assert rows[1]["student"] == "frank" and rows[1]["score"] == ""
    assert rows[1]["notes"] == f"{missing}:1:1: error: cannot read file"
