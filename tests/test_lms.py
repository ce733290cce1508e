"""`tutor lms`: Moodle XML and Canvas QTI 1.2 quizzes.

The structure is checked against the question formats' schemas, written out
here as required elements and types (xml.etree, no network). The numbers are
checked against independent values: exact fractions for the ReLU network,
Matt Mazur's published output-layer weights for his example."""

from __future__ import annotations

import io
import math
import re
import zipfile
from fractions import Fraction
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from typer.testing import CliRunner

from relu_by_hand import relu_forward
from tutor.cli import app

pytest.importorskip("latex2mathml")

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "problems"
RELU = PROBLEMS / "relu-2-2-2-one-step.yaml"
MAZUR = PROBLEMS / "mazur-2-2-2.yaml"
REL = 1e-3   # the default tolerance: rel 0.001 (neither problem sets check: tolerance)


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout_bytes, result.stderr


@pytest.fixture(scope="module")
def variant(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("v")
    assert run("vary", str(PROBLEMS / "vary" / "relu-2-2-2-one-step.yaml"), "-n", "1", "--seed", "3", "-o",
               str(out))[0] == 0
    (path,) = out.glob("*.yaml")
    return path


def relu_key(path: Path) -> list[tuple[str, Fraction, Fraction]]:
    """(label, value, absolute tolerance) of each answer the relu problem asks, in fractions:
    o1, o2, E, ∂E/∂w21, ∂E/∂w22, w21, w22 (an update judged by its step)."""
    n = relu_forward(path)
    w21, w22, w31, w41, w32, w42, i2, t1, t2, z1, z2, o1, o2 = (
        n.w21, n.w22, n.w31, n.w41, n.w32, n.w42, n.i2, n.t1, n.t2, n.z1, n.z2, n.o1, n.o2)
    e = ((o1 - t1) ** 2 + (o2 - t2) ** 2) / 2
    g21 = ((o1 - t1) * w31 + (o2 - t2) * w32) * (z1 > 0) * i2
    g22 = ((o1 - t1) * w41 + (o2 - t2) * w42) * (z2 > 0) * i2
    step21, step22 = -g21 / 10, -g22 / 10
    rel = Fraction(1, 1000)
    return [("o1", o1, rel * abs(o1)), ("o2", o2, rel * abs(o2)), ("E", e, rel * abs(e)),
            ("∂E/∂w21", g21, rel * abs(g21)), ("∂E/∂w22", g22, rel * abs(g22)),
            ("w21", w21 + step21, rel * abs(step21)), ("w22", w22 + step22, rel * abs(step22))]


# Matt Mazur, "A Step by Step Backpropagation Example" (2015): the output layer's
# weights after one step (the hidden layer's are affected by his sequential update).
MAZUR_OUTPUT = {"w5": (0.40, 0.35891648), "w6": (0.45, 0.408666186), "w7": (0.50, 0.511301270),
                "w8": (0.55, 0.561370121)}


# ---------------------------------------------------------------- the Moodle XML schema

def text_of(element: ET.Element, path: str) -> str:
    found = element.find(path)
    assert found is not None, f"missing {path} in <{element.tag}>"
    assert found.text is not None, f"empty {path} in <{element.tag}>"
    return found.text


def float_of(element: ET.Element, path: str) -> float:
    value = float(text_of(element, path))
    assert math.isfinite(value)
    return value


def check_moodle_question(q: ET.Element) -> None:
    """The elements Moodle's XML import requires of a numerical or cloze question
    (question/format/xml: name/text, questiontext[@format]/text, answer[@fraction]/text,
    tolerance), with their types."""
    assert q.tag == "question" and q.get("type") in ("numerical", "cloze")
    text_of(q, "name/text")
    for tag in ("questiontext", "generalfeedback"):
        element = q.find(tag)
        assert element is not None and element.get("format") == "html"
        assert text_of(element, "text").strip()
    assert float_of(q, "defaultgrade") > 0 and 0 <= float_of(q, "penalty") <= 1
    assert text_of(q, "hidden") in ("0", "1")
    if q.get("type") == "numerical":
        answers = q.findall("answer")
        assert answers
        for a in answers:
            assert 0 <= float(a.get("fraction")) <= 100
            float_of(a, "text")
            assert float_of(a, "tolerance") >= 0
        assert {c.tag for c in q} <= {"name", "questiontext", "generalfeedback", "defaultgrade", "penalty",
                                      "hidden", "idnumber", "answer", "unitgradingtype", "unitpenalty",
                                      "showunits", "unitsleft"}
    else:
        assert q.findall("answer") == []
        assert CLOZE_FIELD.search(text_of(q, "questiontext/text"))


def moodle(*files: Path, cloze: bool = False) -> ET.Element:
    code, out, err = run("lms", *map(str, files), "-o", "-", "--format", "moodle", *(["--cloze"] if cloze else []))
    assert code == 0, err
    assert out.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(out)
    assert root.tag == "quiz"
    return root


def numbers(q: ET.Element) -> tuple[float, float]:
    return float(text_of(q, "answer/text")), float(text_of(q, "answer/tolerance"))


def close(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol


def test_moodle_numerical_three_problems(variant):
    root = moodle(RELU, MAZUR, variant)
    questions = root.findall("question")
    for q in questions:
        check_moodle_question(q)
    names = [text_of(q, "name/text") for q in questions]
    relu = [q for q, n in zip(questions, names) if n.startswith("One SGD step") and "variant" not in n]
    mazur = [q for q, n in zip(questions, names) if n.startswith("Mazur")]
    varied = [q for q, n in zip(questions, names) if "(variant v01)" in n]
    assert len(relu) == 7 and len(varied) == 7 and len(relu) + len(mazur) + len(varied) == len(questions)
    for quiz, path in ((relu, RELU), (varied, variant)):
        for q, (label, value, tol) in zip(quiz, relu_key(path)):
            assert f": {label} (" in text_of(q, "name/text")
            given, width = numbers(q)
            assert close(given, float(value), 1e-12)
            if tol:
                assert math.isclose(width, float(tol), rel_tol=1e-5)
            else:  # a zero (or an update of 0) is matched within the problem's negligible scale
                assert 0 < width < 1e-8
    for name, (before, after) in MAZUR_OUTPUT.items():
        (q,) = [q for q in mazur if text_of(q, "name/text").endswith(f": {name} (after training)")]
        given, width = numbers(q)
        assert close(given, after, 5e-9)
        assert math.isclose(width, REL * abs(after - before), rel_tol=1e-4)


def test_moodle_question_text_and_feedback(variant):
    (q, *_) = moodle(variant).findall("question")
    text = text_of(q, "questiontext/text")
    assert "Compute the forward pass" in text and "<table" in text and "Give o1 (step 1, output)." in text
    assert "Answers</h" not in text      # the sheet's blank lines are the LMS's fields
    feedback = text_of(q, "generalfeedback/text")
    assert "<math" in feedback and re.search(r"<h\d>Gradients \(chain rule\)</h\d>", feedback)


CLOZE_FIELD = re.compile(r"\{1:NUMERICAL:=([^:}]+):([^}]+)\}")


def test_moodle_cloze_one_question_per_problem(variant):
    root = moodle(RELU, MAZUR, variant, cloze=True)
    questions = root.findall("question")
    assert len(questions) == 3
    for q in questions:
        check_moodle_question(q)
    fields = CLOZE_FIELD.findall(text_of(questions[2], "questiontext/text"))
    assert len(fields) == 7
    for (value, width), (_, expected, tol) in zip(fields, relu_key(variant)):
        assert close(float(value), float(expected), 1e-12)
        assert math.isclose(float(width), float(tol), rel_tol=1e-5) if tol else float(width) < 1e-8


# ---------------------------------------------------------------- Canvas QTI 1.2

QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
CP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"


def qti(*files: Path) -> bytes:
    code, out, err = run("lms", *map(str, files), "-o", "-", "--format", "qti")
    assert code == 0, err
    return out


def test_qti_package_as_canvas_expects(variant):
    data = qti(RELU, MAZUR, variant)
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert names == sorted(names) and "imsmanifest.xml" in names
    assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in archive.infolist())
    manifest = ET.fromstring(archive.read("imsmanifest.xml"))
    assert manifest.tag == f"{CP}manifest" and manifest.get("identifier")
    (resource,) = manifest.findall(f"{CP}resources/{CP}resource")
    assert resource.get("type") == "imsqti_xmlv1p2"
    href = resource.find(f"{CP}file").get("href")
    assert href in names
    root = ET.fromstring(archive.read(href))
    assert root.tag == f"{QTI}questestinterop"
    (assessment,) = root.findall(f"{QTI}assessment")
    assert assessment.get("ident") and assessment.get("title")
    items = assessment.findall(f"{QTI}section/{QTI}item")
    assert len(items) == 7 + 7 + len(MAZUR_OUTPUT) * 2 + 1  # relu twice; Mazur: 10 parameters less 2 frozen, loss
    for item in items:
        fields = {f.findtext(f"{QTI}fieldlabel"): f.findtext(f"{QTI}fieldentry")
                  for f in item.iter(f"{QTI}qtimetadatafield")}
        assert fields["question_type"] == "numerical_question" and float(fields["points_possible"]) > 0
        assert item.find(f"{QTI}presentation/{QTI}material/{QTI}mattext").get("texttype") == "text/html"
        response = item.find(f"{QTI}presentation/{QTI}response_str")
        assert response.get("ident") == "response1"
        assert response.find(f"{QTI}render_fib/{QTI}response_label") is not None
        condition = item.find(f"{QTI}resprocessing/{QTI}respcondition")
        value = float(condition.findtext(f".//{QTI}varequal"))
        low, high = float(condition.findtext(f".//{QTI}vargte")), float(condition.findtext(f".//{QTI}varlte"))
        assert low <= value <= high
        assert condition.find(f"{QTI}setvar").text == "100"
    relu_items = items[:7]
    for item, (label, expected, tol) in zip(relu_items, relu_key(RELU)):
        condition = item.find(f"{QTI}resprocessing/{QTI}respcondition")
        assert close(float(condition.findtext(f".//{QTI}varequal")), float(expected), 1e-12)
        high = float(condition.findtext(f".//{QTI}varlte"))
        assert math.isclose(high - float(expected), float(tol), rel_tol=1e-5, abs_tol=1e-8)


def test_exports_are_byte_identical():
    assert qti(RELU, MAZUR) == qti(RELU, MAZUR)
    assert run("lms", str(RELU), "-o", "-", "-f", "moodle")[1] == run("lms", str(RELU), "-o", "-", "-f", "moodle")[1]


def test_format_from_the_suffix_and_refusals(tmp_path):
    assert run("lms", str(RELU), "-o", str(tmp_path / "quiz.xml"))[0] == 0
    assert (tmp_path / "quiz.xml").read_bytes().startswith(b"<?xml")
    assert run("lms", str(RELU), "-o", str(tmp_path / "quiz.zip"))[0] == 0
    assert zipfile.is_zipfile(tmp_path / "quiz.zip")
    code, _, err = run("lms", str(RELU), "-o", str(tmp_path / "quiz.zip"))
    assert code == 2 and "file exists" in err
    code, _, err = run("lms", str(RELU), "-o", str(tmp_path / "q.zip"), "--cloze")
    assert code == 2 and "--cloze is a Moodle question type" in err
    code, _, err = run("lms", str(RELU), "-o", str(tmp_path / "quiz.txt"))
    assert code == 2 and "--format moodle" in err
