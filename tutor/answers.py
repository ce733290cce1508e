"""A student's answers file: reading it (every mistake located) and the blank template.

Every number a student can give has a key ``(step, kind, sample, name)``:

==========  =======  ====================================  ==========================
kind        sample   name                                  written in the file as
==========  =======  ====================================  ==========================
values      N        an input, target, constant or node    ``values: {h1: ...}``
loss        N/None   None (per sample / the batch's)       ``loss: ...``
delta       N        a node: δ = ∂E/∂node                  ``deltas: {net_o1: ...}``
partial     N        "node/dep": a local derivative        ``partials: {o1/net_o1: ...}``
gradient    N/None   a parameter (one sample's / batch's)  ``gradient: {w1: ...}``
state       None     "var:parameter" (v, m, s, m_hat, …)   ``state: {v: {w1: ...}}``
parameters  None     a parameter, after the update         ``parameters: {w1: ...}``
==========  =======  ====================================  ==========================

``step`` is 1, 2, ... or ``"final"`` (the forward pass after training).
The tolerance is not the student's to set: see docs/checking.md.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import sympy

from .derive import Derivation, derive
from .errors import ProblemError
from .graph import build_graph
from .optim import OPTIMIZERS
from .problem import Number, Problem, check_keys, need_list, need_mapping, need_number, need_whole
from .source import Node, load_yaml, read_text
from .visible import visible
from .train import batches

Key = tuple[Any, str, "int | None", "str | None"]  # (step | "final", kind, sample, name)
KINDS = ("values", "loss", "delta", "partial", "gradient", "state", "parameters")
FILE_WORDS = {"values": "values", "loss": "loss", "deltas": "delta", "partials": "partial",
              "gradient": "gradient", "state": "state", "parameters": "parameters"}
PER_SAMPLE = ("values", "deltas", "partials")      # need a sample (implied when the batch has one)
ANSWER_KEYS = ("step", "sample", *FILE_WORDS)
WHO_KEYS = ("student", "variant")                  # an answers file's own top-level keys, beside answers
FINAL_KEYS = ("sample", "values", "loss", "parameters")


@dataclass(frozen=True)
class Answer:
    key: Key
    given: Number
    line: int
    col: int

    @property
    def value(self) -> float:
        return self.given.value


@dataclass(frozen=True)
class Answers:
    path: str
    answers: tuple[Answer, ...]
    student: str | None = None     # who wrote it (a gradebook's row)
    variant: str | None = None     # which variant of the problem (tutor vary's meta: variant)
    blanks: tuple[Key, ...] = ()   # the slots left empty


def state_variables(problem: Problem) -> list[str]:
    """What the optimizer computes for each parameter besides θ: v, m, s, m_hat, ..."""
    spec = problem.optimizer
    rules = OPTIMIZERS[spec.name].forms[spec.form]
    return list(dict.fromkeys(rule.target.name for rule in rules if rule.target.name != "theta"))


def partial_name(edge: tuple[str, str]) -> str:
    return f"{edge[0]}/{edge[1]}"


# ---------------------------------------------------------------- reading

def load_answers(path: str | Path, problem: Problem, derivation: Derivation | None = None) -> Answers:
    path = str(path)
    text = read_text(path)  # the same byte limit and UTF-8 error as a problem file
    return parse_answers(text, problem, path, derivation)


def parse_answers(text: str, problem: Problem, path: str = "<answers>",
                  derivation: Derivation | None = None) -> Answers:
    root = load_yaml(text, path)
    if not isinstance(root.value, dict):
        raise root.error(f"expected answers (a mapping with the key 'answers'), found {root.kind}")
    if "tolerance" in root.value:
        # The student does not choose how closely they are graded (docs/checking.md).
        raise root.key_error("tolerance", "an answers file cannot set the tolerance: it is the instructor's "
                                          "(check: {tolerance: ...} in the problem file, or tutor check --tolerance)")
    check_keys(root, ("answers", *WHO_KEYS), ("answers",), "the answers file")
    who = {key: _who(root.value[key], key) for key in WHO_KEYS if key in root.value}
    reader = _Reader(problem, derivation)
    for item in need_list(root.value["answers"], "a list of answers", nonempty=False):
        reader.item(item)
    return Answers(path, tuple(reader.answers), who.get("student"), who.get("variant"), tuple(reader.blanks))


def _who(node: Node, key: str) -> str | None:
    """A student's or variant's id: text or a whole number (a blank is no id)."""
    v = node.value
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (str, int)):
        raise node.error(f"expected {key}: an id (text), found {node.kind}")
    return str(v)


def answers_variant(path: str | Path) -> str | None:
    """The ``variant:`` an answers file names (None when it names none, or cannot be
    read: reading it against its problem then says what is wrong)."""
    try:
        root = load_yaml(Path(path).read_bytes().decode("utf-8"), str(path))
        node = root.value.get("variant") if isinstance(root.value, dict) else None
        return _who(node, "variant") if node is not None else None
    except (OSError, UnicodeDecodeError, ProblemError):
        return None


class _Reader:
    """Validates answer items against the problem; collects `Answer`s."""

    def __init__(self, problem: Problem, derivation: Derivation | None):
        self.problem = problem
        derivation = derivation or derive(build_graph(problem))
        graph = derivation.graph
        self.names = {
            "values": [*graph.leaf_names, *graph.node_names[:-1]],
            "delta": list(graph.node_names[:-1]),
            "partial": [partial_name(edge) for edge in derivation.partials],
            "gradient": list(problem.params),
            "parameters": list(problem.params),
        }
        self.state_vars = state_variables(problem)
        self.batches = {step: [i + 1 for i in idx] for step, _, idx in batches(problem)}
        self.answers: list[Answer] = []
        self.blanks: list[Key] = []
        self.seen: dict[Key, int] = {}

    def item(self, item: Node) -> None:
        need_mapping(item, "an answer, e.g. {step: 1, loss: 2.5} or {final: {loss: 0.74}}")
        v = item.value
        if "final" in v:
            check_keys(item, ("final",), (), "a final answer (put everything under final:)")
            final = need_mapping(v["final"], "final: loss, parameters, sample, values")
            check_keys(final, FINAL_KEYS, (), "final")
            self.quantities(final, "final", list(range(1, len(self.problem.samples) + 1)), "the final pass")
            return
        check_keys(item, ANSWER_KEYS, ("step",), "an answer")
        step_node = v["step"]
        step = need_whole(step_node, "a step number", 1)
        if step not in self.batches:
            n = len(self.batches)
            raise step_node.error(f"step {step} does not exist: the training has {n} step{'s' * (n != 1)}")
        self.quantities(item, step, self.batches[step], f"step {step}")

    def quantities(self, node: Node, step, batch: list[int], where: str) -> None:
        v = node.value
        words = [w for w in FILE_WORDS if w in v]
        if not words:
            raise node.error(f"expected at least one of {', '.join(FILE_WORDS)} in an answer of {where}")
        sample = None
        if "sample" in v:
            sample = need_whole(v["sample"], "a sample number", 1)
            if sample not in batch:
                raise v["sample"].error(f"sample {sample} is not in {where}, which uses sample"
                                        f"{'s' * (len(batch) != 1)} {', '.join(map(str, batch))}")
            for word in ("state", "parameters"):
                if word in v:
                    raise node.key_error(word, f"{word} belong to the step, not to one sample: "
                                               f"give them in an answer without sample")
        for word in words:
            kind = FILE_WORDS[word]
            if word in PER_SAMPLE:
                self.named(node, word, (step, kind, sample or self._only(node, word, batch, where)), where)
            elif word == "loss":
                self.one(v["loss"], (step, "loss", sample, None), where)
            elif word == "state":
                self.state(v["state"], step, where)
            else:
                self.named(node, word, (step, kind, sample), where)

    def _only(self, node: Node, word: str, batch: list[int], where: str) -> int:
        if len(batch) != 1:
            raise node.key_error(word, f"which sample? add sample: N ({where} uses samples "
                                       f"{', '.join(map(str, batch))})")
        return batch[0]

    def named(self, parent: Node, word: str, prefix: tuple, where: str) -> None:
        node = need_mapping(parent.value[word], f"{word}: name -> number")
        self._names(node, prefix, self.names[prefix[1]], word, where)

    def state(self, node: Node, step, where: str) -> None:
        need_mapping(node, "state: variable -> {parameter: number}, e.g. {v: {w1: 0.5}}")
        for var, values in node.items():
            if var not in self.state_vars:
                has = f"keeps {', '.join(self.state_vars)}" if self.state_vars else "keeps none"
                raise node.key_error(var, f"unknown optimizer state {var!r} in {where} "
                                          f"({self.problem.optimizer.name} {has})")
            need_mapping(values, f"state {var}: parameter -> number")
            for name, value in values.items():
                self._check_name(values, name, self.names["parameters"], f"state {var}", where)
                self.one(value, (step, "state", None, f"{var}:{name}"), where)

    def _names(self, node: Node, prefix: tuple, names: list[str], word: str, where: str) -> None:
        for name, value in node.items():
            self._check_name(node, name, names, word, where)
            self.one(value, (*prefix, name), where)

    def _check_name(self, node: Node, name: str, names: list[str], word: str, where: str) -> None:
        if name not in names:
            hint = difflib.get_close_matches(name, names, n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else f" (expected one of: {', '.join(names)})"
            raise node.key_error(name, f"unknown name {name!r} in {word} of {where}{extra}")

    def one(self, node: Node, key: Key, where: str) -> None:
        if node.value is None:  # a blank of the template, left empty: not answered
            self.blanks.append(key)
            return
        number = answer_number(node, f"a number for {label(key)}")
        if key in self.seen:
            raise node.error(f"{label(key)} is already answered at line {self.seen[key]}")
        self.seen[key] = node.line
        self.answers.append(Answer(key, number, node.line, node.col))


# A decimal as YAML writes a float: what nearly every answer is.
_PLAIN_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def answer_number(node: Node, what: str) -> Number:
    """`need_number`'s Number: a plain decimal is read without the expression parser
    (a thousand-step answers file holds tens of thousands), into the same fraction."""
    text = node.text
    if type(node.value) is float and math.isfinite(node.value) and text and _PLAIN_DECIMAL.fullmatch(text):
        exact = sympy.Rational(*Decimal(text).as_integer_ratio())
        value = float(exact)
        if math.isfinite(value):
            return Number(exact, value)
    return need_number(node, what)


def label(key: Key) -> str:
    """A quantity in words, for messages: 'the gradient of w1 (step 1, sample 2)'."""
    step, kind, sample, name = key
    where = "final" if step == "final" else f"step {step}"
    if sample is not None:
        where += f", sample {sample}"
    var, _, param = (name or "").partition(":")
    what = {"values": name, "loss": "the loss", "delta": f"δ of {name}",
            "partial": f"∂{name.replace('/', '/∂')}" if name else "",
            "gradient": f"the gradient of {name}", "state": f"{var} of {param}",
            "parameters": f"{name} after the update" if step != "final" else f"final {name}"}[kind]
    return f"{what} ({where})"


# ---------------------------------------------------------------- template

def template_yaml(problem: Problem, derivation: Derivation | None = None) -> str:
    """An answers file with every quantity the problem asks for, and blanks to fill."""
    derivation = derivation or derive(build_graph(problem))
    graph = derivation.graph
    run_steps = {step: [i + 1 for i in idx] for step, _, idx in batches(problem)}
    nodes = list(graph.node_names[:-1])
    params = list(problem.params)
    ask = problem.ask
    words = {item.kind for item in ask} if ask is not None else {"forward", "loss", "gradient", "update", "final"}
    gradient_names = [n for n in _asked_names(ask, "gradient", params) if n in params]  # not inputs, nodes
    update_names = [p for p in _asked_names(ask, "update", params) if p not in problem.frozen]
    state_vars = state_variables(problem)
    shown = next((item.steps for item in ask or () if item.kind == "steps"), None)
    if shown is None:
        shown = tuple(dict.fromkeys(s for s in (1, len(run_steps)) if s in run_steps))

    def blanks(names) -> str:
        return "{" + ", ".join(f"{n}: " for n in names) + "}"

    # The title escaped and on one line: a raw control character would make the file unreadable YAML.
    lines = [f"# Answers for: {visible(problem.title, one_line=True)}",
             "# Fill in the blanks; a blank left empty is not checked.",
             "# deltas: δ = ∂E/∂node; partials: node/dep is the local derivative ∂node/∂dep;",
             "# gradient with sample: that sample's own gradient; state: the optimizer's variables.",
             "student: "]
    if problem.meta.get("variant") is not None:
        lines.append(f"variant: {json.dumps(str(problem.meta['variant']))}")
    lines.append("answers:")
    for step in shown:
        batch = run_steps[step]
        if "forward" in words:
            for sample in batch:
                lines.append(f"  - {{step: {step}, sample: {sample}, values: {blanks(nodes)}}}")
        if "loss" in words:
            lines.append(f"  - {{step: {step}, loss: }}")
        if "gradient" in words and gradient_names:
            for sample in batch:  # as the backward sweep meets them: from the loss down
                lines.append(f"  - {{step: {step}, sample: {sample}, deltas: {blanks(reversed(nodes))}}}")
                lines.append(f"  - {{step: {step}, sample: {sample}, partials: "
                             f"{blanks(partial_name(e) for e in reversed(hand_partials(derivation)))}}}")
                if len(batch) > 1:
                    lines.append(f"  - {{step: {step}, sample: {sample}, gradient: {blanks(gradient_names)}}}")
            lines.append(f"  - {{step: {step}, gradient: {blanks(gradient_names)}}}")
        if "update" in words and update_names:
            if state_vars:
                inner = ", ".join(f"{var}: {blanks(update_names)}" for var in state_vars)
                lines.append(f"  - {{step: {step}, state: {{{inner}}}}}")
            lines.append(f"  - {{step: {step}, parameters: {blanks(update_names)}}}")
    if "final" in words or not run_steps:
        lines.append(f"  - {{final: {{loss: , parameters: {blanks(params)}}}}}")
    if lines[-1] == "answers:":
        lines[-1] = "answers: []"
    return "\n".join(lines) + "\n"


def hand_partials(derivation: Derivation) -> list[tuple[str, str]]:
    """The local derivatives a hand solution writes out: ∂E/∂output and each node's
    ∂node/∂node (an activation's derivative, a weight on a path), not ∂net/∂w."""
    params = set(derivation.graph.params)
    return [edge for edge in derivation.partials if edge[1] not in params]


def _asked_names(ask, kind: str, params: list[str]) -> list[str]:
    if ask is None:
        return params
    names: list[str] = []
    for item in ask:
        if item.kind == kind:
            names.extend(item.names or params)
    return list(dict.fromkeys(names))
