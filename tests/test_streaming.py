"""The JSON solution is written as the steps are computed: the same bytes as the
whole-run rendering, with memory for one batch of steps, not the whole training."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tutor.problem import load_problem, parse_problem
from tutor.render.json import STEPS_PER_WRITE, render_json, write_json
from tutor.train import train, training

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = sorted((ROOT / "problems").glob("*.yaml"))

DIVERGING = """
title: diverges
inputs: [x]
params: {w: 1}
model: {y: w*x}
outputs: [y]
targets: [t]
data: {x: 10, t: 0}
loss: sse
optimizer: {name: sgd, lr: 1}
training: {epochs: 200}
"""


def streamed(problem) -> str:
    out = io.StringIO()
    run, steps = training(problem)
    write_json(run, steps, out)
    return out.getvalue()


@pytest.mark.parametrize("path", PROBLEMS, ids=[p.stem for p in PROBLEMS])
def test_streamed_json_is_the_rendered_json(path: Path):
    problem = load_problem(path)
    assert streamed(problem) == render_json(train(problem, details=False))


def test_a_diverging_run_streams_its_steps_then_the_divergence():
    problem = parse_problem(DIVERGING, "diverges.yaml")
    text = streamed(problem)
    assert text == render_json(train(problem, details=False))
    solution = json.loads(text)
    assert solution["diverged"]["step"] == len(solution["steps"]) + 1 > STEPS_PER_WRITE


def test_steps_are_written_while_the_training_runs():
    """Each write is made before the next batch of steps is computed."""
    problem = parse_problem(DIVERGING.replace("x: 10", "x: 0.01"), "long.yaml")
    run, steps = training(problem)
    computed, seen_at_write = [], []

    def counted():
        for step in steps:
            computed.append(step.step)
            yield step

    class Recorder(io.StringIO):
        def write(self, text):
            seen_at_write.append(len(computed))
            return super().write(text)

    write_json(run, counted(), Recorder())
    assert len(computed) == 200
    step_writes = seen_at_write[1:-1]
    assert step_writes == [STEPS_PER_WRITE * k for k in range(1, 200 // STEPS_PER_WRITE + 1)] + [200]


def test_a_failing_partial_is_named_though_float_batches_are_checked_at_their_end():
    """Float arithmetic checks a batch once at its end, then redoes a failing batch
    value by value: the report names the local partial that failed, as before."""
    text = DIVERGING.replace("model: {y: w*x}", "model: {u: w*x, y: sqrt(u)}").replace("x: 10", "x: 0")
    run = train(parse_problem(text, "sqrt.yaml"))
    assert run.diverged is not None and run.diverged.step == 1
    assert run.diverged.quantity == "∂y/∂u (sample 1)"
    assert "division by zero" in run.diverged.detail
