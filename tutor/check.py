"""Grading a student's answers against the worked solution.

    answers.py ─ Answers ───────────────────┐
    problem ─ train ─▶ reference ───────────┼─ check ─▶ CheckReport ─▶ render/check_report.py
               replay (student's values) ───┤
               replay (each slip variant) ──┘

Quantities are keyed ``(step, kind, sample, name)`` (answers.py lists the kinds).
A *world* maps every key of a training to its number; it also holds, under the
kind ``"before"``, each parameter's value before the step, since an update is
judged by its step θ_new − θ_old.

The *replay* is the engine's own training (`train`) with its hooks: the
student's answers replace the computed forward values, losses, gradients and
parameters as soon as they are known (error carried forward), and a slip may
change the local partials or the optimizer's rules. Without answers and slips
it is `train` itself, to the last bit (tested).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from .answers import Answers, Key, load_answers, partial_name
from .arith import make_domain
from .derive import Derivation, derive
from .graph import build_graph
from .ops import LOSSES, OPS
from .render.numbers import significant_text
from .problem import Number, Problem, load_problem, parse_tolerance
from .slips import CATALOGUE, Variant, activations
from .source import load_yaml
from .tolerance import Tolerance, same_as_written
from .train import Run, train

World = dict[Key, float]
COHERENT, ONE_NUMBER, CONTRADICTED = 0, 1, 2   # how well a slip fits all the student's answers (best first)
VERDICTS = ("correct", "consistent", "wrong")


# ---------------------------------------------------------------- records

@dataclass(frozen=True)
class Diagnosis:
    rule: str
    explanation: str      # the rule's sentence for this problem (the same for every number it explains)
    detail: str = ""      # what it means for this number ("you left out ∂o1/∂net_o1 = ... = 0.1868")


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
class Finding:
    """One diagnosis and every wrong number it explains, in the solution's order."""

    rule: str
    explanation: str
    results: tuple[AnswerResult, ...]


@dataclass(frozen=True)
class CheckReport:
    title: str
    problem_path: str
    answers_path: str
    tolerance: Tolerance
    results: tuple[AnswerResult, ...]    # in the order the solution computes them
    findings: tuple[Finding, ...] = ()

    def count(self, verdict: str) -> int:
        return sum(r.verdict == verdict for r in self.results)

    @property
    def first_wrong(self) -> AnswerResult | None:
        return next((r for r in self.results if r.verdict == "wrong"), None)

    @property
    def exit_code(self) -> int:
        return 1 if self.first_wrong else 0


# ---------------------------------------------------------------- worlds

def replay(problem: Problem, derivation: Derivation | None = None, given: dict[Key, Number] | None = None,
           rules: Callable[[tuple], tuple] | None = None) -> World:
    """Every quantity of the training, each recomputed from the values before it, where
    the given values (the student's) replace the computed ones: the engine's own
    training, observed. Stops quietly at a value that is not finite: the quantities
    after it are missing."""
    given = given or {}
    domain = make_domain(problem.arithmetic, problem.round_decimals)
    out: World = {}

    def observe(key: Key, computed):
        out[key] = domain.to_float(computed)
        answer = given.get(key)
        return domain.number(answer) if answer is not None else computed

    run = train(problem, derivation=derivation, rules=rules, observe=observe)
    for key, value in _details(run).items():
        out.setdefault(key, value)
    return out


def world_of_run(run: Run) -> World:
    """The engine's solution, by key (the reference)."""
    f = run.domain.to_float
    loss_name = run.graph.loss_name
    out: World = {}

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
    out.update(_details(run))
    return out


def _details(run: Run) -> World:
    """What a hand solution writes between the numbers the engine carries forward:
    δs, local partials, each sample's gradient, the optimizer's variables, and each
    parameter's value before the step."""
    f = run.domain.to_float
    loss_name = run.graph.loss_name
    out: World = {}
    for s in run.steps:
        for trace in s.samples:
            out.update(((s.step, "delta", trace.index, n), f(d)) for n, d in trace.deltas.items() if n != loss_name)
            out.update(((s.step, "partial", trace.index, partial_name(e)), f(x)) for e, x in trace.partials.items())
            out.update(((s.step, "gradient", trace.index, p), f(g)) for p, g in trace.gradients.items())
        for p, trail in s.trail.items():
            out.update(((s.step, "state", None, f"{var}:{p}"), f(x)) for var, x in trail if var != "theta")
        out.update(((s.step, "before", None, p), f(x)) for p, x in s.parameters_before.items())
    out.update((("final", "before", None, p), f(x)) for p, x in run.initial.items())
    return out


# ---------------------------------------------------------------- judging

class Judge:
    """The tolerance, applied with the problem's own scales: the one place a given
    number is compared with another."""

    def __init__(self, tolerance: Tolerance, reference: World):
        self.tolerance = tolerance
        self.scale: dict[str, float] = {}
        for (step, kind, sample, name), x in reference.items():
            if kind == "parameters":
                kind, x = "step", x - reference.get((step, "before", None, name), x)
            if math.isfinite(x):
                self.scale[kind] = max(self.scale.get(kind, 0.0), abs(x))

    def same(self, key: Key, given: float, value: float | None, world: World) -> bool:
        """``given`` is ``value`` (an update: its step from ``world``'s θ_old is)."""
        tol = self.tolerance
        if value is None:
            return False
        before = world.get((key[0], "before", None, key[3])) if key[1] == "parameters" else None
        if before is not None and tol.digits is None:
            return tol.matches(given - before, value - before, self.scale.get("step", 0.0))
        return tol.matches(given, value, self.scale.get(key[1], 0.0))


# ---------------------------------------------------------------- checking

def order_key(problem: Problem, derivation: Derivation) -> Callable[[Key], tuple]:
    """The order a worked solution computes things in: each step's forward values
    (sample by sample, in equation order) and losses, then the backward sweep from
    the loss down (at each node: its δ, its local partials, the gradients completed
    there), then the optimizer's variables and the updates."""
    graph = derivation.graph
    forward = {n: i for i, n in enumerate([*graph.leaf_names, *graph.node_names])}
    params = {p: i for i, p in enumerate(problem.params)}
    # A node's distance from the loss: the sweep handles a layer's nodes together, and
    # a worked solution lists them (and the gradients completed there) in the file's order.
    level: dict[str, int] = {}
    for name in reversed(graph.node_names):
        level[name] = 1 + max((level[c] for c in derivation.consumers.get(name, ())), default=-1)
    backward = {n: (level[n], forward[n]) for n in graph.node_names}
    completes = {p: (backward[users[0]][0], math.inf) for p, users in derivation.consumers.items() if p in params}
    last = (len(backward), math.inf)

    def key(k: Key) -> tuple:
        step, kind, sample, name = k
        s = math.inf if sample is None else sample
        if kind == "values":
            place = (0, s, forward.get(name, -1), 0)
        elif kind == "loss":
            place = (0, s, len(forward), 0) if sample is not None else (1, 0, 0, 0)
        elif kind == "delta":
            place = (2, backward.get(name, last), 0, s)
        elif kind == "partial":
            node, dep = name.split("/", 1)
            place = (2, backward.get(node, last), 1, s, forward.get(dep, params.get(dep, -1)))
        elif kind == "gradient":
            place = (2, completes.get(name, last), 2, s, params.get(name, -1))
        elif kind == "state":
            var, p = name.split(":", 1)
            place = (3, params.get(p, -1), var)
        else:  # parameters: the final ones come first in the final pass (they are its input)
            place = (4, params.get(name, -1)) if step != "final" else (-1, params.get(name, -1))
        return (math.inf if step == "final" else step, place)
    return key


def effective_tolerance(problem: Problem, override: Tolerance | None = None) -> Tolerance:
    """--tolerance, else the problem file's check: {tolerance}, else the default."""
    return override or problem.check_tolerance or Tolerance()


def check(problem: Problem | str | Path, answers: Answers, tolerance: Tolerance | None = None) -> CheckReport:
    if not isinstance(problem, Problem):
        problem = load_problem(problem)
    tol = effective_tolerance(problem, tolerance)
    run = train(problem)
    reference = world_of_run(run)
    judge = Judge(tol, reference)
    given = {a.key: a.given for a in answers.answers}
    ecf = replay(problem, run.derivation, given)
    order = order_key(problem, run.derivation)
    results = []
    for a in sorted(answers.answers, key=lambda a: order(a.key)):
        expected, again = reference.get(a.key), ecf.get(a.key)
        if judge.same(a.key, a.value, expected, reference):
            verdict = "correct"
        elif judge.same(a.key, a.value, again, ecf):
            verdict = "consistent"
        else:
            verdict = "wrong"
        results.append(AnswerResult(*a.key, a.value, expected, verdict, again, (), a.line, a.col))
    findings: tuple[Finding, ...] = ()
    if any(r.verdict == "wrong" for r in results):
        found = diagnose(problem, run.derivation, given, reference, ecf, judge, results)
        results = [replace(r, diagnoses=found.get(r.key, ())) for r in results]
        findings = group_findings(results)
    return CheckReport(problem.title, problem.path, answers.path, tol, tuple(results), findings)


def diagnose(problem: Problem, derivation: Derivation, given: dict[Key, Number], reference: World, ecf: World,
             judge: Judge, results: list[AnswerResult]) -> dict[Key, tuple[Diagnosis, ...]]:
    """For each wrong answer: the plausibility rules it breaks, and the catalogue's
    slips whose variant reproduces it (and changes the quantity: a variant that gives
    the right number explains nothing).

    When several slips reproduce an answer, the most coherent are kept: a variant of
    the whole computation that agrees with every other answer of the student beats
    a change of the one number (``perturb``), which beats a variant that the
    student's other, right answers contradict. Among equals, a slip the student
    already made at an earlier number is preferred (one mistake, repeated)."""
    wrong = [r for r in results if r.verdict == "wrong"]
    others = [r for r in results if r.verdict != "wrong"]
    candidates: dict[Key, dict[str, tuple[int, Diagnosis]]] = {r.key: {} for r in wrong}
    for slip in CATALOGUE:
        for variant in slip.variants(problem, derivation):
            world = variant_world(problem, derivation, variant, given, ecf)
            conflicts = any(_contradicts(judge, r, world, ecf) for r in others)
            score = ONE_NUMBER if variant.perturb is not None else CONTRADICTED if conflicts else COHERENT
            for r in wrong:
                if not _explains(judge, r, world, ecf):
                    continue
                best = candidates[r.key].get(slip.name)
                if best is None or score < best[0]:
                    detail = variant.detail(r.key, reference) if variant.detail else ""
                    candidates[r.key][slip.name] = (score, Diagnosis(slip.name, variant.explanation, detail))
    found: dict[Key, tuple[Diagnosis, ...]] = {}
    made: set[str] = set()
    for r in wrong:  # in the solution's order: "earlier" is well defined
        chosen = _choose(candidates[r.key], made)
        if not chosen or min(score for score, _ in candidates[r.key].values()) == CONTRADICTED:
            chosen = list(_too_few_digits(r)) or chosen  # a slip the other answers rule out explains less
        made.update(d.rule for d in chosen)
        found[r.key] = (*implausible(problem, derivation, r, ecf), *chosen)
    return found


def _choose(by_rule: dict[str, tuple[int, Diagnosis]], made: set[str]) -> list[Diagnosis]:
    """The best-scoring slips for one number; among them, those already made earlier."""
    top = min((score for score, _ in by_rule.values()), default=COHERENT)
    chosen = [d for score, d in by_rule.values() if score == top]
    return [d for d in chosen if d.rule in made] or chosen


def _contradicts(judge: Judge, r: AnswerResult, world: World, ecf: World) -> bool:
    """The variant changes a number the student got right (or consistently)."""
    value = world.get(r.key)
    if value is None:
        return False
    return not judge.same(r.key, r.given, value, world) or not judge.same(r.key, value, ecf.get(r.key), world)


def _explains(judge: Judge, r: AnswerResult, world: World, ecf: World) -> bool:
    """The variant's number is the student's (within the tolerance, or to the digits
    they wrote), and the honest computation's is not."""
    value = world.get(r.key)
    honest = ecf.get(r.key, r.expected)
    if value is None or judge.same(r.key, value, honest, world):
        return False
    if judge.same(r.key, r.given, value, world):
        return True
    return same_as_written(r.given, value) and not same_as_written(r.given, honest)


def implausible(problem: Problem, derivation: Derivation, r: AnswerResult, ecf: World) -> list[Diagnosis]:
    """Numbers that cannot be right whatever the arithmetic: the plausibility rules."""
    out = []
    why = LOSSES[problem.loss.name].nonnegative if problem.loss.name else ""
    if r.kind == "loss" and r.given < 0 and why:
        out.append(Diagnosis("negative_loss", why.format(problem.loss.name)))
    if r.kind == "values" and _is_sigmoid(derivation, r.name) and not 0 < r.given < 1:
        out.append(Diagnosis("sigmoid_range", f"{r.name} is a sigmoid output: it lies strictly between 0 and 1"))
    if r.kind == "parameters" and r.name in problem.frozen:
        before = ecf.get((r.step, "before", None, r.name))
        if before is not None and r.given != before:
            out.append(Diagnosis("frozen_moved", f"{r.name} is frozen: it does not move, "
                                                 f"so it stays {significant_text(before, 10)}"))
    return out


def _is_sigmoid(derivation: Derivation, name: str | None) -> bool:
    eq = next((e for e in derivation.graph.equations if e.name == name), None)
    return eq is not None and name in activations(derivation) and type(eq.expr) is OPS["sigmoid"].sympy_fn


def _too_few_digits(r: AnswerResult) -> tuple[Diagnosis, ...]:
    """Right to every digit written, but those digits cannot meet the tolerance (said
    only when no slip explains the number: rounding too early also looks like this)."""
    if r.expected is None or not same_as_written(r.given, r.expected):
        return ()
    what = ("the step θ_new − θ_old is smaller than the last digit you wrote can show"
            if r.kind == "parameters" else "more digits are needed to meet the tolerance")
    return (Diagnosis("too_few_digits", f"right to the digits you wrote, but {what}: write more digits"),)


def group_findings(results: list[AnswerResult]) -> tuple[Finding, ...]:
    """One finding per diagnosis, listing every number it explains: a slip repeated
    over eight gradients is one finding, not eight."""
    groups: dict[tuple[str, str], list[AnswerResult]] = {}
    for r in results:
        for d in r.diagnoses:
            groups.setdefault((d.rule, d.explanation), []).append(r)
    return tuple(Finding(rule, explanation, tuple(rs)) for (rule, explanation), rs in groups.items())


def variant_world(problem: Problem, derivation: Derivation, variant: Variant, given: dict[Key, Number],
                  ecf: World) -> World:
    """Every quantity as computed with the variant's mistake, from the student's own answers."""
    if variant.perturb is not None:
        world = {key: value for key, value in ecf.items() if key[1] == "before"}
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


# ---------------------------------------------------------------- the command

def tolerance_option(text: str) -> Tolerance:
    """``--tolerance 'rel: 1e-4'`` or ``'{digits: 3}'``: read like the problem file's."""
    return parse_tolerance(load_yaml(text, "--tolerance"))


def check_command(problem_path: str | Path, answers_path: str | Path, fmt: str = "text",
                  tolerance: Tolerance | None = None) -> tuple[str, int]:
    """``tutor check PROBLEM ANSWERS``: (stdout text, exit code 0 all correct / 1 any wrong).
    Invalid input raises ProblemError (the CLI prints it on stderr and exits 2)."""
    from .render.check_report import render_check_json, render_check_text

    problem = load_problem(problem_path)
    answers = load_answers(answers_path, problem)
    report = check(problem, answers, tolerance)
    text = render_check_json(report) if fmt == "json" else render_check_text(report)
    return text, report.exit_code

