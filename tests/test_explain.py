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
    flowing = " ".join(text.split())
    assert ("From the loss's formula, by the chain rule: ∂E/∂o1 = ∂/∂o1 [(t1 − o1)²/2] = 2·(t1 − o1)·(−1)/2 "
            "= o1 − t1, likewise ∂E/∂o2 = o2 − t2.") in flowing
    assert flowing.index("Backward pass: local derivatives") < flowing.index("∂/∂o1 [") < flowing.index("derivative formula")
    assert flowing.count("∂/∂o1 [") == 1


# ---------------------------------------------------------------- the δ way beside the path form

def recomputed(calc) -> float:
    """A chain-rule line's value from its own substituted numbers (float64)."""
    return float(calc.expr.subs({sympy.Symbol(k): float(v) for k, v in calc.values.items()}).evalf(30))


@pytest.mark.parametrize("path", PROBLEMS, ids=[p.stem for p in PROBLEMS])
def test_the_delta_way_gives_the_path_forms_gradients(path: Path):
    for backward in backwards(solution_of(path)):
        if not backward.delta_too:
            continue
        assert backward.form == "paths"
        assert len(backward.delta_too) == len(backward.samples)
        for paths, deltas in zip(backward.samples, backward.delta_too):
            by_path = dict(paths.gradients)
            assert [q for q, _ in deltas.gradients] == list(by_path)
            for q, calc in deltas.gradients:
                expected = float(by_path[q].value)
                if by_path[q].expr is not None:   # the path form's own numbers, recomputed
                    assert recomputed(by_path[q]) == pytest.approx(expected, rel=1e-9, abs=1e-15)
                if calc.expr is not None:
                    assert recomputed(calc) == pytest.approx(expected, rel=1e-9, abs=1e-15), (path.stem, q)
            for calc in deltas.deltas:   # each δ from the δ's above it: recomputes to its value
                assert recomputed(calc) == pytest.approx(float(calc.value), rel=1e-9, abs=1e-15)


def test_homework_networks_show_the_delta_way_once():
    shown = {p.stem for p in PROBLEMS if any(b.delta_too for b in backwards(solution_of(p)))}
    assert {"mazur-2-2-2", "sigmoid-2-2-1-scalar", "rnn-unroll-3-steps-by-hand"} <= shown
    # no hidden unit (a single neuron), already in the δ form or in matrices, a long training, or
    # nothing saved (relu-2-2-2 asks one weight behind each hidden unit: no δ serves two gradients)
    assert not shown & {"sigmoid-neuron-sgd", "batchnorm-batch-of-3", "sigmoid-2-2-1-matrix", "rnn-unroll-3-steps",
                        "relu-2-2-2-one-step"}
    for stem in shown:
        assert sum(bool(b.delta_too) for b in backwards(solution_of(ROOT / "problems" / f"{stem}.yaml"))) == 1


def test_mazur_shows_each_delta_once_and_reuses_it():
    text = render_terminal(solution_of(ROOT / "problems" / "mazur-2-2-2.yaml"), width=80, color=False)
    way = text[text.index("The same gradients, the δ way"):text.index("Update")]
    # Mazur's published values: ∂E/∂net_o1 = 0.138498562, ∂E/∂w5 = 0.082167041, ∂E/∂w1 = 0.000438568
    lines = [" ".join(line.split()) for line in way.splitlines()]
    assert "δ_o1 ∂E/∂o1·∂o1/∂net_o1 0.7414·0.1868 0.1385" in lines
    assert "∂E/∂w5 δ_o1·∂net_o1/∂w5 0.1385·0.5933 0.08217" in lines
    assert "∂E/∂w1 δ_h1·∂net_h1/∂w1 0.008771·0.05 0.0004386" in lines
    assert sum(line.startswith("δ_o1 ") for line in lines) == 1      # computed once, then reused
