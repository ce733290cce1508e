"""Checking a student's answers against the worked solution.

    answers file ─ load_answers ─▶ Answers ─┐
    problem ─ train ─▶ reference ───────────┼─ check ─▶ CheckReport ─▶ render/check_report.py
               replay (student's values) ───┤
               replay (each slip variant) ──┘

Every quantity of the solution JSON has a key ``(step, kind, sample, name)``:
``step`` is 1, 2, ... or ``"final"``; ``kind`` is values, loss, gradient or
parameters; ``sample`` is the 1-based data index (values, per-sample loss) or
None; ``name`` is a node or parameter name (None for a loss).

The *replay* is the engine's own training (`train`) with its hooks: the
student's answers replace the computed values as soon as they are known (error
carried forward: each quantity is recomputed from the student's own earlier
values), and a slip may change the local partials or the optimizer's rules.
Without answers and slips it is `train` itself, to the last bit (tested).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from .arith import make_domain, round_half_up
from .derive import Derivation, derive
from .errors import ProblemError
from .graph import build_graph
from .problem import Number, Problem, check_keys, load_problem, need_list, need_mapping, need_number, \
    need_number_in, need_whole
from .slips import CATALOGUE, Variant
from .source import Node, load_yaml, read_text
from .train import Run, batches, train

Key = tuple[Any, str, "int | None", "str | None"]  # (step | "final", kind, sample, name)
KINDS = ("values", "loss", "gradient", "parameters")
VERDICTS = ("correct", "consistent", "wrong")
MAX_DIGITS = 15


# ---------------------------------------------------------------- records

@dataclass(frozen=True)
class Tolerance:
    """``|given − expected| ≤ max(abs, rel·|expected|)``, or with ``digits``: the given
    value matches the expected one rounded to that many decimals (as printed in textbooks)."""

    rel: float = 1e-3
    abs: float = 5e-4
    digits: int | None = None

    def matches(self, given: float, expected: float | None) -> bool:
        if expected is None or given is None or not math.isfinite(expected):
            return False
        if self.digits is not None:
            return round_half_up(given, self.digits) == round_half_up(expected, self.digits)
        return abs(given - expected) <= max(self.abs, self.rel * abs(expected))

    def as_dict(self) -> dict[str, Any]:
        return {"digits": self.digits} if self.digits is not None else {"rel": self.rel, "abs": self.abs}


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
    tolerance: Tolerance
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class Diagnosis:
    rule: str
    explanation: str


@dataclass(frozen=True)
class AnswerResult:
    step: int | str
    kind: str
    sample: int | None
    name: str | None
    given: float
    expected: float | None
    verdict: str                         # correct | consistent | wrong
    recomputed: float | None             # from the student's own earlier answers
    diagnoses: tuple[Diagnosis, ...] = ()
    line: int = 0
    col: int = 0

    @property
    def key(self) -> Key:
        return (self.step, self.kind, self.sample, self.name)


@dataclass(frozen=True)
class CheckReport:
    title: str
    problem_path: str
    answers_path: str
    tolerance: Tolerance
    results: tuple[AnswerResult, ...]    # in dependency order

    def count(self, verdict: str) -> int:
        return sum(r.verdict == verdict for r in self.results)

    @property
    def first_wrong(self) -> AnswerResult | None:
        return next((r for r in self.results if r.verdict == "wrong"), None)

    @property
    def exit_code(self) -> int:
        return 1 if self.first_wrong else 0


# ---------------------------------------------------------------- reading answers

ANSWER_KEYS = ("step", "sample", "values", "loss", "gradient", "parameters")
FINAL_KEYS = ("sample", "values", "loss", "parameters")


def load_answers(path: str | Path, problem: Problem) -> Answers:
    path = str(path)
    return parse_answers(read_text(path), problem, path)


def parse_answers(text: str, problem: Problem, path: str = "<answers>") -> Answers:
    root = load_yaml(text, path)
    if not isinstance(root.value, dict):
        raise root.error(f"expected answers (a mapping with 'answers' and optionally 'tolerance'), found {root.kind}")
    check_keys(root, ("tolerance", "answers"), ("answers",), "the answers file")
    tolerance = _tolerance(root.value["tolerance"]) if "tolerance" in root.value else Tolerance()
    reader = _Reader(problem)
    for item in need_list(root.value["answers"], "a list of answers", nonempty=False):
        reader.item(item)
    return Answers(path, tolerance, tuple(reader.answers))


def _tolerance(node: Node) -> Tolerance:
    need_mapping(node, "a tolerance: {rel, abs} or {digits}")
    check_keys(node, ("rel", "abs", "digits"), (), "tolerance")
    v = node.value
    if "digits" in v:
        if "rel" in v or "abs" in v:
            raise node.key_error("digits", "give either digits or rel/abs in a tolerance, not both")
        digits = need_whole(v["digits"], "digits (decimals)", 0)
        if digits > MAX_DIGITS:
            raise v["digits"].error(f"expected at most {MAX_DIGITS} digits, found {digits}")
        return Tolerance(digits=digits)
    rel = need_number_in(v["rel"], "rel", 0.0, math.inf, high_open=True).value if "rel" in v else 1e-3
    abs_ = need_number_in(v["abs"], "abs", 0.0, math.inf, high_open=True).value if "abs" in v else 5e-4
    return Tolerance(rel, abs_)


class _Reader:
    """Validates answer items against the problem; collects `Answer`s."""

    def __init__(self, problem: Problem):
        self.problem = problem
        graph = build_graph(problem)
        self.value_names = [*graph.leaf_names, *graph.node_names[:-1]]
        self.params = list(problem.params)
        self.batches = {step: [i + 1 for i in idx] for step, _, idx in batches(problem)}
        self.answers: list[Answer] = []
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
        if not any(k in v for k in KINDS):
            raise node.error(f"expected at least one of {', '.join(KINDS)} in an answer of {where}")
        sample = None
        if "sample" in v:
            sample = need_whole(v["sample"], "a sample number", 1)
            if sample not in batch:
                raise v["sample"].error(f"sample {sample} is not in {where}, which uses sample"
                                        f"{'s' * (len(batch) != 1)} {', '.join(map(str, batch))}")
            if "values" not in v and "loss" not in v:
                raise node.key_error("sample", "sample goes with values or a per-sample loss")
        if "values" in v:
            if sample is None:
                if len(batch) != 1:
                    raise node.key_error("values", f"which sample? add sample: N ({where} uses samples "
                                                   f"{', '.join(map(str, batch))})")
                sample = batch[0]
            self.named(v["values"], (step, "values", sample), self.value_names, "a value name (an input, target, "
                                                                                "constant or node)", where)
        if "loss" in v:
            self.one(v["loss"], (step, "loss", sample if "sample" in v else None, None), where)
        if "gradient" in v:
            self.named(v["gradient"], (step, "gradient", None), self.params, "a parameter", where)
        if "parameters" in v:
            self.named(v["parameters"], (step, "parameters", None), self.params, "a parameter", where)

    def named(self, node: Node, prefix: tuple, names: list[str], what: str, where: str) -> None:
        need_mapping(node, f"{prefix[1]}: name -> number")
        for name, value in node.items():
            if name not in names:
                hint = difflib.get_close_matches(name, names, n=1)
                extra = f" (did you mean {hint[0]!r}?)" if hint else f" (expected {what}: {', '.join(names)})"
                raise node.key_error(name, f"unknown name {name!r} in {prefix[1]} of {where}{extra}")
            self.one(value, (*prefix, name), where)

    def one(self, node: Node, key: Key, where: str) -> None:
        if node.value is None:  # a blank of the template, left empty: not answered
            return
        number = need_number(node, f"a number for {_label(key)}")
        if key in self.seen:
            raise node.error(f"{_label(key)} is already answered at line {self.seen[key]}")
        self.seen[key] = node.line
        self.answers.append(Answer(key, number, node.line, node.col))


def _label(key: Key) -> str:
    step, kind, sample, name = key
    where = "final" if step == "final" else f"step {step}"
    if sample is not None:
        where += f", sample {sample}"
    what = {"values": name, "loss": "the loss", "gradient": f"the gradient of {name}",
            "parameters": f"{name} after the update" if step != "final" else f"final {name}"}[kind]
    return f"{what} ({where})"


# ---------------------------------------------------------------- the replay

def replay(problem: Problem, derivation: Derivation | None = None, given: dict[Key, Number] | None = None,
           rules: Callable[[tuple], tuple] | None = None) -> dict[Key, float]:
    """Every quantity of the training, each recomputed from the values before it, where
    the given values (the student's) replace the computed ones: the engine's own
    training, observed. Stops quietly at a value that is not finite: the quantities
    after it are missing."""
    given = given or {}
    domain = make_domain(problem.arithmetic, problem.round_decimals)
    out: dict[Key, float] = {}

    def observe(key: Key, computed):
        out[key] = domain.to_float(computed)
        answer = given.get(key)
        return domain.number(answer) if answer is not None else computed

    train(problem, details=False, derivation=derivation, rules=rules, observe=observe)
    return out


def world_of_run(run: Run) -> dict[Key, float]:
    """The engine's solution, by key (the reference)."""
    f = run.domain.to_float
    loss_name = run.graph.loss_name
    out: dict[Key, float] = {}

    def samples(step, traces):
        for trace in traces:
            for name, value in trace.values.items():
                key = (step, "loss", trace.index, None) if name == loss_name else (step, "values", trace.index, name)
                out[key] = f(value)

    for s in run.steps:
        samples(s.step, s.samples)
        out[(s.step, "loss", None, None)] = f(s.loss)
        out.update(((s.step, "gradient", None, p), f(g)) for p, g in s.gradients.items())
        out.update(((s.step, "parameters", None, p), f(x)) for p, x in s.parameters.items())
    if run.diverged is None:
        final = run.steps[-1].parameters if run.steps else run.initial
        out.update((("final", "parameters", None, p), f(x)) for p, x in final.items())
        samples("final", run.final_samples)
        out[("final", "loss", None, None)] = f(run.final_loss)
    return out


# ---------------------------------------------------------------- checking

def order_key(problem: Problem, graph=None) -> Callable[[Key], tuple]:
    """Dependency order: by step (final last); within a step forward values (sample, then
    equation order) < loss < gradients < parameters."""
    graph = graph or build_graph(problem)
    names = {n: i for i, n in enumerate([*graph.leaf_names, *graph.node_names])}
    params = {p: i for i, p in enumerate(problem.params)}
    kind_rank = {"values": 1, "loss": 2, "gradient": 3, "parameters": 4}

    def key(k: Key) -> tuple:
        step, kind, sample, name = k
        rank = kind_rank[kind] if step != "final" or kind != "parameters" else 0
        return (math.inf if step == "final" else step, rank,
                math.inf if sample is None else sample,
                names.get(name, params.get(name, -1)) if name else -1)
    return key


def check(problem: Problem | str | Path, answers: Answers) -> CheckReport:
    if not isinstance(problem, Problem):
        problem = load_problem(problem)
    run = train(problem)
    reference = world_of_run(run)
    given = {a.key: a.given for a in answers.answers}
    ecf = replay(problem, run.derivation, given)
    tol = answers.tolerance
    order = order_key(problem, run.graph)
    results = []
    for a in sorted(answers.answers, key=lambda a: order(a.key)):
        expected, again = reference.get(a.key), ecf.get(a.key)
        if tol.matches(a.value, expected):
            verdict = "correct"
        elif tol.matches(a.value, again):
            verdict = "consistent"
        else:
            verdict = "wrong"
        results.append(AnswerResult(*a.key, a.value, expected, verdict, again, (), a.line, a.col))
    wrong = [r for r in results if r.verdict == "wrong"]
    if wrong:
        found = diagnose(problem, run.derivation, given, ecf, tol, results)
        results = [replace(r, diagnoses=found.get(r.key, ())) for r in results]
    return CheckReport(problem.title, problem.path, answers.path, tol, tuple(results))


def diagnose(problem: Problem, derivation: Derivation, given: dict[Key, Number], ecf: dict[Key, float],
             tol: Tolerance, results: list[AnswerResult]) -> dict[Key, tuple[Diagnosis, ...]]:
    """For each wrong answer, the catalogue's rules whose variant reproduces it (and
    changes the quantity: a variant that gives the right number explains nothing).

    When several rules reproduce an answer, the most coherent are kept: a variant of
    the whole computation that agrees with every other answer of the student beats
    a change of the one number (``perturb``), which beats a variant that the
    student's other, right answers contradict."""
    wrong = [r for r in results if r.verdict == "wrong"]
    others = [r for r in results if r.verdict != "wrong"]
    candidates: dict[Key, dict[str, tuple[int, Diagnosis]]] = {r.key: {} for r in wrong}
    for slip in CATALOGUE:
        for variant in slip.variants(problem, derivation):
            world = variant_world(problem, derivation, variant, given, ecf)
            conflicts = any(r.key in world and not tol.matches(r.given, world[r.key]) for r in others)
            score = 1 if variant.perturb is not None else 2 if conflicts else 0
            for r in wrong:
                value, honest = world.get(r.key), ecf.get(r.key, r.expected)
                if value is None or not tol.matches(r.given, value) or tol.matches(value, honest):
                    continue
                best = candidates[r.key].get(slip.name)
                if best is None or score < best[0]:
                    candidates[r.key][slip.name] = (score, Diagnosis(slip.name, variant.explanation))
    found = {}
    for key, by_rule in candidates.items():
        top = min((score for score, _ in by_rule.values()), default=0)
        found[key] = tuple(d for score, d in by_rule.values() if score == top)
    return found


def variant_world(problem: Problem, derivation: Derivation, variant: Variant, given: dict[Key, Number],
                  ecf: dict[Key, float]) -> dict[Key, float]:
    """Every quantity as computed with the variant's mistake, from the student's own answers."""
    if variant.perturb is not None:
        world = {}
        for key, value in ecf.items():
            changed = variant.perturb(key[1], value)
            if changed is not None:
                world[key] = changed
        return world
    p = variant.problem or problem
    der = derivation
    if variant.problem is not None:
        graph = build_graph(p)
        if graph.equations != derivation.graph.equations:
            der = derive(graph)
    if variant.partials is not None:
        der = replace(der, partials={**der.partials, **variant.partials(der)})
    return replay(p, der, given, variant.rules)


# ---------------------------------------------------------------- template

def template_yaml(problem: Problem) -> str:
    """An answers file with every quantity the problem asks for, and blanks to fill."""
    run_steps = {step: [i + 1 for i in idx] for step, _, idx in batches(problem)}
    graph = build_graph(problem)
    nodes = list(graph.node_names[:-1])
    params = list(problem.params)
    ask = problem.ask
    words = {item.kind for item in ask} if ask is not None else {"forward", "loss", "gradient", "update", "final"}
    gradient_names = _asked_names(ask, "gradient", params)
    update_names = [p for p in _asked_names(ask, "update", params) if p not in problem.frozen]
    shown = next((item.steps for item in ask or () if item.kind == "steps"), None)
    if shown is None:
        shown = tuple(dict.fromkeys(s for s in (1, len(run_steps)) if s in run_steps))

    def blanks(names) -> str:
        return "{" + ", ".join(f"{n}: " for n in names) + "}"

    lines = [f"# Answers for: {problem.title}",
             "# Fill in the blanks; a blank left empty is not checked.",
             "# tolerance: {digits: 3}   # instead of rel/abs: match the solution rounded to 3 decimals",
             "tolerance: {rel: 0.001, abs: 0.0005}",
             "answers:"]
    for step in shown:
        if "forward" in words:
            for sample in run_steps[step]:
                lines.append(f"  - {{step: {step}, sample: {sample}, values: {blanks(nodes)}}}")
        if "loss" in words:
            lines.append(f"  - {{step: {step}, loss: }}")
        if "gradient" in words and gradient_names:
            lines.append(f"  - {{step: {step}, gradient: {blanks(gradient_names)}}}")
        if "update" in words and update_names:
            lines.append(f"  - {{step: {step}, parameters: {blanks(update_names)}}}")
    if "final" in words or not run_steps:
        lines.append(f"  - {{final: {{loss: , parameters: {blanks(params)}}}}}")
    if lines[-1] == "answers:":
        lines[-1] = "answers: []"
    return "\n".join(lines) + "\n"


def _asked_names(ask, kind: str, params: list[str]) -> list[str]:
    if ask is None:
        return params
    names: list[str] = []
    for item in ask:
        if item.kind == kind:
            names.extend(item.names or params)
    return list(dict.fromkeys(names))


# ---------------------------------------------------------------- the command

def check_command(problem_path: str | Path, answers_path: str | Path, fmt: str = "text") -> tuple[str, int]:
    """``tutor check PROBLEM ANSWERS``: (stdout text, exit code 0 all correct / 1 any wrong).
    Invalid input raises ProblemError (the CLI prints it on stderr and exits 2)."""
    from .render.check_report import render_check_json, render_check_text

    problem = load_problem(problem_path)
    answers = load_answers(answers_path, problem)
    report = check(problem, answers)
    text = render_check_json(report) if fmt == "json" else render_check_text(report)
    return text, report.exit_code

