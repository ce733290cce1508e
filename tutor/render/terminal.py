"""The worked solution for a terminal: rich text spelling the blocks of the one walk
(`walk.walk_solution`). Mathematics is Unicode from `notation` (one layout printer),
numbers come from `numbers`; a line of working is the formula, the same formula
with the numbers substituted and the value, joined by "=" (and aligned under each
other when they do not fit on one line). A block this printer cannot spell raises.
"""

from __future__ import annotations

import io

from rich import box
from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text as RichText

from ..document import (Definitions, EqRow, Equations, Figure, Formula, Heading, Inline, Math, Pairs, Paragraph,
                        Statement, Table as TableBlock, Text)
from ..records import Solution
from ..visible import visible, visible_keeping_colours
from .notation import unicode_math
from .textdiagram import figure_text
from .walk import walk_solution

# Tables without box-drawing: a row of dashes under the header, nothing else.
PLAIN_HEAD = box.Box("    \n    \n -  \n    \n    \n    \n    \n    \n", ascii=True)
INDENT = 2


def render_terminal(solution: Solution, *, width: int = 80, color: bool = False) -> str:
    """The worked solution as text ``width`` columns wide (ANSI colours if ``color``)."""
    blocks = walk_solution(solution, answers=False, chart=False)
    return TerminalPrinter(width=width, color=color, digits=solution.shown_digits).doprint(blocks, solution)


def reflow(statement: str) -> str:
    """The statement as its author wrote it, paragraphs re-flowed to the width. Not
    rendered as Markdown: statements hold formulas like w1*x1^2, whose * Markdown
    would take for emphasis. List items and indented lines keep their own line."""
    out: list[str] = []
    for line in statement.strip().splitlines():
        stripped = line.strip()
        keeps_line = not stripped or line[:1].isspace() or stripped[:2] in ("- ", "* ", "+ ") \
            or stripped.split(" ", 1)[0].rstrip(".)").isdigit()
        if out and out[-1] and not keeps_line:
            out[-1] += " " + stripped
        else:
            out.append(line.rstrip())
    return "\n".join(out)


# A product or sum of more terms than this is shown with its middle elided: a product
# of 350 factors has 350 local derivatives of 349 factors each, which would print
# megabytes; elided, the worked solution stays proportional to the problem file.
MAX_TERMS = 12
_KEEP_HEAD, _KEEP_TAIL = 4, 2


def condense(text: str) -> str:
    """``text`` with a long top-level sum or product shown as its first and last terms:
    w2·w3·w4·w5·…(343 more)…·w349·w350."""
    pieces = _split_top_level(text, (" + ", " − ")) or _split_top_level(text, ("·",))
    terms = (len(pieces) + 1) // 2   # pieces: term, separator, term, ...
    if terms <= MAX_TERMS:
        return text
    head, tail = pieces[:2 * _KEEP_HEAD], pieces[len(pieces) - 2 * _KEEP_TAIL:]
    return "".join(head) + f"…({terms - _KEEP_HEAD - _KEEP_TAIL} more)…" + "".join(tail)


def _split_top_level(text: str, separators: tuple[str, ...]) -> list[str]:
    """[term, separator, term, ...] at parenthesis depth 0; [] if no separator is there."""
    pieces: list[str] = []
    depth, start, i = 0, 0, 0
    while i < len(text):
        depth += (text[i] in "([{") - (text[i] in ")]}")
        found = next((sep for sep in separators if text.startswith(sep, i)), None) if depth == 0 else None
        if found and i > start:
            pieces += [text[start:i], found]
            start = i = i + len(found)
        else:
            i += 1
    return pieces + [text[start:]] if pieces else []


class TerminalPrinter:
    """Spells the blocks of a document as rich renderables."""

    def __init__(self, *, width: int = 80, color: bool = False, digits: int = 4):
        self.width = width
        self.color = color
        self.digits = digits
        self.out: list[RenderableType] = []
        self.after_heading = False

    def doprint(self, blocks, solution: Solution | None = None) -> str:
        self.solution = solution
        self.out = []
        for block in blocks:
            method = getattr(self, f"_spell_{type(block).__name__}", None)
            if method is None:
                raise TypeError(f"the terminal cannot spell a {type(block).__name__}")
            method(block)
            self.after_heading = isinstance(block, Heading)
        buffer = io.StringIO()
        console = Console(file=buffer, width=self.width, force_terminal=self.color, no_color=not self.color,
                          color_system="standard" if self.color else None, highlight=False, emoji=False,
                          markup=False, legacy_windows=False, soft_wrap=False, record=False)
        for item in self.out:
            console.print(item)
        lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
        while lines and not lines[-1]:
            lines.pop()
        return visible_keeping_colours("\n".join(lines) + "\n")

    # ------------------------------------------------ spelling pieces

    def emit(self, item: RenderableType, indent: int = 0) -> None:
        self.out.append(Padding(item, (0, 0, 0, indent)) if indent else item)

    def blank(self) -> None:
        self.out.append(RichText(""))

    @staticmethod
    def span(m: Math) -> str:
        text = unicode_math(m)
        return condense(text) if any(isinstance(i, Formula) for i in m.items) else text

    def inline(self, content: Inline) -> str:
        return "".join(visible(c.text) if isinstance(c, Text) else self.span(c) for c in content)

    # ------------------------------------------------ blocks

    def _spell_Heading(self, h: Heading) -> None:
        text = visible(self.inline(h.content), one_line=True)
        if h.level == 0:
            if self.out:
                self.blank()
            self.emit(RichText(text, style="bold"))
            self.emit(RichText("=" * min(len(text), self.width), style="dim"))
        elif h.level == 1:
            self.blank()
            self.emit(RichText(text, style="bold"))
            self.emit(RichText(("=" if h.major else "-") * min(len(text), self.width), style="dim"))
        else:
            self.blank()
            self.emit(RichText(text, style="bold underline" if self.color else ""), INDENT)

    def _spell_Statement(self, s: Statement) -> None:
        self.blank()
        self.emit(RichText(reflow(visible(s.text))))

    def _spell_Paragraph(self, p: Paragraph) -> None:
        if p.strong or not self.after_heading:
            self.blank()
        self.emit(RichText(self.inline(p.content), style="bold" if p.strong and self.color else ""), INDENT)

    def _spell_Definitions(self, d: Definitions) -> None:
        grid = Table.grid(padding=(0, 2, 0, 0))
        grid.add_column(no_wrap=True)
        grid.add_column()
        for term, lines in d.rows:
            for i, line in enumerate(lines):
                grid.add_row(term if i == 0 else "", self.inline(line))
        self.emit(grid, INDENT)

    def table(self, headers, no_wrap) -> Table:
        t = Table(box=box.SIMPLE_HEAD if self.color else PLAIN_HEAD, show_edge=False, pad_edge=False,
                  padding=(0, 2, 0, 0), header_style="bold" if self.color else "", expand=False)
        for i, h in enumerate(headers):
            t.add_column(h, no_wrap=i in no_wrap, overflow="fold")
        return t

    def _spell_Table(self, tb: TableBlock) -> None:
        # A column of names and numbers never wraps; one of formulas or words may.
        wraps = {j for row in tb.rows for j, cell in enumerate(row)
                 if any(isinstance(c, Text) or any(isinstance(i, Formula) for i in c.items) for c in cell)}
        t = self.table(tb.headers, {0} | (set(range(len(tb.headers))) - wraps))
        for row in tb.rows:
            t.add_row(*(self.inline(cell) for cell in row))
        self.emit(t, INDENT)

    def _spell_Pairs(self, pairs: Pairs) -> None:
        per = max(1, (self.width - INDENT) // 26)
        rows = list(pairs.items)
        chunk = -(-len(rows) // per)
        t = Table(box=None, show_header=False, pad_edge=False, padding=(0, 2, 0, 0))
        columns = [rows[i:i + chunk] for i in range(0, len(rows), chunk)]
        for _ in columns:
            t.add_column(no_wrap=True)
            t.add_column(no_wrap=True)
        for r in range(chunk):
            cells = []
            for col in columns:
                cells += [self.inline(col[r][0]), self.inline(col[r][1])] if r < len(col) else ["", ""]
            t.add_row(*cells)
        self.emit(t, INDENT)

    def _spell_Equations(self, e: Equations) -> None:
        indent = INDENT * (2 if e.nested else 1)
        for row in e.rows:
            self.equation(row, indent)

    def equation(self, row: EqRow, indent: int) -> None:
        """lhs = formula = numbers = value, on one line or aligned under each other."""
        lhs, arrow = self.span(row.lhs), row.rel
        parts = [self.span(p) for p in row.parts]
        tail = f"  ({self.inline(row.note)})" if row.note else ""
        one = f"{lhs} {arrow} " + " = ".join(parts) + tail
        if len(one) + indent <= self.width:
            self.emit(RichText(one), indent)
            return
        grid = Table.grid(padding=(0, 1, 0, 0))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="fold")
        for i, part in enumerate(parts):
            grid.add_row(lhs if i == 0 else "", arrow if i == 0 else "=",
                         part + (tail if i == len(parts) - 1 else ""))
        self.emit(grid, indent)

    def _spell_Figure(self, f: Figure) -> None:
        self.blank()
        self.emit(RichText(figure_text(f.figures, self.width, self.digits)[1]))
