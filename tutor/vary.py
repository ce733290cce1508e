"""Variants of one problem (`tutor vary`): one version per student, each with
numbers that are pleasant by hand and a network that teaches.

A problem's ``vary:`` section says which values vary and how, and which sanity
rules every variant must meet (docs/instructors.md)::

    vary:
      values:
        w11: {from: -1, to: 1, step: 0.5, exclude: [0]}
        i1: {in: [1, 2, -1]}
      rules: {relu_alive: true, sigmoid_net: 4, min_gradient: 1e-3, distinct: true, digits: 4}
      attempts: 1000

Variants are drawn by rejection sampling: each draw picks one grid index per
varied value with ``random.Random(seed).randrange`` (integer draws only, so the
same seed gives the same variants on every machine and Python), writes the
problem's own text with those values replaced, parses and solves it, and keeps
it when every rule holds. A variant is an ordinary problem file: the original
text (comments kept) with the varied numbers replaced, ``vary:`` removed (a
variant is fixed) and ``meta: {variant: ID}`` added.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Sequence

import sympy

from .errors import DivergenceError, ProblemError, TutorError
from .ops import OPS
from .problem import (Number, Problem, check_keys, need_bool, need_list, need_mapping, need_number,
                      need_number_in, need_whole, load_problem, parse_problem)
from .source import Node, did_you_mean, load_yaml

VARY_KEYS = ("values", "rules", "attempts")
RULE_KEYS = ("relu_alive", "sigmoid_net", "min_gradient", "distinct", "digits")
DEFAULT_ATTEMPTS = 1000
MAX_GRID = 100_000          # values in one range: a bigger grid is a typo, not a plan
MAX_DIGITS = 15
PLAIN_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}   # YAML would read these as data
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


# ---------------------------------------------------------------- the vary: section

@dataclass(frozen=True)
class Choice:
    """One varied value: where it is written in the problem, and what it may be."""

    name: str                        # as written in vary: (w11, i1, i1@2)
    targets: tuple[Node, ...]        # every place the problem writes this value
    texts: tuple[str, ...]           # each possible value, as problem text
    numbers: tuple[Number, ...]      # each possible value, as the problem reads it


@dataclass(frozen=True)
class Rules:
    relu_alive: tuple[str, ...] = ()     # ReLU units whose net must be > 0 in every forward pass
    sigmoid_net: Fraction | None = None  # |net| < this for every sigmoid unit
    min_gradient: float | None = None    # |every asked gradient| ≥ this
    distinct: bool = False               # no two variants with the same answers
    digits: int | None = None            # every answer an exact decimal of at most this many decimals


@dataclass(frozen=True)
class VarySpec:
    choices: tuple[Choice, ...]
    rules: Rules
    attempts: int
    node: Node                       # the vary: section (where a failure is reported)


def parse_vary(root: Node, problem: Problem) -> VarySpec:
    """The problem's ``vary:`` section, every name and range checked (located errors)."""
    node = need_mapping(root.value["vary"], "vary: values, rules and attempts")
    check_keys(node, VARY_KEYS, ("values",), "vary")
    v = node.value
    places = value_places(root, problem)
    values = need_mapping(v["values"], "vary values: name -> {from, to, step} or {in: [...]}")
    if not values.value:
        raise values.error("expected at least one value to vary")
    choices = tuple(_choice(values, name, spec, places) for name, spec in values.items())
    rules = _rules(v["rules"], problem) if "rules" in v else Rules()
    attempts = need_whole(v["attempts"], "attempts (per variant)", 1) if "attempts" in v else DEFAULT_ATTEMPTS
    return VarySpec(choices, rules, attempts, node)


def value_places(root: Node, problem: Problem) -> dict[str, list[Node]]:
    """Each value a variant may change, by the name ``vary:`` uses, with the nodes
    that write it: parameters (a shared one at each of its places), constants, and
    data values (``i1`` with one sample, ``i1@2`` for sample 2)."""
    top = root.value
    places: dict[str, list[Node]] = {}
    if problem.layers is not None:
        for layer, layer_node in zip(problem.layers, top["network"].value["layers"].value):
            rows = layer_node.value["weights"].value
            for names, row in zip(layer.weights, rows):
                for name, item in zip(names, row.value):
                    places.setdefault(name, []).append(item)
            if layer.bias is not None:
                for name, item in zip(layer.bias, layer_node.value[layer.bias_key].value):
                    places.setdefault(name, []).append(item)
    else:
        for name, item in top["params"].items():
            places[name] = [item]
    if "constants" in top:
        for name, item in top["constants"].items():
            places[name] = [item]
    data = top["data"]
    samples = data.value if isinstance(data.value, list) else [data]
    for k, sample in enumerate(samples, 1):
        for name, item in sample.items():
            places[name if len(samples) == 1 else f"{name}@{k}"] = [item]
    return places


def _choice(values: Node, name: str, spec: Node, places: dict[str, list[Node]]) -> Choice:
    if name not in places:
        hint = did_you_mean(name, places)
        several = [p for p in places if p.startswith(name + "@")]
        extra = (f" (the data has {len(several)} samples: say which, e.g. {several[0]})" if several
                 else f" (did you mean {hint!r}?)" if hint
                 else f" (expected a parameter, constant or data value: {', '.join(places)})")
        raise values.key_error(name, f"unknown name {name!r} to vary{extra}")
    if isinstance(spec.value, list):
        texts, numbers = _listed(spec, name)
    else:
        need_mapping(spec, f"how {name} varies: {{from, to, step}} or {{in: [...]}}")
        if "in" in spec.value:
            check_keys(spec, ("in",), ("in",), f"vary {name}")
            texts, numbers = _listed(spec.value["in"], name)
        else:
            check_keys(spec, ("from", "to", "step", "exclude"), ("from", "to", "step"), f"vary {name}")
            texts, numbers = _grid(spec, name)
    return Choice(name, tuple(places[name]), tuple(texts), tuple(numbers))


def _listed(node: Node, name: str) -> tuple[list[str], list[Number]]:
    """``in: [...]``: each value exactly as written (``1/3`` and ``e^-1`` stay text)."""
    items = need_list(node, f"the values {name} may take")
    numbers = [need_number(item, f"a value for {name}") for item in items]
    return [scalar_text(item) for item in items], numbers


def _grid(spec: Node, name: str) -> tuple[list[str], list[Number]]:
    """``{from, to, step}``: from + k·step for k = 0, 1, ... up to ``to``, exactly."""
    v = spec.value
    low, high = _fraction(v["from"], "from"), _fraction(v["to"], "to")
    step_node = v["step"]
    step = _fraction(step_node, "step")
    if step <= 0:
        raise step_node.error(f"expected step > 0 for {name}, found {_decimal(step)}")
    if high < low:
        raise spec.error(f"empty range for {name}: from {_decimal(low)} is above to {_decimal(high)}")
    count = (high - low) / step
    if count.denominator != 1:
        raise step_node.error(f"step {_decimal(step)} does not divide the range of {name} "
                              f"(from {_decimal(low)} to {_decimal(high)}: {_decimal(high - low)} is not "
                              f"a whole number of steps)")
    if count + 1 > MAX_GRID:
        raise step_node.error(f"the range of {name} has {count + 1} values; at most {MAX_GRID}")
    grid = [low + k * step for k in range(int(count) + 1)]
    if "exclude" in v:
        excluded = {_fraction(item, f"a value of {name} to exclude") for item in
                    need_list(v["exclude"], "values to exclude", nonempty=False)}
        grid = [x for x in grid if x not in excluded]
        if not grid:
            raise v["exclude"].error(f"exclude leaves no value for {name}")
    return [_decimal(x) for x in grid], [Number(sympy.Rational(x.numerator, x.denominator), x.numerator /
                                                x.denominator) for x in grid]


def _fraction(node: Node, what: str) -> Fraction:
    number = need_number(node, f"{what}: a number")
    if not number.exact.is_Rational:
        raise node.error(f"expected {what}: a decimal or a fraction, found {node.kind}")
    return Fraction(int(number.exact.p), int(number.exact.q))


def _decimal(x: Fraction) -> str:
    """A fraction as problem text: the exact decimal when there is one, else p/q."""
    q, twos, fives = x.denominator, 0, 0
    while q % 2 == 0:
        q, twos = q // 2, twos + 1
    while q % 5 == 0:
        q, fives = q // 5, fives + 1
    if q != 1:
        return f'"{x.numerator}/{x.denominator}"'
    places = max(twos, fives)
    scaled = abs(x.numerator) * 10 ** places // x.denominator
    whole, frac = divmod(scaled, 10 ** places) if places else (scaled, 0)
    text = str(whole) + (f".{frac:0{places}d}".rstrip("0") if places else "")
    return ("-" if x < 0 else "") + text


def _rules(node: Node, problem: Problem) -> Rules:
    need_mapping(node, "vary rules")
    check_keys(node, RULE_KEYS, (), "vary rules")
    v = node.value
    relu_units = units_with(problem, "relu")
    alive: tuple[str, ...] = ()
    if "relu_alive" in v:
        given = v["relu_alive"]
        if isinstance(given.value, list):
            for item in given.value:
                if item.value not in relu_units:
                    raise item.error(f"{item.value!r} is not a ReLU unit of this problem "
                                     f"(ReLU units: {', '.join(relu_units) or 'none'})")
            alive = tuple(item.value for item in given.value)
        elif need_bool(given, "relu_alive (or a list of ReLU units)"):
            alive = tuple(relu_units)
    sigmoid = _fraction(v["sigmoid_net"], "sigmoid_net") if "sigmoid_net" in v else None
    if sigmoid is not None and sigmoid <= 0:
        raise v["sigmoid_net"].error("expected sigmoid_net > 0 (the bound on |net| of a sigmoid unit)")
    gradient = need_number_in(v["min_gradient"], "min_gradient", 0.0, math.inf, high_open=True).value \
        if "min_gradient" in v else None
    distinct = need_bool(v["distinct"], "distinct") if "distinct" in v else False
    digits = need_whole(v["digits"], "digits (decimals)", 0) if "digits" in v else None
    if digits is not None and digits > MAX_DIGITS:
        raise v["digits"].error(f"expected at most {MAX_DIGITS} digits, found {digits}")
    return Rules(alive, sigmoid, gradient, distinct, digits)


def units_with(problem: Problem, activation: str) -> list[str]:
    """The nodes computed by that one-argument activation (a layer's units, or a model's equations)."""
    from .graph import build_graph

    fn = OPS[activation].sympy_fn
    return [eq.name for eq in build_graph(problem).equations if type(eq.expr) is fn]


# ---------------------------------------------------------------- text surgery

def scalar_text(node: Node) -> str:
    """The scalar exactly as the file writes it (quotes included)."""
    text = node.source.text
    start = node.source.index(node.line, node.col)
    return text[start:_scalar_end(text, start, node)]


def _scalar_end(text: str, start: int, node: Node) -> int:
    style = node.style
    if style in ("|", ">"):
        raise node.error("write a varied value on one line (not as a block scalar)")
    if style in ("'", '"'):
        i = start + 1
        while i < len(text):
            if style == '"' and text[i] == "\\":
                i += 2
                continue
            if text[i] == style:
                if style == "'" and text.startswith("''", i):
                    i += 2
                    continue
                return i + 1
            i += 1
        return len(text)
    end = start
    while end < len(text) and text[end] not in ",]}\n" and not text.startswith(" #", end):
        end += 1
    return len(text[:end].rstrip()) if end > start else end


def _section(root: Node, key: str) -> tuple[int, int]:
    """The character span of a top-level key's section: the comment lines just
    above its key, up to the next top-level key (comment and blank lines after
    the section's last line belong to what follows)."""
    source = root.source
    lines = source.text.splitlines(keepends=True)
    line = root.key_pos[key][0]
    later = [pos[0] for k, pos in root.key_pos.items() if pos[0] > line]
    stop = min(later) if later else len(lines) + 1      # the first line after the section
    while stop - 1 > line and _loose(lines[stop - 2]):
        stop -= 1
    while line > 1 and lines[line - 2].startswith("#"):   # the comment lines just above it are its own
        line -= 1
    return source.index(line, 1), source.index(stop, 1) if stop <= len(lines) else len(source.text)


def _loose(line: str) -> bool:
    stripped = line.strip()
    return not stripped or (stripped.startswith("#") and not line[0].isspace())


def _yaml_value(value: Any) -> str:
    """A plain value (from meta) as YAML flow text: JSON is YAML, and exact for text."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_yaml_key(str(k))}: {_yaml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_yaml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _yaml_key(key: str) -> str:
    plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) and key.lower() not in PLAIN_WORDS
    return key if plain else json.dumps(key, ensure_ascii=False)


def variant_text(root: Node, problem: Problem, spec: VarySpec, picks: Sequence[int], variant_id: str) -> str:
    """The problem's own text with each choice's pick written in, ``vary:`` removed
    and the variant's id in ``meta:`` (comments and layout kept)."""
    text = root.source.text
    if any(pos[1] != 1 for pos in root.key_pos.values()):
        raise root.error("tutor vary needs the problem's top level written as a block mapping (key: value lines)")
    edits: list[tuple[int, int, str]] = []
    for choice, k in zip(spec.choices, picks):
        for node in choice.targets:
            start = node.source.index(node.line, node.col)
            edits.append((start, _scalar_end(text, start, node), choice.texts[k]))
    edits.append((*_section(root, "vary"), ""))
    meta = {**problem.meta, "variant": variant_id}
    line = f"meta: {_yaml_value(meta)}\n"
    if "meta" in root.value:
        edits.append((*_section(root, "meta"), line))
    else:
        end = _section(root, "title")[1]
        edits.append((end, end, line))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


# ---------------------------------------------------------------- drawing variants

@dataclass(frozen=True)
class Variant:
    id: str
    filename: str
    text: str


class VaryError(TutorError):
    pass


def variant_ids(n: int | None, ids: Sequence[str] | None) -> list[str]:
    """v01, v02, ... (or the instructor's list of student ids)."""
    if ids is not None:
        if not ids:
            raise VaryError("error: the ids file lists no id (one a line)")
        for i in ids:
            if not ID_RE.match(i):
                raise VaryError(f"error: {i!r} cannot be a variant id (letters, digits, '.', '_', '-')")
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise VaryError(f"error: the id {dup!r} is listed twice")
        if n is not None and n != len(ids):
            raise VaryError(f"error: -n {n} but {len(ids)} ids are listed")
        return list(ids)
    if n is None or n < 1:
        raise VaryError("error: say how many variants (-n N) or list their ids (--ids FILE)")
    width = max(2, len(str(n)))
    return [f"v{k:0{width}d}" for k in range(1, n + 1)]


def make_variants(path: str | Path, ids: Sequence[str], seed: int) -> list[Variant]:
    """One variant per id, drawn with ``seed``; a `ProblemError` at the ``vary:``
    section when a variant meeting the rules is not found within its attempts.

    A draw is judged on the problem with the drawn values put in (no text is
    parsed: the equations, and their derivatives, are the same in every variant);
    only a variant that is kept is written out, and read back to be sure."""
    from .derive import derive
    from .graph import build_graph

    path = str(path)
    problem = load_problem(path)   # a file that cannot be read is a located error there
    text = Path(path).read_bytes().decode("utf-8")
    root = load_yaml(text, path)
    if "vary" not in root.value:
        raise root.error("this problem has no vary: section saying what varies (see docs/instructors.md)")
    spec = parse_vary(root, problem)
    derivation = derive(build_graph(problem))
    rng = random.Random(seed)
    stem = Path(path).stem
    seen_picks: set[tuple[int, ...]] = set()
    seen_answers: set[tuple] = set()
    out = []
    for number, variant_id in enumerate(ids, 1):
        rejected: dict[str, int] = {}
        for _ in range(spec.attempts):
            picks = tuple(rng.randrange(len(c.texts)) for c in spec.choices)
            failure, answers = ("the same values as an earlier variant", ()) if picks in seen_picks else \
                judge_variant(with_values(problem, spec, picks), derivation, spec.rules)
            if failure is None and spec.rules.distinct and answers in seen_answers:
                failure = "distinct"
            if failure is not None:
                rejected[failure] = rejected.get(failure, 0) + 1
                continue
            seen_picks.add(picks)
            seen_answers.add(answers)
            filename = f"{stem}-{variant_id}.yaml"
            written = variant_text(root, problem, spec, picks, variant_id)
            _check_written(parse_problem(written, filename), spec, picks)
            out.append(Variant(variant_id, filename, written))
            break
        else:
            raise _impossible(spec, number, len(ids), rejected)
    return out


def _impossible(spec: VarySpec, number: int, total: int, rejected: dict[str, int]) -> ProblemError:
    reasons = ", ".join(f"{rule} {count}×" for rule, count in sorted(rejected.items(), key=lambda kv: -kv[1]))
    return spec.node.error(f"no variant {number} of {total} meets the rules after {spec.attempts} attempts "
                           f"(rejected by {reasons}); widen the ranges or relax the rules")


def with_values(problem: Problem, spec: VarySpec, picks: Sequence[int]) -> Problem:
    """The problem with each choice's pick in place of its value."""
    params, constants = dict(problem.params), dict(problem.constants)
    samples = [dict(s) for s in problem.samples]
    for choice, k in zip(spec.choices, picks):
        name, _, sample = choice.name.partition("@")
        number = choice.numbers[k]
        if name in params:
            params[name] = number
        elif name in constants:
            constants[name] = number
        else:
            samples[int(sample or 1) - 1][name] = number
    return dataclasses.replace(problem, params=params, constants=constants, samples=tuple(samples))


def judge_variant(problem: Problem, derivation, rules: Rules) -> tuple[str | None, tuple]:
    """(the first rule the variant breaks, or None; its answers for the distinct rule)."""
    from .train import train

    try:
        run = train(problem, derivation=derivation)
    except DivergenceError:
        return "a training that diverges", ()
    if run.diverged is not None:
        return "a training that diverges", ()
    return first_broken_rule(run, rules)


def _check_written(written: Problem, spec: VarySpec, picks: Sequence[int]) -> None:
    """The written variant reads back with the drawn values (the text surgery is right)."""
    drawn = with_values(written, spec, picks)
    if (drawn.params, drawn.constants, drawn.samples) != (written.params, written.constants, written.samples):
        raise AssertionError(f"{written.path}: the written values are not the drawn ones")


def first_broken_rule(run, rules: Rules) -> tuple[str | None, tuple]:
    """Check every rule on the solved variant; returns (rule name or None, answers)."""
    from .solution import build_solution

    problem = run.problem
    f = run.domain.to_float
    traces = [(step.parameters_before, trace) for step in run.steps for trace in step.samples]
    for _, trace in traces:
        if any(not f(trace.values[u]) > 0 for u in rules.relu_alive):
            return "relu_alive", ()
    if rules.sigmoid_net is not None:
        bound = float(rules.sigmoid_net)
        for before, trace in traces:
            for net in _sigmoid_nets(run, before, trace):
                if not abs(net) < bound:
                    return "sigmoid_net", ()
    answers = build_solution(run, figures=False).answers
    if rules.min_gradient is not None:
        gradients = [f(a.value) for a in answers if a.kind == "gradient"] or [
            f(g) for step in run.steps for p, g in step.gradients.items() if p not in problem.frozen]
        if any(not abs(g) >= rules.min_gradient for g in gradients):
            return "min_gradient", ()
    values = tuple(f(a.value) for a in answers)
    if rules.digits is not None:
        if any(not _short_decimal(x, rules.digits) for x in values):
            return "digits", ()
    shown = rules.digits if rules.digits is not None else 4
    return None, tuple(round(x, shown) + 0.0 for x in values)


def _sigmoid_nets(run, before: dict, trace) -> list[float]:
    """The argument of every sigmoid unit in one forward pass."""
    f = run.domain.to_float
    out = []
    fn = OPS["sigmoid"].sympy_fn
    for eq in run.graph.equations:
        if type(eq.expr) is fn:
            arg = eq.expr.args[0]
            if arg.is_Symbol and str(arg) in trace.values:
                out.append(f(trace.values[str(arg)]))
            else:
                known = {**{k: f(v) for k, v in before.items()}, **{k: f(v) for k, v in trace.values.items()}}
                out.append(float(arg.subs({run.graph.symbol(n): x for n, x in known.items()
                                           if n in run.graph.symbols})))
    return out


def _short_decimal(x: float, digits: int) -> bool:
    """x is a decimal of at most ``digits`` decimals (up to the double's own rounding)."""
    return math.isfinite(x) and abs(x - round(x, digits)) <= 1e-9 * max(1.0, abs(x))


def read_ids(path: str | Path) -> list[str]:
    """Student ids, one a line (blank lines and # comments skipped)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise VaryError(f"{path}: error: cannot read the ids: {getattr(exc, 'strerror', None) or exc}") from None
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def write_variants(variants: Sequence[Variant], directory: str | Path, force: bool = False) -> list[Path]:
    """Write every variant (atomically each), after checking none exists unless ``force``."""
    from .files import OutputError, write_output

    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise OutputError(directory, "is not a directory")
    paths = [directory / v.filename for v in variants]
    if not force:
        existing = next((p for p in paths if p.exists()), None)
        if existing is not None:
            raise OutputError(existing, "file exists (use --force to overwrite it)")
    directory.mkdir(parents=True, exist_ok=True)
    for v, p in zip(variants, paths):
        write_output(p, v.text, force=force)
    return paths
