"""Nothing in a problem file runs code, hangs tutor, or escapes as a traceback."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tutor.cli import app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()

MODEL = """title: attack
inputs: [x]
params: {w: 1}
model:
  y: {equation}
outputs: [y]
targets: [t]
data: {x: 1, t: 0}
loss: mse
"""


def solve(tmp_path, text: str):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return path, runner.invoke(app, ["solve", str(path), "--format", "json"])


BUILTINS_THAT_RUN_TEXT = {"eval", "exec", "compile", "__import__"}   # as bare names (re.compile is fine)
FORBIDDEN_ANYWHERE = {"sympify", "parse_expr", "lambdify", "parse_latex"}


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


# The one place that compiles code: float code tutor generates from its derivation,
# checked token by token first (arith.generated_source; tests/test_generated.py).
CODE_GENERATION = ("arith.py", "function_of")


def _inside(tree: ast.AST, function: str) -> set[ast.AST]:
    return {node for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name == function
            for node in ast.walk(f)}


def test_no_eval_exec_sympify_or_unsafe_yaml_in_the_package():
    """Read the package's syntax trees: no call that turns text into code (but the
    generated float code's), and YAML read only through ruamel's round-trip (safe) loader."""
    offenders = []
    for path in sorted((ROOT / "tutor").rglob("*.py")):
        tree = ast.parse(path.read_text())
        allowed = _inside(tree, CODE_GENERATION[1]) if path.name == CODE_GENERATION[0] else set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _called_name(node)
                bare = isinstance(node.func, ast.Name) and node not in allowed
                if name in FORBIDDEN_ANYWHERE or (bare and name in BUILTINS_THAT_RUN_TEXT):
                    offenders.append(f"{path.name}:{node.lineno}: calls {name}")
                if name == "YAML":
                    typ = [k.value for k in node.keywords if k.arg == "typ"]
                    if not typ or not isinstance(typ[0], ast.Constant) or typ[0].value not in ("rt", "safe"):
                        offenders.append(f"{path.name}:{node.lineno}: YAML loader must be typ='rt' or 'safe'")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                if any(n == "yaml" or n.startswith("yaml.") for n in names):
                    offenders.append(f"{path.name}:{node.lineno}: imports PyYAML")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("equation", [
    '"__import__(''os'').system(''true'')"',
    '"w.__class__"',
    '"x.real"',
    '"(lambda: 1)()"',
    '"f''{w}''"',
    '"w if x else x"',
    '"[w, x]"',
    '"w; x"',
    '"__builtins__"',
    '"open(''/etc/passwd'')"',
    '"x @ w"',
    '"10**10**10"',
    '"w*" ' + "x" * 0,
    '"' + "(" * 500 + "x" + ")" * 500 + '"',
    '"' + "-" * 5000 + 'x"',
    '"' + "+".join(["x"] * 3000) + '"',
])
def test_hostile_equations_are_input_errors(tmp_path, equation):
    path, result = solve(tmp_path, MODEL.replace("{equation}", equation))
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: error: ", result.stderr)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("number", ['"__import__(''os'')"', '"1e999999999"', '"9**9**9**9"', '"exp(exp(100))"',
                                    '"log(-1)"', '"1/0"', '"sqrt(-1)"', ".nan", ".inf", "1e400"])
def test_hostile_numbers_are_input_errors(tmp_path, number):
    text = MODEL.replace("{equation}", "w*x").replace("params: {w: 1}", f"params: {{w: {number}}}")
    path, result = solve(tmp_path, text)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: error: ", result.stderr)


def test_yaml_alias_bomb_is_refused(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    bomb = "\n".join(lines) + "\ntitle: bomb\n"
    path, result = solve(tmp_path, "meta:\n  " + bomb.replace("\n", "\n  ").rstrip() + "\n" + MODEL.replace(
        "{equation}", "w*x").replace("title: attack\n", ""))
    assert result.exit_code == 2
    assert "error:" in result.stderr


def test_python_tags_are_not_constructed(tmp_path):
    text = MODEL.replace("{equation}", "w*x").replace("title: attack", "title: !!python/object/apply:os.system [true]")
    path, result = solve(tmp_path, text)
    assert result.exit_code == 2
    assert re.match(rf"{re.escape(str(path))}:1:\d+: error: ", result.stderr)
