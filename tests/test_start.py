"""`tutor solve FILE --format json` runs without the CLI library (tutor/start.py):
the same bytes, messages and exit codes as through the typer app, and every other
command line goes to the app."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tutor.start import _solve_json_fast

ROOT = Path(__file__).resolve().parent.parent
PROBLEM = str(ROOT / "problems" / "relu-2-2-2-one-step.yaml")
DIVERGING = """title: diverges
inputs: [x]
params: {w: 1}
model: {y: w*x}
outputs: [y]
targets: [t]
data: {x: 10, t: 0}
loss: sse
optimizer: {name: sgd, lr: 1}
training: {epochs: 200}
"""


def tutor(*args: str, stdin: str | None = None) -> tuple[bytes, bytes, int]:
    proc = subprocess.run([sys.executable, "-m", "tutor", *args], capture_output=True, input=stdin and stdin.encode())
    return proc.stdout, proc.stderr, proc.returncode


@pytest.mark.parametrize("args", [
    ["--format", "json"],
    ["-f", "json", "--yes", "--max-steps", "0"],
    ["--exact", "--format=json", "-y"],
], ids=["format", "short", "exact"])
def test_the_fast_path_writes_what_the_app_writes(args: list[str]):
    fast = tutor("solve", PROBLEM, *args)
    app = tutor("solve", PROBLEM, *args, "--digits", "4")  # an option only the app reads
    assert fast == app and fast[2] == 0 and fast[0].startswith(b'{"title"')


@pytest.mark.parametrize("file,stdin", [
    ("no-such-file.yaml", None),                      # not found: exit 2
    (str(ROOT / "tests" / "invalid" / "yaml-syntax-error.yaml"), None),
    ("-", DIVERGING),                                  # from stdin; diverges: exit 1
])
def test_the_fast_path_fails_as_the_app_fails(file: str, stdin: str | None):
    fast = tutor("solve", file, "--format", "json", stdin=stdin)
    app = tutor("solve", file, "--format", "json", "--digits", "4", stdin=stdin)
    assert fast == app and fast[2] in (1, 2) and fast[1]


@pytest.mark.parametrize("args", [
    ["solve", "p.yaml"],                                      # the terminal solution
    ["solve", "p.yaml", "--format", "text"],
    ["solve", "--format", "json"],                            # no file
    ["solve", "p.yaml", "q.yaml", "--format", "json"],        # two files
    ["solve", "p.yaml", "--format", "json", "--yes", "-y"],   # an option twice
    ["solve", "p.yaml", "--format", "json", "--max-steps", "-1"],
    ["solve", "p.yaml", "--format", "json", "--max-steps"],
    ["solve", "p.yaml", "--format", "json", "--help"],
    ["solve", "p.yaml", "--format", "JSON"],
    ["solve", "p.yaml", "--format"],
    ["export", "p.yaml", "--format", "json"],
])
def test_every_other_command_line_goes_to_the_app(args: list[str]):
    assert _solve_json_fast(args) is None


def test_sympy_tensors_still_work_after_the_stand_in():
    """The fast path defers SymPy's tensor module (adding no longer loads it and the
    combinatorics it imports); whoever asks for it gets the real one."""
    code = ("from tutor.start import defer_sympy_tensors\n"
            "defer_sympy_tensors()\n"
            "import sys, sympy\n"
            "assert str(sympy.Symbol('x') + 1) == 'x + 1'\n"
            "assert 'sympy.combinatorics' not in sys.modules  # deferred: adding does not load it\n"
            "from sympy.tensor.tensor import TensorIndexType, tensor_indices, TensorHead\n"
            "L = TensorIndexType('L'); i = tensor_indices('i', L); A = TensorHead('A', [L])\n"
            "print(A(i) + A(i))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "2*A(i)", proc.stderr


def test_the_library_is_imported_without_collections_and_frozen():
    """The console script imports the library with the garbage collector paused, then
    freezes what the import made and collects again from there."""
    code = ("import gc\n"
            "from tutor.start import import_uncollected\n"
            "before = gc.get_stats()\n"
            "import_uncollected('.api')\n"
            "after = gc.get_stats()\n"
            "assert 'sympy' in __import__('sys').modules\n"
            "print(gc.isenabled(), gc.get_freeze_count() > 10_000,\n"
            "      [a['collections'] - b['collections'] for a, b in zip(after, before)])\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "True True [0, 0, 0]", proc.stderr


NEVER_ON_THE_FAST_PATH = ["typer", "click", "rich", "tutor.cli", "tutor.solution", "tutor.render.terminal",
                          "sympy.combinatorics", "difflib"]


def test_the_fast_path_imports_and_builds_only_what_it_needs():
    """A fresh `solve --format json` imports no CLI library, printer or suggestion
    machinery, and builds the update rules of its own optimizer only."""
    code = ("import json, os, sys\n"
            "from tutor.start import _solve_json_fast\n"
            "out, sys.stdout = sys.stdout, open(os.devnull, 'w')\n"
            f"code = _solve_json_fast(['solve', {PROBLEM!r}, '--format', 'json'])\n"
            "from tutor.optim import OPTIMIZERS\n"
            "built = [name for name, o in OPTIMIZERS.items() if 'forms' in vars(o)]\n"
            "out.write(json.dumps([code, built, sorted(sys.modules)]))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    exit_code, built, modules = json.loads(proc.stdout or "null") or (None, None, [])
    assert (exit_code, built) == (0, ["sgd"]), proc.stderr
    imported = [m for m in NEVER_ON_THE_FAST_PATH if any(k == m or k.startswith(m + ".") for k in modules)]
    assert imported == []
