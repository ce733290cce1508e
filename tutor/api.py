"""The library's front door: problem text or file in, solution out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .problem import load_problem, parse_problem
from .render.json import solution_dict
from .train import Run, train


def solve_problem(path: str | Path) -> Run:
    return train(load_problem(path))


def solve_text(text: str, path: str = "problem.yaml") -> dict[str, Any]:
    """The solution JSON (as a dict) of a problem given as YAML text."""
    return solution_dict(train(parse_problem(text, path)))


def solve_file(path: str | Path) -> dict[str, Any]:
    return solution_dict(solve_problem(path))
