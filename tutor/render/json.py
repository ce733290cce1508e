"""The machine-readable solution (spec/solution-json.md): every number, in full.

`write_json` streams: it writes each step as the trainer computes it, so a long
training needs the memory of one step. Its output is exactly ``json.dumps`` of
`solution_dict` (no indent: the C encoder is many times faster on long
trainings), written in pieces.
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable, Iterable, TextIO

from ..evaluate import SampleTrace
from ..train import Run, Step
from ..visible import json_visible

# Steps encoded per write: fewer calls into the encoder and the file, little memory.
STEPS_PER_WRITE = 64


class _Numbers:
    """The JSON form of one run's values: floats; null for what is not a finite number."""

    def __init__(self, run: Run):
        self.run = run
        self.loss_name = run.graph.loss_name
        self.num = _number(run.domain)
        self.floats = not run.domain.exact  # values are floats already

    def values(self, mapping: dict[str, Any]) -> dict[str, Any]:
        if self.floats and all(map(math.isfinite, mapping.values())):
            return dict(mapping)
        num = self.num
        return {k: num(v) for k, v in mapping.items()}

    def sample(self, trace: SampleTrace) -> dict[str, Any]:
        shown = {k: v for k, v in trace.values.items() if k != self.loss_name}
        return {"index": trace.index, "values": self.values(shown), "loss": self.num(trace.loss),
                "derivatives": self.values(sample_derivatives(self.run, trace))}

    def step(self, s: Step) -> dict[str, Any]:
        values, sample = self.values, self.sample
        out = {
            "step": s.step,
            "epoch": s.epoch,
            "batch": s.batch,
            "lr": self.num(s.lr),
            "samples": [sample(t) for t in s.samples],
            "loss": self.num(s.loss),
            **({"penalty": self.num(s.penalty)} if s.penalty is not None else {}),
            "gradients": values(s.gradients),
            "state": {var: values(per_param) for var, per_param in s.state.items()},
            "parameters": values(s.parameters),
        }
        if s.lookahead is not None:
            out["lookahead"] = {"parameters": values(s.lookahead.parameters),
                                "samples": [sample(t) for t in s.lookahead.samples]}
        return out


def _head(run: Run, numbers: _Numbers) -> dict[str, Any]:
    return {"title": run.problem.title, "arithmetic": run.problem.arithmetic,
            "parameters": numbers.values(run.initial)}


def _tail(run: Run, numbers: _Numbers) -> dict[str, Any]:
    """What follows the steps; read once they are all computed."""
    num = numbers.num
    out: dict[str, Any] = {"final": {
        "parameters": numbers.values(run.last_step.parameters if run.last_step else run.initial),
        "samples": [numbers.sample(t) for t in run.final_samples],
        "loss": num(run.final_loss) if run.final_loss is not None else None,
        **({"penalty": num(run.final_penalty)} if run.final_penalty is not None else {}),
        "gradients": numbers.values(run.final_gradients),
    }}
    if run.gradient_check is not None:
        check = run.gradient_check
        out["gradient_check"] = {"eps": num(check.eps), "parameters": {
            p: {"plus": num(c.plus), "minus": num(c.minus), "numeric": num(c.numeric),
                "analytic": num(c.analytic), "rel_error": _plain_float(c.rel_error)}
            for p, c in check.parameters.items()}}
    if run.diverged is not None:
        d = run.diverged
        out["diverged"] = {"step": d.step, "quantity": d.quantity, "detail": d.detail,
                           "inputs": {k: _plain_float(v) for k, v in d.inputs.items()}, "suggestion": d.suggestion}
    return out


def solution_dict(run: Run) -> dict[str, Any]:
    numbers = _Numbers(run)
    return {**_head(run, numbers), "steps": [numbers.step(s) for s in run.steps], **_tail(run, numbers)}


def sample_derivatives(run: Run, trace: SampleTrace) -> dict[str, Any]:
    """∂E_s/∂name for every input, constant and node of one sample (the loss node left out)."""
    if not trace.deltas:  # a pass that stopped before its backward sweep
        return {}
    out = dict(trace.leaf_derivatives)
    out.update((n, trace.deltas[n]) for n in run.graph.node_names if n != run.graph.loss_name)
    return out


def _number(domain) -> Callable[[Any], float | None]:
    to_float = domain.to_float

    def num(x) -> float | None:
        if x is None:
            return None
        value = to_float(x)
        if value is None or value != value or value in (math.inf, -math.inf):
            return None
        return value
    return num


def _plain_float(x: float | None) -> float | None:
    """A float already converted by the domain: JSON has no inf or NaN, so null."""
    return x if x is not None and math.isfinite(x) else None


def write_json(run: Run, steps: Iterable[Step], out: TextIO) -> None:
    """The solution of ``run`` whose steps are ``steps`` (computed as they are read),
    written to ``out`` piece by piece."""
    encode = json.JSONEncoder(ensure_ascii=False).encode

    def dumps(data: Any) -> str:  # every piece safe on a terminal, as render_json's whole document
        return json_visible(encode(data))

    numbers = _Numbers(run)
    out.write(dumps(_head(run, numbers))[:-1] + ', "steps": [')
    batch: list[dict[str, Any]] = []
    first = True
    for step in steps:
        batch.append(numbers.step(step))
        if len(batch) == STEPS_PER_WRITE:
            out.write(("" if first else ", ") + dumps(batch)[1:-1])
            batch, first = [], False
    if batch:
        out.write(("" if first else ", ") + dumps(batch)[1:-1])
    out.write("], " + dumps(_tail(run, numbers))[1:] + "\n")


def render_json(run: Run) -> str:
    # No indent: the C encoder is many times faster on long trainings.
    return json_visible(json.dumps(solution_dict(run), ensure_ascii=False)) + "\n"
