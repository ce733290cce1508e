"""Gradients of random small problems against central finite differences.

Acceptance item: the gradients of `tutor solve` are checked against an oracle
that never uses the engine's derivatives:

* **Property tests (hypothesis).** Random layered networks (`network:` form,
  1-3 layers of width 1-3, every activation of the spec incl. the mapping
  forms of `leaky_relu`/`elu` and `softmax`, every built-in loss, both
  reductions, default and explicit parameter names, shared biases, `frozen`)
  and random named-equation models (`model:` form: compositions of exp, log,
  sqrt, abs, softplus, tanh, sigmoid, relu, leaky_relu, elu, silu, gelu,
  max/min, powers, a parameter shared by two equations, a `constants:` entry,
  built-in and custom losses). For every parameter p the engine's
  ``steps[0].gradients[p]`` of a one-step SGD run is compared with the central
  difference (L(p+h) - L(p-h)) / 2h, where L is ``final.loss`` of the same
  problem solved with ``training: {epochs: 0}`` and the perturbed initial
  value. If the plain difference misses the tolerance, a Richardson-extrapolated
  difference with a larger step gets a second chance (floating-point noise is
  not an engine bug); the failure message shows both.
* **An independent forward pass.** The test evaluates each random problem
  itself (plain Python `math`) to keep examples away from kinks (relu, abs,
  max/min, mae at o = t, ... within 1e-3 of the switch), away from log/sqrt of
  tiny arguments and from huge values; it also checks the engine's loss
  against that evaluation (rel 1e-8), so a forward pass that is wrong in the
  same way as its derivative cannot pass.
* **Hand-checked exact tests**: closed forms written in the test (a linear
  neuron with mse, mean vs sum reduction, sigmoid + bce, softmax + cce,
  a shared parameter, Mazur's published example, abs of a function) and the spec's conventions
  at kinks (relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = slope, elu'(0) = alpha,
  max/min ties split 1/2 - 1/2).

Problem text is generated here with numbers written by ``repr`` (exact
round-trip). The engine is imported lazily, so a missing engine fails these
tests instead of breaking collection of the whole suite.

Set TUTOR_FD_MAX_PARAMS=N to check only N parameters (drawn by hypothesis) per
random example; by default every parameter is checked. Shrinking is off by
default (see _PHASES); TUTOR_FD_SHRINK=1 turns it on. TUTOR_FD_EXAMPLES=N
runs N examples per parametrized case instead of 6 (network) / 5 (model).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, Phase, assume, given, note, settings
from hypothesis import strategies as st

# --------------------------------------------------------------------------
# Engine access
# --------------------------------------------------------------------------


def solve(text: str) -> dict:
    from tutor.api import solve_text  # lazy: see module docstring

    return solve_text(text, path="fd-check.yaml")


# --------------------------------------------------------------------------
# Tolerances and settings
# --------------------------------------------------------------------------

EPS = 2.220446049250313e-16
FD_REL = 1e-5  # relative tolerance of a finite-difference estimate
FD_ABS = 1e-7  # absolute floor
KINK_MARGIN = 1e-3  # keep arguments of non-smooth functions this far from the switch
POS_MARGIN = 0.05  # keep log / sqrt / division / fractional-power arguments above this
MAX_ABS_VALUE = 1e3  # reject examples with larger intermediate values
FORWARD_REL = 1e-8  # engine loss vs this file's own forward pass

MAX_FD_PARAMS = int(os.environ.get("TUTOR_FD_MAX_PARAMS", "0")) or None

# Shrinking costs hundreds of engine runs per failure; the failing problem's
# YAML is printed anyway (hypothesis `note`). TUTOR_FD_SHRINK=1 turns it on
# to get a minimal example.
_PHASES = list(Phase) if os.environ.get("TUTOR_FD_SHRINK") else [Phase.explicit, Phase.reuse, Phase.generate]
_COMMON = dict(
    phases=_PHASES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# per parametrized case (15 network cases, 18 model cases: ~90 examples per
# test function); TUTOR_FD_EXAMPLES=N runs N per case for a deeper search
_EXAMPLES = int(os.environ.get("TUTOR_FD_EXAMPLES", "0"))
NET_SETTINGS = settings(max_examples=_EXAMPLES or 6, **_COMMON)
MODEL_SETTINGS = settings(max_examples=_EXAMPLES or 5, **_COMMON)


def num(v: float) -> str:
    """A number as written in the YAML: repr of the double (round-trips exactly)."""
    return repr(float(v))


def values_floats(lo: float = -2.0, hi: float = 2.0):
    """Floats in [lo, hi]; the tiny ones hypothesis likes (1e-300, ...) become
    0.0, which is just as much an edge case and keeps examples readable."""
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False).map(lambda v: v if abs(v) >= 1e-3 else 0.0)


# --------------------------------------------------------------------------
# Reference maths (independent of the engine)
# --------------------------------------------------------------------------


class Reject(Exception):
    """The example is outside the region where finite differences are reliable."""


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _softplus(z: float) -> float:
    if z > 30:
        return z + math.log1p(math.exp(-z))
    return math.log1p(math.exp(z))


def scalar_fn(name: str, z: float, param: float | None, kinks: list[float]) -> float:
    """Value of a scalar function; records the argument of every kink it has."""
    if name == "linear":
        return z
    if name == "sigmoid":
        return _sigmoid(z)
    if name == "tanh":
        return math.tanh(z)
    if name == "relu":
        kinks.append(z)
        return z if z > 0 else 0.0
    if name == "leaky_relu":
        kinks.append(z)
        slope = 0.01 if param is None else param
        return z if z > 0 else slope * z
    if name == "elu":
        kinks.append(z)
        alpha = 1.0 if param is None else param
        return z if z > 0 else alpha * math.expm1(z)
    if name == "softplus":
        return _softplus(z)
    if name == "silu":
        return z * _sigmoid(z)
    if name == "gelu":
        return 0.5 * z * (1.0 + math.erf(z / math.sqrt(2.0)))
    if name == "exp":
        return math.exp(z)
    if name == "abs":
        kinks.append(z)
        return abs(z)
    raise AssertionError(f"unknown function {name}")


def sample_loss(loss: str, outs: list[float], tgts: list[float], kinks: list[float]) -> float:
    """Per-sample built-in loss, from the spec's table."""
    K = len(outs)
    pairs = list(zip(outs, tgts))
    if loss == "mse":
        return sum((o - t) ** 2 for o, t in pairs) / K
    if loss == "sse":
        return sum((o - t) ** 2 for o, t in pairs)
    if loss == "half_sse":
        return 0.5 * sum((t - o) ** 2 for o, t in pairs)
    if loss == "mae":
        kinks.extend(o - t for o, t in pairs)
        return sum(abs(o - t) for o, t in pairs) / K
    if loss == "bce":
        for o, _ in pairs:
            if not (1e-6 < o < 1 - 1e-6):
                raise Reject("probability too close to 0 or 1")
        return -sum(t * math.log(o) + (1 - t) * math.log(1 - o) for o, t in pairs) / K
    if loss == "cce":
        for o, _ in pairs:
            if not o > 1e-6:
                raise Reject("probability too close to 0")
        return -sum(t * math.log(o) for o, t in pairs)
    raise AssertionError(loss)


def reduce_losses(losses: list[float], reduction: str) -> float:
    return sum(losses) / len(losses) if reduction == "mean" else sum(losses)


def check_region(values: list[float], kinks: list[float], posargs: list[float]) -> None:
    for v in values:
        if not math.isfinite(v) or abs(v) > MAX_ABS_VALUE:
            raise Reject("value too large")
    for k in kinks:
        if abs(k) < KINK_MARGIN:
            raise Reject("too close to a kink")
    for a in posargs:
        if a < POS_MARGIN:
            raise Reject("argument too close to 0")


def reference_loss(problem, params: dict[str, float]) -> tuple[float, list[float]] | None:
    """(batch loss over all samples, kink arguments) by this file's own forward
    pass; None if the example is outside the safe region (kinks, huge values)."""
    try:
        return problem.reference(params)
    except (Reject, OverflowError, ValueError, ZeroDivisionError):
        return None


def safe_for_differences(problem) -> bool:
    """The initial point is in the safe region, and moving any one parameter by
    the largest step the oracle uses crosses no kink (same side of every switch)."""
    base = reference_loss(problem, problem.params)
    if base is None:
        return False
    signs = [k > 0 for k in base[1]]
    for name, p in problem.params.items():
        for q in (p - 2e-4 * max(1.0, abs(p)), p + 2e-4 * max(1.0, abs(p))):
            moved = reference_loss(problem, {**problem.params, name: q})
            if moved is None or [k > 0 for k in moved[1]] != signs:
                return False
    return True


def render_data(data: list[dict[str, float]], as_mapping: bool) -> list[str]:
    def one(sample: dict[str, float]) -> str:
        return "{" + ", ".join(f"{k}: {num(v)}" for k, v in sample.items()) + "}"

    if as_mapping:
        assert len(data) == 1
        return [f"data: {one(data[0])}"]
    return ["data:"] + [f"  - {one(s)}" for s in data]


def render_tail(loss_yaml: str, frozen: list[str], epochs: int, n_samples: int, explicit_batch: bool) -> list[str]:
    lines = [f"loss: {loss_yaml}", "optimizer: {name: sgd, lr: 0.1}"]
    if explicit_batch:
        lines.append(f"training: {{epochs: {epochs}, batch_size: {n_samples}}}")
    else:
        lines.append(f"training: {{epochs: {epochs}}}")
    if frozen:
        lines.append(f"frozen: [{', '.join(frozen)}]")
    return lines


def builtin_loss_yaml(loss: str, reduction: str | None) -> str:
    return loss if reduction is None else f"{{name: {loss}, reduction: {reduction}}}"


# --------------------------------------------------------------------------
# Random layered networks
# --------------------------------------------------------------------------

SCALAR_ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "silu", "gelu", "linear"]


@dataclass
class Layer:
    units: list[str]
    net: list[str] | None
    activation: str  # name
    act_param: float | None  # slope / alpha of the mapping form
    weight_names: list[list[str]]  # one row per unit, one column per source
    bias_names: list[str] | None
    explicit_names: bool

    def activation_yaml(self) -> str:
        if self.act_param is None:
            return self.activation
        key = "slope" if self.activation == "leaky_relu" else "alpha"
        return f"{{name: {self.activation}, {key}: {num(self.act_param)}}}"


@dataclass
class NetProblem:
    inputs: list[str]
    layers: list[Layer]
    targets: list[str]
    data: list[dict[str, float]]
    loss: str
    reduction: str | None
    params: dict[str, float]
    frozen: list[str] = field(default_factory=list)
    data_as_mapping: bool = False
    explicit_batch: bool = False

    def render(self, params: dict[str, float], epochs: int) -> str:
        lines = [
            "title: Finite-difference check (network)",
            "network:",
            f"  inputs: [{', '.join(self.inputs)}]",
            "  layers:",
        ]
        for layer in self.layers:
            lines.append(f"    - units: [{', '.join(layer.units)}]")
            if layer.net is not None:
                lines.append(f"      net: [{', '.join(layer.net)}]")
            lines.append(f"      activation: {layer.activation_yaml()}")
            rows = ", ".join("[" + ", ".join(num(params[n]) for n in row) + "]" for row in layer.weight_names)
            lines.append(f"      weights: [{rows}]")
            if layer.bias_names is not None:
                lines.append(f"      bias: [{', '.join(num(params[n]) for n in layer.bias_names)}]")
            if layer.explicit_names:
                wn = ", ".join("[" + ", ".join(row) + "]" for row in layer.weight_names)
                names = f"weights: [{wn}]"
                if layer.bias_names is not None:
                    names += f", bias: [{', '.join(layer.bias_names)}]"
                lines.append(f"      names: {{{names}}}")
        lines.append(f"targets: [{', '.join(self.targets)}]")
        lines += render_data(self.data, self.data_as_mapping)
        lines += render_tail(
            builtin_loss_yaml(self.loss, self.reduction), self.frozen, epochs, len(self.data), self.explicit_batch
        )
        return "\n".join(lines) + "\n"

    def reference(self, params: dict[str, float]) -> float:
        kinks: list[float] = []
        values: list[float] = []
        losses = []
        for sample in self.data:
            src = [sample[i] for i in self.inputs]
            for layer in self.layers:
                nets = []
                for j, _ in enumerate(layer.units):
                    z = sum(params[w] * s for w, s in zip(layer.weight_names[j], src))
                    if layer.bias_names is not None:
                        z += params[layer.bias_names[j]]
                    nets.append(z)
                values += nets
                if layer.activation == "softmax":
                    m = max(nets)
                    e = [math.exp(z - m) for z in nets]
                    src = [v / sum(e) for v in e]
                else:
                    src = [scalar_fn(layer.activation, z, layer.act_param, kinks) for z in nets]
                values += src
            tgts = [sample[t] for t in self.targets]
            losses.append(sample_loss(self.loss, src, tgts, kinks))
        check_region(values + losses, kinks, [])
        # keep the pre-activations moderate: saturated sigmoids make bce/cce
        # numerically meaningless in double precision, for any engine
        if any(abs(v) > 30 for v in values):
            raise Reject("pre-activation too large")
        return reduce_losses(losses, self.reduction or "mean"), kinks


class Choices:
    """random.Random-like choices made by hypothesis draws (so they shrink)."""

    def __init__(self, draw):
        self.draw = draw

    def choice(self, seq):
        return self.draw(st.sampled_from(list(seq)))

    def chance(self, p: float) -> bool:
        return self.draw(st.integers(0, 99)) >= round(100 * (1 - p))

    def randint(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def choices(self, population, weights):
        k = self.draw(st.integers(0, sum(weights) - 1))
        for item, w in zip(population, weights):
            if k < w:
                return item
            k -= w
        raise AssertionError

    def sample(self, population, k: int):
        return self.draw(st.lists(st.sampled_from(list(population)), unique=True, min_size=k, max_size=k))

    def uniform(self, lo: float, hi: float) -> float:
        return self.draw(st.floats(lo, hi))


def pick_activation(rnd: Choices, width: int) -> tuple[str, float | None]:
    name = rnd.choice(SCALAR_ACTIVATIONS + (["softmax"] if width >= 2 else []))
    return name, activation_param(rnd, name, rnd.chance(0.5))


def activation_param(rnd: Choices, name: str, mapping: bool) -> float | None:
    if mapping and name == "leaky_relu":
        return rnd.uniform(0.01, 1.0)
    if mapping and name == "elu":
        return rnd.uniform(0.1, 2.0)
    return None


# Each case fixes one activation (used in at least one layer), the loss and
# its reduction (None = written as a bare loss name); everything else is
# drawn. Together the cases cover every activation (both forms of leaky_relu
# and elu), every built-in loss and both reductions.
NET_CASES = [
    # (activation, mapping form?, loss, reduction)
    ("sigmoid", False, "bce", None),
    ("sigmoid", False, "bce", "sum"),
    ("tanh", False, "mse", "sum"),
    ("relu", False, "sse", "mean"),
    ("leaky_relu", False, "half_sse", None),
    ("leaky_relu", True, "mae", "sum"),
    ("elu", False, "mse", "mean"),
    ("elu", True, "sse", "sum"),
    ("softplus", False, "half_sse", "mean"),
    ("silu", False, "mae", None),
    ("gelu", False, "mse", None),
    ("linear", False, "sse", "mean"),
    ("softmax", False, "cce", None),
    ("softmax", False, "cce", "sum"),
    ("softmax", False, "half_sse", "mean"),
]


@st.composite
def net_problems(draw, case):
    focus, mapping, loss, reduction = case
    rnd = Choices(draw)
    n_in = rnd.randint(1, 3)
    inputs = [f"x{i + 1}" for i in range(n_in)]
    n_layers = rnd.randint(1, 3)
    widths = [rnd.randint(1, 3) for _ in range(n_layers)]
    if loss == "cce":
        widths[-1] = rnd.randint(2, 3)
    # the last layer's activation is fixed by bce / cce; the focus activation
    # goes into at least one layer where it is allowed
    fixed_last = {"bce": "sigmoid", "cce": "softmax"}.get(loss)
    free = list(range(n_layers - 1 if fixed_last else n_layers))
    if focus == "softmax":
        free = [i for i in free if widths[i] >= 2]
    if fixed_last != focus or rnd.chance(0.5):
        if not free:  # make room: a layer of width 2 before the last
            widths.insert(0, 2)
            n_layers += 1
            free = [0]
        focus_layers = set(rnd.sample(free, rnd.randint(1, len(free))))
    else:
        focus_layers = set()
    params: dict[str, float] = {}
    layers: list[Layer] = []
    sources = inputs
    for li, width in enumerate(widths, start=1):
        last = li == n_layers
        units = [f"o{j + 1}" if last else f"h{li}{j + 1}" for j in range(width)]
        net = [f"z{li}{j + 1}" for j in range(width)] if rnd.chance(0.5) else None
        if last and fixed_last:
            act, act_param = fixed_last, None
        elif li - 1 in focus_layers:
            act, act_param = focus, activation_param(rnd, focus, mapping)
        else:
            act, act_param = pick_activation(rnd, width)
        explicit = rnd.chance(0.5)
        has_bias = rnd.chance(0.7)
        shared_bias = explicit and has_bias and width >= 2 and rnd.chance(0.3)
        if explicit:
            wnames = [[f"w{li}{j + 1}{i + 1}" for i in range(len(sources))] for j in range(width)]
        else:
            wnames = [[f"w_{u}_{s}" for s in sources] for u in units]
        for row in wnames:
            for n in row:
                params[n] = draw(values_floats())
        bnames = None
        if has_bias:
            if shared_bias:
                bnames = [f"b{li}"] * width
                params[f"b{li}"] = draw(values_floats())
            else:
                bnames = [f"b{li}{j + 1}" if explicit else f"b_{u}" for j, u in enumerate(units)]
                for n in bnames:
                    params[n] = draw(values_floats())
        layers.append(Layer(units, net, act, act_param, wnames, bnames, explicit))
        sources = units

    n_out = widths[-1]
    targets = [f"t{k + 1}" for k in range(n_out)]
    n_samples = rnd.randint(1, 3)
    data = []
    for _ in range(n_samples):
        sample = {x: draw(values_floats()) for x in inputs}
        if loss == "bce":
            tv = [draw(st.floats(0.01, 0.99)) for _ in targets]
        elif loss == "cce" and rnd.chance(0.5):
            hot = rnd.randint(0, n_out - 1)
            tv = [1.0 if k == hot else 0.0 for k in range(n_out)]
        elif loss == "cce":
            tv = [draw(st.floats(0.0, 1.0)) for _ in targets]
        else:
            tv = [draw(values_floats()) for _ in targets]
        sample.update(zip(targets, tv))
        data.append(sample)

    frozen = rnd.sample(list(params), min(len(params), rnd.randint(1, 2))) if rnd.chance(0.25) else []
    return NetProblem(
        inputs=inputs,
        layers=layers,
        targets=targets,
        data=data,
        loss=loss,
        reduction=reduction,
        params=params,
        frozen=frozen,
        data_as_mapping=n_samples == 1 and rnd.chance(0.5),
        explicit_batch=rnd.chance(0.3),
    )


# --------------------------------------------------------------------------
# Random named-equation models
# --------------------------------------------------------------------------
#
# Expressions are trees of tuples:
#   ("var", name) ("num", value) ("add"|"sub"|"mul", a, b) ("div", a, pos)
#   ("neg", a) ("powi", a, n) ("powr", pos, r) ("log", pos) ("sqrt", pos)
#   ("fn", name, a) ("leaky", a, slope) ("elu", a, alpha) ("max"|"min", a, b)
# where `pos` is a subtree that is positive by construction.

UNARY = ["exp", "tanh", "sigmoid", "softplus", "abs", "relu", "silu", "gelu"]


def render_expr(e) -> str:
    op = e[0]
    if op == "var":
        return e[1]
    if op == "num":
        return num(e[1]) if e[1] >= 0 else f"({num(e[1])})"
    if op in ("add", "sub", "mul", "div"):
        sym = {"add": " + ", "sub": " - ", "mul": "*", "div": "/"}[op]
        return f"({render_expr(e[1])}{sym}{render_expr(e[2])})"
    if op == "neg":
        return f"(-({render_expr(e[1])}))"
    if op == "powi":
        return f"({render_expr(e[1])})**{e[2]}"
    if op == "powr":
        r = num(e[2]) if e[2] >= 0 else f"({num(e[2])})"
        return f"({render_expr(e[1])})**{r}"
    if op in ("log", "sqrt"):
        return f"{op}({render_expr(e[1])})"
    if op == "fn":
        return f"{e[1]}({render_expr(e[2])})"
    if op == "leaky":
        return f"leaky_relu({render_expr(e[1])}, {num(e[2])})"
    if op == "elu":
        return f"elu({render_expr(e[1])}, {num(e[2])})"
    if op in ("max", "min"):
        return f"{op}({render_expr(e[1])}, {render_expr(e[2])})"
    raise AssertionError(op)


def eval_expr(e, env: dict[str, float], kinks: list[float], posargs: list[float], values: list[float]) -> float:
    def ev(x):
        return eval_expr(x, env, kinks, posargs, values)

    op = e[0]
    if op == "var":
        v = env[e[1]]
    elif op == "num":
        v = e[1]
    elif op == "add":
        v = ev(e[1]) + ev(e[2])
    elif op == "sub":
        v = ev(e[1]) - ev(e[2])
    elif op == "mul":
        v = ev(e[1]) * ev(e[2])
    elif op == "div":
        d = ev(e[2])
        posargs.append(d)
        v = ev(e[1]) / d
    elif op == "neg":
        v = -ev(e[1])
    elif op == "powi":
        v = ev(e[1]) ** e[2]
    elif op == "powr":
        b = ev(e[1])
        posargs.append(b)
        v = b ** e[2]
    elif op == "log":
        a = ev(e[1])
        posargs.append(a)
        v = math.log(a)
    elif op == "sqrt":
        a = ev(e[1])
        posargs.append(a)
        v = math.sqrt(a)
    elif op == "fn":
        v = scalar_fn(e[1], ev(e[2]), None, kinks)
    elif op == "leaky":
        v = scalar_fn("leaky_relu", ev(e[1]), e[2], kinks)
    elif op == "elu":
        v = scalar_fn("elu", ev(e[1]), e[2], kinks)
    elif op in ("max", "min"):
        a, b = ev(e[1]), ev(e[2])
        kinks.append(a - b)
        v = max(a, b) if op == "max" else min(a, b)
    else:
        raise AssertionError(op)
    if isinstance(v, complex) or not math.isfinite(v) or abs(v) > MAX_ABS_VALUE:
        raise Reject("value too large")
    values.append(v)
    return v


LITERALS = [0.5, 1.5, 2.0, 3.0, 0.25]
TREE_KINDS = [
    "add", "sub", "mul", "div", "neg", "powi", "powr", "log", "sqrt", "fn", "fn", "leaky", "elu", "max", "min",
]  # fmt: skip


def random_leaf(rnd, leaves: list[str], weights: list[float]):
    if rnd.chance(0.1):
        return ("num", rnd.choice(LITERALS))
    return ("var", rnd.choices(leaves, weights))


def random_positive(rnd, leaves, weights, depth: int):
    """A subtree that is positive for every value of its leaves."""
    a = random_expr(rnd, leaves, weights, depth)
    kind = rnd.choice(["sq", "exp", "softplus", "sigmoid"])
    if kind == "sq":
        k = ("var", "k1") if rnd.chance(0.5) else ("num", rnd.choice([0.5, 1.0, 2.0]))
        return ("add", k, ("powi", a, 2))
    if kind == "exp":
        return ("fn", "exp", a)
    if kind == "softplus":
        return ("add", ("fn", "softplus", a), ("num", 0.25))
    return ("add", ("fn", "sigmoid", a), ("num", 0.5))


def random_expr(rnd, leaves: list[str], weights: list[float], depth: int, kind: str | None = None):
    """A random tree; `kind` forces the operation at its root."""
    if kind is None and (depth <= 0 or rnd.chance(0.2)):
        return random_leaf(rnd, leaves, weights)
    sub = max(depth - 1, 0)

    def ex():
        return random_expr(rnd, leaves, weights, sub)

    if kind is None:
        kind = rnd.choice(TREE_KINDS)
    if kind in UNARY:
        return ("fn", kind, ex())
    if kind in ("add", "sub", "mul", "max", "min"):
        return (kind, ex(), ex())
    if kind == "div":
        return ("div", ex(), random_positive(rnd, leaves, weights, sub))
    if kind == "neg":
        return ("neg", ex())
    if kind == "powi":
        return ("powi", ex(), rnd.choice([2, 3]))
    if kind == "powr":
        return ("powr", random_positive(rnd, leaves, weights, sub), rnd.choice([0.5, 1.5, -0.5, -1.0, 2.5]))
    if kind in ("log", "sqrt"):
        return (kind, random_positive(rnd, leaves, weights, sub))
    if kind == "fn":
        return ("fn", rnd.choice(UNARY), ex())
    if kind == "leaky":
        return ("leaky", ex(), rnd.choice([0.01, 0.1, 0.2, 0.5]))
    return ("elu", ex(), rnd.choice([0.5, 1.0, 1.5]))


def used_vars(e) -> set[str]:
    if e[0] == "var":
        return {e[1]}
    out: set[str] = set()
    for x in e[1:]:
        if isinstance(x, tuple):
            out |= used_vars(x)
    return out


# Custom losses for one output o1 and target t1: (expr text, per-sample value)
CUSTOM_LOSSES = [
    ("(o1 - t1)**2/2", lambda o, t, k: (o - t) ** 2 / 2),
    ("abs(o1 - t1) + (o1 - t1)**2", lambda o, t, k: (k.append(o - t), abs(o - t) + (o - t) ** 2)[1]),
    ("log(1 + (o1 - t1)**2)", lambda o, t, k: math.log(1 + (o - t) ** 2)),
    ("softplus(o1 - t1) - t1*o1", lambda o, t, k: _softplus(o - t) - t * o),
]


@dataclass
class ModelProblem:
    inputs: list[str]
    params: dict[str, float]
    constants: dict[str, float]
    equations: list[tuple[str, tuple]]
    outputs: list[str]
    targets: list[str]
    data: list[dict[str, float]]
    loss: str  # built-in name, or "custom"
    reduction: str | None
    custom: int | None = None  # index into CUSTOM_LOSSES
    frozen: list[str] = field(default_factory=list)
    data_as_mapping: bool = False
    explicit_batch: bool = False

    def loss_yaml(self) -> str:
        if self.loss != "custom":
            return builtin_loss_yaml(self.loss, self.reduction)
        text = CUSTOM_LOSSES[self.custom][0]
        if self.reduction is None:
            return f'{{expr: "{text}"}}'
        return f'{{expr: "{text}", reduction: {self.reduction}}}'

    def render(self, params: dict[str, float], epochs: int) -> str:
        lines = [
            "title: Finite-difference check (model)",
            f"inputs: [{', '.join(self.inputs)}]",
            "params: {" + ", ".join(f"{p}: {num(params[p])}" for p in self.params) + "}",
            "constants: {" + ", ".join(f"{c}: {num(v)}" for c, v in self.constants.items()) + "}",
            "model:",
        ]
        lines += [f"  {name}: {render_expr(e)}" for name, e in self.equations]
        lines.append(f"outputs: [{', '.join(self.outputs)}]")
        lines.append(f"targets: [{', '.join(self.targets)}]")
        lines += render_data(self.data, self.data_as_mapping)
        lines += render_tail(self.loss_yaml(), self.frozen, epochs, len(self.data), self.explicit_batch)
        return "\n".join(lines) + "\n"

    def reference(self, params: dict[str, float]) -> float:
        kinks: list[float] = []
        posargs: list[float] = []
        values: list[float] = []
        losses = []
        for sample in self.data:
            env = dict(params)
            env.update(self.constants)
            env.update(sample)
            for name, e in self.equations:
                env[name] = eval_expr(e, env, kinks, posargs, values)
            outs = [env[o] for o in self.outputs]
            tgts = [sample[t] for t in self.targets]
            if self.loss == "custom":
                losses.append(CUSTOM_LOSSES[self.custom][1](outs[0], tgts[0], kinks))
            else:
                losses.append(sample_loss(self.loss, outs, tgts, kinks))
        check_region(values + losses, kinks, posargs)
        return reduce_losses(losses, self.reduction or "mean"), kinks


# Each case forces one operation at the root of the first equation's random
# tree (whose leaves are mostly parameters) and fixes the loss and reduction.
MODEL_CASES = [
    # (operation, loss, reduction)
    ("exp", "mse", None),
    ("log", "sse", "sum"),
    ("sqrt", "half_sse", "mean"),
    ("abs", "mae", None),
    ("softplus", "bce", "mean"),
    ("tanh", "custom", None),
    ("sigmoid", "mse", "sum"),
    ("relu", "sse", None),
    ("leaky", "half_sse", "sum"),
    ("elu", "mae", "mean"),
    ("silu", "bce", None),
    ("gelu", "custom", "sum"),
    ("max", "mse", "mean"),
    ("min", "sse", None),
    ("powi", "half_sse", None),
    ("powr", "custom", "mean"),
    ("div", "bce", "sum"),
    ("mul", "mae", "sum"),
]


@st.composite
def model_problems(draw, case):
    focus, loss, reduction = case
    rnd = Choices(draw)
    n_in = rnd.randint(1, 2)
    inputs = [f"x{i + 1}" for i in range(n_in)]
    n_params = rnd.randint(2, 4)
    params = {f"p{i + 1}": draw(values_floats()) for i in range(n_params)}
    constants = {"k1": draw(values_floats(0.25, 2.0))}
    n_nodes = rnd.randint(2, 3)
    equations: list[tuple[str, tuple]] = []
    for i in range(n_nodes):
        nodes = [n for n, _ in equations]
        # parameters and earlier nodes are the likeliest leaves, so that the
        # nonlinear parts depend on parameters
        leaves = list(params) + nodes + inputs + ["k1"]
        weights = [4] * len(params) + [4] * len(nodes) + [2] * len(inputs) + [1]
        depth = rnd.randint(1, 3)
        for _ in range(10):  # the forced operation must act on a parameter
            tree = random_expr(rnd, leaves, weights, depth, kind=focus if i == 0 else None)
            if used_vars(tree) & set(params):
                break
        if not used_vars(tree) & (set(params) | set(nodes)):
            tree = ("add", tree, ("var", rnd.choice(list(params) + nodes)))
        if i == 0:
            # p1 * x1 + k1 * tree: uses the first input, the shared parameter and the constant
            e = ("add", ("mul", ("var", "p1"), ("var", "x1")), ("mul", ("var", "k1"), tree))
        elif i == 1:
            # p1 again (shared parameter used in two equations)
            other = ("var", inputs[1]) if n_in > 1 else ("var", equations[0][0])
            e = ("add", ("mul", ("var", "p1"), other), tree)
        else:
            e = tree
        equations.append((f"n{i + 1}", e))
    # every parameter is used: add unused ones to the last equation
    used = set().union(*(used_vars(e) for _, e in equations))
    name, e = equations[-1]
    for p in params:
        if p not in used:
            e = ("add", e, ("mul", ("var", p), ("var", "x1")))
    equations[-1] = (name, e)

    n_out = 1 if loss == "custom" else rnd.randint(1, 2)
    sources = [equations[-1][0], equations[-2][0]][:n_out]
    outputs = [f"o{k + 1}" for k in range(n_out)]
    for o, src in zip(outputs, sources):
        equations.append((o, ("fn", "sigmoid", ("var", src)) if loss == "bce" else ("var", src)))
    targets = [f"t{k + 1}" for k in range(n_out)]

    n_samples = rnd.randint(1, 3)
    data = []
    for _ in range(n_samples):
        sample = {x: draw(values_floats()) for x in inputs}
        for t in targets:
            sample[t] = draw(st.floats(0.01, 0.99)) if loss == "bce" else draw(values_floats())
        data.append(sample)
    return ModelProblem(
        inputs=inputs,
        params=params,
        constants=constants,
        equations=equations,
        outputs=outputs,
        targets=targets,
        data=data,
        loss=loss,
        reduction=reduction,
        custom=rnd.randint(0, len(CUSTOM_LOSSES) - 1) if loss == "custom" else None,
        frozen=[rnd.choice(list(params))] if rnd.chance(0.25) else [],
        data_as_mapping=n_samples == 1 and rnd.chance(0.5),
        explicit_batch=rnd.chance(0.3),
    )


# --------------------------------------------------------------------------
# The finite-difference oracle
# --------------------------------------------------------------------------


def loss_at(problem, params: dict[str, float]) -> float:
    """L(params): final.loss of the problem solved with epochs: 0."""
    sol = solve(problem.render(params, epochs=0))
    assert sol["steps"] == [], "epochs: 0 must give no steps"
    return float(sol["final"]["loss"])


def central_difference(problem, name: str, h: float) -> tuple[float, float]:
    """(L(p+h) - L(p-h)) / (actual 2h); also returns the larger |L| (for the noise bound)."""
    p = problem.params[name]
    hi, lo = p + h, p - h
    l_hi = loss_at(problem, {**problem.params, name: hi})
    l_lo = loss_at(problem, {**problem.params, name: lo})
    return (l_hi - l_lo) / (hi - lo), max(abs(l_hi), abs(l_lo))


def fd_tolerance(fd: float, loss_scale: float, h: float) -> float:
    # relative accuracy of the difference, plus the rounding noise of two
    # loss values divided by 2h (with a generous safety factor)
    return FD_REL * abs(fd) + FD_ABS + 100 * EPS * max(1.0, loss_scale) / h


def check_gradients(problem, data) -> None:
    assume(safe_for_differences(problem))
    text = problem.render(problem.params, epochs=1)
    ref, _ = reference_loss(problem, problem.params)
    note(f"problem:\n{text}")

    sol = solve(text)
    assert sol["parameters"] == problem.params, "top-level parameters must be the initial values"
    assert len(sol["steps"]) == 1
    step = sol["steps"][0]
    grads = step["gradients"]
    assert set(grads) == set(problem.params), "gradients must list every parameter (frozen ones too)"
    assert step["loss"] == pytest.approx(ref, rel=FORWARD_REL, abs=1e-12), (
        f"engine loss {step['loss']!r} != this file's forward pass {ref!r}"
    )

    names = list(problem.params)
    if MAX_FD_PARAMS is not None and len(names) > MAX_FD_PARAMS:
        names = data.draw(st.permutations(names))[:MAX_FD_PARAMS]

    failures = []
    for name in names:
        p = problem.params[name]
        g = float(grads[name])
        h = 1e-6 * max(1.0, abs(p))
        fd, scale = central_difference(problem, name, h)
        if abs(g - fd) <= fd_tolerance(fd, scale, h):
            continue
        # second chance: Richardson extrapolation of two larger steps (O(h^4) error)
        H = 1e-4 * max(1.0, abs(p))
        d1, s1 = central_difference(problem, name, H)
        d2, s2 = central_difference(problem, name, H / 2)
        rich = (4 * d2 - d1) / 3
        if abs(g - rich) <= fd_tolerance(rich, max(s1, s2), H / 2):
            continue
        failures.append(f"d loss/d {name}: engine {g!r}, central difference {fd!r} (h={h:g}), Richardson {rich!r}")
    assert not failures, "gradient != finite difference:\n" + "\n".join(failures)


@pytest.mark.parametrize("case", NET_CASES, ids=["-".join(map(str, c)) for c in NET_CASES])
@NET_SETTINGS
@given(data=st.data())
def test_network_gradients_match_finite_differences(case, data):
    check_gradients(data.draw(net_problems(case), label="problem"), data)


@pytest.mark.parametrize("case", MODEL_CASES, ids=["-".join(map(str, c)) for c in MODEL_CASES])
@MODEL_SETTINGS
@given(data=st.data())
def test_model_gradients_match_finite_differences(case, data):
    check_gradients(data.draw(model_problems(case), label="problem"), data)


# --------------------------------------------------------------------------
# Hand-checked exact gradients
# --------------------------------------------------------------------------

EXACT = dict(rel=1e-12, abs=1e-14)


def gradients_of(text: str) -> tuple[dict, dict]:
    sol = solve(text)
    return sol["steps"][0]["gradients"], sol


LINEAR_NEURON_MODEL = """\
title: Linear neuron
inputs: [x]
params: {w: 0.5, b: -1}
model:
  yhat: w*x + b
outputs: [yhat]
targets: [t]
data: {x: 3, t: 1}
loss: mse
optimizer: {name: sgd, lr: 0.1}
training: {epochs: 1}
"""


def test_linear_neuron_mse_closed_form():
    # L = (w x + b - t)^2;  dL/dw = 2 (w x + b - t) x,  dL/db = 2 (w x + b - t)
    w, b, x, t = 0.5, -1.0, 3.0, 1.0
    err = w * x + b - t  # -0.5
    grads, sol = gradients_of(LINEAR_NEURON_MODEL)
    assert grads["w"] == pytest.approx(2 * err * x, **EXACT)  # -3
    assert grads["b"] == pytest.approx(2 * err, **EXACT)  # -1
    assert sol["steps"][0]["loss"] == pytest.approx(err**2, **EXACT)


def test_linear_neuron_network_form_default_names():
    # the same neuron written as a one-layer network: names w_<unit>_<source>, b_<unit>
    text = """\
title: Linear neuron (network)
network:
  inputs: [x1, x2]
  layers:
    - units: [o]
      activation: linear
      weights: [[0.5, -2]]
      bias: [0.25]
targets: [t]
data: {x1: 3, x2: 0.5, t: 1}
loss: mse
optimizer: {name: sgd, lr: 0.1}
training: {epochs: 1}
"""
    o = 0.5 * 3 + -2 * 0.5 + 0.25  # 0.75
    err = o - 1.0
    grads, _ = gradients_of(text)
    assert set(grads) == {"w_o_x1", "w_o_x2", "b_o"}
    assert grads["w_o_x1"] == pytest.approx(2 * err * 3, **EXACT)
    assert grads["w_o_x2"] == pytest.approx(2 * err * 0.5, **EXACT)
    assert grads["b_o"] == pytest.approx(2 * err, **EXACT)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_linear_neuron_two_samples_reduction(reduction):
    # per-sample half_sse, two samples; mean divides the summed gradient by 2
    samples = [(2.0, 1.0), (-1.0, 0.5)]  # (x, t)
    w, b = 0.75, 0.5
    gw = sum((w * x + b - t) * x for x, t in samples)
    gb = sum((w * x + b - t) for x, t in samples)
    if reduction == "mean":
        gw, gb = gw / 2, gb / 2
    text = f"""\
title: Two samples
inputs: [x]
params: {{w: {w!r}, b: {b!r}}}
model:
  yhat: w*x + b
outputs: [yhat]
targets: [t]
data:
  - {{x: 2, t: 1}}
  - {{x: -1, t: 0.5}}
loss: {{name: half_sse, reduction: {reduction}}}
optimizer: {{name: sgd, lr: 0.1}}
training: {{epochs: 1}}
"""
    grads, sol = gradients_of(text)
    assert sol["steps"][0]["batch"] == [1, 2]
    assert grads["w"] == pytest.approx(gw, **EXACT)
    assert grads["b"] == pytest.approx(gb, **EXACT)


def test_sigmoid_neuron_bce_closed_form():
    # bce after a sigmoid: dL/dz = sigmoid(z) - t
    w1, w2, b, x1, x2, t = 0.5, -1.0, 0.25, 2.0, 1.5, 0.75
    z = w1 * x1 + w2 * x2 + b
    s = 1 / (1 + math.exp(-z))
    text = f"""\
title: Logistic neuron
inputs: [x1, x2]
params: {{w1: {w1!r}, w2: {w2!r}, b: {b!r}}}
model:
  z: w1*x1 + w2*x2 + b
  p: sigmoid(z)
outputs: [p]
targets: [t]
data: {{x1: {x1!r}, x2: {x2!r}, t: {t!r}}}
loss: bce
optimizer: {{name: sgd, lr: 0.1}}
training: {{epochs: 1}}
"""
    grads, _ = gradients_of(text)
    assert grads["w1"] == pytest.approx((s - t) * x1, rel=1e-12, abs=1e-14)
    assert grads["w2"] == pytest.approx((s - t) * x2, rel=1e-12, abs=1e-14)
    assert grads["b"] == pytest.approx(s - t, rel=1e-12, abs=1e-14)


def test_softmax_cce_closed_form():
    # softmax + cce with a one-hot target: dL/dz_k = p_k - t_k, dL/dw_kj = (p_k - t_k) x_j
    W = [[0.5, -1.0], [1.5, 0.25], [-0.5, 0.75]]
    bias = [0.1, -0.2, 0.3]
    x = [1.0, -2.0]
    t = [0.0, 1.0, 0.0]
    z = [sum(w * xi for w, xi in zip(row, x)) + bk for row, bk in zip(W, bias)]
    e = [math.exp(v) for v in z]
    p = [v / sum(e) for v in e]
    text = f"""\
title: Softmax classifier
network:
  inputs: [x1, x2]
  layers:
    - units: [p1, p2, p3]
      activation: softmax
      weights: {W!r}
      bias: {bias!r}
      names: {{weights: [[w11, w12], [w21, w22], [w31, w32]], bias: [b1, b2, b3]}}
targets: [t1, t2, t3]
data: {{x1: 1, x2: -2, t1: 0, t2: 1, t3: 0}}
loss: cce
optimizer: {{name: sgd, lr: 0.1}}
training: {{epochs: 1}}
"""
    grads, sol = gradients_of(text)
    assert sol["steps"][0]["loss"] == pytest.approx(-math.log(p[1]), rel=1e-12)
    for k in range(3):
        assert grads[f"b{k + 1}"] == pytest.approx(p[k] - t[k], rel=1e-12, abs=1e-14)
        for j in range(2):
            assert grads[f"w{k + 1}{j + 1}"] == pytest.approx((p[k] - t[k]) * x[j], rel=1e-12, abs=1e-14)


def test_shared_parameter_sums_over_uses():
    # n1 = w x, yhat = w n1 + b = w^2 x + b: dyhat/dw = 2 w x (both uses of w)
    w, b, x, t = 1.5, 0.5, 2.0, 1.0
    y = w * w * x + b
    text = f"""\
title: Shared weight
inputs: [x]
params: {{w: {w!r}, b: {b!r}}}
model:
  n1: w*x
  yhat: w*n1 + b
outputs: [yhat]
targets: [t]
data: {{x: {x!r}, t: {t!r}}}
loss: sse
optimizer: {{name: sgd, lr: 0.1}}
training: {{epochs: 1}}
"""
    grads, _ = gradients_of(text)
    assert grads["w"] == pytest.approx(2 * (y - t) * 2 * w * x, **EXACT)
    assert grads["b"] == pytest.approx(2 * (y - t), **EXACT)


MAZUR = """\
title: Mazur's step-by-step backpropagation example
network:
  inputs: [i1, i2]
  layers:
    - units: [h1, h2]
      activation: sigmoid
      weights: [[0.15, 0.20], [0.25, 0.30]]
      bias: [0.35, 0.35]
      names: {weights: [[w1, w2], [w3, w4]], bias: [b1, b1]}
    - units: [o1, o2]
      activation: sigmoid
      weights: [[0.40, 0.45], [0.50, 0.55]]
      bias: [0.60, 0.60]
      names: {weights: [[w5, w6], [w7, w8]], bias: [b2, b2]}
targets: [t1, t2]
data: {i1: 0.05, i2: 0.10, t1: 0.01, t2: 0.99}
loss: half_sse
optimizer: {name: sgd, lr: 0.5}
training: {epochs: 1}
"""


def test_mazur_example_shared_biases():
    # https://mattmazur.com/2015/03/17/a-step-by-step-backpropagation-example/
    grads, sol = gradients_of(MAZUR)
    # published (9 decimals)
    assert sol["steps"][0]["loss"] == pytest.approx(0.298371109, abs=1e-9)
    assert grads["w5"] == pytest.approx(0.082167041, abs=1e-9)
    assert grads["w1"] == pytest.approx(0.000438568, abs=1e-9)

    # closed form, every parameter (the shared biases sum over their two units)
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    i = [0.05, 0.10]
    t = [0.01, 0.99]
    W1 = [[0.15, 0.20], [0.25, 0.30]]
    W2 = [[0.40, 0.45], [0.50, 0.55]]
    h = [sig(sum(w * x for w, x in zip(row, i)) + 0.35) for row in W1]
    o = [sig(sum(w * x for w, x in zip(row, h)) + 0.60) for row in W2]
    d_o = [(o[k] - t[k]) * o[k] * (1 - o[k]) for k in range(2)]
    d_h = [sum(d_o[k] * W2[k][j] for k in range(2)) * h[j] * (1 - h[j]) for j in range(2)]
    expect = {
        "w1": d_h[0] * i[0], "w2": d_h[0] * i[1], "w3": d_h[1] * i[0], "w4": d_h[1] * i[1],
        "w5": d_o[0] * h[0], "w6": d_o[0] * h[1], "w7": d_o[1] * h[0], "w8": d_o[1] * h[1],
        "b1": d_h[0] + d_h[1], "b2": d_o[0] + d_o[1],
    }  # fmt: skip
    assert set(grads) == set(expect)
    for name, value in expect.items():
        assert grads[name] == pytest.approx(value, rel=1e-12, abs=1e-15), name


# The spec's conventions where finite differences cannot decide (a kink at
# exactly 0 / a tie). Each model has p = 1 and x = 1, so u = p*x - 1 = 0
# exactly, and yhat = f(u) + 2*p*x; loss sse against t = 0 gives
# dL/dp = 2*yhat * (f'(0) * x + 2 x) with yhat = f(0) + 2.
KINK_CASES = [
    # (equation for f(u), f(0), f'(0) by the spec's convention)
    ("relu(u)", 0.0, 0.0),
    ("abs(u)", 0.0, 0.0),
    ("leaky_relu(u, 0.25)", 0.0, 0.25),
    ("elu(u, 0.5)", 0.0, 0.5),
    ("max(u, 0)", 0.0, 0.5),  # tie: half to each argument
    ("min(u, -u)", 0.0, 0.0),  # tie: 1/2 * 1 + 1/2 * (-1)
    ("max(3*u, u)", 0.0, 2.0),  # tie: 1/2 * 3 + 1/2 * 1
    ("max(3*u, u, 0)", 0.0, 4 / 3),  # three tied: 1/3 * 3 + 1/3 * 1 + 1/3 * 0
    ("min(2*u, u, 5)", 0.0, 1.5),  # two of three tied: 1/2 * 2 + 1/2 * 1, the 5 gets nothing
]


@pytest.mark.parametrize("f, f0, df0", KINK_CASES, ids=[c[0] for c in KINK_CASES])
def test_conventions_at_kinks(f, f0, df0):
    text = f"""\
title: Derivative at a kink
inputs: [x]
params: {{p: 1}}
model:
  u: p*x - 1
  v: {f}
  yhat: v + 2*p*x
outputs: [yhat]
targets: [t]
data: {{x: 1, t: 0}}
loss: sse
optimizer: {{name: sgd, lr: 0.1}}
training: {{epochs: 1}}
"""
    yhat = f0 + 2.0
    grads, sol = gradients_of(text)
    assert sol["steps"][0]["samples"][0]["values"]["u"] == 0.0
    assert grads["p"] == pytest.approx(2 * yhat * (df0 + 2.0), **EXACT)


def _sig(a: float) -> float:
    return 1 / (1 + math.exp(-a))


ABS_CASES = [
    # (the argument of abs as written, with a = p*x; its value; its derivative d/da)
    ("tanh(p*x)", math.tanh, lambda a: 1 - math.tanh(a) ** 2),
    ("sigmoid(p*x)", _sig, lambda a: _sig(a) * (1 - _sig(a))),
    ("softplus(p*x)", lambda a: math.log1p(math.exp(a)), _sig),
    ("silu(p*x)", lambda a: a * _sig(a), lambda a: _sig(a) * (1 + a * (1 - _sig(a)))),
    ("sqrt(sigmoid(p*x) + 0.5)", lambda a: math.sqrt(_sig(a) + 0.5),
     lambda a: _sig(a) * (1 - _sig(a)) / (2 * math.sqrt(_sig(a) + 0.5))),
    ("(sigmoid(p*x) + 0.5)**1.5", lambda a: (_sig(a) + 0.5) ** 1.5,
     lambda a: 1.5 * (_sig(a) + 0.5) ** 0.5 * _sig(a) * (1 - _sig(a))),
]  # fmt: skip


@pytest.mark.parametrize("inner, f, df", ABS_CASES, ids=[c[0] for c in ABS_CASES])
def test_abs_of_a_function_closed_form(inner, f, df):
    # y = |f(p x)|: dy/dp = sign(f(p x)) f'(p x) x
    p, x, t = -1.5, 0.5, 0.25
    a = p * x
    u = f(a)
    y = abs(u)
    text = f"""\
title: Absolute value of a function
inputs: [x]
params: {{p: {p!r}}}
model:
  y: abs({inner})
outputs: [y]
targets: [t]
data: {{x: {x!r}, t: {t!r}}}
loss: mse
optimizer: {{name: sgd, lr: 0.1}}
training: {{epochs: 1}}
"""
    grads, sol = gradients_of(text)
    assert sol["steps"][0]["loss"] == pytest.approx((y - t) ** 2, rel=1e-12)
    assert grads["p"] == pytest.approx(2 * (y - t) * math.copysign(1.0, u) * df(a) * x, rel=1e-12)


# --------------------------------------------------------------------------
# Objectives: gradients on parameters, inputs, constants and nodes
# --------------------------------------------------------------------------


@dataclass
class ObjectiveProblem:
    """A random model with ``objective:`` instead of outputs, targets and loss (the last
    node, or upstream gradients given at one or two nodes), one sample. Every equation
    gets ``+ s_<node>``, a constant 0: moving it moves that node's value, so a central
    difference in it is ∂E/∂node."""

    base: ModelProblem
    point: dict[str, float]               # parameters, inputs, constants (k1, s_*): what moves
    upstream: dict[str, float] | None     # None: the objective is the last node

    def nodes(self) -> list[str]:
        return [name for name, _ in self.base.equations]

    def render(self, point: dict[str, float]) -> str:
        b = self.base
        lines = ["title: Finite-difference check (objective)",
                 f"inputs: [{', '.join(b.inputs)}]",
                 "params: {" + ", ".join(f"{p}: {num(point[p])}" for p in b.params) + "}",
                 "constants: {" + ", ".join(f"{c}: {num(point[c])}" for c in self.constant_names()) + "}",
                 "model:"]
        lines += [f"  {name}: {render_expr(e)} + s_{name}" for name, e in b.equations]
        if self.upstream is None:
            lines.append(f"objective: {self.nodes()[-1]}")
        else:
            lines.append("objective: {upstream: {" + ", ".join(f"{n}: {num(g)}" for n, g in self.upstream.items())
                         + "}}")
        lines.append("data: {" + ", ".join(f"{x}: {num(point[x])}" for x in b.inputs) + "}")
        lines.append("training: {epochs: 0}")
        return "\n".join(lines) + "\n"

    def constant_names(self) -> list[str]:
        return list(self.base.constants) + [f"s_{n}" for n in self.nodes()]

    def reference(self, point: dict[str, float]) -> tuple[float, list[float]]:
        kinks: list[float] = []
        posargs: list[float] = []
        values: list[float] = []
        env = dict(point)
        for name, e in self.base.equations:
            env[name] = eval_expr(e, env, kinks, posargs, values) + env[f"s_{name}"]
            values.append(env[name])
        if self.upstream is None:
            objective = env[self.nodes()[-1]]
        else:
            objective = sum(g * env[n] for n, g in self.upstream.items())
        check_region(values + [objective], kinks, posargs)
        return objective, kinks


@st.composite
def objective_problems(draw, case):
    base = draw(model_problems(case))
    point = {**base.params, **base.constants, **base.data[0]}
    for target in base.targets:
        point.pop(target)
    point.update((f"s_{name}", 0.0) for name, _ in base.equations)
    nodes = [name for name, _ in base.equations]
    upstream = None
    if draw(st.booleans()):
        chosen = draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=2, unique=True))
        upstream = {n: draw(st.sampled_from([1.0, -2.0, 0.5, 3.0])) for n in chosen}
    return ObjectiveProblem(base, point, upstream)


def _safe_objective(problem: ObjectiveProblem) -> bool:
    try:
        _, kinks = problem.reference(problem.point)
        signs = [k > 0 for k in kinks]
        for name, v in problem.point.items():
            for q in (v - 2e-4 * max(1.0, abs(v)), v + 2e-4 * max(1.0, abs(v))):
                if [k > 0 for k in problem.reference({**problem.point, name: q})[1]] != signs:
                    return False
    except (Reject, OverflowError, ValueError, ZeroDivisionError):
        return False
    return True


def _objective_at(problem: ObjectiveProblem, point: dict[str, float]) -> float:
    return float(solve(problem.render(point))["final"]["loss"])


OBJECTIVE_CASES = MODEL_CASES[::3]


@pytest.mark.parametrize("case", OBJECTIVE_CASES, ids=["-".join(map(str, c)) for c in OBJECTIVE_CASES])
@settings(max_examples=_EXAMPLES or 3, **_COMMON)
@given(data=st.data())
def test_objective_gradients_match_finite_differences(case, data):
    """∂E/∂θ (final.gradients, no training step) and ∂E/∂input, ∂E/∂constant, ∂E/∂node
    (final.samples[0].derivatives) against central differences of the objective."""
    problem = data.draw(objective_problems(case), label="problem")
    assume(_safe_objective(problem))
    text = problem.render(problem.point)
    note(f"problem:\n{text}")
    sol = solve(text)
    final = sol["final"]
    ref, _ = problem.reference(problem.point)
    assert final["loss"] == pytest.approx(ref, rel=FORWARD_REL, abs=1e-12)
    derivatives = final["samples"][0]["derivatives"]
    engine = {**final["gradients"], **derivatives}
    # a node's derivative is the derivative by its shift constant s_<node>
    moved = {name: name for name in problem.point} | {n: f"s_{n}" for n in problem.nodes()}
    failures = []
    for name, via in moved.items():
        v = problem.point[via]
        g = float(engine[name])
        h = 1e-6 * max(1.0, abs(v))
        hi = _objective_at(problem, {**problem.point, via: v + h})
        lo = _objective_at(problem, {**problem.point, via: v - h})
        fd = (hi - lo) / ((v + h) - (v - h))
        if abs(g - fd) > fd_tolerance(fd, max(abs(hi), abs(lo)), h):
            failures.append(f"∂E/∂{name}: engine {g!r}, central difference {fd!r}")
    assert not failures, "derivative != finite difference:\n" + "\n".join(failures)


NARY_MAX_MIN = """\
title: n-ary max and min
inputs: [x]
params: {{a: {a!r}, b: {b!r}, c: {c!r}, d: {d!r}}}
model:
  u: max(a*x, b*x*x, c, d - x)
  v: min(a + b, c*d, u, 2*x)
  yhat: u*v
outputs: [yhat]
targets: [t]
data: {{x: 1.3, t: 0.4}}
loss: mse
optimizer: {{name: sgd, lr: 0.1}}
training: {{epochs: {epochs}}}
"""
NARY_POINT = {"a": 0.7, "b": -0.4, "c": 0.2, "d": 0.5}  # u = a·x, v = c·d: every argument away from a tie


@pytest.mark.parametrize("shift", [{}, {"c": 1.5}, {"b": 0.9}], ids=["ax-and-cd", "c-and-ab", "bxx-and-cd"])
def test_nary_max_min_gradients_match_finite_differences(shift):
    point = {**NARY_POINT, **shift}
    grads, _ = gradients_of(NARY_MAX_MIN.format(epochs=1, **point))

    def loss(params):
        return float(solve(NARY_MAX_MIN.format(epochs=0, **params))["final"]["loss"])

    for name, p in point.items():
        h = 1e-6
        fd = (loss({**point, name: p + h}) - loss({**point, name: p - h})) / (2 * h)
        assert grads[name] == pytest.approx(fd, rel=FD_REL, abs=FD_ABS), name
