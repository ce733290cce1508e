"""What a TA explains besides the numbers: ∂E/∂o derived from the loss's formula (the ½
and the 2 cancel), the δ form beside the path form, and lines whose numbers nearly cancel
shown with the digits that make them recompute."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
import sympy

from tutor.api import solve_problem
from tutor.derive import worked_partial
from tutor.ops import LOSSES
from tutor.render.notation import print_math
from tutor.render.terminal import render_terminal
from tutor.solution import build_solution

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = sorted((ROOT / "problems").glob("*.yaml"))


@lru_cache(maxsize=None)
def solution_of(path: Path):
    return build_solution(solve_problem(path))


def backwards(solution):
    if solution.evaluation is not None and solution.evaluation.backward is not None:
        yield solution.evaluation.backward
    for part in solution.steps:
        if part.backward is not None:
            yield part.backward


# ---------------------------------------------------------------- ∂E/∂o from the loss's formula

def test_the_half_and_the_two_cancel():
    t1, o1 = sympy.symbols("t1 o1", real=True)
    worked = worked_partial((t1 - o1) ** 2 / 2, o1)
    assert print_math(worked) == "2·(t1 − o1)·(−1)/2"
    assert sympy.simplify(worked.doit() - (o1 - t1)) == 0


@pytest.mark.parametrize("name", ["mse", "sse", "half_sse", "bce", "cce", "mae", "hinge"])
def test_the_worked_partial_is_the_partial_for_every_named_loss(name: str):
    o = list(sympy.symbols("o1 o2", real=True))
    t = list(sympy.symbols("t1 t2", real=True))
    loss = LOSSES[name].build(o, t)
    for x in o:
        worked = worked_partial(loss, x)
        # compare where the kinks do not matter: at a point, numerically
        point = {o[0]: 0.3, o[1]: 0.6, t[0]: 0.0, t[1]: 1.0}
        assert float(worked.doit().subs(point).evalf()) == pytest.approx(
            float(sympy.diff(loss, x).subs(point).evalf()), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("path", PROBLEMS, ids=[p.stem for p in PROBLEMS])
def test_each_derived_loss_partial_equals_the_one_the_working_uses(path: Path):
    solution = solution_of(path)
    derived = [d for b in backwards(solution) for d in b.from_loss]
    assert len({d.lhs for d in derived}) == len(derived)        # once per solution
    for d in derived:
        if d.worked is not None:
            assert sympy.simplify(d.worked.doit() - d.result) == 0, (d.lhs, d.worked, d.result)
        x = sympy.Symbol(d.lhs.wrt, real=True)
        assert sympy.simplify(sympy.diff(d.term, x) - d.result) == 0


def test_mazur_derives_dE_do1_in_one_line():
    text = render_terminal(solution_of(ROOT / "problems" / "mazur-2-2-2.yaml"), width=80, color=False)
    assert "∂E/∂o1 = ∂/∂o1 [(t1 − o1)²/2] = 2·(t1 − o1)·(−1)/2 = o1 − t1" in text
    assert text.index("∂/∂o1 [") < text.index("Backward pass: local derivatives")
