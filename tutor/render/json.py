"""The machine-readable solution (spec/solution-json.md): every number, in full.

`write_json` streams: it writes each step as the trainer computes it, so a long
training needs the memory of one step. Its output is exactly ``json.dumps`` of
`solution_dict` (no indent: the C encoder is many times faster on long
trainings), written in pieces.
"""

from __future__ import annotations

import json
import math
from operator import itemgetter
from typing import Any, Callable, Iterable, TextIO

from ..evaluate import SampleTrace
from ..train import Run, Step
from ..visible import json_visible
from .formats import OutputFormat

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


class _StepTemplates:
    """Steps of float runs written without the JSON encoder: a step's text is a
    template (its keys, brackets and commas, encoded once per shape of step)
    formatted with its numbers by ``%r``, which writes a finite float exactly as
    the encoder does. Most of a long run's JSON is its numbers; this writes them
    in one formatting call per step. A step this cannot write (a number that is
    not finite, a shape it does not know) goes through the encoder: the bytes are
    the same either way (tests/test_streaming.py)."""

    def __init__(self, run: Run, numbers: _Numbers, encode: Callable[[Any], str]):
        self.numbers, self.encode = numbers, encode
        graph = run.graph
        self.loss_name = graph.loss_name
        nodes = [n for n in graph.node_names if n != graph.loss_name]
        self.node_deltas = itemgetter(*nodes) if len(nodes) > 1 else (lambda d: (d[nodes[0]],) if nodes else ())
        self.templates: dict[tuple, str | None] = {}
        self.enabled = numbers.floats

    def text(self, step: Step) -> str | None:
        """The step's JSON text, or None: then the encoder writes it."""
        if not self.enabled or step.lookahead is not None:
            return None
        try:
            shape, numbers = self._shape(step), self._numbers(step)
            if not math.isfinite(sum(numbers)):
                return None
        except (TypeError, KeyError):  # not a plain float (or a number missing): the encoder decides
            return None
        template = self.templates.get(shape, "")
        if template == "":
            template = self.templates[shape] = self._template(step, numbers)
        return template % numbers if template is not None else None

    def _shape(self, step: Step) -> tuple:
        samples = tuple((tuple(t.values), tuple(t.leaf_derivatives), bool(t.deltas)) for t in step.samples)
        state = tuple((var, tuple(values)) for var, values in step.state.items())
        return (len(step.batch), samples, tuple(step.gradients), state, tuple(step.parameters),
                step.penalty is None)

    def _numbers(self, step: Step) -> tuple:
        """The step's numbers in the order `_Numbers.step` holds them."""
        out = [step.step, step.epoch, *step.batch, float(step.lr)]
        for t in step.samples:
            values = tuple(t.values.values())
            if next(reversed(t.values)) != self.loss_name:
                raise KeyError(self.loss_name)  # the loss is the last value of a sample
            out += [t.index, *values[:-1], float(values[-1])]
            if t.deltas:
                out += [*t.leaf_derivatives.values(), *self.node_deltas(t.deltas)]
        out.append(float(step.loss))
        if step.penalty is not None:
            out.append(float(step.penalty))
        out += step.gradients.values()
        for values in step.state.values():
            out += values.values()
        out += step.parameters.values()
        return tuple(out)

    def _template(self, step: Step, numbers: tuple) -> str | None:
        """The template of this step's shape, read off the encoder's own data for the
        step; None if its numbers are not the ones `_numbers` lists, in that order."""
        found: list[Any] = []
        template = self._layout(self.numbers.step(step), found)
        if len(found) != len(numbers) or any(type(a) is not type(b) or a != b for a, b in zip(found, numbers)):
            return None
        return template

    def _layout(self, data: Any, found: list[Any]) -> str:
        """``data`` as the encoder writes it, each number left as ``%r``."""
        if isinstance(data, dict):
            return "{" + ", ".join(f"{self._literal(k)}: {self._layout(v, found)}" for k, v in data.items()) + "}"
        if isinstance(data, list):
            return "[" + ", ".join(self._layout(v, found) for v in data) + "]"
        if type(data) in (int, float):
            found.append(data)
            return "%r"
        return self._literal(data)

    def _literal(self, data: Any) -> str:
        return json_visible(self.encode(data)).replace("%", "%%")


def write_json(run: Run, steps: Iterable[Step], out: TextIO) -> None:
    """The solution of ``run`` whose steps are ``steps`` (computed as they are read),
    written to ``out`` piece by piece."""
    encode = json.JSONEncoder(ensure_ascii=False).encode

    def dumps(data: Any) -> str:  # every piece safe on a terminal, as render_json's whole document
        return json_visible(encode(data))

    numbers = _Numbers(run)
    templates = _StepTemplates(run, numbers, encode)
    out.write(dumps(_head(run, numbers))[:-1] + ', "steps": [')
    batch: list[str] = []
    first = True
    for step in steps:
        text = templates.text(step)
        batch.append(text if text is not None else dumps(numbers.step(step)))
        if len(batch) == STEPS_PER_WRITE:
            out.write(("" if first else ", ") + ", ".join(batch))
            batch, first = [], False
    if batch:
        out.write(("" if first else ", ") + ", ".join(batch))
    out.write("], " + dumps(_tail(run, numbers))[1:] + "\n")


def render_json(run: Run) -> str:
    # No indent: the C encoder is many times faster on long trainings.
    return json_visible(json.dumps(solution_dict(run), ensure_ascii=False)) + "\n"


def _derivation(solution, show_all: bool) -> str:
    from .symbolic_json import render_symbolic_json

    return render_symbolic_json(solution)


FORMATS = (OutputFormat("json", 5, run=render_json, derivation=_derivation),)
