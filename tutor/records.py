"""The records of a worked solution: what every printer of it reads, in the order
a worked solution reads (`Solution.records`). Pure data: this module knows no
engine (no training, no evaluation); `solution.build_solution` fills it in from a
solved run.

Labels are structured (`Name`, `Partial`, `Delta`): a printer spells ∂E⁽²⁾/∂w21 or
\\frac{\\partial E^{(2)}}{\\partial w_{21}} from the same `Partial`, never by
parsing one spelling into another.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Union

import sympy

from .arith import Exact, ordered_sum
from .figures import Figures


# ---------------------------------------------------------------- labels

@dataclass(frozen=True)
class Name:
    """A name of the problem (o1, w21, E), perhaps of one sample of a batch (E⁽²⁾)
    or at the look-ahead point (w̃21)."""

    name: str
    sample: int | None = None
    tilde: bool = False


@dataclass(frozen=True)
class Partial:
    """∂of/∂wrt, for one sample of a batch if ``sample`` is set (∂E⁽²⁾/∂w21)."""

    of: str
    wrt: str
    sample: int | None = None


@dataclass(frozen=True)
class Delta:
    """δ of a node: the loss's derivative with respect to it."""

    node: str


@dataclass(frozen=True)
class Tensor:
    """A vector or matrix at layer level (notation: matrix): W⁽²⁾ (base W, layer 2), a
    model's own q (no layer), transposed (a⁽¹⁾ᵀ), its δ (δ_z⁽²⁾) or the gradient ∂E/∂W⁽²⁾."""

    base: str
    layer: int | None = None
    role: str = "value"          # value | delta | gradient
    transpose: bool = False


Label = Union[Name, Partial, Delta, Tensor]


def sample_of(index: int, batch_size: int) -> int | None:
    """The sample a label is marked with: only in a batch of several."""
    return index if batch_size > 1 else None


# ---------------------------------------------------------------- records

@dataclass(frozen=True)
class Calc:
    """``lhs = expr = expr with numbers = value``."""

    lhs: Label
    expr: sympy.Expr | None          # the formula (None: the value is given, not computed here)
    values: dict[str, Any] | None    # symbol name -> number for the substitution (None: no substitution)
    value: Any
    context: str = "model"           # the printer settings: model | optimizer | chain
    note: str = ""                   # a remark in words
    kink: tuple[str, Any] | None = None  # (z1, its value): "since z1 = 2 > 0" for relu' and kin
    shadow: Any = None               # the full-precision value (arithmetic: round)
    lhs_expr: sympy.Expr | None = None  # an assignment's target, printed like the formula
    names: tuple[tuple[str, str], ...] = ()  # display names besides the context's (θ shown as w21)
    labels: tuple[tuple[str, Label], ...] = ()  # the chain rule's symbols: symbol name -> the label it stands for
    digits: int | None = None        # the substituted numbers' digits, when more than the solution's are
                                     # needed for the line to recompute (its numbers nearly cancel)


@dataclass(frozen=True)
class Header:
    title: str
    statement: str | None
    loss: str                                  # the loss formula as the solution states it
    loss_notes: tuple[str, ...]
    optimizer: str                             # name and form
    rules: tuple[tuple[sympy.Expr, sympy.Expr], ...]   # the optimizer's assignments (target, expr)
    hypers: tuple[tuple[str, Any], ...]        # display name, value
    notes: tuple[str, ...]                     # frozen, shared, relu'(0) = 0, arithmetic, ...
    custom_loss: tuple[str, sympy.Expr] | None = None  # a loss given as an expression: (E, its right side)
    engine_notes: tuple[str, ...] = ()         # those of the notes about how tutor computes (not on a student's sheet)


@dataclass(frozen=True)
class Model:
    equations: tuple[tuple[str, sympy.Expr], ...]
    parameters: tuple[tuple[str, Any, str], ...]    # name, initial value, remark (frozen/shared)
    constants: tuple[tuple[str, Any], ...]
    matrix: Any = None    # notation: matrix: the maps at layer level (a matrixview.MatrixModel), if any


@dataclass(frozen=True)
class Remark:
    """What a TA writes in the margin: a saturated sigmoid, a loss that rose between
    epochs, an output that moved away from its target."""

    kind: str                              # saturated | loss_rose | away_from_target
    name: str = ""                         # the node or output it is about
    values: tuple[Any, ...] = ()           # saturated: (value,); loss_rose: (before, after); away: (start, end, target)
    where: tuple[Any, ...] = ()            # loss_rose: (epoch, next epoch, how many rises); away: (sample, target name)


@dataclass(frozen=True)
class SampleForward:
    index: int
    given: tuple[tuple[str, Any], ...]     # inputs and targets
    rows: tuple[Calc, ...]
    remarks: tuple[Remark, ...] = ()
    pooled_maxima: frozenset[str] = frozenset()  # max pooling: the maxima of their windows (ties: all)


@dataclass(frozen=True)
class Loss:
    per_sample: tuple[tuple[int, Calc], ...]
    batch: Calc | None                     # the reduction over a batch of several samples


@dataclass(frozen=True)
class SampleBackward:
    index: int
    locals: tuple[Calc, ...]               # every local derivative used, with formula and value
    deltas: tuple[Calc, ...]               # δ form only: δ_node = Σ δ_consumer·∂consumer/∂node
    gradients: tuple[tuple[str, Calc], ...]  # parameter -> ∂E/∂θ of this sample


@dataclass(frozen=True)
class Upstream:
    """∂E/∂name for the inputs, constants and nodes a problem asks about, one sample,
    stage by stage from the top down as CS231n draws a circuit: at each stage its
    local derivatives, then the upstream gradient times them."""

    index: int
    rows: tuple[Calc, ...]
    results: tuple[Calc, ...] = ()         # the row that ends each asked name's working: its answer


@dataclass(frozen=True)
class FromLoss:
    """∂E/∂o1 derived from the loss's own formula in one line, by the chain rule:
    ∂/∂o1 [(t1 − o1)²/2] = 2·(t1 − o1)·(−1)/2 = o1 − t1."""

    lhs: Partial
    term: sympy.Expr                       # the loss's terms that hold o1
    worked: sympy.Expr | None              # the chain rule's factors as written (None: it reads as the result)
    result: sympy.Expr                     # the local derivative the working uses
    likewise: tuple[tuple[Partial, sympy.Expr], ...] = ()  # the other outputs whose term reads the same: ∂E/∂o2 = o2 − t2


@dataclass(frozen=True)
class Backward:
    form: str                              # paths | delta
    chains: tuple[tuple[str, sympy.Expr], ...]   # parameter -> chain rule in symbols (paths form)
    samples: tuple[SampleBackward, ...]
    batch: tuple[tuple[str, Calc], ...]    # parameter -> reduction over the batch
    at_lookahead: bool = False
    from_loss: tuple[FromLoss, ...] = ()   # the loss's partials derived from its formula (the first backward only)
    delta_too: tuple[SampleBackward, ...] = ()   # paths form: the same gradients the δ way (deltas, gradients)


@dataclass(frozen=True)
class Update:
    param: str
    old: Any
    new: Any
    gradient: Any
    rows: tuple[Calc, ...]                 # weight decay, centralization, then the optimizer's assignments
    frozen: bool = False
    shadow_new: Any = None
    change: Any = None                     # new − old, shown when too small to see in the values
    still: tuple[Calc, ...] = ()           # why the gradient is 0: the local derivative that is 0 (a dead relu)

    @property
    def remark(self) -> str:
        """Why the update looks as it does, when that needs saying."""
        if self.frozen:
            return "frozen: not updated"
        if self.gradient.is_zero() if isinstance(self.gradient, Exact) else self.gradient == 0:
            return "unchanged: its gradient is 0" + (", because a factor of its chain rule is 0" if self.still else "")
        if self.rows and not any(dict(c.names).get("theta") == self.param for c in self.rows):
            return "θ below"
        return ""


@dataclass(frozen=True)
class StepPart:
    step: int
    epoch: int
    batch: tuple[int, ...]
    lr: Calc
    forward: tuple[SampleForward, ...]
    loss: Loss
    lookahead: tuple[Calc, ...]            # nesterov look-ahead: θ̃ = θ + μ·v
    lookahead_forward: tuple[SampleForward, ...]
    backward: Backward | None
    updates: tuple[Update, ...]
    upstream: tuple[Upstream, ...] = ()    # asked gradients on inputs and nodes
    matrix: Any = None                     # notation: matrix: the step at layer level (a matrixview.StepView)
    batch_stats: tuple[Calc, ...] = ()     # batch normalization: μ and σ² over the batch


@dataclass(frozen=True)
class StepSummary:
    step: int
    epoch: int
    batch: tuple[int, ...]
    lr: Any
    loss: Any


@dataclass(frozen=True)
class LogRow:
    """One row of a training log: a step, or an epoch's steps (loss: their mean)."""

    steps: str            # "7", or "13–24"
    epoch: int
    batch: str            # the samples, or how many steps an epoch row sums up
    lr: Any
    loss: Any
    skipped_before: int = 0  # rows left out just before this one, to keep the log short


LOG_ROWS = 12  # a training log longer than this is summarised, so long trainings print briefly


@dataclass(frozen=True)
class StepLog:
    """Consecutive steps not shown in full: one compact row each, or one per epoch
    (and only the first and last epochs) when there are many."""

    steps: tuple[StepSummary, ...]

    @property
    def title(self) -> str:
        first, last = self.steps[0].step, self.steps[-1].step
        return "Training log, " + (f"step {first}" if first == last else f"steps {first}–{last}")

    def rows(self) -> tuple[LogRow, ...]:
        if len(self.steps) <= LOG_ROWS:
            return tuple(LogRow(str(s.step), s.epoch, ", ".join(map(str, s.batch)), s.lr, s.loss) for s in self.steps)
        return abridge(epoch_rows(self.steps))


def epoch_rows(steps) -> list[LogRow]:
    """One row per epoch: its steps, and the mean of their losses."""
    epochs: dict[int, list[StepSummary]] = {}
    for s in steps:
        epochs.setdefault(s.epoch, []).append(s)
    return [LogRow(f"{group[0].step}–{group[-1].step}" if len(group) > 1 else str(group[0].step), epoch,
                   f"{len(group)} step{'s' * (len(group) > 1)}", group[-1].lr,
                   ordered_sum((g.loss for g in group[1:]), group[0].loss) / len(group))
            for epoch, group in epochs.items()]


def abridge(rows: list[LogRow]) -> tuple[LogRow, ...]:
    """All rows, or log-spaced ones (the 1st to 5th, the 10th, 20th, 50th, 100th, ... and the
    last), marking how many were left out before each: a long training's whole course, briefly."""
    if len(rows) <= LOG_ROWS:
        return tuple(rows)
    keep = set(range(5)) | {len(rows) - 1}
    scale = 10
    while scale <= len(rows):
        keep |= {k * scale // 10 - 1 for k in (10, 20, 50) if k * scale // 10 <= len(rows)}
        scale *= 10
    out, last = [], -1
    for i in sorted(keep):
        out.append(dataclasses.replace(rows[i], skipped_before=i - last - 1) if i - last > 1 else rows[i])
        last = i
    return tuple(out)


@dataclass(frozen=True)
class Final:
    parameters: tuple[tuple[str, Any, Any], ...]     # name, initial, final
    epochs: tuple[LogRow, ...]                       # per epoch: mean batch loss (first and last, if many)
    outputs: tuple[tuple[int, str, Any, str, Any], ...]  # sample, output, value, target, target value
    loss: Any
    remarks: tuple[Remark, ...] = ()


@dataclass(frozen=True)
class Evaluation:
    """No training steps: the forward pass and the loss at the given parameters."""

    forward: tuple[SampleForward, ...]
    loss: Loss
    upstream: tuple[Upstream, ...] = ()
    backward: Backward | None = None       # asked parameter gradients, at the initial parameters
    matrix: Any = None                     # notation: matrix: the pass at layer level (a matrixview.StepView)


@dataclass(frozen=True)
class GradientCheckPart:
    """Central differences against backpropagation at the initial parameters."""

    eps: Any
    rows: tuple[tuple[str, Any, Any, Any, Any, float], ...]  # θ, E(θ+ε), E(θ−ε), numeric, backprop, rel. error


@dataclass(frozen=True)
class Diverged:
    """The training stopped at a value that is not finite: the report."""

    text: str


@dataclass(frozen=True)
class Layout:
    """How a problem's names group, for the solution to show them so: the time steps of a
    recurrence (each with its equations) and the grids of a network's layers (inputs,
    kernels, feature maps), each a shape and its components row by row."""

    time_steps: tuple[tuple[int, tuple[str, ...]], ...] = ()      # t, its equations in order
    grids: tuple[tuple[str, tuple[int, ...], tuple[str, ...], str], ...] = ()  # name, shape, components, role

    def step_of(self) -> dict[str, int]:
        return {name: t for t, names in self.time_steps for name in names}


@dataclass(frozen=True)
class Solution:
    header: Header
    model: Model
    show: frozenset[str]                   # forward, loss, gradient, update, final
    steps: tuple[StepPart, ...]            # shown in full
    summary: tuple[StepSummary, ...]       # every step, for the compact table
    final: Final | None
    diverged: str | None
    rank: dict[str, int] = field(default_factory=dict)
    params: frozenset[str] = frozenset()
    digits: int = 4
    round_decimals: int | None = None
    evaluation: Evaluation | None = None
    gradient_check: GradientCheckPart | None = None
    figures: Figures | None = None         # the drawing of the problem, the loss curve
    answers: tuple["Answer", ...] = ()     # what the problem asks, picked from the records
    source: str = ""                       # the problem file
    variant: str | None = None             # tutor vary's id of the problem
    data: "Data | None" = None             # the given samples, for a student's sheet
    layout: Layout = field(default_factory=Layout)  # time steps and grids, to group the working by

    @property
    def shown_digits(self) -> int:
        """The digits numbers are shown with: never fewer than the rounding arithmetic keeps."""
        return max(self.digits, self.round_decimals or 0)

    def records(self) -> tuple:
        """Everything a printer prints, in order."""
        head = (self.header, self.model) + ((self.evaluation,) if self.evaluation is not None else ())
        head += (self.gradient_check,) if self.gradient_check is not None else ()
        tail = ((self.final,) if self.final is not None else ()) + ((Diverged(self.diverged),) if self.diverged else ())
        return head + self.training() + tail

    def training(self) -> tuple[StepPart | StepLog, ...]:
        """The steps in order: each shown in full, or in a compact log of the
        consecutive steps between those shown in full."""
        full = {p.step: p for p in self.steps}
        out: list[StepPart | StepLog] = []
        pending: list[StepSummary] = []
        for summary in self.summary:
            if summary.step in full:
                if pending:
                    out.append(StepLog(tuple(pending)))
                    pending = []
                out.append(full[summary.step])
            else:
                pending.append(summary)
        if pending:
            out.append(StepLog(tuple(pending)))
        return tuple(out)


@dataclass(frozen=True)
class Data:
    """The given samples: names (inputs, then targets) and each sample's values."""

    names: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


# ---------------------------------------------------------------- answers

@dataclass(frozen=True)
class Answer:
    """One answer a problem asks for, picked from the records (never computed here)."""

    kind: str              # forward | loss | gradient | update | final
    step: int | None       # the step it belongs to (None: before training, or after it)
    quantity: Label        # o1, E, ∂E/∂w21, w21
    value: Any

    @property
    def label(self) -> str:
        """The quantity as the terminal writes it (o1, ∂E/∂w21): the name in a quiz and a key."""
        from .render.notation import unicode_label
        return unicode_label(self.quantity)


def solution_answers(solution: Solution, outputs: tuple[str, ...], asked: bool = True) -> tuple[Answer, ...]:
    """The answers to what the problem asks, in the order of the worked solution: per step
    shown in full its outputs, loss, gradients and updated parameters (what ``show`` holds),
    then the final parameters and loss. A problem that asks nothing in particular
    (``asked`` false) is answered by its end result: the final values (or, without
    training, the outputs and the loss)."""
    show = solution.show
    out: list[Answer] = []

    def forward_and_loss(step, forward, loss):
        if "forward" in show:
            for f in forward:
                for c in f.rows:
                    if c.lhs.name in outputs:
                        out.append(Answer("forward", step, Name(c.lhs.name, sample_of(f.index, len(forward))),
                                          c.value))
        if "loss" in show:
            c = loss.batch if loss.batch is not None else loss.per_sample[0][1]
            out.append(Answer("loss", step, c.lhs, c.value))

    def gradients(step, upstream, backward):
        if "gradient" not in show:
            return
        for u in upstream:
            sample = sample_of(u.index, len(upstream))
            out.extend(Answer("gradient", step, dataclasses.replace(c.lhs, sample=sample), c.value)
                       for c in u.results)
        if backward is not None:
            pairs = backward.batch or (backward.samples[0].gradients if len(backward.samples) == 1 else ())
            out.extend(Answer("gradient", step, c.lhs, c.value) for _, c in pairs)

    if solution.evaluation is not None:
        forward_and_loss(None, solution.evaluation.forward, solution.evaluation.loss)
        gradients(None, solution.evaluation.upstream, solution.evaluation.backward)
    for p in solution.steps if asked else ():
        forward_and_loss(p.step, p.forward, p.loss)
        gradients(p.step, p.upstream, p.backward)
        if "update" in show:
            out.extend(Answer("update", p.step, Name(u.param), u.new) for u in p.updates if not u.frozen)
    if solution.final is not None:   # a frozen parameter's final value is its given one: not an answer
        frozen = {name for name, _, remark in solution.model.parameters if "frozen" in remark}
        out.extend(Answer("final", None, Name(name), after) for name, _, after in solution.final.parameters
                   if name not in frozen)
        if solution.final.loss is not None:
            out.append(Answer("final", None, Name(solution.model.equations[-1][0]), solution.final.loss))
    return tuple(out)
