"""The derivation is linear in the edges for any fan-in: each sum is split once per
equation, for the parameters' and nodes' partials and for the inputs' (∂net/∂x,
which the JSON's derivatives need) alike."""

from __future__ import annotations

import sympy

from tutor import derive as derive_module
from tutor.derive import derive
from tutor.graph import build_graph
from tutor.problem import parse_problem


def fan_in(n: int) -> str:
    """One sigmoid unit of n inputs (as benchmarks/run.py's fan-in row)."""
    inputs = [f"x{i}" for i in range(n)]
    weights = [[round((i * 7919 % 1000) / 1000 - 0.5, 3) for i in range(n)]]
    sample = ", ".join(f"{x}: {(i * 104729 % 200) / 100 - 1}" for i, x in enumerate(inputs))
    return "\n".join(["title: fan-in", "network:", f"  inputs: [{', '.join(inputs)}]", "  layers:",
                      "    - units: [o]", "      activation: sigmoid", f"      weights: {weights}",
                      "      bias: [0.1]", "targets: [t]", f"data: {{{sample}, t: 0.5}}", "loss: half_sse",
                      "optimizer: {name: sgd, lr: 0.01}", "training: {epochs: 1}"]) + "\n"


def test_no_partial_is_taken_of_a_whole_sum(monkeypatch):
    """Taking ∂net/∂x_i of the whole n-term sum, for each of n inputs, is n² work."""
    graph = build_graph(parse_problem(fan_in(64), "fan-in.yaml"))
    whole_sums = []
    original = derive_module.local_partial

    def watched(expr, x):
        if isinstance(expr, sympy.Add) and len(expr.args) > 8:
            whole_sums.append(x)
        return original(expr, x)

    monkeypatch.setattr(derive_module, "local_partial", watched)
    derivation = derive(graph)
    assert not whole_sums
    net = next(eq for eq in graph.equations if len(eq.expr.args) > 8)
    inputs = [graph.symbol(f"x{i}") for i in range(64)]
    assert [derivation.leaf_partials[(net.name, x.name)] for x in inputs] == \
        [sympy.diff(net.expr, x) for x in inputs]


def test_the_estimate_of_a_large_fan_in_is_linear_too():
    """limits.Size counts an edge's work by the terms it is taken of: a fan-in of 4096
    is a few seconds of derivation (it was estimated at minutes, and refused)."""
    from tutor.limits import LIMIT_SECONDS, estimate

    small, large = (estimate(parse_problem(fan_in(n), "fan-in.yaml")) for n in (1024, 4096))
    assert large.seconds < LIMIT_SECONDS
    assert large.costs["derivation"] < 4.5 * small.costs["derivation"]


def test_a_power_is_differentiated_as_sympy_does_it_without_building_a_log(monkeypatch):
    """u^n with n free of x: the same expression, node for node, as sympy.diff gives,
    without SymPy's n'·log(u) term (deciding log(u)'s properties was most of a small
    problem's derivation)."""
    from tutor.ops import relu, sigmoid

    x, y, a = (sympy.Symbol(n, real=True) for n in "xya")
    bases = [x + y, 2 * x + 2, a * x + 3 * x**2, 3 * x * y, sigmoid(x), 1 - sigmoid(x), relu(x - y), x / y]
    exponents = [2, 3, -1, sympy.Rational(1, 2), sympy.Rational(-3, 2), a, sympy.pi, sympy.Float(0.5)]
    powers = [b**n for b in bases for n in exponents if isinstance(b**n, sympy.Pow)]
    expected = [sympy.srepr(sympy.diff(p, x)) for p in powers]
    def no_log(*args):
        raise AssertionError(f"log{args} built")

    monkeypatch.setattr(sympy.functions.elementary.exponential, "log", no_log)  # where Pow finds it
    assert [sympy.srepr(derive_module.local_partial(p, x)) for p in powers] == expected
    assert len(powers) > 50
