"""YAML text -> a tree of located nodes. The only module that imports a YAML library.

ruamel.yaml's round-trip loader is used because it rejects duplicate keys and
records the line and column of every key and value; it constructs only plain
data (unknown tags stay inert, and are refused here). Which plain scalars are
numbers is decided here, by the YAML 1.2 core schema and nothing more (ruamel
would also read ``1_000``, ``0b11`` and dates): see docs/numbers.md. Its tree is
copied into `Node`s so that the rest of tutor never touches ruamel's types.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tag import Tag
from ruamel.yaml.scalarstring import (DoubleQuotedScalarString, FoldedScalarString, LiteralScalarString,
                                      SingleQuotedScalarString)

from .errors import ProblemError

# Aliases let a tiny file describe an exponentially large tree ("billion laughs").
# Without aliases a document has fewer values than characters, so the budget is
# the text's length plus this margin: only an expanding alias can exhaust it.
MAX_NODES = 200_000
MAX_TEXT_BYTES = 2_000_000
# An integer literal this long is far beyond a double (1.8e308 has 309 digits),
# and Python refuses to convert more than 4300 digits at all.
MAX_INTEGER_DIGITS = 400
PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}


# The YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
_CORE = {
    "null": re.compile(r"(?:~|null|Null|NULL|)\Z"),
    "bool": re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z"),
    "int": re.compile(r"[-+]?[0-9]+\Z"),
    "int8": re.compile(r"0o[0-7]+\Z"),
    "int16": re.compile(r"0x[0-9a-fA-F]+\Z"),
    "float": re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z"),
    "inf": re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z"),
    "nan": re.compile(r"\.(?:nan|NaN|NAN)\Z"),
}
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class _CoreResolver(VersionedResolver):
    """Plain scalars resolve to null, bool or text only; numbers are read in
    `_plain_number`, so that ``1_000``, ``0b11``, ``2024-01-01`` and ``1:30``
    stay text (and are then refused where a number is expected)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is ScalarNode and implicit[0]:
            if value == "<<":
                return Tag(suffix="tag:yaml.org,2002:merge")
            for core in ("null", "bool"):
                if _CORE[core].match(value):
                    return Tag(suffix=f"tag:yaml.org,2002:{core}")
            return Tag(suffix="tag:yaml.org,2002:str")
        return super().resolve(kind, value, implicit)


def read_text(path: str) -> str:
    """The UTF-8 text of a file, read no further than the size limit (a 3 GB file
    or /dev/zero is refused after reading MAX_TEXT_BYTES + 1 bytes)."""
    try:
        with open(path, "rb") as file:
            raw = file.read(MAX_TEXT_BYTES + 1)
    except OSError as exc:
        raise ProblemError(path, 1, 1, f"cannot read file: {exc.strerror or exc}") from None
    if len(raw) > MAX_TEXT_BYTES:
        raise ProblemError(path, 1, 1, f"file is too large (more than {MAX_TEXT_BYTES:,} bytes)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        line = raw[: exc.start].count(b"\n") + 1
        col = len(raw[line_start: exc.start].decode("utf-8", "replace")) + 1
        raise ProblemError(path, line, col, f"expected UTF-8 text, found the byte 0x{raw[exc.start]:02X}, "
                                            f"which UTF-8 does not allow here; save the file as UTF-8") from None


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
    text was written: "" (plain), "'", '"', "|" or ">". ``text`` is a plain
    number as written (``0.1``, ``1e-3``), for reading it exactly."""

    value: Any
    line: int
    col: int
    path: str
    style: str = ""
    text: str | None = None
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
    import difflib  # only for a message: a valid problem never needs it

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
    """Refuses a repeated key, naming where it was first given. A number with an
    explicit tag (``!!int 2``) is read by the same core-schema rules as a plain one."""

    def construct_as_written(self, node: Any) -> str:
        return str(self.construct_scalar(node))

    def check_mapping_key(self, node: Any, key_node: Any, mapping: Any, key: Any, value: Any) -> bool:
        if key in mapping:
            first = next((k for k, _ in node.value if k is not key_node and k.value == key_node.value), node)
            raise MarkedYAMLError(None, None, f"duplicate key {key!r} (first given at line "
                                              f"{first.start_mark.line + 1}, column "
                                              f"{first.start_mark.column + 1}); a key may appear once",
                                  key_node.start_mark)
        return True


for _tag in ("int", "float"):
    _Constructor.add_constructor(f"tag:yaml.org,2002:{_tag}", _Constructor.construct_as_written)


def load_yaml(text: str, path: str) -> Node:
    """Parse one YAML document into Nodes, or raise ProblemError at the fault."""
    if len(text) > MAX_TEXT_BYTES:
        raise ProblemError(path, 1, 1, f"file is too large ({len(text):,} characters; at most {MAX_TEXT_BYTES:,})")
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    fast = _load_plain_yaml(text, path)
    if fast is not None:
        return fast
    yaml = YAML(typ="rt", pure=True)
    yaml.Constructor = _Constructor
    yaml.Resolver = _CoreResolver
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
    budget = [MAX_NODES + len(text)]
    try:
        return _convert(tree, 1, 1, path, budget, Source(text))
    except RecursionError:
        raise ProblemError(path, 1, 1, "invalid YAML: nested too deeply") from None


# Syntax the quick reading below leaves to the located loader: tags, anchors and
# aliases (at the start of a token: not the * of w*x), directives and merge keys.
# Complex keys (? key) it reads itself, or leaves when a key is not a scalar.
_NOT_PLAIN = re.compile(r"(?:^|[\s\[{,:?-])[!&*]|^%|<<", re.MULTILINE)


def _load_plain_yaml(text: str, path: str) -> Node | None:
    """The same tree as the located loader, read about twice as fast, for a document
    of plain mappings, lists and scalars (plain, quoted, literal | or folded >)
    only; None for anything else or any fault, which the located loader then reads
    again (and locates the error exactly).

    ruamel's round-trip reading keeps every comment and builds its own objects:
    most of a long answers file's 4 s. Composing with the safe loader gives the same
    nodes, with the same positions, without that."""
    if _NOT_PLAIN.search(text):
        return None
    yaml = YAML(typ="safe", pure=True)
    yaml.Resolver = _CoreResolver
    try:
        root = yaml.compose(text)
        if root is None:
            return None
        return _plain_node(root, 1, 1, path, Source(text))
    except (_NotPlain, YAMLError, ProblemError, RecursionError):
        return None


class _NotPlain(Exception):
    """A node the quick reading leaves to the located loader."""


def _plain_node(node: Any, line: int, col: int, path: str, source: Source) -> Node:
    if isinstance(node, MappingNode):
        children: dict[str, Node] = {}
        key_pos: dict[str, tuple[int, int]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or (key_node.style is None and (
                    _CORE["null"].match(key_node.value) or _CORE["bool"].match(key_node.value))):
                raise _NotPlain
            key = key_node.value
            if key in children:
                raise _NotPlain
            kl, kc = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            _check_characters(key, path, kl, kc)
            key_pos[key] = (kl, kc)
            children[key] = _plain_node(value_node, value_node.start_mark.line + 1,
                                        value_node.start_mark.column + 1, path, source)
        return Node(children, line, col, path, key_pos=key_pos, source=source)
    if isinstance(node, SequenceNode):
        return Node([_plain_node(item, item.start_mark.line + 1, item.start_mark.column + 1, path, source)
                     for item in node.value], line, col, path, source=source)
    if not isinstance(node, ScalarNode) or node.style not in (None, "'", '"', "|", ">"):
        raise _NotPlain
    value = node.value
    _check_characters(value, path, line, col)
    if node.style is not None:
        return Node(value, line, col, path, style=node.style, source=source)
    if _CORE["null"].match(value):
        return Node(None, line, col, path, source=source)
    if _CORE["bool"].match(value):
        return Node(value.lower() == "true", line, col, path, source=source)
    number = _plain_number(value, path, line, col)
    if number is not None:
        return Node(number, line, col, path, text=value, source=source)
    return Node(value, line, col, path, source=source)


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
        raise ProblemError(path, line, col, f"document too large: its aliases (*name) expand it to more than "
                                            f"{MAX_NODES + len(source.text):,} values")
    tag = getattr(getattr(obj, "tag", None), "value", None)
    if tag is not None:
        if tag not in PLAIN_TAGS or (isinstance(obj, TaggedScalar) and not tag.endswith(":str")):
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            if _CONTROL.search(shown) or _SURROGATE.search(shown):
                raise ProblemError(path, line, col, f"expected a plain value, found a YAML tag holding a control "
                                                    f"character ({_clip(ascii(shown))}); remove it")
            raise ProblemError(path, line, col, f"expected a plain value, found the YAML tag {shown}; remove it")
        if isinstance(obj, TaggedScalar):
            obj = str(obj.value)
    if isinstance(obj, (CommentedMap, CommentedSeq)) and type(obj) not in (CommentedMap, CommentedSeq):
        found = type(obj).__name__.removeprefix("Commented").lower()  # !!omap, !!set, !!pairs
        raise ProblemError(path, line, col, f"expected a plain value, found a YAML {found} (a tagged collection); "
                                            f"write a plain mapping or list")
    if isinstance(obj, CommentedMap):
        children: dict[str, Node] = {}
        key_pos: dict[str, tuple[int, int]] = {}
        for key in obj:
            (kl, kc), (vl, vc) = _key_marks(obj, key, line, col)
            if not isinstance(key, str) or isinstance(key, bool):
                raise ProblemError(path, kl, kc, f"expected a name as key, found {_clip(repr(key))}")
            _check_characters(key, path, kl, kc)
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
        style = _STYLES.get(type(obj), "")
        _check_characters(obj, path, line, col)
        if style == "":
            number = _plain_number(str(obj), path, line, col)
            if number is not None:
                return Node(number, line, col, path, text=str(obj), source=source)
        return Node(str(obj), line, col, path, style=style, source=source)
    found = "binary data (!!binary)" if isinstance(obj, bytes) else \
        f"a YAML {type(obj).__name__.removeprefix('Commented').lower()}"
    raise ProblemError(path, line, col, f"expected a number, text, a list or a mapping, found {found}")


def _plain_number(text: str, path: str, line: int, col: int) -> int | float | None:
    """A plain scalar's number by the YAML 1.2 core schema, or None for text."""
    if _CORE["int"].match(text):
        if len(text.lstrip("+-").lstrip("0")) > MAX_INTEGER_DIGITS:
            raise ProblemError(path, line, col, f"the integer of {len(text.lstrip('+-')):,} digits is out of range "
                                                f"for a double (at most about 1.8e308)")
        return int(text)
    if _CORE["int8"].match(text) or _CORE["int16"].match(text):
        if len(text) > MAX_INTEGER_DIGITS:
            raise ProblemError(path, line, col, f"the integer {_clip(text)} is out of range for a double "
                                                f"(at most about 1.8e308)")
        return int(text, 8 if text[1] == "o" else 16)
    if _CORE["float"].match(text) or _CORE["inf"].match(text):
        return float(text.replace(".inf", "inf").replace(".Inf", "inf").replace(".INF", "inf"))
    if _CORE["nan"].match(text):
        return math.nan
    return None


def _check_characters(text: str, path: str, line: int, col: int) -> None:
    """Refuse a lone UTF-16 surrogate ("\\uD800"): it is no character and cannot be
    printed or written to a file."""
    bad = _SURROGATE.search(text)
    if bad:
        raise ProblemError(path, line, col, f"the escape \\u{ord(bad.group()):04X} is half of a UTF-16 surrogate "
                                            f"pair, not a character; write the character itself")


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
