"""The one table of operations: every function an equation may call, every helper
a derivative may produce, and every loss.

For each function the table holds how to evaluate it in float64 (`numeric`), its
SymPy class (whose ``fdiff`` is the *textbook* derivative, e.g. σ(z)(1−σ(z)),
rather than whatever ``simplify`` would return), the display name, and a
`definition` in SymPy built-ins that tests use to prove the textbook derivative
right. Conventions are PyTorch's: relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) =
slope, elu'(0) = alpha, max/min give ½ to each argument at a tie (1/k to each of
k tied arguments when they take more than two).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import sympy
from sympy import Abs, Function, Integer, Rational, exp, erf, log, pi, sign, sqrt, tanh
from sympy.core.logic import fuzzy_and

HALF = Rational(1, 2)


def _sign_of(x: sympy.Expr) -> int | None:
    """Sign of an exact constant (-1, 0, 1), or None while x still has symbols."""
    if not x.is_number:
        return None
    if x.is_zero:
        return 0
    positive = x.is_positive
    if positive is None:  # undecided by assumptions: decide numerically, at high precision
        value = x.evalf(60)
        if abs(value) < sympy.Float("1e-50"):
            return 0
        positive = bool(value > 0)
    return 1 if positive else -1


# ---------------------------------------------------------------- float64 kernels

def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _step(x: float, at_zero: float) -> float:
    return 1.0 if x > 0 else (at_zero if x == 0 else 0.0)


def _softmax(k: int, *zs: float) -> float:
    top = max(zs)
    weights = [math.exp(z - top) for z in zs]
    return weights[int(k) - 1] / math.fsum(weights)


def _max(*xs: float) -> float:
    return max(xs)


def _min(*xs: float) -> float:
    return min(xs)


def _tie_share(i: float, *xs: float) -> float:
    """1/m if xs[i] (1-based) is one of m equal largest values, else 0."""
    top = max(xs)
    return 1.0 / xs.count(top) if xs[int(i) - 1] == top else 0.0


# ---------------------------------------------------------------- SymPy classes
# Lower-case class names: they are the names the problem file uses.

class RealFunction(Function):
    """Real-valued for real arguments: tells SymPy that |f(x)|' = sign(f(x))·f'(x)
    needs no real and imaginary parts."""

    def _eval_is_extended_real(self):
        return fuzzy_and(a.is_extended_real for a in self.args)


class sigmoid(RealFunction):
    @classmethod
    def eval(cls, x):
        if x.is_number:
            return 1 / (1 + exp(-x))

    def fdiff(self, argindex=1):
        return self * (1 - self)


class bipolar_sigmoid(RealFunction):
    """2σ(x) − 1 (Fausett's bipolar activation), with values in (−1, 1)."""

    @classmethod
    def eval(cls, x):
        if x.is_number:
            return 2 / (1 + exp(-x)) - 1

    def fdiff(self, argindex=1):
        return (1 + self) * (1 - self) / 2


class relu_prime(RealFunction):
    """relu'(x): 1 for x > 0, else 0 (PyTorch: relu'(0) = 0)."""

    @classmethod
    def eval(cls, x):
        s = _sign_of(x)
        if s is not None:
            return Integer(1 if s > 0 else 0)


class relu(RealFunction):
    @classmethod
    def eval(cls, x):
        s = _sign_of(x)
        if s is not None:
            return x if s > 0 else Integer(0)

    def fdiff(self, argindex=1):
        return relu_prime(self.args[0])


class softplus(RealFunction):
    @classmethod
    def eval(cls, x):
        if x.is_number:
            return log(1 + exp(x))

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])


class leaky_relu_prime(RealFunction):
    """d leaky_relu(x, slope)/dx: 1 for x > 0, else slope (slope at 0, as PyTorch)."""

    @classmethod
    def eval(cls, x, slope):
        s = _sign_of(x)
        if s is not None:
            return Integer(1) if s > 0 else slope


class leaky_relu(RealFunction):
    @classmethod
    def eval(cls, x, slope):
        s = _sign_of(x)
        if s is not None and slope.is_number:
            return x if s > 0 else slope * x

    def fdiff(self, argindex=1):
        x, slope = self.args
        if argindex == 1:
            return leaky_relu_prime(x, slope)
        return min_(x, Integer(0))  # d/dslope: x where x < 0, else 0


class elu_prime(RealFunction):
    """d elu(x, alpha)/dx: 1 for x > 0, else alpha·e^x (alpha at 0, as PyTorch)."""

    @classmethod
    def eval(cls, x, alpha):
        s = _sign_of(x)
        if s is not None and alpha.is_number:
            return Integer(1) if s > 0 else alpha * exp(x)


class elu_alpha_prime(RealFunction):
    """d elu(x, alpha)/dalpha: e^x − 1 for x ≤ 0, else 0."""

    @classmethod
    def eval(cls, x):
        s = _sign_of(x)
        if s is not None:
            return Integer(0) if s > 0 else exp(x) - 1


class elu(RealFunction):
    @classmethod
    def eval(cls, x, alpha):
        s = _sign_of(x)
        if s is not None and alpha.is_number:
            return x if s > 0 else alpha * (exp(x) - 1)

    def fdiff(self, argindex=1):
        x, alpha = self.args
        return elu_prime(x, alpha) if argindex == 1 else elu_alpha_prime(x)


class silu(RealFunction):
    @classmethod
    def eval(cls, x):
        if x.is_number:
            return x / (1 + exp(-x))

    def fdiff(self, argindex=1):
        x = self.args[0]
        return sigmoid(x) * (1 + x * (1 - sigmoid(x)))


class gelu(RealFunction):
    @classmethod
    def eval(cls, x):
        if x.is_number:
            return x * (1 + erf(x / sqrt(2))) / 2

    def fdiff(self, argindex=1):
        x = self.args[0]
        return (1 + erf(x / sqrt(2))) / 2 + x * exp(-x**2 / 2) / sqrt(2 * pi)


class step_half(RealFunction):
    """H(x) with H(0) = ½: the derivative of max/min, splitting a tie evenly."""

    @classmethod
    def eval(cls, x):
        s = _sign_of(x)
        if s is not None:
            return {1: Integer(1), 0: HALF, -1: Integer(0)}[s]


def _extreme(args: tuple, sign: int) -> sympy.Expr | None:
    """The largest (sign 1) or smallest (sign −1) of constant-decidable arguments,
    the first of equals; None while some difference still has symbols."""
    best = args[0]
    for a in args[1:]:
        s = _sign_of(a - best) if (a - best).is_number else None
        if s is None:
            return None
        if s * sign > 0:
            best = a
    return best


class max_share(RealFunction):
    """∂max(a1, …, ak)/∂ai for k > 2, written max_share(i, a1, …, ak): 1/m if ai is
    one of m equal maxima, else 0 (a tie splits the gradient in equal parts)."""

    @classmethod
    def eval(cls, i, *args):
        top = _extreme(args, 1)
        if top is not None:
            tied = [a for a in args if _sign_of(a - top) == 0]
            return Rational(1, len(tied)) if _sign_of(args[int(i) - 1] - top) == 0 else Integer(0)


class min_share(RealFunction):
    """∂min(a1, …, ak)/∂ai for k > 2: 1/m if ai is one of m equal minima, else 0."""

    @classmethod
    def eval(cls, i, *args):
        low = _extreme(args, -1)
        if low is not None:
            tied = [a for a in args if _sign_of(a - low) == 0]
            return Rational(1, len(tied)) if _sign_of(args[int(i) - 1] - low) == 0 else Integer(0)


class max_(RealFunction):
    """max(a1, …, ak), k ≥ 2. Two arguments keep the textbook H(a − b) derivative."""

    @classmethod
    def eval(cls, *args):
        return _extreme(args, 1)

    def fdiff(self, argindex=1):
        if len(self.args) == 2:
            a, b = self.args
            return step_half(a - b) if argindex == 1 else step_half(b - a)
        return max_share(Integer(argindex), *self.args)


class min_(RealFunction):
    """min(a1, …, ak), k ≥ 2."""

    @classmethod
    def eval(cls, *args):
        return _extreme(args, -1)

    def fdiff(self, argindex=1):
        if len(self.args) == 2:
            a, b = self.args
            return step_half(b - a) if argindex == 1 else step_half(a - b)
        return min_share(Integer(argindex), *self.args)


class softmax(RealFunction):
    """softmax(k, z1, …, zn): the k-th output (1-based) of a softmax over z1…zn."""

    @classmethod
    def eval(cls, k, *zs):
        if all(z.is_number for z in zs):
            return exp(zs[int(k) - 1]) / sum(exp(z) for z in zs)

    def fdiff(self, argindex=2):
        k, *zs = self.args
        j = argindex - 1  # position of z_j among zs, 1-based
        s_j = softmax(Integer(j), *zs)
        return self * (1 - self) if j == int(k) else -self * s_j


# ---------------------------------------------------------------- the table

@dataclass(frozen=True)
class Op:
    name: str                      # as written in a problem file / shown in output
    sympy_fn: Callable             # builds the SymPy expression from SymPy args
    numeric: Callable[..., float]  # float64 evaluation
    arity: int
    definition: Callable | None = None  # in SymPy built-ins, for proofs in tests
    user: bool = True              # callable from an equation (else: appears in derivatives only)
    variadic: bool = False         # takes `arity` or more arguments
    # How the solution shows it; the defaults derive from the name (see `unicode_name`, `latex_name`).
    unicode: str = ""              # in Unicode (σ for sigmoid)
    latex: str = ""                # in LaTeX, without a derivative's prime (\sigma, \exp)
    convention: str = ""           # the conventions note when a problem uses it (relu'(0) = 0)
    convention_many: str = ""      # added to it when a use takes more than `arity` arguments
    arguments: str = ""            # its arguments' names in messages, if more than one (x, slope)
    unit: bool = False             # a unit's nonlinearity: the checker's slips look for its derivative left
                                   # out, its net used for its unit (slips.py `activations`)

    @property
    def unicode_name(self) -> str:
        return self.unicode or self.name

    @property
    def latex_name(self) -> str:
        """The LaTeX of the name without a derivative's prime: \\operatorname{relu},
        \\mathrm{leaky\\_relu} (an underscore reads badly in \\operatorname)."""
        if self.latex:
            return self.latex
        name = self.name.rstrip("'")
        if "_" in name:
            return r"\mathrm{" + name.replace("_", r"\_") + "}"
        return rf"\operatorname{{{name}}}"

    def convention_note(self, most_arguments: int) -> str:
        """The conventions note of a problem whose uses of this op take at most ``most_arguments``."""
        if self.convention and self.convention_many and most_arguments > self.arity:
            return self.convention + self.convention_many
        return self.convention


TIE = "max/min at a tie: each argument gets ½ (H(0) = ½)"   # max and min share their note
TIE_MANY = "; of k tied arguments, each gets 1/k"

OPS: dict[str, Op] = {op.name: op for op in [
    Op("sigmoid", sigmoid, _sigmoid, 1, lambda x: 1 / (1 + exp(-x)), unicode="σ", latex=r"\sigma", unit=True),
    Op("relu", relu, lambda x: x if x > 0 else 0.0, 1, lambda x: sympy.Max(x, 0), convention="relu'(0) = 0",
       unit=True),
    Op("tanh", tanh, math.tanh, 1, lambda x: (exp(x) - exp(-x)) / (exp(x) + exp(-x)), latex=r"\tanh", unit=True),
    Op("exp", exp, math.exp, 1, exp, latex=r"\exp"),
    Op("log", log, math.log, 1, log, latex=r"\log"),
    Op("sqrt", sqrt, math.sqrt, 1, lambda x: x ** HALF),
    Op("abs", Abs, abs, 1, Abs),
    Op("softplus", softplus, _softplus, 1, lambda x: log(1 + exp(x)), unit=True),
    Op("leaky_relu", leaky_relu, lambda x, s: x if x > 0 else s * x, 2,
       lambda x, s: sympy.Piecewise((x, x > 0), (s * x, True)), convention="leaky_relu'(0) = slope", unit=True,
       arguments="x, slope"),
    Op("elu", elu, lambda x, a: x if x > 0 else a * math.expm1(x), 2,
       lambda x, a: sympy.Piecewise((x, x > 0), (a * (exp(x) - 1), True)), convention="elu'(0) = alpha", unit=True,
       arguments="x, alpha"),
    Op("silu", silu, lambda x: x * _sigmoid(x), 1, lambda x: x / (1 + exp(-x)), unit=True),
    Op("gelu", gelu, lambda x: 0.5 * x * (1.0 + math.erf(x / math.sqrt(2.0))), 1,
       lambda x: x * (1 + erf(x / sqrt(2))) / 2, unit=True),
    # 2σ(x) − 1 = tanh(x/2), which keeps full precision near 0.
    Op("bipolar_sigmoid", bipolar_sigmoid, lambda x: math.tanh(x / 2), 1, lambda x: 2 / (1 + exp(-x)) - 1),
    Op("sin", sympy.sin, math.sin, 1, sympy.sin),
    Op("cos", sympy.cos, math.cos, 1, sympy.cos),
    Op("max", max_, _max, 2, sympy.Max, variadic=True, latex=r"\max", convention=TIE, convention_many=TIE_MANY,
       arguments="a, b, …"),
    Op("min", min_, _min, 2, sympy.Min, variadic=True, latex=r"\min", convention=TIE, convention_many=TIE_MANY,
       arguments="a, b, …"),
    # Helpers that only derivatives (or layers) produce.
    Op("softmax", softmax, _softmax, -1, user=False),
    Op("relu'", relu_prime, lambda x: _step(x, 0.0), 1, user=False),
    Op("leaky_relu'", leaky_relu_prime, lambda x, s: 1.0 if x > 0 else s, 2, user=False),
    Op("elu'", elu_prime, lambda x, a: 1.0 if x > 0 else a * math.exp(x), 2, user=False),
    Op("elu_alpha'", elu_alpha_prime, lambda x: 0.0 if x > 0 else math.expm1(x), 1, user=False),
    Op("max_share", max_share, _tie_share, -1, user=False),
    Op("min_share", min_share, lambda i, *xs: _tie_share(i, *(-x for x in xs)), -1, user=False),
    Op("H", step_half, lambda x: _step(x, 0.5), 1, user=False, latex="H"),
    Op("sign", sign, lambda x: float((x > 0) - (x < 0)), 1, user=False),
    Op("erf", erf, math.erf, 1, user=False),
]}

USER_FUNCTIONS = {name: op for name, op in OPS.items() if op.user}

# Names an equation may use for a constant (e is exp(1)); no problem name may take them.
NAMED_CONSTANTS = {"pi": sympy.pi}

# SymPy class -> Op, for evaluators and printers that meet a function application.
OP_OF_CLASS: dict[type, Op] = {op.sympy_fn: op for op in OPS.values() if isinstance(op.sympy_fn, type)}

# Layer activations: every one-argument user function, plus `linear` and `softmax`.
# Two-argument ones take their second argument from the mapping form's key.
ACTIVATION_PARAMETER = {"leaky_relu": ("slope", Rational(1, 100)), "elu": ("alpha", Integer(1))}
LAYER_ACTIVATIONS = (
    ["linear", "softmax"]
    + [name for name, op in USER_FUNCTIONS.items() if op.arity == 1]
    + list(ACTIVATION_PARAMETER)
)


# ---------------------------------------------------------------- losses

@dataclass(frozen=True)
class Loss:
    name: str
    formula: str   # how the solution states it, in Unicode ("E = …")
    build: Callable[[list[sympy.Symbol], list[sympy.Symbol]], sympy.Expr]  # (outputs, targets) -> E
    latex: str = ""   # the formula's right side in LaTeX (documents); required of every loss (tests)
    # What the checker knows of it: why it cannot be negative ("{}": its name), and the slips
    # a student makes with it (slips.py): "half_dropped" (its ½ left out), "half_added" (a ½
    # put in front), "mean_over_outputs" (its 1/K forgotten; without it: a 1/K added).
    nonnegative: str = ""
    slips: tuple[str, ...] = ()
    probabilities: bool = False   # takes log of an output: outputs in (0, 1) and targets in [0, 1] expected

    @property
    def right_side(self) -> str:
        """The formula without its "E = "."""
        return self.formula.partition(" = ")[2]


def _mean(terms: list) -> sympy.Expr:
    return Rational(1, len(terms)) * sympy.Add(*terms)


SQUARES = "a squared error loss ({}) cannot be negative: it is a sum of squares"
CROSS_ENTROPY = "a cross-entropy loss ({}) cannot be negative: each −log p ≥ 0, since p ≤ 1"

LOSSES: dict[str, Loss] = {loss.name: loss for loss in [
    Loss("mse", "E = (1/K) Σₖ (oₖ − tₖ)²",
         lambda o, t: _mean([(ok - tk) ** 2 for ok, tk in zip(o, t)]),
         latex=r"\frac{1}{K} \sum_{k} \left(o_{k} - t_{k}\right)^{2}",
         nonnegative=SQUARES, slips=("half_added", "mean_over_outputs")),
    Loss("sse", "E = Σₖ (oₖ − tₖ)²",
         lambda o, t: sympy.Add(*[(ok - tk) ** 2 for ok, tk in zip(o, t)]),
         latex=r"\sum_{k} \left(o_{k} - t_{k}\right)^{2}", nonnegative=SQUARES, slips=("half_added",)),
    Loss("half_sse", "E = ½ Σₖ (tₖ − oₖ)²",
         lambda o, t: HALF * sympy.Add(*[(tk - ok) ** 2 for ok, tk in zip(o, t)]),
         latex=r"\frac{1}{2} \sum_{k} \left(t_{k} - o_{k}\right)^{2}", nonnegative=SQUARES, slips=("half_dropped",)),
    Loss("mae", "E = (1/K) Σₖ |oₖ − tₖ|",
         lambda o, t: _mean([Abs(ok - tk) for ok, tk in zip(o, t)]),
         latex=r"\frac{1}{K} \sum_{k} \left\lvert o_{k} - t_{k}\right\rvert",
         nonnegative="an absolute error loss ({}) cannot be negative: it is a sum of absolute values",
         slips=("mean_over_outputs",)),
    Loss("bce", "E = −(1/K) Σₖ [tₖ log oₖ + (1 − tₖ) log(1 − oₖ)]",
         lambda o, t: -_mean([tk * log(ok) + (1 - tk) * log(1 - ok) for ok, tk in zip(o, t)]),
         latex=r"-\frac{1}{K} \sum_{k} \left[t_{k} \log o_{k} + \left(1 - t_{k}\right) "
               r"\log\left(1 - o_{k}\right)\right]",
         nonnegative=CROSS_ENTROPY, slips=("mean_over_outputs",), probabilities=True),
    Loss("cce", "E = −Σₖ tₖ log oₖ",
         lambda o, t: -sympy.Add(*[tk * log(ok) for ok, tk in zip(o, t)]),
         latex=r"-\sum_{k} t_{k} \log o_{k}", nonnegative=CROSS_ENTROPY, probabilities=True),
    Loss("hinge", "E = Σ_{k≠y} max(0, oₖ − o_y + 1) (y: the class of t); K = 1: max(0, 1 − t·o)",
         lambda o, t: _hinge(o, t),
         latex=r"\sum_{k \neq y} \max\left(0, o_{k} - o_{y} + 1\right)$ ($y$: the class of $t$); $K = 1$: "
               r"$\max\left(0, 1 - t \cdot o\right)"),
]}


def _hinge(o: list, t: list) -> sympy.Expr:
    """Hinge loss as relu (PyTorch's MultiMarginLoss: no gradient at a margin met exactly).
    Several outputs: t is one-hot, so o_y = Σⱼ tⱼoⱼ and the k ≠ y terms are those with 1 − tₖ = 1."""
    if len(o) == 1:
        return relu(1 - t[0] * o[0])
    o_y = sympy.Add(*[tj * oj for oj, tj in zip(o, t)])
    return sympy.Add(*[(1 - tk) * relu(ok - o_y + 1) for ok, tk in zip(o, t)])
