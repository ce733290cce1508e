"""The worked solution for a terminal: rich text spelling the blocks of the one walk
(`walk.walk_solution`). Mathematics is Unicode from `notation` (one layout printer),
numbers come from `numbers`; a line of working is the formula, the same formula
with the numbers substituted and the value, joined by "=" (and aligned under each
other when they do not fit on one line). A block this printer cannot spell raises.
"""

from __future__ import annotations

import io

from rich import box
from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text as RichText

from ..document import (Chart, Definitions, EqRow, Equations, Figure, Formula, Heading, Inline, Math, Matrix, Pairs,
                        Paragraph, Statement, Table as TableBlock, Text)
from ..records import Solution
from ..visible import visible, visible_keeping_colours
from .notation import shown_items, unicode_item
from .templates import Formulas
from .textdiagram import figure_text
from .textplot import text_plot
from .walk import walk_solution

# Tables without box-drawing: a row of dashes under the header, nothing else.
PLAIN_HEAD = box.Box("    \n    \n -  \n    \n    \n    \n    \n    \n", ascii=True)
INDENT = 2
# A space that a paragraph's wrapping must not break (inside a formula), while rich wraps it:
# a private-use letter, a space again in the output.
UNBROKEN = "\ue000"
LONG = 12   # more steps in full than this: a long solution, laid out in plain text throughout


def render_terminal(solution: Solution, *, width: int = 80, color: bool = False) -> str:
    """The worked solution as text ``width`` columns wide (ANSI colours if ``color``)."""
    blocks = walk_solution(solution, answers=False, update_table=False)
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
    if text.count("·") + text.count(" + ") + text.count(" − ") < MAX_TERMS:
        return text   # too few operators for a long sum or product anywhere: nothing to look for
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
        self.out: list[RenderableType | str] = []
        self.after_heading = False
        self.long = False
        self.formulas = Formulas(unicode_item)
        self.console = Console(width=width, color_system=None, highlight=False, emoji=False, markup=False,
                               legacy_windows=False, file=io.StringIO())   # rich's line breaking, for `folded`

    def doprint(self, blocks, solution: Solution | None = None) -> str:
        self.solution = solution
        # Many steps in full: tables too wide are narrowed here, in plain text, not by rich (the
        # same narrowing of the widest columns; a column may come out a letter wider or narrower).
        self.long = solution is not None and len(solution.steps) > LONG
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
            if isinstance(item, str):   # laid out here already (plain output that fits)
                buffer.write(item + "\n")
            else:
                console.print(item)
        lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
        while lines and not lines[-1]:
            lines.pop()
        return visible_keeping_colours("\n".join(lines) + "\n")

    # ------------------------------------------------ spelling pieces

    def emit(self, item: RenderableType, indent: int = 0) -> None:
        if isinstance(item, RichText) and not self.color and self.fits(item.plain, indent):
            self.out.append("\n".join(" " * indent + line if line else "" for line in item.plain.split("\n")))
            return
        self.out.append(Padding(item, (0, 0, 0, indent)) if indent else item)

    def fits(self, text: str, indent: int) -> bool:
        """Whether ``text`` prints as it is, each line within the width (rich need not wrap it)."""
        return "\t" not in text and all(cell_len(line) + indent <= self.width for line in text.split("\n"))

    def laid_out(self, rows: list[list[str]], gap: int, divider: str, indent: int, header: bool = False,
                 wraps: set[int] | None = None) -> bool:
        """Plain output of a table or grid that fits, laid out here as rich would lay it out
        (each column as wide as its widest cell, ``gap`` spaces and the ``divider`` between
        columns, a row of dashes under a header), without rich's cost on long solutions.
        False (nothing emitted) when colours are on or the table would need wrapping."""
        if self.color or any("\n" in c or "\t" in c for row in rows for c in row):
            return False
        n = len(rows[0])
        widths = [max(cell_len(row[j]) for row in rows) for j in range(n)]
        if sum(widths) + (gap + len(divider)) * (n - 1) + indent > self.width:
            if wraps is None:
                return False
            widths = self.collapsed(widths, gap, len(divider), indent, wraps)
            if widths is None:
                return False
        join = " " * gap + divider
        lines = []
        for i, row in enumerate(rows):
            cells = [self.wrapped(c, widths[j]) if j in (wraps or ()) and cell_len(c) > widths[j] else [c]
                     for j, c in enumerate(row)]
            for k in range(max(len(c) for c in cells)):
                lines.append((" " * indent + join.join(
                    (c[k] if k < len(c) else "") + " " * (widths[j] - cell_len(c[k] if k < len(c) else ""))
                    for j, c in enumerate(cells))).rstrip())
            if header and i == 0:
                lines.append(" " * indent + divider.join("-" * (w + (gap if j < n - 1 else 0))
                                                         for j, w in enumerate(widths)))
        self.out.append("\n".join(lines))
        return True

    def collapsed(self, widths: list[int], gap: int, divider: int, indent: int, wraps) -> list[int] | None:
        """The column widths of a table too wide for the width, narrowed as rich narrows them
        (the widest wrapping columns first); None where rich would also squeeze the others."""
        n = len(widths)
        padded = [w + (gap if j < n - 1 else 0) for j, w in enumerate(widths)]
        room = self.width - indent - divider * (n - 1)
        padded = Table._collapse_widths(padded, [j in wraps for j in range(n)], room)
        if sum(padded) > room:
            return None
        out = [w - (gap if j < n - 1 else 0) for j, w in enumerate(padded)]
        return out if all(w > 0 for w in out) else None

    def wrapped(self, text: str, width: int) -> list[str]:
        return [line.plain.rstrip() for line in RichText(text).wrap(self.console, width, overflow="fold")]

    def blank(self) -> None:
        self.out.append("")

    def span(self, m: Math) -> str:
        text = "".join(self.item(i) for i in shown_items(m.items))
        return condense(text) if any(isinstance(i, Formula) for i in m.items) else text

    def item(self, item) -> str:
        """One piece of a span; a formula laid out once per printer (`templates.Formulas`)."""
        if not isinstance(item, Formula):
            return unicode_item(item)
        return self.formulas(item)

    def inline(self, content: Inline) -> str:
        return "".join(visible(c.text) if isinstance(c, Text) else self.span(c) for c in content)

    # ------------------------------------------------ blocks

    def folded(self, rows: list[list[str]], indent: int) -> bool:
        """A line of working too wide for the width, its parts folded onto the next lines
        under each other as rich folds a grid's last column (rich's own line breaking,
        without the cost of its table layout). Plain output only."""
        if self.color or any("\n" in c or "\t" in c for row in rows for c in row):
            return False
        first = max(cell_len(row[0]) for row in rows)
        second = max(cell_len(row[1]) for row in rows)
        room = self.width - indent - first - second - 2
        if room < 8:
            return False
        lines = []
        for lhs, rel, part in rows:
            pieces = RichText(part).wrap(self.console, room, overflow="fold")
            for j, piece in enumerate(pieces):
                head = (lhs + " " * (first - cell_len(lhs)) + " " + rel + " " * (second - cell_len(rel))) if j == 0 \
                    else " " * (first + 1 + second)
                lines.append((" " * indent + head + " " + piece.plain).rstrip())
        self.out.append("\n".join(lines))
        return True

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
        room = self.width - INDENT
        text = "".join(visible(c.text) if isinstance(c, Text) else self.unbroken(c, room) for c in p.content)
        if UNBROKEN in text:   # wrapped here, where the formulas' own spaces cannot break
            text = "\n".join(line.plain.rstrip().replace(UNBROKEN, " ")
                             for line in RichText(text).wrap(self.console, room))
        self.emit(RichText(text, style="bold" if p.strong and self.color else ""), INDENT)

    def unbroken(self, m: Math, room: int) -> str:
        """A formula in a sentence, breakable only before its = signs: ∂E/∂o1 = ∂/∂o1 [(t1 − o1)²/2]
        ⏎ = o1 − t1, not (t1 −⏎o1). A piece wider than the line keeps its spaces breakable."""
        pieces = self.span(m).split(" = ")
        kept = [piece.replace(" ", UNBROKEN) if cell_len(piece) + 2 <= room else piece for piece in pieces]
        return (" =" + UNBROKEN).join(kept)

    def _spell_Definitions(self, d: Definitions) -> None:
        rows = [[term if i == 0 else "", self.inline(line)] for term, lines in d.rows for i, line in enumerate(lines)]
        if self.laid_out(rows, 2, "", INDENT):
            return
        grid = Table.grid(padding=(0, 2, 0, 0))
        grid.add_column(no_wrap=True)
        grid.add_column()
        for row in rows:
            grid.add_row(*row)
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
        cells = [[self.inline(cell) for cell in row] for row in tb.rows]
        no_wrap = {0} | (set(range(len(tb.headers))) - wraps)
        if self.laid_out([list(tb.headers)] + cells, 2, " ", INDENT, header=True,
                         wraps=set(range(len(tb.headers))) - no_wrap if self.long else None):
            return
        t = self.table(tb.headers, no_wrap)
        for row in cells:
            t.add_row(*row)
        self.emit(t, INDENT)

    def _spell_Pairs(self, pairs: Pairs) -> None:
        per = max(1, (self.width - INDENT) // 26)
        rows = list(pairs.items)
        chunk = -(-len(rows) // per)
        columns = [rows[i:i + chunk] for i in range(0, len(rows), chunk)]
        cells = [[text for col in columns for text in ([self.inline(col[r][0]), self.inline(col[r][1])]
                                                        if r < len(col) else ["", ""])] for r in range(chunk)]
        if self.laid_out(cells, 2, "", INDENT):
            return
        t = Table(box=None, show_header=False, pad_edge=False, padding=(0, 2, 0, 0))
        for _ in columns:
            t.add_column(no_wrap=True)
            t.add_column(no_wrap=True)
        for row in cells:
            t.add_row(*row)
        self.emit(t, INDENT)

    def _spell_Equations(self, e: Equations) -> None:
        indent = INDENT * (2 if e.nested else 1)
        tall = False   # the previous row took several lines (matrices): a blank line parts them
        for i, row in enumerate(e.rows):
            if any(isinstance(item, Matrix) for part in row.parts for item in part.items):
                lines = self.matrix_lines(row, indent)
                if i and (tall or len(lines) > 1):
                    self.blank()
                self.emit(RichText("\n".join(lines), overflow="fold"), indent)
                tall = len(lines) > 1
                continue
            if tall:
                self.blank()
            self.equation(row, indent)
            tall = False

    def equation(self, row: EqRow, indent: int) -> None:
        """lhs = formula = numbers = value, on one line or aligned under each other."""
        lhs, arrow = self.span(row.lhs), row.rel
        parts = [self.span(p) for p in row.parts]
        tail = f"  ({self.inline(row.note)})" if row.note else ""
        one = f"{lhs} {arrow} " + " = ".join(parts) + tail
        if len(one) + indent <= self.width:
            self.emit(RichText(one), indent)
            return
        rows = [[lhs if i == 0 else "", arrow if i == 0 else "=", part + (tail if i == len(parts) - 1 else "")]
                for i, part in enumerate(parts)]
        if self.laid_out(rows, 1, "", indent) or self.folded(rows, indent):
            return
        grid = Table.grid(padding=(0, 1, 0, 0))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="fold")
        for i, part in enumerate(parts):
            grid.add_row(lhs if i == 0 else "", arrow if i == 0 else "=",
                         part + (tail if i == len(parts) - 1 else ""))
        self.emit(grid, indent)

    def math_lines(self, m: Math) -> list[str]:
        """A span as lines: each matrix in rows between brackets, the rest on its middle line."""
        boxes: list[list[str]] = []
        text: list = []
        for item in m.items:
            if isinstance(item, Matrix):
                if text:
                    boxes.append([self.span(Math(tuple(text)))])
                    text = []
                boxes.append(matrix_box([[unicode_item(n) for n in row] for row in item.rows]))
            else:
                text.append(item)
        if text:
            boxes.append([self.span(Math(tuple(text)))])
        return beside(boxes)

    def matrix_lines(self, row: EqRow, indent: int) -> list[str]:
        """lhs = formula = numbers = value with the matrices in rows: on one band of lines if it
        fits, else each part under the previous one; a part wider than the page on one line."""
        lhs = f"{self.span(row.lhs)} {row.rel} "
        parts = [self.math_lines(p) for p in row.parts]
        tail = [f"  ({self.inline(row.note)})"] if row.note else [""]
        pieces = [[lhs]]
        for i, part in enumerate(parts):
            pieces += ([[" = "]] if i else []) + [part]
        band = beside(pieces + [tail])
        if max(len(line) for line in band) + indent <= self.width:
            lines = band
        else:
            lines = []
            for i, part in enumerate(parts):
                lead = lhs if i == 0 else " " * (len(lhs) - 2) + "= "
                block = beside([[lead], part] + ([tail] if i == len(parts) - 1 else []))
                if max(len(line) for line in block) + indent > self.width:
                    block = [lead + self.span(row.parts[i])]     # too wide even alone: one line, folded
                lines += block
        return lines

    def _spell_Chart(self, c: Chart) -> None:
        self.blank()
        self.emit(RichText(text_plot(c.plot, self.width, ascii_only=True).rstrip("\n")))

    def _spell_Figure(self, f: Figure) -> None:
        self.blank()
        self.emit(RichText(figure_text(f.figures, self.width, self.digits)[1]))


# ---------------------------------------------------------------- matrices in text (notation: matrix)

def matrix_box(rows: list[list[str]]) -> list[str]:
    """A matrix as lines between bracket glyphs, its columns right-aligned:
    ⎡0.15  −0.2⎤
    ⎣0.25   0.3⎦   (one row: [0.15  −0.2])"""
    widths = [max(len(row[j]) for row in rows) for j in range(len(rows[0]))]
    cells = ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in rows]
    if len(cells) == 1:
        return [f"[{cells[0]}]"]
    last = len(cells) - 1
    return [("⎡" if i == 0 else "⎣" if i == last else "⎢") + c + ("⎤" if i == 0 else "⎦" if i == last else "⎥")
            for i, c in enumerate(cells)]


def beside(boxes: list[list[str]]) -> list[str]:
    """Blocks of lines side by side, each centred on the tallest."""
    height = max(len(b) for b in boxes)
    out = [""] * height
    for lines in boxes:
        width = max(len(line) for line in lines)
        top = (height - len(lines)) // 2
        for i in range(height):
            line = lines[i - top] if 0 <= i - top < len(lines) else ""
            out[i] += line.ljust(width)
    return [line.rstrip() for line in out]
