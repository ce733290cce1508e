"""The op table: each textbook derivative is proved equal to sympy.diff of the
function's definition, and each float kernel agrees with that definition."""

from __future__ import annotations

import math

import pytest
import sympy

from tutor.ops import LOSSES, OPS, USER_FUNCTIONS

x, y = sympy.symbols("x y", real=True)
DEFINED = [op for op in OPS.values() if op.definition is not None]
# Points away from every kink, on both sides of it.
POINTS = [-2.5, -0.7, -0.01, 0.3, 1.9]


def _textbook(op, args):
    return sympy.diff(op.sympy_fn(*args), args[0])


def _definition_diff(op, args):
    return sympy.diff(op.definition(*args), args[0])


def _args(op, value):
    """The arguments at which to compare: the second argument of two-argument
    functions is a fixed slope/alpha or the other operand."""
    return {1: (value,), 2: (value, sympy.Rational(3, 10))}[op.arity]


def _num(expr) -> float:
    return float(sympy.N(expr.rewrite(sympy.exp) if expr.has(sympy.tanh) else expr, 30))


@pytest.mark.parametrize("op", DEFINED, ids=[op.name for op in DEFINED])
def test_textbook_derivative_equals_sympy_diff(op):
    arity_args = (x,) if op.arity == 1 else (x, y)
    textbook = _textbook(op, arity_args)
    from_definition = _definition_diff(op, arity_args)
    # Symbolic where SymPy can decide it; the kink-free points below in any case.
    for point in POINTS:
        if op.name == "log" and point <= 0 or op.name == "sqrt" and point <= 0:
            continue
        subs = dict(zip(arity_args, _args(op, sympy.Rational(str(point)))))
        a = textbook.subs(subs).doit()
        b = from_definition.subs(subs).doit()
        assert math.isclose(_num(a), _num(b), rel_tol=1e-12, abs_tol=1e-15), (op.name, point, a, b)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "silu", "gelu", "exp", "log", "sqrt"])
def test_smooth_textbook_derivatives_symbolically(name):
    op = OPS[name]
    textbook = _textbook(op, (x,)).rewrite(sympy.exp)
    rewritten = textbook.replace(lambda e: isinstance(e, tuple(c for c in (OPS["sigmoid"].sympy_fn,))),
                                 lambda e: 1 / (1 + sympy.exp(-e.args[0])))
    rewritten = rewritten.replace(lambda e: type(e) is OPS["softplus"].sympy_fn,
                                  lambda e: sympy.log(1 + sympy.exp(e.args[0])))
    difference = sympy.simplify(rewritten - _definition_diff(op, (x,)).rewrite(sympy.exp))
    assert difference == 0


@pytest.mark.parametrize("op", DEFINED, ids=[op.name for op in DEFINED])
def test_float_kernel_agrees_with_definition(op):
    for point in POINTS + [0.0]:
        if op.name in ("log", "sqrt") and point <= 0:
            continue
        args = _args(op, point)
        exact = float(sympy.N(op.definition(*[sympy.Float(a, 30) for a in args]), 30))
        assert math.isclose(op.numeric(*[float(a) for a in args]), exact, rel_tol=1e-14, abs_tol=1e-16)


@pytest.mark.parametrize("name, at_zero", [("relu", 0), ("abs", 0), ("leaky_relu", sympy.Rational(3, 10)),
                                           ("elu", sympy.Rational(3, 10))])
def test_pytorch_conventions_at_the_kink(name, at_zero):
    op = OPS[name]
    args = _args(op, sympy.Integer(0))
    derivative = sympy.diff(op.sympy_fn(x, *args[1:]), x).subs(x, 0)
    assert derivative == at_zero


def test_max_and_min_split_a_tie_evenly():
    for name in ("max", "min"):
        fn = OPS[name].sympy_fn
        assert sympy.diff(fn(x, y), x).subs({x: 1, y: 1}) == sympy.Rational(1, 2)
        assert sympy.diff(fn(x, y), y).subs({x: 1, y: 1}) == sympy.Rational(1, 2)


def test_softmax_derivative_is_the_jacobian():
    z1, z2, z3 = sympy.symbols("z1 z2 z3", real=True)
    softmax = OPS["softmax"].sympy_fn
    point = {z1: sympy.Rational(1, 2), z2: -1, z3: 2}
    for k in (1, 2, 3):
        definition = sympy.exp([z1, z2, z3][k - 1]) / sum(sympy.exp(z) for z in (z1, z2, z3))
        for z in (z1, z2, z3):
            textbook = sympy.diff(softmax(k, z1, z2, z3), z).subs(point)
            assert math.isclose(float(textbook), float(sympy.diff(definition, z).subs(point)), rel_tol=1e-13)


def test_every_user_function_has_a_definition_and_a_kernel():
    for op in USER_FUNCTIONS.values():
        assert op.definition is not None and callable(op.numeric)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_of_a_perfect_prediction(name):
    o, t = sympy.symbols("o t", real=True)
    value = LOSSES[name].build([o], [t]).subs({o: sympy.Rational(1, 1) if name not in ("bce",) else sympy.Rational(1, 2),
                                                 t: sympy.Rational(1, 1) if name not in ("bce",) else sympy.Rational(1, 2)})
    if name in ("bce",):
        assert math.isclose(float(value), math.log(2))
    elif name == "cce":
        assert value == 0  # −1·log 1
    else:
        assert value == 0


@pytest.mark.parametrize("name", ["max", "min"])
def test_nary_max_and_min_derivatives_equal_sympy_diff(name):
    z = sympy.Symbol("z", real=True)
    op = OPS[name]
    fn = op.sympy_fn(x, y, z)
    # Distinct values, so every argument is once the largest and once the smallest.
    for point in [(1, 2, 3), (3, 1, 2), (2, 3, 1), (-1, sympy.Rational(1, 2), -3)]:
        subs = dict(zip((x, y, z), map(sympy.S, point)))
        assert fn.subs(subs) == op.definition(*subs.values())
        assert op.numeric(*map(float, subs.values())) == float(op.definition(*subs.values()))
        for arg in (x, y, z):
            textbook = sympy.diff(fn, arg).subs(subs)
            assert textbook == sympy.diff(op.definition(x, y, z), arg).subs(subs), (name, point, arg)


@pytest.mark.parametrize("name", ["max", "min"])
def test_nary_max_and_min_split_a_tie_in_equal_parts(name):
    z, w = sympy.symbols("z w", real=True)
    fn = OPS[name].sympy_fn(x, y, z, w)
    extreme, other = (5, -7) if name == "max" else (-7, 5)
    three_tied = {x: extreme, y: extreme, z: other, w: extreme}
    assert [sympy.diff(fn, a).subs(three_tied) for a in (x, y, z, w)] == [sympy.Rational(1, 3)] * 2 + [0] + [
        sympy.Rational(1, 3)]
    all_tied = {x: 2, y: 2, z: 2, w: 2}
    assert [sympy.diff(fn, a).subs(all_tied) for a in (x, y, z, w)] == [sympy.Rational(1, 4)] * 4
    share = OPS[f"{name}_share"].numeric
    assert [share(i, float(extreme), float(extreme), float(other), float(extreme)) for i in (1, 2, 3, 4)] == [
        1 / 3, 1 / 3, 0.0, 1 / 3]


@pytest.mark.parametrize("name", list(LOSSES))
def test_every_loss_spells_its_formula_in_unicode_and_latex(name):
    from tutor.render.notation import latex_loss_formula

    loss = LOSSES[name]
    assert loss.formula.startswith("E = ") and loss.latex
    assert latex_loss_formula(loss.formula) == "E = " + loss.latex


def test_conventions_notes_come_from_the_ops_a_problem_uses():
    assert [op.name for op in OPS.values() if op.convention] == ["relu", "leaky_relu", "elu", "max", "min"]
    assert OPS["max"].convention_note(2) == "max/min at a tie: each argument gets ½ (H(0) = ½)"
    assert OPS["min"].convention_note(3).endswith("; of k tied arguments, each gets 1/k")


def test_function_names_default_to_the_op_name():
    assert (OPS["sigmoid"].unicode_name, OPS["sigmoid"].latex_name) == ("σ", r"\sigma")
    assert (OPS["relu'"].unicode_name, OPS["relu'"].latex_name) == ("relu'", r"\operatorname{relu}")
    assert OPS["leaky_relu'"].latex_name == r"\mathrm{leaky\_relu}"


def test_the_checker_reads_each_entry_s_own_facts():
    assert [name for name, op in OPS.items() if op.unit] == [
        "sigmoid", "relu", "tanh", "softplus", "leaky_relu", "elu", "silu", "gelu"]
    assert [name for name, loss in LOSSES.items() if loss.probabilities] == ["bce", "cce"]
    assert {name for name, loss in LOSSES.items() if loss.nonnegative} == {"mse", "sse", "half_sse", "mae", "bce",
                                                                           "cce"}
    assert {tag for loss in LOSSES.values() for tag in loss.slips} == {"half_dropped", "half_added",
                                                                       "mean_over_outputs"}
