"""The worked solution as Markdown (GitHub and Jupyter flavour).

The blocks come from the one walk (`walk.walk_solution`); this module only says
how they read in Markdown: ``#`` headings (one per step), pipe tables for
forward passes, local derivatives and parameters, inline ``$…$`` and display
``$$…$$`` mathematics (``aligned`` for lines of working), which KaTeX and
MathJax both render.
"""

from __future__ import annotations

import re

from ..diagram import Diagram
from ..plot import Plot
from ..records import Solution
from .formats import OutputFormat
from .latex import M, DocumentBackend, EqRow, Inline, aligned
from .walk import walk_solution
from .svg import diagram_svg, plot_svg
from .usertext import printable

# Characters that Markdown would read as markup (emphasis, links, tables, maths, HTML, entities).
_ESCAPE = re.compile(r"([\\`*_\[\]<>$|~&])")
# A line break would end a heading, a table row or a list item: text stays on its line.
_LINE_BREAK = re.compile(r"\s*[\n\r\u2028\u2029]\s*")


def markdown_text(text: str) -> str:
    text = _ESCAPE.sub(r"\\\1", _LINE_BREAK.sub(" ", printable(text)))
    if re.match(r"[#+\-=]", text):   # would start a heading, a list or a rule
        return "\\" + text
    return re.sub(r"\A(\d+)([.)])", r"\1\\\2", text)   # "1." would start a numbered list: "1\."


class MarkdownPrinter(DocumentBackend):
    def inline(self, content: Inline) -> str:
        return "".join(markdown_text(c) if isinstance(c, str) else f"${c.tex}$" for c in content)

    def heading(self, level: int, content: Inline) -> None:
        self.out.append("#" * min(level, 6) + " " + self.inline(content))

    def paragraph(self, content: Inline) -> None:
        self.out.append(self.inline(content))

    def bullets(self, items: list[Inline]) -> None:
        self.out.append("\n".join("- " + self.inline(item) for item in items))

    def table(self, headers: list[str], rows: list[list[Inline]], long: bool = False) -> None:
        lines = ["| " + " | ".join(markdown_text(h) for h in headers) + " |",
                 "|" + "|".join(" --- " for _ in headers) + "|"]
        lines += ["| " + " | ".join(self.inline(c) for c in row) + " |" for row in rows]
        self.out.append("\n".join(lines))

    def equations(self, rows: list[EqRow]) -> None:
        if rows:
            self.out.append("$$\n\\begin{aligned}\n" + aligned(rows) + "\n\\end{aligned}\n$$")

    def boxed(self, items: list[tuple[str, str]]) -> None:
        self.out.append("\n".join("- $\\boxed{" + item + f"}}$ ({markdown_text(where)})" for item, where in items))

    def blank_lines(self, items: list[tuple[str, str]]) -> None:
        self.out.append("\n".join(f"{i}. ${item} =$ \\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_ "
                                  f"({markdown_text(where)})" for i, (item, where) in enumerate(items, 1)))

    def diagram(self, d: Diagram) -> None:
        # inline SVG: an HTML block, which a blank line would end (an SVG here has none)
        self.out.append(diagram_svg(d, self.digits).rstrip("\n"))
        self.out.append("*" + markdown_text(d.caption) + "*")

    def chart(self, p: Plot) -> None:
        self.out.append(plot_svg(p).rstrip("\n"))

    def document(self) -> str:
        return "\n\n".join(self.out) + "\n"


def render_markdown(solution: Solution) -> str:
    """The worked solution as Markdown."""
    printer = MarkdownPrinter(digits=solution.shown_digits)
    printer.spell(walk_solution(solution))
    return printer.document()


def _key(blocks, digits: int, title: str) -> tuple[str, tuple]:
    printer = MarkdownPrinter(digits=digits, level=1)
    printer.spell(blocks(0))
    return printer.document(), ()


def _derivation(solution, show_all: bool) -> str:
    from .symbolic_doc import derivation_blocks

    printer = MarkdownPrinter()
    printer.spell(derivation_blocks(solution, show_all=show_all))
    return printer.document()


FORMATS = (OutputFormat("md", 1, solution=render_markdown, derivation=_derivation, key=_key, suffixes=("markdown",)),)

__all__ = ["FORMATS", "MarkdownPrinter", "markdown_text", "render_markdown", "M"]
