"""``unroll: {t: [1, T]}``: a recurrence written once in the model form, expanded here
into the equations a student writes out by hand (a1, h1, a2, h2, ..., then the rest).

A run of consecutive model keys holding ``{t}`` is one block, expanded for t = 1..T
in order. In names, ``{t}``, ``{t-1}``, ``{t+1}`` (any ``{t±k}``) become the index;
an index outside the range must name a constant, input or parameter (``h0``).
The expanded text keeps a map back to the template, so an error points into the
file where the author wrote it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ProblemError
from ..source import Node
from .fields import NameTable, article, key_node, need_list, need_mapping, need_whole, parse_equation
from .records import Equation, TimeStep

MAX_STEPS = 1000
OUTSIDE_KINDS = ("constant", "input", "parameter")


@dataclass(frozen=True)
class Unroll:
    variable: str   # t
    first: int
    last: int

    def placeholders(self) -> re.Pattern:
        return re.compile(r"\{\s*" + re.escape(self.variable) + r"\s*(?:([+-])\s*(\d+)\s*)?\}")


def read_unroll(node: Node) -> Unroll:
    need_mapping(node, "unroll: {t: [first, last]}")
    if len(node.value) != 1:
        raise node.error(f"expected one unroll variable with its range ({{t: [1, 3]}}), found {len(node.value)}")
    (variable, range_node), = node.items()
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", variable):
        raise node.key_error(variable, f"expected a variable name for unroll (such as t), found {variable!r}")
    bounds = need_list(range_node, "the range [first, last] of the unroll variable")
    if len(bounds) != 2:
        raise range_node.error(f"expected the range as [first, last] (two whole numbers), found {len(bounds)} items")
    first, last = need_whole(bounds[0], "the first step", 0), need_whole(bounds[1], "the last step", 0)
    if last < first:
        raise bounds[1].error(f"expected the last step ≥ the first ({first}), found {last}")
    if last - first + 1 > MAX_STEPS:
        raise range_node.error(f"expected at most {MAX_STEPS} steps, found {last - first + 1}")
    return Unroll(variable, first, last)


class _Expanded:
    """Equation text with one step's indices filled in; errors point into the template."""

    def __init__(self, template: Node, text: str, origin: list[int]):
        self.template, self.value, self.origin = template, text, origin
        self.kind = template.kind

    def error_at(self, offset: int, message: str) -> ProblemError:
        return self.template.error_at(self.origin[min(offset, len(self.origin) - 1)], message)

    def error(self, message: str) -> ProblemError:
        return self.template.error(message)


def read_unrolled_equations(model: Node, unroll_node: Node, names: NameTable):
    """The model's equations with every ``{t}`` block expanded; and the time steps
    (which equations each step holds), for the solution to group them."""
    unroll = read_unroll(unroll_node)
    need_mapping(model, "model: node name -> equation")
    if not model.value:
        raise model.error("expected at least one equation")
    pattern = unroll.placeholders()
    steps = range(unroll.first, unroll.last + 1)
    plan = _plan(model, pattern, steps)
    later = {name: node for name, node, _, _ in plan}
    if not any(t is not None for _, _, _, t in plan):
        raise unroll_node.error(f"unroll is given, but no model key holds {{{unroll.variable}}} "
                                f"(write the recurrence once, e.g. h{{{unroll.variable}}}: ...)")
    equations, groups = [], {}
    for name, key, value, t in plan:
        del later[name]
        if t is None:
            if isinstance(value.value, str):
                _no_placeholder(value, pattern, f"the equation of {name}", unroll.variable)
            text = value
        else:
            text = _fill(value, pattern, t, unroll, names, later) if isinstance(value.value, str) else value
        expr = parse_equation(text, names, ("input", "parameter", "constant", "node"), later,
                              f"the equation of {name}")
        names.define(key, "node")
        equations.append(Equation(name, expr))
        if t is not None:
            groups.setdefault(t, []).append(name)
    return tuple(equations), tuple(TimeStep(unroll.variable, t, tuple(ns)) for t, ns in groups.items())


def _plan(model: Node, pattern: re.Pattern, steps: range):
    """(expanded name, its key node, the template equation, t or None), in the solution's
    order: each run of consecutive {t} keys repeated for every step."""
    plan, block = [], []

    def flush():
        for t in steps:
            for key, value in block:
                name = _substitute(key, pattern, t)
                plan.append((name, Node(name, *model.key_pos[key], model.path), value, t))
        block.clear()

    for key, value in model.items():
        if pattern.search(key):
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", pattern.sub("1", key)):
                raise key_node(model, key).error(f"expected a node name with {{t}} (such as h{{t}}), found {key!r}")
            for m in pattern.finditer(key):
                if m.group(1):
                    raise key_node(model, key).error(f"a defined name takes the step itself, {{t}}, "
                                                     f"not {m.group(0)} (found {key!r})")
            block.append((key, value))
            continue
        flush()
        plan.append((key, key_node(model, key), value, None))
    flush()
    return plan


def _substitute(text: str, pattern: re.Pattern, t: int) -> str:
    return pattern.sub(lambda m: str(_index(m, t)), text)


def _index(m: re.Match, t: int) -> int:
    if not m.group(1):
        return t
    k = int(m.group(2))
    return t + k if m.group(1) == "+" else t - k


def _fill(template: Node, pattern: re.Pattern, t: int, unroll: Unroll, names: NameTable, later) -> _Expanded:
    text, out, origin, at = template.value, [], [], 0
    for m in pattern.finditer(text):
        out.append(text[at:m.start()])
        origin.extend(range(at, m.start()))
        index = _index(m, t)
        if not unroll.first <= index <= unroll.last:
            _check_outside(template, text, m, index, t, unroll, names)
        digits = str(index)
        out.append(digits)
        origin.extend([m.start()] * len(digits))
        at = m.end()
    out.append(text[at:])
    origin.extend(range(at, len(text) + 1))
    return _Expanded(template, "".join(out), origin)


def _check_outside(template: Node, text: str, m: re.Match, index: int, t: int, unroll: Unroll,
                   names: NameTable) -> None:
    """A neighbour outside the range (h{t-1} at t = 1 is h0) must be given, not computed."""
    start = m.start()
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    end = m.end()
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    name = text[start:m.start()] + str(index) + text[m.end():end]
    if names.kind.get(name) in OUTSIDE_KINDS:
        return
    v = unroll.variable
    found = f"which is {article(names.kind[name])}" if name in names.kind else "which is not defined"
    raise template.error_at(start, f"{text[start:end]} at {v} = {t} is {name}, {found}: a name outside "
                                       f"{v} = {unroll.first}..{unroll.last} must be a constant, input or "
                                       f"parameter (e.g. constants: {{{name}: 0}})")


def _no_placeholder(value: Node, pattern: re.Pattern, what: str, variable: str) -> None:
    m = pattern.search(value.value)
    if m:
        raise value.error_at(m.start(), f"{m.group(0)} in {what}, whose name has no {{{variable}}}: "
                                        f"only the equations of a {{{variable}}} key are unrolled")
