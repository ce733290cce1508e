"""A worked solution as a document: a handful of kinds of blocks, with text, names,
numbers and formulas as data (never pre-formatted). `render.walk` builds one from
a `Solution`, deciding order, headings and wording once for every format; each
format (`render.terminal`, `render.markdown`, `render.latex`, `render.html`) only
spells the blocks.

Inline content is a tuple of `Text` and `Math`; a `Math` span is a tuple of
`Sym` (a name or label), `Num` (a value at some precision), `Formula` (a SymPy
expression, perhaps with numbers substituted), `Op` (=, ←, →, <, >) and
`Words` (text inside maths), or a `Notation` written in both spellings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Union

import sympy

from .figures import Figures
from .plot import Plot
from .records import Label


# ---------------------------------------------------------------- inline

@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Sym:
    """A name or label: w21, E⁽²⁾, ∂E/∂w21, δ_h1."""

    label: Label


@dataclass(frozen=True)
class Num:
    """A value at ``digits``: a ``result`` (an exact fraction also as a decimal) or a factor."""

    value: Any
    digits: int
    result: bool = True


@dataclass(frozen=True, eq=False)
class Style:
    """How a formula's names print: the model's (ordered by ``rank``, weights before
    their sources), the optimizer's (θ, μ, β₁), or the chain rule's (labels)."""

    context: str = "plain"                             # model | optimizer | chain | plain
    digits: int = 4
    rank: Mapping[str, int] | None = None
    params: frozenset[str] = frozenset()
    lead: str | None = None                            # an assignment's target leads its sum
    names: tuple[tuple[str, str], ...] = ()            # symbol -> the name shown (θ shown as w21)
    labels: tuple[tuple[str, Label], ...] = ()         # symbol -> the label it stands for


@dataclass(frozen=True, eq=False)
class Formula:
    """``expr`` as written; with ``values``, the same with the numbers substituted."""

    expr: sympy.Expr
    style: Style
    values: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Op:
    op: str          # "=", "←", "→", "<", ">", "≈", ", "


@dataclass(frozen=True)
class Words:
    """Text within mathematics: "(unrounded", "since"."""

    text: str


@dataclass(frozen=True)
class Notation:
    """A fixed piece of notation in both spellings (a loss formula from the op table)."""

    unicode: str
    latex: str


MathItem = Union[Sym, Num, Formula, Op, Words, Notation]


@dataclass(frozen=True)
class Math:
    items: tuple[MathItem, ...]


Inline = tuple[Union[Text, Math], ...]


def math(*items: MathItem) -> Math:
    return Math(tuple(items))


# ---------------------------------------------------------------- blocks

@dataclass(frozen=True)
class Heading:
    level: int            # 0: the title; 1: a section (a step); 2: a part of it
    content: Inline
    major: bool = False   # a division of the working (a step), not a section of the set-up


@dataclass(frozen=True)
class Statement:
    """The problem's statement as its author wrote it (paragraphs, lists)."""

    text: str


@dataclass(frozen=True)
class Paragraph:
    content: Inline
    strong: bool = False


@dataclass(frozen=True)
class Bullets:
    items: tuple[Inline, ...]


@dataclass(frozen=True)
class Definitions:
    """Terms and their lines: the conventions (loss, optimizer, notes)."""

    rows: tuple[tuple[str, tuple[Inline, ...]], ...]


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[Inline, ...], ...]
    long: bool = False    # may run over pages


@dataclass(frozen=True)
class Pairs:
    """Name-value pairs laid out in as many columns as fit."""

    headers: tuple[str, str]
    items: tuple[tuple[Inline, Inline], ...]


@dataclass(frozen=True)
class EqRow:
    """One line of working: lhs = part = part = … (note)."""

    lhs: Math
    rel: str                       # "=" or "←"
    parts: tuple[Math, ...]
    note: Inline = ()


@dataclass(frozen=True)
class Equations:
    rows: tuple[EqRow, ...]
    nested: bool = False           # under a line of its own (an update's working)


@dataclass(frozen=True)
class Boxed:
    """Answers, boxed: (the answer, where it belongs in words)."""

    items: tuple[tuple[Math, str], ...]


@dataclass(frozen=True)
class Blanks:
    """Answer lines for a student to fill in: (what, where in words)."""

    items: tuple[tuple[Math, str], ...]


@dataclass(frozen=True, eq=False)
class Figure:
    """The drawing of the problem (or the sentence saying why there is none)."""

    figures: Figures


@dataclass(frozen=True, eq=False)
class Chart:
    plot: Plot


@dataclass(frozen=True)
class Part:
    """A problem's part of a key or sheet begins (a new page, its file named in errors)."""

    number: int
    source: str
    variant: str | None


@dataclass(frozen=True)
class EndPart:
    number: int


Block = Union[Heading, Statement, Paragraph, Bullets, Definitions, Table, Pairs, Equations, Boxed, Blanks,
              Figure, Chart, Part, EndPart]


@dataclass(frozen=True)
class Document:
    title: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)
