"""What a validated problem is: the records the reader builds and the engine reads.
Nothing here knows YAML."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import sympy

from ..tolerance import Tolerance

THRESHOLDS_KEY = "thresholds"

@dataclass(frozen=True)
class Number:
    """A number as given: exact (SymPy) and its nearest double."""

    exact: sympy.Expr
    value: float


@dataclass(frozen=True)
class Layer:
    units: tuple[str, ...]
    nets: tuple[str, ...]
    activation: str                   # linear, softmax or a one-argument function name
    activation_arg: sympy.Expr | None  # leaky_relu's slope, elu's alpha
    sources: tuple[str, ...]
    weights: tuple[tuple[str, ...], ...]  # parameter names, one row per unit
    bias: tuple[str, ...] | None
    thresholds: bool = False  # the bias names are thresholds θ_j, subtracted: net_j = Σ w_ji·s_i − θ_j

    @property
    def bias_key(self) -> str:
        """The layer's key (and names key) for its bias: bias, or thresholds."""
        return THRESHOLDS_KEY if self.thresholds else "bias"


@dataclass(frozen=True)
class Grid:
    """A vector or grid of scalar names (an input, a kernel, a feature map), for the
    solution to show as a grid; its components are ordinary names of the problem."""

    name: str
    shape: tuple[int, ...]
    components: tuple[str, ...]   # row-major
    role: str                     # input, target, kernel, net, units, mask

    def rows(self) -> tuple[tuple[str, ...], ...]:
        width = self.shape[-1]
        return tuple(self.components[i:i + width] for i in range(0, len(self.components), width))


@dataclass(frozen=True)
class BatchStat:
    """Batch normalization's statistics of one unit's input over the samples of a batch:
    names the samples share. In the equations they read like constants; the engine
    computes them over the batch (tutor/batch.py)."""

    mean: str     # μ = (1/m) Σ_s x_s
    var: str      # σ² = (1/m) Σ_s (x_s − μ)², biased, as PyTorch normalizes
    source: str   # x, the per-sample name normalized
    normalized: str  # x̂ = (x − μ)/√(σ² + eps), the node that reads μ and σ²


@dataclass(frozen=True)
class TimeStep:
    """One step of an unrolled recurrence: the equations it holds, for the solution to group."""

    variable: str               # t
    t: int
    names: tuple[str, ...]      # its equations, in order


@dataclass(frozen=True)
class Equation:
    name: str
    expr: sympy.Expr


@dataclass(frozen=True)
class PenaltySpec:
    l2: Number | None      # λ₂
    l1: Number | None      # λ₁
    on: tuple[str, ...]    # the penalized parameters, in the problem's order

    def expression(self) -> sympy.Expr:
        """P over the parameters' symbols, with the exact λs."""
        thetas = [sympy.Symbol(p, real=True) for p in self.on]
        terms = []
        if self.l2 is not None:
            terms.append(self.l2.exact / 2 * sympy.Add(*[th**2 for th in thetas]))
        if self.l1 is not None:
            terms.append(self.l1.exact * sympy.Add(*[sympy.Abs(th) for th in thetas]))
        return sympy.Add(*terms)

    def formula(self) -> str:
        """How the conventions state it."""
        parts = []
        if self.l2 is not None:
            parts.append(f"({self.l2.value:g}/2)·Σθ²")
        if self.l1 is not None:
            parts.append(f"{self.l1.value:g}·Σ|θ|")
        return " + ".join(parts)


@dataclass(frozen=True)
class LossSpec:
    name: str | None           # a LOSSES key, or None for a custom expression
    expr: sympy.Expr | None    # custom: over outputs, targets and constants
    reduction: str             # mean or sum over the samples of a batch
    penalty: PenaltySpec | None = None  # a regularization term added to the batch loss


@dataclass(frozen=True)
class Schedule:
    name: str
    keys: dict[str, Number]
    unit: str


@dataclass(frozen=True)
class OptimizerSpec:
    name: str
    form: str
    hypers: dict[str, Number]  # by symbol name (lr, mu, beta1, ...)
    weight_decay: Number | None
    centralize: bool
    schedules: tuple[Schedule, ...]
    state: dict[str, dict[str, Number]] = field(default_factory=dict)  # given initial state: var -> param -> value
    steps_done: int = 0  # state's t: steps already taken (Adam resumed); the first step here is t = steps_done + 1


@dataclass(frozen=True)
class Training:
    epochs: int
    batch_size: int
    max_steps: int | None
    update: str  # simultaneous | sequential


@dataclass(frozen=True)
class AskItem:
    kind: str                    # forward, loss, gradient, update, final, steps, gradient_check
    names: tuple[str, ...] = ()  # for gradient / update / gradient_check; empty = all
    steps: tuple[int, ...] = ()
    eps: Number | None = None    # gradient_check's ε


@dataclass(frozen=True)
class Objective:
    """What is minimised instead of a loss: a node's value, or Σ g_k·Y_k with the
    upstream gradients g_k given."""

    node: str | None
    upstream: dict[str, Number] = field(default_factory=dict)


@dataclass(frozen=True)
class SymbolicSpec:
    """What `arithmetic: symbolic` adds (docs/symbolic.md)."""

    batch: str | None = None          # the batch size's name of data: {samples: m}; None: one sample
    one_hot: tuple[str, ...] = ()     # targets known to be one-hot (Σ y_k = 1)


@dataclass(frozen=True)
class ProblemWarning:
    """Valid input that is probably not what the author meant: printed by the CLI
    as ``FILE:LINE:COL: warning: MESSAGE``; the library itself never prints."""

    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: warning: {self.message}"


@dataclass(frozen=True)
class Problem:
    path: str
    title: str
    statement: str | None
    meta: dict[str, Any]
    inputs: tuple[str, ...]
    params: dict[str, Number]
    constants: dict[str, Number]
    equations: tuple[Equation, ...] | None  # the model form
    layers: tuple[Layer, ...] | None        # the network form
    outputs: tuple[str, ...]
    targets: tuple[str, ...]
    samples: tuple[dict[str, Number], ...]
    loss: LossSpec
    optimizer: OptimizerSpec
    training: Training
    frozen: tuple[str, ...]
    ask: tuple[AskItem, ...] | None
    arithmetic: str      # float, exact, round or significant
    round_decimals: int | None = None  # N of {round: N}, or of {significant: N} (figures)
    check_tolerance: Tolerance | None = None  # the instructor's, for tutor check
    name_lines: dict[str, int] = field(default_factory=dict, compare=False)
    warnings: tuple[ProblemWarning, ...] = field(default=(), compare=False)
    objective: Objective | None = None
    # Vector, matrix and grid names -> their shapes, in order of definition; the problem's
    # other fields hold only their scalar components (x1, W11, ...).
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    notation: str = "scalar"  # or matrix: the worked solution at layer level (the numbers are the same)
    symbolic: SymbolicSpec | None = None  # with arithmetic: symbolic
    time_steps: tuple[TimeStep, ...] = ()  # an unrolled recurrence, step by step
    grids: tuple[Grid, ...] = ()           # vectors and grids of a network's layers, by name
    batch_stats: tuple[BatchStat, ...] = ()  # batch normalization: the batch is one computation

    @property
    def step_count(self) -> int:
        return total_steps(len(self.samples), self.training)


def total_steps(n_samples: int, training: Training) -> int:
    per_epoch = math.ceil(n_samples / training.batch_size)
    count = training.epochs * per_epoch
    return count if training.max_steps is None else min(count, training.max_steps)
