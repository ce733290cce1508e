"""The library's front door: problem text or file in, solution out."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any, TextIO

from .errors import ProblemError
from .limits import JSON, Rendering, apply_limits
from .problem import Problem, load_problem, parse_problem
from .render.json import solution_dict, write_json
from .train import Run, train, training


STDIN = "-"            # the problem-file argument that means "read standard input"
STDIN_NAME = "<stdin>"  # how messages name it


def read_problem(path: str | Path) -> Problem:
    """A problem file, or with ``-`` the problem's YAML read from standard input."""
    if str(path) != STDIN:
        return load_problem(path)
    raw = sys.stdin.buffer.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:  # the same message as problem.load_problem gives for a file
        line = raw[: exc.start].count(b"\n") + 1
        col = len(raw[raw.rfind(b"\n", 0, exc.start) + 1: exc.start].decode("utf-8")) + 1
        raise ProblemError(STDIN_NAME, line, col, f"expected UTF-8 text, found the byte 0x{raw[exc.start]:02X}, "
                                                  f"which UTF-8 does not allow here; save the file as UTF-8") from None
    return parse_problem(text, STDIN_NAME)


def solve_problem(path: str | Path, *, max_steps: int | None = None, yes: bool = True,
                  arithmetic: str | None = None, details: bool = True, rendering: Rendering = JSON) -> Run:
    """Load and solve a problem file (``-``: standard input). ``max_steps`` caps the
    training; unless ``yes``, a problem estimated to take over a minute (solving, then
    the ``rendering``) is refused (limits.TooLongError); ``arithmetic`` overrides the
    problem's own ("exact", "float"); ``details``: see train."""
    return train(_load(path, max_steps, yes, arithmetic, rendering), details=details)


def write_solution_json(path: str | Path, out: TextIO, *, max_steps: int | None = None, yes: bool = True,
                        arithmetic: str | None = None) -> Run:
    """Solve a problem file, writing its JSON solution to ``out`` step by step as
    the steps are computed (memory flat in the number of steps). Arguments as for
    `solve_problem`; the run returned has no steps, only its outcome."""
    run, steps = training(_load(path, max_steps, yes, arithmetic, JSON))
    write_json(run, steps, out)
    return run


def _load(path: str | Path, max_steps: int | None, yes: bool, arithmetic: str | None,
          rendering: Rendering) -> Problem:
    problem = read_problem(path)
    if arithmetic is not None:
        problem = dataclasses.replace(problem, arithmetic=arithmetic, round_decimals=None)
    return apply_limits(problem, max_steps, yes, rendering)


def solve_text(text: str, path: str = "problem.yaml") -> dict[str, Any]:
    """The solution JSON (as a dict) of a problem given as YAML text."""
    return solution_dict(train(parse_problem(text, path), details=False))


def solve_file(path: str | Path) -> dict[str, Any]:
    return solution_dict(solve_problem(path, details=False))
