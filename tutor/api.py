"""The library's front door: problem text or file in, solution out."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any, TextIO

from .errors import ProblemError, TutorError
from .limits import JSON, Rendering, apply_limits
from .problem import Problem, load_problem, parse_problem
from .render.json import solution_dict, write_json
from .train import Run, train, training


STDIN = "-"            # the problem-file argument that means "read standard input"
STDIN_NAME = "<stdin>"  # how messages name it
SYMBOLIC = "symbolic"   # the arithmetic with no numbers: a derivation (symbolic.py), not a training


def read_problem(path: str | Path, *, symbolic: bool = False) -> Problem:
    """A problem file, or with ``-`` the problem's YAML read from standard input. A
    symbolic problem (no numbers) is refused unless the caller handles it (``symbolic``)."""
    problem = _read_problem(path)
    return problem if symbolic else with_numbers(problem)


def with_numbers(problem: Problem) -> Problem:
    """The problem, for a command that needs numbers; a symbolic one is refused."""
    if problem.arithmetic == SYMBOLIC:
        raise TutorError(f"{problem.path}: arithmetic: symbolic has no numbers for this command; "
                         f"`tutor solve` and `tutor export` write its derivation")
    return problem


def _read_problem(path: str | Path) -> Problem:
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
    problem's own ("exact", "float"); ``details``: see train. A symbolic problem has
    no numbers to train on: see `solve_or_derive`."""
    return train(_load(path, max_steps, yes, arithmetic, rendering), details=details)


def solve_or_derive(path: str | Path, *, max_steps: int | None = None, yes: bool = True,
                    arithmetic: str | None = None, details: bool = True, rendering: Rendering = JSON):
    """`solve_problem`'s run, or for a symbolic problem its derivation (`symbolic.SymbolicSolution`)."""
    problem = read_problem(path, symbolic=True)
    if problem.arithmetic == SYMBOLIC:
        return _symbolic(problem, arithmetic)
    return train(_load(path, max_steps, yes, arithmetic, rendering, problem), details=details)


def write_solution_json(path: str | Path, out: TextIO, *, max_steps: int | None = None, yes: bool = True,
                        arithmetic: str | None = None) -> Run:
    """Solve a problem file, writing its JSON solution to ``out`` step by step as
    the steps are computed (memory flat in the number of steps). Arguments as for
    `solve_problem`; the run returned has no steps, only its outcome (a symbolic problem:
    its `SymbolicSolution`)."""
    problem = read_problem(path, symbolic=True)
    if problem.arithmetic == SYMBOLIC:
        from .render.symbolic_json import render_symbolic_json

        solution = _symbolic(problem, arithmetic)
        out.write(render_symbolic_json(solution))
        return solution
    run, steps = training(_load(path, max_steps, yes, arithmetic, JSON, problem))
    write_json(run, steps, out)
    return run


def _load(path: str | Path, max_steps: int | None, yes: bool, arithmetic: str | None,
          rendering: Rendering, problem: Problem | None = None) -> Problem:
    problem = problem or read_problem(path)
    if arithmetic is not None:
        problem = dataclasses.replace(problem, arithmetic=arithmetic, round_decimals=None)
    return apply_limits(problem, max_steps, yes, rendering)


def _symbolic(problem: Problem, arithmetic: str | None):
    from .symbolic import solve_symbolic

    if arithmetic is not None:
        raise TutorError(f"{problem.path}: arithmetic: symbolic has no numbers to solve in {arithmetic} "
                         f"arithmetic; leave out --{arithmetic}")
    return solve_symbolic(problem)


def solve_text(text: str, path: str = "problem.yaml") -> dict[str, Any]:
    """The solution JSON (as a dict) of a problem given as YAML text."""
    problem = parse_problem(text, path)
    if problem.arithmetic == SYMBOLIC:
        return _symbolic_dict(problem)
    return solution_dict(train(problem, details=False))


def solve_file(path: str | Path) -> dict[str, Any]:
    problem = read_problem(path, symbolic=True)
    if problem.arithmetic == SYMBOLIC:
        return _symbolic_dict(problem)
    return solution_dict(train(_load(path, None, True, None, JSON, problem), details=False))


def _symbolic_dict(problem: Problem) -> dict[str, Any]:
    from .render.symbolic_json import symbolic_dict

    return symbolic_dict(_symbolic(problem, None))
