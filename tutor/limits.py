"""How long a problem will take, and the refusal to start one that takes too long.

A problem file can ask for a billion steps in one line. tutor never prompts
(it runs in scripts and CI); it refuses with its estimate instead, and the user
chooses: `--max-steps N` to solve the first N steps, or `--yes` to go ahead.
"""

from __future__ import annotations

import dataclasses

from .errors import TutorError
from .graph import build_graph
from .problem import Problem

LIMIT_SECONDS = 60.0
# Cost of one (sample × graph edge) and one parameter update, by arithmetic; measured
# with benchmarks/depth.py and rounded up, so the estimate errs on the slow side.
SECONDS_PER_EDGE = {"float": 5e-6, "round": 2e-5, "exact": 5e-3}
SECONDS_PER_UPDATE = {"float": 8e-6, "round": 3e-5, "exact": 5e-3}


class TooLongError(TutorError):
    def __init__(self, path: str, steps: int, seconds: float):
        super().__init__(
            f"{path}: error: this problem asks for {steps:,} update steps, about {_duration(seconds)} of work; "
            f"pass --max-steps N to solve only the first N steps, or --yes to solve it all")


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} seconds"
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} hours"
    return f"{seconds / 86400:,.0f} days"


def estimate_seconds(problem: Problem) -> float:
    graph = build_graph(problem)
    edges = sum(len(eq.expr.free_symbols) for eq in graph.equations)
    per_epoch_samples = len(problem.samples)
    steps = problem.step_count
    batch = min(problem.training.batch_size, per_epoch_samples)
    arithmetic = problem.arithmetic
    # Every step also evaluates its batch; the final pass evaluates every sample once.
    work = (steps * batch + per_epoch_samples) * edges * SECONDS_PER_EDGE[arithmetic]
    return work + steps * len(problem.params) * SECONDS_PER_UPDATE[arithmetic]


def apply_limits(problem: Problem, max_steps: int | None = None, yes: bool = False) -> Problem:
    """The problem to solve: capped at ``max_steps``, or refused when it would take
    longer than a minute and the user has not said ``yes``."""
    if max_steps is not None:
        cap = max_steps if problem.training.max_steps is None else min(max_steps, problem.training.max_steps)
        problem = dataclasses.replace(problem, training=dataclasses.replace(problem.training, max_steps=cap))
    if not yes:
        seconds = estimate_seconds(problem)
        if seconds > LIMIT_SECONDS:
            raise TooLongError(problem.path, problem.step_count, seconds)
    return problem


# ---------------------------------------------------------------- exact arithmetic, per step
# A separate model for the estimate to call. Exact values are built unevaluated
# (arith.Exact), so a step's cost no longer grows with the steps before it: it is
# one (sample × graph edge) and one parameter update at a fixed cost each, measured
# on sigmoid-neuron-sgd, mazur-2-2-2 and xor-bce-adam-minibatch (80-260 µs per
# edge and sample, 2 cores) and rounded up. Known exception: adam/log problems
# still grow past ~20 steps (xor-bce-adam: 10 ms per step at 20 steps, 125 ms at 40).
EXACT_SECONDS_PER_EDGE_SAMPLE = 5e-4
EXACT_SECONDS_PER_UPDATE = 1e-3


def exact_step_seconds(edges: int, batch: int, params: int) -> float:
    """Seconds for one training step in exact arithmetic: ``batch`` samples through a
    graph of ``edges`` edges, then ``params`` parameter updates."""
    return batch * edges * EXACT_SECONDS_PER_EDGE_SAMPLE + params * EXACT_SECONDS_PER_UPDATE
