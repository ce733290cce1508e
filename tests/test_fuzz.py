"""Fuzzing: mutated problem files end in a solution or in one located error line.

Every problem in problems/ is mutated structurally (keys deleted, renamed,
retyped; numbers replaced by strings, NaN, 1e308, huge lists; names swapped;
equations truncated) and textually (YAML syntax broken, tabs, CRLF, a BOM,
non-UTF-8 bytes), with hostile values (control characters, numbers too long
or too small, dates, `1_000`, Unicode digits, names of every allowed shape),
and on generated shapes (chains of diamonds, wide layers). Whatever happens, tutor must answer with a solution (exit 0),
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


NUMBER = re.compile(rb"(?<![\w.])-?\d+(?:\.\d+)?(?:e-?\d+)?(?![\w.])")
HOSTILE_NUMBERS = [b"7" * 5000, b"0." + b"1" * 400, b"1e-330", b"5e-324", b"1e400", b"2024-01-01",
                   b"2024-01-01T10:00:00Z", b"1_000", b'"1_000"', "\u0663".encode(), "\u06f1\u066b\u06f5".encode(),
                   "\u0969".encode(), "\uff11".encode(), "\u00b2".encode(), b"0x1F", b"0o17", b"0b11", b".nan",
                   b"-.inf", b"1:30", b'"sqrt(-4)"', b'"relu(sqrt(-4))"', b'"log(0)"', b'"1e-200*1e-200"',
                   b'"(-8)**(1/3)"', b'"\\uD800"']
CONTROL_TEXTS = ["\x1b[2J\x1b[H", "\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\", "\x1b]52;c;aGVsbG8=\x07",
                 "\x07\x08\x7f", "\x9b31m", "\u202e", "a\x00b"]
MARKER = "hostile_value_here"
NAME_SHAPES = ["_", "_1", "a1", "A", "x_", "E", "L", "loss", "E_total", "E_1", "w" * 80, "sigmoid", "pi", "1a",
               "net_h1"]


@st.composite
def hostile_mutation(draw):
    """Values an attacker or a careless author writes: in place of a number, a
    title, a key, or a name throughout the file."""
    name = draw(st.sampled_from(sorted(PROBLEM_TEXTS)))
    raw = PROBLEM_TEXTS[name].encode()
    action = draw(st.sampled_from(["number", "control", "control-key", "rename"]))
    if action == "number":  # a number of the tree (or in an equation) becomes the hostile text, verbatim
        data = load(raw.decode())
        places = [p for p, v in paths(data) if p and (isinstance(v, (int, float)) and not isinstance(v, bool)
                                                      or p[0] == "model" and isinstance(v, str)
                                                      and NUMBER.search(v.encode()))]
        path = draw(st.sampled_from(places))
        value = next(v for p, v in paths(data) if p == path)
        in_equation = isinstance(value, str)
        set_at(data, path, NUMBER.sub(MARKER.encode(), value.encode(), 1).decode() if in_equation else MARKER)
        hostile = draw(st.sampled_from(HOSTILE_NUMBERS))
        raw = dump(data).encode().replace(MARKER.encode(), hostile.strip(b'"') if in_equation else hostile)
    elif action in ("control", "control-key"):
        data = load(raw.decode())
        places = [p for p, v in paths(data) if p and isinstance(v, str)] if action == "control" else \
            [p for p, v in paths(data) if p and isinstance(v, dict) and v]
        if places:
            path = draw(st.sampled_from(places))
            text = draw(st.sampled_from(CONTROL_TEXTS))
            if action == "control":
                set_at(data, path, draw(st.sampled_from(["", "prefix "])) + text)
            else:
                target = next(v for p, v in paths(data) if p == path)
                key = draw(st.sampled_from(sorted(target)))
                target[draw(st.sampled_from([key + text, text + key]))] = target.pop(key)
            raw = dump(data).encode()
    else:
        words = sorted(set(re.findall(rb"\b[A-Za-z_][A-Za-z0-9_]*\b", raw)))
        old = draw(st.sampled_from(words))
        raw = re.sub(rb"\b" + re.escape(old) + rb"\b", draw(st.sampled_from(NAME_SHAPES)).encode(), raw)
    return name, raw


def diamond_chain(k: int) -> str:
    """a1 → (b1, c1) → a2 → ...: 2**k paths from the loss to w."""
    eqs = ["  a1: w*x"]
    for i in range(1, k + 1):
        eqs += [f"  b{i}: sigmoid(a{i})", f"  c{i}: tanh(a{i})", f"  a{i + 1}: b{i} + c{i}"]
    return ("title: Diamonds\ninputs: [x]\nparams: {w: 0.5}\nmodel:\n" + "\n".join(eqs)
            + f"\noutputs: [a{k + 1}]\ntargets: [y]\ndata: {{x: 1, y: 0}}\nloss: mse\n")


def wide_network(n: int, outputs: int) -> str:
    units = ", ".join(f"h{j}" for j in range(n))
    first = "[" + ", ".join("[0.1, -0.2]" for _ in range(n)) + "]"
    second = "[" + ", ".join("[" + ", ".join(["0.01"] * n) + "]" for _ in range(outputs)) + "]"
    outs = [f"o{j}" for j in range(outputs)]
    return (f"title: Wide\nnetwork:\n  inputs: [x1, x2]\n  layers:\n"
            f"    - {{units: [{units}], activation: relu, weights: {first}}}\n"
            f"    - {{units: [{', '.join(outs)}], activation: {'softmax' if outputs > 1 else 'sigmoid'}, "
            f"weights: {second}}}\ntargets: [{', '.join(f't{j}' for j in range(outputs))}]\n"
            f"data: {{x1: 1, x2: 2, {', '.join(f't{j}: {int(j == 0)}' for j in range(outputs))}}}\n"
            f"loss: {draw_loss(outputs)}\n")


def draw_loss(outputs: int) -> str:
    return "cce" if outputs > 1 else "bce"


@st.composite
def generated_shape(draw):
    if draw(st.booleans()):
        text = diamond_chain(draw(st.integers(1, 30)))
    else:
        text = wide_network(draw(st.integers(1, 120)), draw(st.integers(1, 3)))
    raw = text.encode()
    if draw(st.booleans()):  # and a hostile number somewhere in it
        spot = draw(st.sampled_from(list(NUMBER.finditer(raw))))
        raw = raw[: spot.start()] + draw(st.sampled_from(HOSTILE_NUMBERS)) + raw[spot.end():]
    return "generated.yaml", raw


ERROR_LINE = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): error: .+\S$")
WARNING_LINE = re.compile(r"^.+:\d+:\d+: warning: .+\S$")


def check_outcome(tmp_path: Path, name: str, raw: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(raw)
    for args in (["validate", str(path)], ["solve", str(path), "--format", "json", "--max-steps", "30"]):
        result = runner.invoke(app, args)
        warnings = [line for line in result.stderr.splitlines() if WARNING_LINE.match(line)]
        stderr = "".join(line + "\n" for line in result.stderr.splitlines() if line not in warnings)
        assert "Traceback" not in stderr and "internal error" not in stderr, (raw.decode("utf-8", "replace"), stderr)
        assert "\x1b" not in result.stderr, result.stderr  # a control sequence in the input never reaches stderr raw
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


@FUZZ
@given(case=hostile_mutation())
def test_hostile_mutations(tmp_path_factory, case):
    check_outcome(tmp_path_factory.mktemp("fuzz"), *case)


@settings(FUZZ, max_examples=40)
@given(case=generated_shape())
def test_generated_shapes(tmp_path_factory, case):
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
