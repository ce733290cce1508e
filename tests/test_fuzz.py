"""Fuzzing: mutated problem files end in a solution or in one located error line.

Every problem in problems/ is mutated structurally (keys deleted, renamed,
retyped; numbers replaced by strings, NaN, 1e308, huge lists; names swapped;
equations truncated) and textually (YAML syntax broken, tabs, CRLF, a BOM,
non-UTF-8 bytes). Whatever happens, tutor must answer with a solution (exit 0),
a divergence report (exit 1), or `FILE:LINE:COL: error: ...` (exit 2) — never a
traceback, never an internal error.
"""

from __future__ import annotations

import copy
import io
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from typer.testing import CliRunner

from tutor.cli import app

ROOT = Path(__file__).resolve().parent.parent
PROBLEM_TEXTS = {p.name: p.read_text() for p in sorted((ROOT / "problems").glob("*.yaml"))}
runner = CliRunner()
FUZZ = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

ODD_VALUES = [None, True, "", "x", "1/0", "sqrt(-1)", "__import__('os')", float("nan"), float("inf"), 1e308,
              -1e308, 10**400, 0, -1, 0.5, [], {}, [1, 2, 3], list(range(2000)), {"a": 1}, "w11", "epochs",
              "relu", "1e-3", "2**2000", "(((", "a" * 300]


def _yaml() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = None
    return yaml


def load(text: str):
    return _yaml().load(text)


def dump(data) -> str:
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


def paths(data, prefix=()):
    """Every (path, value) of a plain YAML tree."""
    yield prefix, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from paths(value, prefix + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from paths(value, prefix + (i,))


def set_at(data, path, value):
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def pick(draw, data, places):
    """A random place in the tree: its path and the container holding it."""
    path = draw(st.sampled_from(places))
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    return path, parent


@st.composite
def structural_mutation(draw):
    name = draw(st.sampled_from(sorted(PROBLEM_TEXTS)))
    data = copy.deepcopy(load(PROBLEM_TEXTS[name]))
    for _ in range(draw(st.integers(1, 3))):
        places = [p for p, _ in paths(data) if p]
        if not places:
            break
        path, parent = pick(draw, data, places)
        current = parent[path[-1]]
        action = draw(st.sampled_from(["delete", "rename", "retype", "swap", "truncate", "duplicate"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["titel", "lr", "epochs", "x1", "w21", "names", "b"]))] = parent.pop(path[-1])
        elif action == "retype":
            set_at(data, path, draw(st.sampled_from(ODD_VALUES)))
        elif action == "swap":
            others = [p for p in places if p != path]
            if others:
                other = draw(st.sampled_from(others))
                try:
                    value = copy.deepcopy(next(v for p, v in paths(data) if p == other))
                    set_at(data, path, value)
                except (StopIteration, KeyError, IndexError, TypeError):
                    pass
        elif action == "truncate" and isinstance(current, str) and current:
            set_at(data, path, current[: draw(st.integers(0, len(current) - 1))])
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(current))
    return name, dump(data).encode()


@st.composite
def textual_mutation(draw):
    name = draw(st.sampled_from(sorted(PROBLEM_TEXTS)))
    raw = PROBLEM_TEXTS[name].encode()
    action = draw(st.sampled_from(["cut", "flip", "insert", "tabs", "crlf", "bom", "latin1", "nul"]))
    if action == "cut":
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif action == "flip":
        i = draw(st.integers(0, len(raw) - 1))
        raw = raw[:i] + bytes([draw(st.integers(0, 255))]) + raw[i + 1:]
    elif action == "insert":
        i = draw(st.integers(0, len(raw)))
        raw = raw[:i] + draw(st.sampled_from([b":", b"- ", b"[", b"{", b"'", b'"', b"&a ", b"*a", b"!!", b"\n  "])) + raw[i:]
    elif action == "tabs":
        raw = raw.replace(b"  ", b"\t", draw(st.integers(1, 5)))
    elif action == "crlf":
        raw = raw.replace(b"\n", b"\r\n")
    elif action == "bom":
        raw = b"\xef\xbb\xbf" + raw
    elif action == "latin1":
        i = draw(st.integers(0, len(raw)))
        raw = raw[:i] + b"\xe9\xff" + raw[i:]
    elif action == "nul":
        raw = raw.replace(b"title", b"ti\x00tle")
    return name, raw


ERROR_LINE = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): error: .+\S$")


def check_outcome(tmp_path: Path, name: str, raw: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(raw)
    for args in (["validate", str(path)], ["solve", str(path), "--format", "json", "--max-steps", "30"]):
        result = runner.invoke(app, args)
        stderr = result.stderr
        assert "Traceback" not in stderr and "internal error" not in stderr, (raw.decode("utf-8", "replace"), stderr)
        assert result.exit_code in (0, 1, 2), (result.exit_code, stderr)
        if result.exit_code == 2:
            lines = stderr.splitlines()
            assert len(lines) == 1 and ERROR_LINE.match(lines[0]), stderr
            assert ERROR_LINE.match(lines[0])["file"] == str(path)
            assert result.stdout == ""
        elif result.exit_code == 1:
            assert "not a finite number" in stderr, stderr


@FUZZ
@given(case=structural_mutation())
def test_structural_mutations(tmp_path_factory, case):
    check_outcome(tmp_path_factory.mktemp("fuzz"), *case)


@FUZZ
@given(case=textual_mutation())
def test_textual_mutations(tmp_path_factory, case):
    check_outcome(tmp_path_factory.mktemp("fuzz"), *case)


ANSWER_FILES = {  # answers file -> the problem it answers
    "quadratic-published.yaml": "quadratic-momentum.yaml",
    "mazur-published.yaml": "mazur-2-2-2.yaml",
    "relu-template.yaml": "relu-2-2-2-one-step.yaml",
}
ANSWER_TEXTS = {
    "quadratic-published.yaml": (ROOT / "tests/check/quadratic-published.yaml").read_text(),
    "mazur-published.yaml": (ROOT / "tests/check/mazur-published.yaml").read_text(),
    "relu-template.yaml": "tolerance: {digits: 3}\nanswers:\n"
                          "  - {step: 1, sample: 1, values: {z1: 2, h1: 2, o1: 0, o2: -1.5}}\n"
                          "  - {step: 1, loss: 2.5}\n  - {step: 1, gradient: {w21: -1.5, w22: 0}}\n"
                          "  - {step: 1, parameters: {w21: 0.65, w22: -1}}\n  - {final: {loss: 0.74425}}\n",
}


@st.composite
def answer_mutation(draw):
    name = draw(st.sampled_from(sorted(ANSWER_TEXTS)))
    data = copy.deepcopy(load(ANSWER_TEXTS[name]))
    for _ in range(draw(st.integers(1, 3))):
        places = [p for p, _ in paths(data) if p]
        if not places:
            break
        path, parent = pick(draw, data, places)
        action = draw(st.sampled_from(["delete", "retype", "rename"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["step", "sample", "w9", "final", "values", "digits", "x1"]))] = \
                parent.pop(path[-1])
        else:
            set_at(data, path, draw(st.sampled_from(ODD_VALUES + [0, 99, -3, "final"])))
    raw = dump(data).encode()
    if draw(st.booleans()):
        i = draw(st.integers(0, len(raw)))
        raw = raw[:i] + draw(st.sampled_from([b":", b"[", b"\t", b"\xff", b"&x ", b"*x"])) + raw[i:]
    return name, raw


@FUZZ
@given(case=answer_mutation())
def test_answer_file_mutations(tmp_path_factory, case):
    name, raw = case
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(raw)
    problem = str(ROOT / "problems" / ANSWER_FILES[name])
    result = runner.invoke(app, ["check", problem, str(path), "--format", "json"])
    stderr = result.stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, (raw.decode("utf-8", "replace"), stderr)
    assert result.exit_code in (0, 1, 2), (result.exit_code, stderr)
    if result.exit_code == 2:
        lines = stderr.splitlines()
        assert len(lines) == 1 and ERROR_LINE.match(lines[0]) and ERROR_LINE.match(lines[0])["file"] == str(path)
        assert result.stdout == ""


def test_bom_and_crlf_still_solve(tmp_path):
    raw = b"\xef\xbb\xbf" + PROBLEM_TEXTS["relu-2-2-2-one-step.yaml"].encode().replace(b"\n", b"\r\n")
    path = tmp_path / "bom.yaml"
    path.write_bytes(raw)
    result = runner.invoke(app, ["solve", str(path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
