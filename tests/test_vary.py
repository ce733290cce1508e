"""`tutor vary`: variants of one problem, each rule checked by an independent
computation (exact fractions in plain Python, not tutor's solver)."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from tutor.api import solve_file
from tutor.cli import app
from tutor.errors import ProblemError
from tutor.problem import load_problem
from tutor.vary import make_variants, variant_ids

ROOT = Path(__file__).resolve().parent.parent
RELU = ROOT / "problems" / "vary" / "relu-2-2-2-one-step.yaml"
SHIPPED = ROOT / "problems" / "relu-2-2-2-one-step.yaml"


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def forty(tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("variants")
    code, _, err = run("vary", str(RELU), "-n", "40", "--seed", "7", "-o", str(out))
    assert code == 0, err
    return sorted(out.glob("*.yaml"))


def exact(x) -> Fraction:
    return Fraction(str(x))


def relu_by_hand(path: Path) -> dict[str, Fraction]:
    """The 2-2-2 ReLU network (linear outputs, E = Σ(o−t)²/2, one SGD step, lr 0.1), in fractions."""
    doc = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    (l1, l2) = doc["network"]["layers"]
    (w11, w21), (w12, w22) = [[exact(x) for x in row] for row in l1["weights"]]
    b1, b2 = map(exact, l1["bias"])
    (w31, w41), (w32, w42) = [[exact(x) for x in row] for row in l2["weights"]]
    b3, b4 = map(exact, l2["bias"])
    d = {k: exact(v) for k, v in doc["data"].items()}
    i1, i2, t1, t2 = d["i1"], d["i2"], d["t1"], d["t2"]
    z1, z2 = w11 * i1 + w21 * i2 + b1, w12 * i1 + w22 * i2 + b2
    h1, h2 = max(z1, 0), max(z2, 0)
    o1, o2 = w31 * h1 + w41 * h2 + b3, w32 * h1 + w42 * h2 + b4
    e = ((o1 - t1) ** 2 + (o2 - t2) ** 2) / 2
    d1, d2 = o1 - t1, o2 - t2
    dz1 = (d1 * w31 + d2 * w32) * (1 if z1 > 0 else 0)
    dz2 = (d1 * w41 + d2 * w42) * (1 if z2 > 0 else 0)
    g21, g22 = dz1 * i2, dz2 * i2
    lr = Fraction(1, 10)
    return {"z1": z1, "z2": z2, "o1": o1, "o2": o2, "E": e, "g21": g21, "g22": g22,
            "w21": w21 - lr * g21, "w22": w22 - lr * g22}


ANSWERS = ("o1", "o2", "E", "g21", "g22", "w21", "w22")   # what the problem's ask lists


def test_the_vary_file_is_the_shipped_problem_plus_its_vary_section():
    assert RELU.read_text(encoding="utf-8").startswith(SHIPPED.read_text(encoding="utf-8"))


def test_forty_variants_validate_and_solve_as_the_hand_computation(forty):
    assert len(forty) == 40
    for path in forty:
        problem = load_problem(path)
        assert problem.meta["variant"] == path.stem.rsplit("-", 1)[1]
        assert problem.meta["source"] == "Deep learning assignment 6, problem 3"
        solved = solve_file(path)
        hand = relu_by_hand(path)
        step = solved["steps"][0]
        assert math.isclose(step["loss"], float(hand["E"]), rel_tol=1e-9, abs_tol=1e-12)
        for name, key in (("w21", "g21"), ("w22", "g22")):
            assert math.isclose(step["gradients"][name], float(hand[key]), rel_tol=1e-9, abs_tol=1e-12)
            assert math.isclose(step["parameters"][name], float(hand[name]), rel_tol=1e-9, abs_tol=1e-12)


def test_variants_are_fixed_problems_with_their_comments(forty):
    for path in forty:
        text = path.read_text(encoding="utf-8")
        assert "vary:" not in text and "What varies" not in text
        assert "\nask: [forward, loss" in text


def test_rule_relu_alive(forty):
    for path in forty:
        hand = relu_by_hand(path)
        assert hand["z1"] > 0 and hand["z2"] > 0, path.name


def test_rule_min_gradient(forty):
    for path in forty:
        hand = relu_by_hand(path)
        assert abs(hand["g21"]) >= Fraction(1, 1000) and abs(hand["g22"]) >= Fraction(1, 1000), path.name


def test_rule_digits_every_answer_an_exact_short_decimal(forty):
    for path in forty:
        hand = relu_by_hand(path)
        for name in ANSWERS:
            assert (hand[name] * 10 ** 4).denominator == 1, (path.name, name, hand[name])


def test_rule_distinct_answers(forty):
    keys = [tuple(relu_by_hand(path)[n] for n in ANSWERS) for path in forty]
    assert len(set(keys)) == len(keys)


def test_the_shipped_problem_itself_breaks_the_rules():
    """The rules are not vacuous: the original numbers have a dead ReLU (z2 = −0.5)."""
    hand = relu_by_hand(SHIPPED)
    assert hand["z2"] < 0 and hand["g22"] == 0


def test_same_seed_byte_identical_across_processes(tmp_path):
    """Two runs (separate processes, different hash seeds) write the same bytes."""
    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-m", "tutor.cli", "vary", str(RELU), "-n", "12", "--seed", "7", "-o",
                        str(out)], check=True, env=env, capture_output=True)
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] == outputs[1] and len(outputs[0]) == 12


def test_other_seeds_give_other_variants():
    a = make_variants(RELU, variant_ids(5, None), 7)
    b = make_variants(RELU, variant_ids(5, None), 8)
    assert [v.text for v in a] != [v.text for v in b]


SIGMOID = """\
title: A 2-2-1 sigmoid network
meta:
  source: test
network:
  inputs: [i1, i2]
  layers:
    - units: [h1, h2]
      activation: sigmoid
      weights: [[0.5, 0.5], [0.5, 0.5]]
      bias: [0, 0]
      names: {weights: [[w1, w2], [w3, w4]], bias: [b, b]}
    - units: [o]
      activation: sigmoid
      weights: [[1, 1]]
targets: [t]
data: {i1: 1, i2: 1, t: 1}
loss: half_sse
optimizer: {name: sgd, lr: 0.5}
vary:
  values:
    w1: {from: -3, to: 3, step: 1}
    w2: {from: -3, to: 3, step: 1}
    w3: {from: -3, to: 3, step: 1}
    b: {from: -1, to: 1, step: 1}
    i1: {in: [1, 2, 3]}
  rules: {sigmoid_net: 4, min_gradient: 0.001}
"""


def test_rule_sigmoid_net_and_shared_parameters(tmp_path):
    path = tmp_path / "sigmoid.yaml"
    path.write_text(SIGMOID, encoding="utf-8")
    variants = make_variants(path, variant_ids(15, None), 3)
    yaml = YAML(typ="safe")
    for v in variants:
        doc = yaml.load(v.text)
        assert doc["meta"] == {"source": "test", "variant": v.id} and "vary" not in doc
        (l1, l2) = doc["network"]["layers"]
        b, b_again = l1["bias"]
        assert b == b_again  # a shared parameter is written at each of its places
        i1, i2 = doc["data"]["i1"], doc["data"]["i2"]
        sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
        nets = [w[0] * i1 + w[1] * i2 + b for w in l1["weights"]]
        out_net = sum(w * sig(n) for w, n in zip(l2["weights"][0], nets))
        assert all(abs(n) < 4 for n in [*nets, out_net]), v.id
        o = sig(out_net)
        d_out = (o - doc["data"]["t"]) * o * (1 - o)
        grads = [d_out * l2["weights"][0][j] * sig(nets[j]) * (1 - sig(nets[j])) * x
                 for j in range(2) for x in (i1, i2)]
        assert all(abs(g) >= 1e-3 for g in grads), v.id


def test_impossible_rules_are_a_located_error_after_the_attempts(tmp_path):
    path = tmp_path / "dead.yaml"
    text = RELU.read_text(encoding="utf-8").split("# What varies")[0] + (
        "vary:\n"
        "  values:\n"
        "    w11: {from: -1, to: -0.5, step: 0.5}\n"
        "    w21: {in: [1]}\n"
        "    b1: {in: [-1]}\n"
        "  rules: {relu_alive: true}\n"
        "  attempts: 50\n")
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("vary:") + 1
    with pytest.raises(ProblemError) as caught:
        make_variants(path, variant_ids(3, None), 1)
    assert str(caught.value) == (
        f"{path}:{line + 1}:3: error: no variant 1 of 3 meets the rules after 50 attempts (rejected by "
        f"relu_alive 50×); widen the ranges or relax the rules")
    out = tmp_path / "out"
    code, stdout, stderr = run("vary", str(path), "-n", "3", "-o", str(out))
    assert (code, stdout) == (2, "") and stderr.startswith(f"{path}:{line + 1}:3: error: no variant 1 of 3")
    assert not out.exists()


def test_student_ids_name_the_variants(tmp_path):
    ids = tmp_path / "roster.txt"
    ids.write_text("# class of 2026\nalice\n\nbob\n", encoding="utf-8")
    out = tmp_path / "v"
    assert run("vary", str(RELU), "--ids", str(ids), "-o", str(out))[0] == 0
    assert sorted(p.name for p in out.iterdir()) == ["relu-2-2-2-one-step-alice.yaml",
                                                      "relu-2-2-2-one-step-bob.yaml"]
    assert load_problem(out / "relu-2-2-2-one-step-bob.yaml").meta["variant"] == "bob"


def test_existing_variants_are_not_overwritten_without_force(tmp_path):
    out = tmp_path / "v"
    assert run("vary", str(RELU), "-n", "2", "-o", str(out))[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, _, err = run("vary", str(RELU), "-n", "2", "--seed", "9", "-o", str(out))
    assert code == 2 and "file exists (use --force" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert run("vary", str(RELU), "-n", "2", "--seed", "9", "-o", str(out), "--force")[0] == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} != before


def test_a_problem_without_vary_is_refused():
    with pytest.raises(ProblemError, match="no vary: section"):
        make_variants(SHIPPED, variant_ids(2, None), 1)


def test_keys_and_sheets_carry_the_variant_id(tmp_path):
    out = tmp_path / "v"
    assert run("vary", str(RELU), "-n", "2", "--seed", "7", "-o", str(out))[0] == 0
    files = sorted(map(str, out.glob("*.yaml")))
    code, tex, err = run("key", *files, "-o", "-", "--format", "tex")
    assert code == 0, err
    # in the running header of every page of each variant's section, and in its heading
    assert tex.count("\\pagestyle{myheadings}\\markright{variant v01}") == 1
    assert tex.index("\\markright{variant v01}") < tex.index("Problem 1: One SGD step on a 2-2-2 ReLU network "
                                                              "(variant v01)")
    second = re.search(r"\\clearpage\s*\\pagestyle\{myheadings\}\\markright\{variant v02\}", tex)
    assert second and second.start() < tex.index("(variant v02)")
    code, md, _ = run("key", *files, "-o", "-", "--format", "md", "--sheet")
    assert code == 0 and "Problem 2: One SGD step on a 2-2-2 ReLU network (variant v02)" in md


@pytest.mark.parametrize("n, ids, message", [
    (None, None, "say how many variants (-n N) or list their ids (--ids FILE)"),
    (None, [], "the ids file lists no id"),
    (3, ["a", "b"], "-n 3 but 2 ids are listed"),
    (None, ["a", "a"], "the id 'a' is listed twice"),
    (None, ["a/b"], "'a/b' cannot be a variant id"),
])
def test_variant_ids_refused(n, ids, message):
    from tutor.vary import VaryError

    with pytest.raises(VaryError, match=re.escape(message)):
        variant_ids(n, ids)


def test_ids_are_padded_to_sort():
    assert variant_ids(3, None) == ["v01", "v02", "v03"] and variant_ids(200, None)[-1] == "v200"
    assert variant_ids(200, None)[0] == "v001"
