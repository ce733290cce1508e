"""The output side never imports the engine: printers receive a `Solution` (built once,
by `solution.build_solution`) and spell it; they never train, evaluate or re-derive.

The import graph is read from the source with `ast` (imports inside functions count
too; imports under ``if TYPE_CHECKING:`` are types only and do not).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tutor"
ENGINE = {"tutor.train", "tutor.evaluate"}
# The worked solution's printers and what they are made of. Not here: render/json.py,
# which writes the run itself (the JSON contract, every number of every step), and
# render/check_report.py, the checker's report.
OUTPUT_SIDE = ["tutor.records", "tutor.document", "tutor.key", "tutor.render.walk", "tutor.render.terminal",
               "tutor.render.markdown", "tutor.render.latex", "tutor.render.html", "tutor.render.notation",
               "tutor.render.numbers", "tutor.render.svg", "tutor.render.tikz", "tutor.render.textdiagram",
               "tutor.render.textplot", "tutor.render.usertext"]


def _path(module: str) -> Path:
    parts = module.split(".")[1:]
    file = PACKAGE.joinpath(*parts).with_suffix(".py")
    return file if file.exists() else PACKAGE.joinpath(*parts, "__init__.py")


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(module: str) -> set[str]:
    """The tutor modules ``module`` imports, anywhere in its source but under TYPE_CHECKING."""
    tree = ast.parse(_path(module).read_text(encoding="utf-8"))
    package = module if _path(module).name == "__init__.py" else module.rsplit(".", 1)[0]
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("tutor"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("tutor"):
                out.add(target)
                for alias in node.names:   # from . import document: a module, not a name
                    if _path(f"{target}.{alias.name}").exists():
                        out.add(f"{target}.{alias.name}")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in out if _path(m).exists()}


def reachable(module: str) -> dict[str, str]:
    """Every tutor module ``module`` imports, directly or not: module -> who imports it."""
    seen = {module: ""}
    todo = [module]
    while todo:
        current = todo.pop()
        for dep in sorted(imports_of(current)):
            if dep not in seen:
                seen[dep] = current
                todo.append(dep)
    return seen


@pytest.mark.parametrize("module", OUTPUT_SIDE)
def test_the_output_side_does_not_import_the_engine(module: str):
    seen = reachable(module)
    for engine in ENGINE:
        if engine in seen:
            chain = [engine]
            while seen[chain[-1]]:
                chain.append(seen[chain[-1]])
            pytest.fail(f"{module} imports {engine}: " + " <- ".join(chain))


def test_the_check_sees_an_engine_import(tmp_path):
    """The test can fail: the library's builder of solutions does import the engine."""
    assert "tutor.train" in reachable("tutor.solution")


def test_importing_the_printers_loads_no_engine():
    """The same, as Python sees it: a fresh interpreter that imports every printer."""
    import subprocess
    import sys

    code = ("import sys, " + ", ".join(OUTPUT_SIDE) + "\n"
            "print(sorted(m for m in sys.modules if m in ('tutor.train', 'tutor.evaluate')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
