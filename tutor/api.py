"""The library's front door: problem text or file in, solution out."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, TextIO

from .limits import apply_limits
from .problem import Problem, load_problem, parse_problem
from .render.json import solution_dict, write_json
from .train import Run, train, training


def _load(path: str | Path, max_steps: int | None, yes: bool, arithmetic: str | None) -> Problem:
    problem = load_problem(path)
    if arithmetic is not None:
        problem = dataclasses.replace(problem, arithmetic=arithmetic, round_decimals=None)
    return apply_limits(problem, max_steps, yes)


def solve_problem(path: str | Path, *, max_steps: int | None = None, yes: bool = True,
                  arithmetic: str | None = None, details: bool = True) -> Run:
    """Load and solve a problem file. ``max_steps`` caps the training; unless ``yes``,
    a problem estimated to take over a minute is refused (limits.TooLongError);
    ``arithmetic`` overrides the problem's own ("exact", "float"); ``details``: see train."""
    return train(_load(path, max_steps, yes, arithmetic), details=details)


def write_solution_json(path: str | Path, out: TextIO, *, max_steps: int | None = None, yes: bool = True,
                        arithmetic: str | None = None) -> Run:
    """Solve a problem file, writing its JSON solution to ``out`` step by step as
    the steps are computed (memory flat in the number of steps). Arguments as for
    `solve_problem`; the run returned has no steps, only its outcome."""
    run, steps = training(_load(path, max_steps, yes, arithmetic))
    write_json(run, steps, out)
    return run


def solve_text(text: str, path: str = "problem.yaml") -> dict[str, Any]:
    """The solution JSON (as a dict) of a problem given as YAML text."""
    return solution_dict(train(parse_problem(text, path), details=False))


def solve_file(path: str | Path) -> dict[str, Any]:
    return solution_dict(solve_problem(path, details=False))
