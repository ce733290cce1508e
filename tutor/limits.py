"""How long a command will take and how much memory it needs, and the refusal to
start one that is too big.

A problem file can ask for a billion steps in one line, a softmax over 150
classes (22,500 symbolic derivatives), or a product of 350 factors. tutor never
prompts (it runs in scripts and CI); it refuses with its estimate instead,
located at the line of the file that makes the run long, and the user chooses:
`--max-steps N` to solve the first N steps, or `--yes` to go ahead.

The estimate is a sum of costs, each a measured constant times a count that can
be read off the problem before any work is done:

- start-up: importing SymPy (and rich for the terminal), per command;
- the derivation: SymPy differentiates each equation by each name it uses, and
  the cost of one derivative grows with the size of the equation (a softmax
  unit uses every net of its layer: classes² derivatives of size ~classes);
- the training: per sample evaluated, every equation and local derivative once
  (their sizes again), and per step and parameter the optimizer's update;
- the rendering: per step shown in full, every local derivative printed with its
  formula and its numbers (a key or an export prints each problem the same way);
- the checker: it replays the training once per variant of its catalogue of
  slips, and their number grows with the local derivatives between nodes.

Memory: each step of the run is kept (the worked solution shows any of them),
with the values of its batch and, for the worked solution, its local derivatives.
A run that would need more than MEMORY_BUDGET is refused like a long one.

The constants were measured on the reference machine (x86_64, 2 cores, Python
3.11) in CPU seconds, by benchmarks/limits.py, which prints the estimate beside
the measured time of every command on the problems in problems/ and the cases
of tests/test_limits.py (results: benchmarks/LIMITS.md); the bound is a factor of 3.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import sympy

from .errors import ProblemError, TutorError
from .graph import build_graph
from .problem import Problem

LIMIT_SECONDS = 60.0
MEMORY_BUDGET = 2 * 1024**3  # bytes; a run beyond it is refused like a long one

# Start-up of each command: interpreter, SymPy, and for the printers rich (CPU seconds).
STARTUP_SECONDS = {"json": 0.55, "terminal": 0.7, "export": 0.7, "check": 0.7}
# The derivation: per local derivative, and per node of the equation's tree it is taken of
# (fitted on softmax layers of 20 to 80 classes, within 6%).
SECONDS_PER_DERIVATIVE = 5.9e-4
SECONDS_PER_DERIVATIVE_NODE = 1.0e-5
# Evaluating, per sample: one node of an equation or of a local derivative, by arithmetic.
SECONDS_PER_EVALUATED_NODE = {"float": 4e-7, "round": 2e-6, "significant": 2e-6, "exact": 5e-5}
# One parameter's optimizer update, by arithmetic.
SECONDS_PER_UPDATE = {"float": 2.5e-6, "round": 1e-5, "significant": 1e-5, "exact": 5e-4}
# Printing, per step shown in full and sample of its batch: one node of a local derivative.
SECONDS_PER_PRINTED_NODE = 1.5e-5
# The checker replays the training once per variant of its catalogue of slips (when an
# answer is wrong): about 17, plus one per local derivative of a node by a node (a path
# left out, ...); each replay compiles the local derivatives again.
CHECK_REPLAYS = 17
SECONDS_PER_RECOMPILED_DERIVATIVE = 1.0e-5
# Memory kept per step: per value (of a node, a parameter, a state) and per local derivative.
BYTES_PER_VALUE = 120
BYTES_PER_PARTIAL = 260


@dataclass(frozen=True)
class Rendering:
    """What the command prints beside the numbers: ``printer`` is None (JSON),
    "terminal", "export" (a Markdown/LaTeX/HTML document), and ``shown`` the steps
    shown in full (None: the default, the first and last; "all")."""

    printer: str | None = None
    shown: tuple[int, ...] | str | None = None

    @property
    def command(self) -> str:
        return "json" if self.printer is None else self.printer


JSON = Rendering()
CHECK = Rendering("check")


@dataclass(frozen=True)
class Size:
    """The counts the costs grow with, read off the problem's graph."""

    edges: int        # Σ over equations of the parameters and nodes each uses: the local derivatives
    node_edges: int   # those of a node by a node (not by a parameter)
    nodes: int        # Σ of the equations' tree sizes: forward evaluation per sample
    work: int         # Σ over edges of the size of the terms they are taken of: the derivation,
                      # the derivatives' evaluation and printing
    values: int       # the numbers of one sample: inputs, targets, nodes
    params: int
    state: int        # optimizer state variables per parameter (momentum, ...)

    @staticmethod
    def of(problem: Problem) -> "Size":
        graph = build_graph(problem)
        node_symbols = {graph.symbol(n) for n in graph.node_names}
        differentiable = node_symbols | {graph.symbol(n) for n in graph.params}
        edges = node_edges = nodes = work = 0
        for eq in graph.equations:
            # The derivation splits each sum once (derive.terms_by_symbol) and
            # differentiates only the terms that hold a name: the work of an edge is
            # the size of its terms, not of the whole sum (a fan-in of n is linear).
            terms = eq.expr.args if isinstance(eq.expr, sympy.Add) else (eq.expr,)
            sizes = [_tree_size(term) for term in terms]
            edges += len(eq.expr.free_symbols & differentiable)
            node_edges += len(eq.expr.free_symbols & node_symbols)
            nodes += sum(sizes) + isinstance(eq.expr, sympy.Add)  # the sum's own node
            work += sum(len(term.free_symbols & differentiable) * size for term, size in zip(terms, sizes))
        return Size(edges, node_edges, nodes, work, len(graph.symbols), len(problem.params),
                    len(problem.optimizer.hypers) + 1)


@dataclass(frozen=True)
class Estimate:
    seconds: float
    memory: int
    costs: dict[str, float]   # the parts of ``seconds``, to name the largest

    @property
    def dominant(self) -> str:
        return max(self.costs, key=self.costs.__getitem__)


def _tree_size(expr: sympy.Expr) -> int:
    return sum(1 for _ in sympy.preorder_traversal(expr))


def estimate(problem: Problem, rendering: Rendering = JSON) -> Estimate:
    """The CPU seconds and memory of one command on ``problem`` (see the module docstring)."""
    size = Size.of(problem)
    steps = problem.step_count
    n_samples = len(problem.samples)
    batch = min(problem.training.batch_size, n_samples)
    training = training_seconds(problem, size)
    if rendering.printer == "terminal" and problem.arithmetic == "round":
        training *= 2  # the terminal shows the unrounded values beside the rounded: a second run
    if rendering.printer == "check":
        replays = CHECK_REPLAYS + size.node_edges
        training = replays * (training + size.edges * SECONDS_PER_RECOMPILED_DERIVATIVE)
    costs = {
        "start": STARTUP_SECONDS[rendering.command],
        "derivation": size.edges * SECONDS_PER_DERIVATIVE + size.work * SECONDS_PER_DERIVATIVE_NODE,
        "training": training,
        "printing": _shown_steps(rendering, steps) * batch * (size.edges + size.work) * SECONDS_PER_PRINTED_NODE,
    }
    details = rendering.printer in ("terminal", "export")
    per_step = (batch * size.values + size.params * (4 + size.state)) * BYTES_PER_VALUE
    per_step += batch * size.edges * BYTES_PER_PARTIAL if details else 0
    return Estimate(sum(costs.values()), steps * per_step, costs)


def training_seconds(problem: Problem, size: Size) -> float:
    """One run of the training: every step's batch evaluated (each equation and each
    local derivative, by their sizes), then the final pass, and the updates. Per-node
    constants by arithmetic. Exact values are built unevaluated (arith.Exact), so a
    step costs the same at step 300 as at step 30 (xor-bce-adam-minibatch: about 10 ms
    per step throughout, benchmarks/RESULTS.md): linear in the steps, as modelled."""
    steps, n_samples = problem.step_count, len(problem.samples)
    evaluations = steps * min(problem.training.batch_size, n_samples) + n_samples
    per_evaluation = (size.nodes + size.work) * SECONDS_PER_EVALUATED_NODE[problem.arithmetic]
    return evaluations * per_evaluation + steps * size.params * SECONDS_PER_UPDATE[problem.arithmetic]


def _shown_steps(rendering: Rendering, steps: int) -> int:
    if rendering.printer not in ("terminal", "export"):
        return 0
    if rendering.shown == "all":
        return steps
    if rendering.shown is None:
        return min(steps, 2)
    return len([s for s in rendering.shown if 1 <= s <= steps])


class TooLongError(ProblemError):
    """Refused: the run would take over a minute or more memory than the budget.
    Located at what makes it big: the number of epochs or steps, the data, or the model."""


def apply_limits(problem: Problem, max_steps: int | None = None, yes: bool = False,
                 rendering: Rendering = JSON) -> Problem:
    """The problem to solve: capped at ``max_steps``, or refused when its estimate is
    over a minute or over the memory budget and the user has not said ``yes``."""
    if max_steps is not None:
        cap = max_steps if problem.training.max_steps is None else min(max_steps, problem.training.max_steps)
        problem = dataclasses.replace(problem, training=dataclasses.replace(problem.training, max_steps=cap))
    if not yes:
        refuse_if_too_big(problem, rendering)
    return problem


def apply_limits_together(problems: list[Problem], max_steps: int | None = None, yes: bool = False,
                          rendering: Rendering = JSON) -> list[Problem]:
    """`apply_limits` for the problems of one command (an answer key): each on its
    own, then all of them together, started once."""
    capped = [apply_limits(p, max_steps, yes, rendering) for p in problems]
    if yes or len(capped) < 2:
        return capped
    found = [estimate(p, rendering) for p in capped]
    seconds = sum(e.seconds for e in found) - (len(found) - 1) * STARTUP_SECONDS[rendering.command]
    memory = sum(e.memory for e in found)  # every run is kept until the key is written
    if seconds > LIMIT_SECONDS or memory > MEMORY_BUDGET:
        cost = (f"about {_bytes(memory)} of memory" if memory > MEMORY_BUDGET
                else f"about {_duration(seconds)} of work")
        biggest = max(range(len(found)), key=lambda i: found[i].seconds)
        raise TutorError(f"{capped[biggest].path}: error: the {len(capped)} problems together are {cost} (this one "
                         f"the most, about {_duration(found[biggest].seconds)}); pass --max-steps N to solve only "
                         f"the first N steps of each, or --yes to go ahead")
    return capped


def refuse_class_if_too_big(problems: list[Problem], answer_files: int, yes: bool = False) -> None:
    """A gradebook checks every answers file against its problem (a variant): each
    problem on its own, then the files together at the dearest problem's cost."""
    if yes:
        return
    for problem in problems:
        refuse_if_too_big(problem, CHECK)
    found = [estimate(p, CHECK) for p in problems]
    dearest = max(range(len(found)), key=lambda i: found[i].seconds)
    per_file = found[dearest].seconds - STARTUP_SECONDS["check"]
    seconds = STARTUP_SECONDS["check"] + answer_files * per_file
    if seconds > LIMIT_SECONDS:
        raise TutorError(f"{problems[dearest].path}: error: checking {answer_files} answers files is about "
                         f"{_duration(seconds)} of work (about {_duration(per_file)} each); pass --yes to go ahead")


def refuse_if_too_big(problem: Problem, rendering: Rendering) -> None:
    found = estimate(problem, rendering)
    if found.seconds <= LIMIT_SECONDS and found.memory <= MEMORY_BUDGET:
        return
    steps = problem.step_count
    if found.memory > MEMORY_BUDGET:
        cost, cause = f"about {_bytes(found.memory)} of memory", "steps"
    else:
        cost = f"about {_duration(found.seconds)} of work"
        many_shown = _shown_steps(rendering, steps) > 2
        cause = "model" if found.dominant == "derivation" or (found.dominant == "printing" and not many_shown) \
            else "steps"
    if cause == "model":  # the model is big: more steps or fewer change little
        line, col, name = _locate(problem, "model")
        options = "pass --yes to go ahead"
        if found.dominant == "printing":
            options += ", or --format json, which prints no worked solution"
        raise TooLongError(problem.path, line, col, f"this problem's {name or 'model'} has "
                                                    f"{Size.of(problem).edges:,} local derivatives to work out, "
                                                    f"{cost}; {options}")
    line, col, where = _locate(problem, "steps")
    if rendering.printer == "check":
        options = "pass --yes to check it all"
    elif found.dominant == "printing":
        options = "pass --steps to show fewer steps in full, or --yes to show them all"
    else:
        options = "pass --max-steps N to solve only the first N steps, or --yes to solve it all"
    raise TooLongError(problem.path, line, col, f"this problem asks for {steps:,} update step{'s' * (steps != 1)}"
                                                f"{where}, {cost}; {options}")


def _locate(problem: Problem, key: str) -> tuple[int, int, str]:
    """The position of what makes the run big, read again from the file: ``epochs:``
    or ``steps:`` under training (or ``data:``, whose length multiplies the steps);
    ``model:`` or ``network:`` when the size of the model is the cost."""
    from .source import load_yaml

    try:
        root = load_yaml(Path(problem.path).read_text(encoding="utf-8"), problem.path)
    except (OSError, UnicodeDecodeError, ProblemError):
        return 1, 1, ""
    top = root.value if isinstance(root.value, dict) else {}
    if key == "model":
        for name in ("network", "model"):
            if name in top:
                line, col = root.key_pos.get(name, (1, 1))
                return line, col, name
        return 1, 1, ""
    training = top.get("training")
    if training is not None and isinstance(training.value, dict):
        written = training.value
        name = "steps" if "steps" in written and written["steps"].value == problem.step_count else "epochs"
        if name in written:
            line, col = training.key_pos.get(name, (training.line, training.col))
            return line, col, f" ({name}: {written[name].value:,})"
    if "data" in top:
        line, col = root.key_pos.get("data", (1, 1))
        return line, col, f" ({len(problem.samples):,} samples)"
    return 1, 1, ""


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} seconds"
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} hours"
    return f"{seconds / 86400:,.0f} days"


def _bytes(n: float) -> str:
    return f"{n / 1024**3:,.1f} GiB" if n >= 1024**3 else f"{n / 1024**2:,.0f} MiB"
