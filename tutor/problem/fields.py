"""Reading located YAML nodes: the typed field readers (a number, a name, a choice, ...),
the table of the problem's names, and equations. Every error names the node's line and column."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

import sympy

from ..expr import Array, parse_constant, parse_expression, parse_shaped_expression
from ..ops import NAMED_CONSTANTS, USER_FUNCTIONS
from ..source import Node, did_you_mean
from .records import Number

NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
RESERVED_NAMES = frozenset(USER_FUNCTIONS) | {"linear", "softmax"} | frozenset(NAMED_CONSTANTS)

def expected_one_of(options) -> str:
    return ", ".join(str(o) for o in options)


def suggestion(word: str, options, otherwise: str = "") -> str:
    """" (did you mean 'x'?)" for a near miss; else " (OTHERWISE: a, b, c)", or nothing."""
    hint = did_you_mean(word, options) if isinstance(word, str) else None
    if hint:
        return f" (did you mean {hint!r}?)"
    return f" ({otherwise}: {expected_one_of(options)})" if otherwise else ""


def where(node: Node) -> str:
    return f"line {node.line}, column {node.col}"


def check_keys(node: Node, allowed, required=(), what: str = "") -> None:
    in_what = f" in {what}" if what else ""
    for key in node.value:
        if key not in allowed:
            raise node.key_error(key, f"unknown key {key!r}{in_what}{suggestion(key, allowed, 'expected one of')}")
    for key in required:
        if key not in node.value:
            raise node.error(f"missing key {key!r}{in_what}")


def need_mapping(node: Node, what: str) -> Node:
    if not isinstance(node.value, dict):
        raise node.error(f"expected {what} (a mapping), found {node.kind}")
    return node


def need_list(node: Node, what: str, nonempty: bool = True) -> list[Node]:
    if not isinstance(node.value, list):
        raise node.error(f"expected {what} (a list), found {node.kind}")
    if nonempty and not node.value:
        raise node.error(f"expected {what}, found an empty list")
    return node.value


def need_text(node: Node, what: str) -> str:
    if not isinstance(node.value, str):
        raise node.error(f"expected {what} (text), found {node.kind}")
    return node.value


def need_choice(node: Node, what: str, options) -> str:
    if not isinstance(node.value, str) or node.value not in options:
        raise node.error(f"expected {what}: one of {expected_one_of(options)}; found {node.kind}"
                         + suggestion(node.value, options))
    return node.value


def need_whole(node: Node, what: str, minimum: int) -> int:
    v = node.value
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        unquote = " (write it without quotes)" if isinstance(v, str) and v.strip().isdigit() else ""
        raise node.error(f"expected {what}: a whole number ≥ {minimum}, found {node.kind}{unquote}")
    return v


def need_bool(node: Node, what: str) -> bool:
    if not isinstance(node.value, bool):
        raise node.error(f"expected {what}: true or false, found {node.kind}")
    return node.value


def need_number(node: Node, what: str = "a number") -> Number:
    v = node.value
    if isinstance(v, (bool, dict, list)) or v is None or (isinstance(v, str) and NAME_RE.match(v.strip())):
        raise node.error(f"expected {what}, found {node.kind}")
    if isinstance(v, int):
        exact = sympy.Integer(v)
    elif isinstance(v, float):
        if not math.isfinite(v) and not (node.text or "").lstrip("+-")[:1].isdigit():  # .inf, .nan
            raise node.error(f"expected {what}, found {v!r}, which is not a finite number")
        # The decimal as written (0.1 is 1/10), by the same rules as a number in an equation.
        exact = parse_constant(node.text or repr(v), node.error_at)
    else:
        exact = parse_constant(v, node.error_at)
    if exact.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo) or exact.is_real is False:
        raise node.error(f"expected {what}, found {clip(str(v))!r}, which is not a finite real number")
    try:
        value = float(exact)
    except (TypeError, ValueError, OverflowError):
        raise node.error(f"expected {what}, found {clip(str(v))!r}, which is not a finite real number") from None
    if not math.isfinite(value):
        raise node.error(f"number {clip(str(v))!r} is out of range for a double (at most about 1.8e308)")
    return Number(exact, value)


def need_number_in(node: Node, what: str, low: float, high: float, *, low_open=False, high_open=False) -> Number:
    num = need_number(node, f"{what}: a number")
    x = num.value
    below = x <= low if low_open else x < low
    above = x >= high if high_open else x > high
    if below or above:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        hi_text = "∞" if math.isinf(high) else num_text(high)
        raise node.error(f"expected {what} in {lo}{num_text(low)}, {hi_text}{hi}, found {num_text(x)}")
    return num


def num_text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(x)


def clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------- names

class NameTable:
    """Every name of the problem: what it is and where it was defined."""

    def __init__(self) -> None:
        self.kind: dict[str, str] = {}
        self.where: dict[str, Node] = {}
        self.symbols: dict[str, sympy.Symbol] = {}
        # Vector, matrix and grid names (shapes.py): their shapes in order of definition, their
        # kinds, and for each scalar component the name it belongs to.
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.shaped_kind: dict[str, str] = {}
        self.owner: dict[str, str] = {}

    def define(self, node: Node, kind: str) -> str:
        name = self.check_new(node, kind)
        self.kind[name] = kind
        self.where[name] = node
        self.symbols[name] = sympy.Symbol(name, real=True)
        return name

    def check_new(self, node: Node, kind: str) -> str:
        """The name ``node`` holds, if it may name something new of ``kind``; else a located error."""
        name = node.value
        control = next((c for c in name if unicodedata.category(c) == "Cc"), None) if isinstance(name, str) else None
        if control is not None:
            raise node.error(f"a name cannot hold the control character U+{ord(control):04X} "
                             f"(found {clip(ascii(name))}); names use letters, digits and _")
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise node.error(f"expected a name for {article(kind)} (letters, digits and _, not starting with a "
                             f"digit), found {node.kind}")
        if name in NAMED_CONSTANTS:
            raise node.error(f"{name!r} is a constant of equations and cannot name {article(kind)}; "
                             f"choose another name")
        if name in RESERVED_NAMES:
            raise node.error(f"{name!r} is a function name and cannot name {article(kind)}; choose another name")
        if name in self.kind or name in self.shapes:
            raise node.error(f"{name!r} is already defined as {self.described(name)} at "
                             f"{where(self.where[name])}; names must be unique")
        return name

    def described(self, name: str) -> str:
        """What a defined name is, in the words of a message: "an input", "the input vector x (2)",
        "component x1 of the input vector x (2)"."""
        from .shapes import shaped_title  # noqa: PLC0415 - shapes.py reads through this table

        if name in self.shapes:
            return f"the {shaped_title(self.shaped_kind[name], name, self.shapes[name])}"
        if name in self.owner:
            owner = self.owner[name]
            return f"component {name} of the {shaped_title(self.shaped_kind[owner], owner, self.shapes[owner])}"
        return article(self.kind[name])

    def symbol(self, name: str) -> sympy.Symbol:
        return self.symbols[name]


def name_list(node: Node, names: NameTable, kind: str, what: str) -> tuple[str, ...]:
    return tuple(names.define(item, kind) for item in need_list(node, what))


def refer(node: Node, names: NameTable, allowed_kinds: tuple[str, ...], what: str) -> str:
    name = need_text(node, what)
    kind = names.kind.get(name)
    if kind not in allowed_kinds:
        known = [n for n, k in names.kind.items() if k in allowed_kinds]
        found = f"{name!r}, which is {article(kind)}" if kind else f"unknown name {name!r}"
        kinds = " or ".join(f"{k}s" for k in allowed_kinds)
        raise node.error(f"expected {what}, found {found}"
                         + (suggestion(name, known, kinds) if known else f" (there are no {kinds})"))
    return name


def refer_each(node: Node, names: NameTable, allowed_kinds: tuple[str, ...], what: str) -> tuple[str, ...]:
    """`refer`, where a vector or matrix name stands for all its components (spec: Vectors and grids)."""
    if isinstance(node.value, str) and names.shaped_kind.get(node.value) in allowed_kinds:
        return tuple(str(s) for s in shaped_symbols(names, node.value).items)
    return (refer(node, names, allowed_kinds, what),)


def article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


# ---------------------------------------------------------------- equations

def parse_equation(node: Node, names: NameTable, allowed_kinds: tuple[str, ...], later: dict[str, Node],
                    what: str, shaped: bool = False) -> sympy.Expr | Array:
    """An equation's right side; with ``shaped``, over vector and matrix names too (an `Array`
    of their component symbols), and its value may be an `Array`."""
    if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return need_number(node).exact
    text = need_text(node, what)
    fail = node.error_at

    def resolve(name: str, offset: int) -> sympy.Expr | Array:
        kind = names.kind.get(name)
        if kind in allowed_kinds:
            return names.symbol(name)
        if shaped and names.shaped_kind.get(name) in allowed_kinds:
            return shaped_symbols(names, name)
        if name in later:
            raise fail(offset, f"{name!r} is used before it is defined (at line {later[name].line}); "
                               f"each equation may use only the names defined above it")
        if kind or name in names.shapes:
            raise fail(offset, f"{name!r} is {names.described(name)} and cannot be used in {what}")
        if name in USER_FUNCTIONS:
            raise fail(offset, f"{name!r} is a function: call it as {name}(…)")
        usable = [n for n, k in names.kind.items() if k in allowed_kinds]
        raise fail(offset, f"unknown name {name!r}" + (suggestion(name, usable) or
                                                        ": not an input, parameter, constant or earlier node"))

    return (parse_shaped_expression if shaped else parse_expression)(text, resolve, fail)


def shaped_symbols(names: NameTable, name: str) -> Array:
    """A vector or matrix name as the table of its components' symbols."""
    from .shapes import component_names  # noqa: PLC0415 - shapes.py reads through this module

    shape = names.shapes[name]
    return Array(shape, tuple(names.symbol(c) for c in component_names(name, shape)))


def plain(node: Node) -> Any:
    if isinstance(node.value, dict):
        return {k: plain(v) for k, v in node.value.items()}
    if isinstance(node.value, list):
        return [plain(v) for v in node.value]
    return node.value


def key_node(node: Node, key: str) -> Node:
    line, col = node.key_pos[key]
    return Node(key, line, col, node.path)
