"""YAML text -> a tree of located nodes. The only module that imports a YAML library.

ruamel.yaml's round-trip loader is used because it is YAML 1.2 (``1e-3`` is a
number), rejects duplicate keys, and records the line and column of every key
and value; it constructs only plain data (unknown tags stay inert). Its tree is
copied into `Node`s so that the rest of tutor never touches ruamel's types.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from typing import Any, Iterator

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from .errors import ProblemError

# Aliases let a tiny file describe an exponentially large tree ("billion laughs").
# Real problem files have a few hundred nodes; refuse long before memory suffers.
MAX_NODES = 200_000
MAX_TEXT_BYTES = 2_000_000


@dataclass(frozen=True)
class Node:
    """One YAML value with its 1-based position. ``value`` is a dict of Nodes,
    a list of Nodes, or a scalar (str, int, float, bool, None)."""

    value: Any
    line: int
    col: int
    path: str
    quoted: bool = False
    key_pos: dict[str, tuple[int, int]] = field(default_factory=dict, compare=False)

    def error(self, message: str) -> ProblemError:
        return ProblemError(self.path, self.line, self.col, message)

    def key_error(self, key: str, message: str) -> ProblemError:
        line, col = self.key_pos.get(key, (self.line, self.col))
        return ProblemError(self.path, line, col, message)

    @property
    def kind(self) -> str:
        """What the value is, in the words of an error message."""
        v = self.value
        if isinstance(v, dict):
            return "a mapping"
        if isinstance(v, list):
            return "a list"
        if isinstance(v, bool):
            return f"the boolean {str(v).lower()}"
        if v is None:
            return "nothing (null)"
        if isinstance(v, (int, float)):
            return f"the number {v!r}"
        return f"the text {_clip(str(v))!r}"

    def items(self) -> Iterator[tuple[str, "Node"]]:
        return iter(self.value.items())


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def load_yaml(text: str, path: str) -> Node:
    """Parse one YAML document into Nodes, or raise ProblemError at the fault."""
    if len(text) > MAX_TEXT_BYTES:
        raise ProblemError(path, 1, 1, f"file is too large ({len(text)} characters; at most {MAX_TEXT_BYTES})")
    text = text.lstrip("\ufeff")
    yaml = YAML(typ="rt", pure=True)
    yaml.preserve_quotes = True
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise ProblemError(path, line, col, f"invalid YAML: {problem}") from None
    except YAMLError as exc:  # errors without a position (reader errors, ...)
        raise ProblemError(path, 1, 1, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise ProblemError(path, 1, 1, "invalid YAML: nested too deeply") from None
    budget = [MAX_NODES]
    try:
        return _convert(tree, 1, 1, path, budget)
    except RecursionError:
        raise ProblemError(path, 1, 1, "invalid YAML: nested too deeply") from None


def _convert(obj: Any, line: int, col: int, path: str, budget: list[int]) -> Node:
    budget[0] -= 1
    if budget[0] < 0:
        raise ProblemError(path, line, col, f"document too large: more than {MAX_NODES} values (aliases expanding?)")
    if isinstance(obj, CommentedMap):
        children: dict[str, Node] = {}
        key_pos: dict[str, tuple[int, int]] = {}
        for key in obj:
            kl, kc = obj.lc.key(key)
            if not isinstance(key, str) or isinstance(key, bool):
                raise ProblemError(path, kl + 1, kc + 1, f"expected a name as key, found {key!r}")
            vl, vc = obj.lc.value(key)
            key_pos[key] = (kl + 1, kc + 1)
            children[str(key)] = _convert(obj[key], vl + 1, vc + 1, path, budget)
        return Node(children, line, col, path, key_pos=key_pos)
    if isinstance(obj, CommentedSeq):
        items = []
        for i, item in enumerate(obj):
            il, ic = obj.lc.item(i)
            items.append(_convert(item, il + 1, ic + 1, path, budget))
        return Node(items, line, col, path)
    if obj is None or isinstance(obj, (bool, str)):
        quoted = isinstance(obj, (DoubleQuotedScalarString, SingleQuotedScalarString))
        return Node(str(obj) if isinstance(obj, str) else obj, line, col, path, quoted=quoted)
    if isinstance(obj, int):
        return Node(int(obj), line, col, path)
    if isinstance(obj, float):
        return Node(float(obj), line, col, path)
    if isinstance(obj, (datetime.date, datetime.datetime)):
        return Node(obj.isoformat(), line, col, path)
    # Tagged scalars and anything else exotic: keep inert text, validation rejects it.
    return Node(f"<{type(obj).__name__}>", line, col, path)


def is_finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
