"""The machine-readable solution (spec/solution-json.md): every number, in full."""

from __future__ import annotations

import json
import math
from typing import Any

from ..evaluate import SampleTrace
from ..train import Run


def solution_dict(run: Run) -> dict[str, Any]:
    num = _number(run.domain)
    loss_name = run.graph.loss_name

    def values(mapping: dict[str, Any]) -> dict[str, Any]:
        return {k: num(v) for k, v in mapping.items()}

    def sample(trace: SampleTrace) -> dict[str, Any]:
        shown = {k: v for k, v in trace.values.items() if k != loss_name}
        return {"index": trace.index, "values": values(shown), "loss": num(trace.loss)}

    out: dict[str, Any] = {
        "title": run.problem.title,
        "arithmetic": run.problem.arithmetic,
        "parameters": values(run.initial),
        "steps": [
            {
                "step": s.step,
                "epoch": s.epoch,
                "batch": s.batch,
                "lr": num(s.lr),
                "samples": [sample(t) for t in s.samples],
                "loss": num(s.loss),
                **({"penalty": num(s.penalty)} if s.penalty is not None else {}),
                "gradients": values(s.gradients),
                "state": {var: values(per_param) for var, per_param in s.state.items()},
                "parameters": values(s.parameters),
                **({"lookahead": {"parameters": values(s.lookahead.parameters),
                                  "samples": [sample(t) for t in s.lookahead.samples]}}
                   if s.lookahead is not None else {}),
            }
            for s in run.steps
        ],
        "final": {
            "parameters": values(run.steps[-1].parameters if run.steps else run.initial),
            "samples": [sample(t) for t in run.final_samples],
            "loss": num(run.final_loss) if run.final_loss is not None else None,
            **({"penalty": num(run.final_penalty)} if run.final_penalty is not None else {}),
        },
    }
    if run.diverged is not None:
        d = run.diverged
        out["diverged"] = {"step": d.step, "quantity": d.quantity, "detail": d.detail,
                           "inputs": {k: _plain_float(v) for k, v in d.inputs.items()}, "suggestion": d.suggestion}
    return out


def _number(domain):
    def num(x) -> float | None:
        if x is None:
            return None
        value = domain.to_float(x)
        if value is None or value != value or value in (float("inf"), float("-inf")):
            return None
        return value
    return num


def _plain_float(x: float | None) -> float | None:
    """A float already converted by the domain: JSON has no inf or NaN, so null."""
    return x if x is not None and math.isfinite(x) else None


def render_json(run: Run) -> str:
    # No indent: the C encoder is many times faster on long trainings.
    return json.dumps(solution_dict(run), ensure_ascii=False) + "\n"
