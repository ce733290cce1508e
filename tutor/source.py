"""YAML text -> a tree of located nodes. The only module that imports a YAML library.

ruamel.yaml's round-trip loader is used because it is YAML 1.2 (``1e-3`` is a
number), rejects duplicate keys, and records the line and column of every key
and value; it constructs only plain data (unknown tags stay inert, and are
refused here). Its tree is copied into `Node`s so that the rest of tutor never
touches ruamel's types.
"""

from __future__ import annotations

import bisect
import datetime
import difflib
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarstring import (DoubleQuotedScalarString, FoldedScalarString, LiteralScalarString,
                                      SingleQuotedScalarString)

from .errors import ProblemError

# Aliases let a tiny file describe an exponentially large tree ("billion laughs").
# Real problem files have a few hundred nodes; refuse long before memory suffers.
MAX_NODES = 200_000
MAX_TEXT_BYTES = 2_000_000
PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}


class Source:
    """The text a document was parsed from, to locate characters inside scalars."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.line_starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    def index(self, line: int, col: int) -> int:
        return self.line_starts[line - 1] + col - 1 if 0 < line <= len(self.line_starts) else len(self.text)

    def position(self, index: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, index) - 1
        return line + 1, index - self.line_starts[line] + 1


@dataclass(frozen=True)
class Node:
    """One YAML value with its 1-based position. ``value`` is a dict of Nodes,
    a list of Nodes, or a scalar (str, int, float, bool, None). ``style`` is how a
    text was written: "" (plain), "'", '"', "|" or ">"."""

    value: Any
    line: int
    col: int
    path: str
    style: str = ""
    key_pos: dict[str, tuple[int, int]] = field(default_factory=dict, compare=False)
    source: Source | None = field(default=None, compare=False, repr=False)

    def error(self, message: str) -> ProblemError:
        return ProblemError(self.path, self.line, self.col, message)

    def key_error(self, key: str, message: str) -> ProblemError:
        line, col = self.key_pos.get(key, (self.line, self.col))
        return ProblemError(self.path, line, col, message)

    def error_at(self, offset: int, message: str) -> ProblemError:
        """An error at character ``offset`` of this text, wherever the file has it
        (past quotes, escapes, line folds and a block scalar's indentation)."""
        line, col = self.line, self.col
        if self.source is not None and isinstance(self.value, str):
            index = _scalar_index(self.source.text, self.source.index(self.line, self.col), self.value,
                                  self.style, offset)
            if index is not None:
                line, col = self.source.position(index)
        return ProblemError(self.path, line, col, message)

    @property
    def quoted(self) -> bool:
        return self.style in ("'", '"')

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


def did_you_mean(word: str, options: Iterable[str]) -> str | None:
    """The option closest to a misspelt word, if one is close."""
    match = difflib.get_close_matches(word, [str(o) for o in options], n=1)
    return match[0] if match else None


def _scalar_index(text: str, start: int, value: str, style: str, offset: int) -> int | None:
    """Index in ``text`` of character ``offset`` of the scalar ``value`` written from
    ``start`` on: walk the source and the value together, skipping what the
    value does not hold (quotes, indentation, line breaks, escape syntax).
    ``offset == len(value)`` is the place just after the last character."""
    if offset >= len(value):
        last = _scalar_index(text, start, value, style, len(value) - 1) if value else None
        return None if last is None else last + 1
    pos = start
    if style in ("'", '"'):
        pos += 1                                   # the opening quote
    elif style in ("|", ">"):
        pos = text.find("\n", pos) + 1             # content starts on the next line
        if pos == 0:
            return None
    for i, char in enumerate(value[: offset + 1]):
        while pos < len(text):
            here = text[pos]
            if style == '"' and here == "\\":
                if text[pos + 1: pos + 2] == "\n":  # escaped line break: contributes nothing
                    pos += 2
                    continue
                width = {"x": 4, "u": 6, "U": 10}.get(text[pos + 1: pos + 2], 2)
                if i == offset:
                    return pos
                pos += width
                break
            if style == "'" and text.startswith("''", pos):
                if i == offset:
                    return pos
                pos += 2
                break
            if here == char:
                if i == offset:
                    return pos
                pos += 1
                break
            pos += 1
        else:
            return None
    return None


class _Constructor(RoundTripConstructor):
    """Refuses a repeated key, naming where it was first given."""

    def check_mapping_key(self, node: Any, key_node: Any, mapping: Any, key: Any, value: Any) -> bool:
        if key in mapping:
            first = next((k for k, _ in node.value if k is not key_node and k.value == key_node.value), node)
            raise MarkedYAMLError(None, None, f"duplicate key {key!r} (first given at line "
                                              f"{first.start_mark.line + 1}, column "
                                              f"{first.start_mark.column + 1}); a key may appear once",
                                  key_node.start_mark)
        return True


def load_yaml(text: str, path: str) -> Node:
    """Parse one YAML document into Nodes, or raise ProblemError at the fault."""
    if len(text) > MAX_TEXT_BYTES:
        raise ProblemError(path, 1, 1, f"file is too large ({len(text)} characters; at most {MAX_TEXT_BYTES})")
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    yaml = YAML(typ="rt", pure=True)
    yaml.Constructor = _Constructor
    yaml.preserve_quotes = True
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        raise _yaml_error(exc, text, path) from None
    except ReaderError as exc:  # a character YAML does not allow (control characters, ...)
        line, col = Source(text).position(exc.position) if isinstance(exc.position, int) else (1, 1)
        char = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        raise ProblemError(path, line, col, f"invalid YAML: the character {char} is not allowed "
                                            f"in a YAML file; remove it") from None
    except YAMLError as exc:  # errors without a position
        raise ProblemError(path, 1, 1, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise ProblemError(path, 1, 1, "invalid YAML: nested too deeply") from None
    budget = [MAX_NODES]
    try:
        return _convert(tree, 1, 1, path, budget, Source(text))
    except RecursionError:
        raise ProblemError(path, 1, 1, "invalid YAML: nested too deeply") from None


def _yaml_error(exc: MarkedYAMLError, text: str, path: str) -> ProblemError:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    if mark and text[mark.index: mark.index + 1] == "\t":
        return ProblemError(path, line, col, "invalid YAML: a tab character here; indent with spaces, not tabs")
    problem = (exc.problem or exc.context or "invalid YAML").strip()
    context, context_mark = (exc.context or "").strip(), exc.context_mark
    if problem == "mapping values are not allowed here":
        problem = ("a ':' here that cannot start a value; quote text that holds ': ', "
                   "or check the indentation of this line")
    elif context.startswith("expected a single document"):
        problem = "a second document ('---') here; a problem file holds one document"
    elif exc.problem and context.startswith("while") and context_mark and context_mark.index != mark.index:
        problem += f" ({context} that starts at line {context_mark.line + 1}, column {context_mark.column + 1})"
    return ProblemError(path, line, col, f"invalid YAML: {problem}")


def _convert(obj: Any, line: int, col: int, path: str, budget: list[int], source: Source) -> Node:
    budget[0] -= 1
    if budget[0] < 0:
        raise ProblemError(path, line, col, f"document too large: more than {MAX_NODES} values (aliases expanding?)")
    tag = getattr(getattr(obj, "tag", None), "value", None)
    if tag is not None:
        if tag not in PLAIN_TAGS or (isinstance(obj, TaggedScalar) and not tag.endswith(":str")):
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            raise ProblemError(path, line, col, f"expected a plain value, found the YAML tag {shown}; remove it")
        if isinstance(obj, TaggedScalar):
            obj = str(obj.value)
    if isinstance(obj, CommentedMap):
        children: dict[str, Node] = {}
        key_pos: dict[str, tuple[int, int]] = {}
        for key in obj:
            (kl, kc), (vl, vc) = _key_marks(obj, key, line, col)
            if not isinstance(key, str) or isinstance(key, bool):
                raise ProblemError(path, kl, kc, f"expected a name as key, found {key!r}")
            key_pos[key] = (kl, kc)
            children[str(key)] = _convert(obj[key], vl, vc, path, budget, source)
        return Node(children, line, col, path, key_pos=key_pos, source=source)
    if isinstance(obj, CommentedSeq):
        items = []
        for i, item in enumerate(obj):
            il, ic = obj.lc.item(i)
            items.append(_convert(item, il + 1, ic + 1, path, budget, source))
        return Node(items, line, col, path, source=source)
    if obj is None or isinstance(obj, bool):
        return Node(obj, line, col, path, source=source)
    if isinstance(obj, str):
        return Node(str(obj), line, col, path, style=_STYLES.get(type(obj), ""), source=source)
    if isinstance(obj, int):
        return Node(int(obj), line, col, path, source=source)
    if isinstance(obj, float):
        return Node(float(obj), line, col, path, source=source)
    if isinstance(obj, (datetime.date, datetime.datetime)):
        return Node(obj.isoformat(), line, col, path, source=source)
    found = "binary data (!!binary)" if isinstance(obj, bytes) else \
        f"a YAML {type(obj).__name__.removeprefix('Commented').lower()}"
    raise ProblemError(path, line, col, f"expected a number, text, a list or a mapping, found {found}")


_STYLES = {SingleQuotedScalarString: "'", DoubleQuotedScalarString: '"', LiteralScalarString: "|",
           FoldedScalarString: ">"}


def _key_marks(obj: CommentedMap, key: Any, line: int, col: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """1-based positions of a key and its value, also for keys merged in with ``<<``."""
    if key in obj.lc.data:
        (kl, kc), (vl, vc) = obj.lc.key(key), obj.lc.value(key)
        return (kl + 1, kc + 1), (vl + 1, vc + 1)
    for merged in getattr(obj, "merge", ()):
        if key in merged:
            return _key_marks(merged, key, line, col)
    return (line, col), (line, col)


def is_finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
