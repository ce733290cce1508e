"""tutor installs like any other tool: the wheel holds the whole package, its
metadata declares what the package imports (with floors that can be met), and
the commands work from an installed wheel with the source tree out of reach.
Also the command-line conveniences of an installed tool: --version,
`python -m tutor`, several files to validate, `-` for standard input."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from typer.testing import CliRunner

import tutor
from tutor.cli import app

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tutor"
PROBLEMS = ROOT / "problems"
runner = CliRunner()


# ---------------------------------------------------------------- the wheel

@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the source (not the tree: its build/ may be stale)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(PACKAGE, source / "tutor", ignore=shutil.ignore_patterns("__pycache__"))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w",
                            str(work / "dist")], capture_output=True, text=True)
    if build.returncode != 0 and "No matching distribution found for setuptools" in build.stdout + build.stderr:
        pytest.skip("no package index to fetch setuptools from")
    assert build.returncode == 0, build.stderr
    (built,) = (work / "dist").glob("tutor-*.whl")
    return built


def wheel_files(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def wheel_metadata(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(archive.read(name).decode("utf-8"))


def test_wheel_holds_every_module_and_data_file(wheel):
    """Every file of the package (subpackages, templates, fonts, ...), at its place."""
    source = {path.relative_to(ROOT).as_posix() for path in PACKAGE.rglob("*")
              if path.is_file() and "__pycache__" not in path.parts}
    assert "tutor/render/terminal.py" in source
    missing = sorted(source - wheel_files(wheel))
    assert not missing, f"not in the wheel: {missing}"


def test_wheel_carries_the_license_and_the_version(wheel):
    meta = wheel_metadata(wheel)
    assert meta["Version"] == tutor.__version__
    assert meta["License-Expression"] == "MIT"
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in wheel_files(wheel))
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")


def imported_distributions() -> set[str]:
    """The distributions that the package's own modules import (not the standard library)."""
    modules = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    third_party = modules - set(sys.stdlib_module_names) - {"tutor", "__future__"}
    owners = metadata.packages_distributions()
    return {normalize(dist) for module in third_party for dist in owners[module]}


def normalize(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def declared(wheel) -> dict[str, Requirement]:
    requirements = [Requirement(r) for r in wheel_metadata(wheel).get_all("Requires-Dist")]
    return {normalize(r.name): r for r in requirements if r.marker is None}


def test_dependencies_are_what_the_package_imports(wheel):
    assert set(declared(wheel)) == imported_distributions()


def floor(requirement: Requirement) -> str | None:
    floors = [spec.version for spec in requirement.specifier if spec.operator in (">=", "==")]
    return floors[0] if floors else None


def test_dependency_floors_satisfy_the_other_dependencies(wheel):
    """The oldest versions allowed must work together: typer needs rich >= 13.8, so
    `rich>=13` would let pip pick a rich that typer refuses."""
    ours = declared(wheel)
    assert all(floor(r) for r in ours.values()), "every dependency has a floor"
    conflicts = []
    for name in ours:
        for text in metadata.requires(name) or ():
            theirs = Requirement(text)
            other = normalize(theirs.name)
            if other in ours and theirs.marker is None and not theirs.specifier.contains(floor(ours[other])):
                conflicts.append(f"{name} needs {theirs}, we allow {ours[other]}")
    assert not conflicts


RUN_EVERY_COMMAND = """
import json, sys, tutor.render.terminal
from typer.testing import CliRunner
from tutor.cli import app
commands = [["solve", "p.yaml"], ["solve", "p.yaml", "--format", "json"], ["export", "p.yaml", "-o", "p.md"],
            ["export", "p.yaml", "-o", "p.html"], ["key", "p.yaml", "-o", "key.md"],
            ["check", "--template", "p.yaml", "-o", "answers.yaml"], ["validate", "p.yaml"]]
results = {" ".join(c): (r.exit_code, r.stderr) for c in commands for r in [CliRunner().invoke(app, c)]}
print(json.dumps({"imported_from": tutor.render.terminal.__file__, "results": results}))
"""


def test_installed_wheel_runs_every_command_outside_the_source_tree(wheel, tmp_path):
    """The wheel's files alone: no editable install, no source tree on the path."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    shutil.copy(PROBLEMS / "relu-2-2-2-one-step.yaml", tmp_path / "p.yaml")
    env = {**os.environ, "PYTHONPATH": str(site), "NO_COLOR": "1"}
    done = subprocess.run([sys.executable, "-c", RUN_EVERY_COMMAND], cwd=tmp_path, env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["imported_from"].startswith(str(site))
    assert {command: result for command, result in report["results"].items() if result != [0, ""]} == {}
    for written in ("p.md", "p.html", "key.md", "answers.yaml"):
        assert (tmp_path / written).stat().st_size > 0
    version = subprocess.run([sys.executable, "-m", "tutor", "--version"], cwd=tmp_path, env=env,
                             capture_output=True, text=True)
    assert version.stdout == f"tutor {tutor.__version__}\n"


# ---------------------------------------------------------------- the command line

def test_version_prints_the_package_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"tutor {tutor.__version__}\n"


def test_python_m_tutor_is_the_tutor_command():
    done = subprocess.run([sys.executable, "-m", "tutor", "--version"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"tutor {tutor.__version__}\n"
    usage = subprocess.run([sys.executable, "-m", "tutor", "--help"], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "NO_COLOR": "1", "COLUMNS": "80"})
    assert "Usage: tutor " in usage.stdout


def test_validate_takes_several_files_and_reports_each(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: no model\ntargets: [y]\ndata: {y: 1}\nloss: mse\nmodle: {}\n", encoding="utf-8")
    first, last = PROBLEMS / "mazur-2-2-2.yaml", PROBLEMS / "quadratic-momentum.yaml"
    result = runner.invoke(app, ["validate", str(first), str(bad), str(last)])
    assert result.exit_code == 2
    assert result.stdout.splitlines() == [
        f"{first}: ok (Mazur's step-by-step backpropagation example (2-2-2 sigmoid network))",
        f"{last}: ok (Mini-batch momentum on a quadratic model)",
    ]
    assert result.stderr.startswith(f"{bad}:5:1: error: unknown key 'modle'")
    assert len(result.stderr.splitlines()) == 1


def test_validate_all_good_exits_0():
    files = [str(p) for p in sorted(PROBLEMS.glob("*.yaml"))]
    result = runner.invoke(app, ["validate", *files])
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == len(files)


def test_dash_reads_the_problem_from_stdin():
    path = PROBLEMS / "relu-2-2-2-one-step.yaml"
    text = path.read_text(encoding="utf-8")
    from_file = runner.invoke(app, ["solve", str(path), "--format", "json"])
    from_stdin = runner.invoke(app, ["solve", "-", "--format", "json"], input=text)
    assert from_stdin.exit_code == 0, from_stdin.stderr
    assert from_stdin.stdout == from_file.stdout
    assert runner.invoke(app, ["validate", "-"], input=text).stdout.startswith("<stdin>: ok")
    exported = runner.invoke(app, ["export", "-", "-o", "-", "--format", "md"], input=text)
    assert exported.exit_code == 0 and exported.stdout.startswith("# ")
    template = runner.invoke(app, ["check", "--template", "-"], input=text)
    assert template.exit_code == 0 and template.stdout.startswith("# Answers for:")


def test_dash_errors_name_stdin_with_line_and_column():
    result = runner.invoke(app, ["validate", "-"], input="title: x\ntargets: [y]\n")
    assert result.exit_code == 2
    assert result.stderr.startswith("<stdin>:1:1: error: missing key")
    not_utf8 = runner.invoke(app, ["solve", "-"], input=b"title: caf\xe9\n")
    assert not_utf8.exit_code == 2
    assert not_utf8.stderr.startswith("<stdin>:1:11: error: expected UTF-8 text, found the byte 0xE9")
    assert not_utf8.stdout == ""
