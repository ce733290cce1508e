"""The worked solution as one self-contained HTML page: MathML, no script, no network.

The blocks come from the one walk (`walk.walk_solution`); their LaTeX mathematics
is converted to MathML by latex2mathml (browsers render MathML natively). Lines
of working are laid out as a grid (lhs | = | part), not with ``aligned``, so a
long line breaks between its parts. The style sheet is inline and has print rules.
"""

from __future__ import annotations

import html
import re

from .. import document as doc
from ..diagram import Diagram
from ..plot import Plot
from ..records import Solution
from .formats import OutputFormat
from .latex import LINE, DocumentBackend, EqRow, ExportError, Inline, M, break_math, math_width, too_wide
from .walk import walk_solution
from .svg import diagram_svg, plot_svg
from .usertext import is_rtl, leading_text, one_line, printable, rtl_language

# A table row wider than this (estimated letters) is set row by row: wider, it would not fit a
# window 1000 px wide (the page's 60rem column), and MathML does not wrap inside a cell.
HTML_TABLE_LINE = 100

STYLE = """
body { font-family: "DejaVu Serif", Georgia, "Times New Roman", serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1.5rem; color: #111; background: #fff; line-height: 1.45; }
h1 { font-size: 1.7rem; border-bottom: 2px solid #333; padding-bottom: .3rem; }
h2 { font-size: 1.3rem; margin-top: 2rem; border-bottom: 1px solid #bbb; }
h3 { font-size: 1.08rem; margin-top: 1.4rem; }
h4 { font-size: 1rem; }
math { font-family: "Latin Modern Math", "STIX Two Math", "Cambria Math", math; font-size: 1.1em;
       direction: ltr; }
[lang="fa"] { font-family: "Vazirmatn", "Noto Naskh Arabic", "DejaVu Sans", sans-serif; }
table.data { border-collapse: collapse; margin: .6rem 0; }
table.data th { text-align: left; border-bottom: 1.5px solid #333; padding: .2rem .9rem .2rem 0; font-weight: 600; }
table.data td { padding: .25rem .9rem .25rem 0; border-bottom: 1px solid #e3e3e3; vertical-align: middle; }
table.data tr:last-child td { border-bottom: 1.5px solid #333; }
table.eq { margin: .5rem 0 .5rem 1.5rem; border-collapse: collapse; }
table.eq td { padding: .2rem .3rem; vertical-align: middle; }
table.eq td.lhs { text-align: right; white-space: nowrap; }
table.eq math { math-style: normal; }
table.eq td.note { color: #444; padding-left: 1rem; }
ul.answers { list-style: none; padding-left: 1rem; }
ul.answers li { margin: .35rem 0; }
ul.answers math { border: 1.5px solid #222; padding: .15rem .4rem; }
span.blank { display: inline-block; width: 12rem; border-bottom: 1px solid #222; }
ol.blanks li { margin: 1.2rem 0; }
section.problem { margin-bottom: 3rem; }
figure.picture { margin: .8rem 0; overflow-x: auto; }
figure.picture figcaption { font-size: .9rem; color: #444; }
@media print {
  body { max-width: none; margin: 0; font-size: 11pt; }
  h1, h2, h3 { page-break-after: avoid; break-after: avoid; }
  table, tr, li { page-break-inside: avoid; break-inside: avoid; }
  section.problem + section.problem { page-break-before: always; break-before: page; }
}
"""


_OPERATOR_NAME = re.compile(r"<mo>([A-Za-z_]{2,})</mo>")
_PREFIX_MINUS = re.compile(r"((?<!&#x00029;)(?<!&#x0005D;)(?<!&#x0007C;)</mo>|<mrow>)<mo>&#x02212;</mo>")
# (stretchy fences, \left( … \right), get wide gaps in browsers: plain parentheses read better there)


def mathml(tex: str, display: bool = False) -> str:
    """LaTeX -> MathML, touched up for browsers: function names are identifiers
    (no operator spacing around "relu"), a minus after an operator or an opening
    parenthesis is a sign (no binary spacing in "(−1)" or "= −0.5")."""
    from latex2mathml.converter import convert

    tex = tex.replace(r"\left(", "(").replace(r"\right)", ")")
    out = convert(tex, display="block" if display else "inline")
    out = _OPERATOR_NAME.sub(r"<mi>\1</mi>", out)
    return _PREFIX_MINUS.sub(r'\1<mo form="prefix">&#x02212;</mo>', out)


def _direction(text: str) -> str:
    """The attributes of an element holding ``text`` that runs right to left (see usertext)."""
    if not is_rtl(text):
        return ""
    language = rtl_language(text)
    return ' dir="rtl"' + (f' lang="{language}"' if language else "")


def _words(content: Inline) -> str:
    return leading_text(c for c in content if isinstance(c, str))


class HtmlPrinter(DocumentBackend):
    def inline(self, content: Inline) -> str:
        """Text escaped, maths as MathML; a right-to-left piece in a left-to-right block in a span of its own."""
        block = _direction(_words(content))
        out = []
        for c in content:
            if isinstance(c, M):
                out.append(mathml(c.tex))
                continue
            text = html.escape(printable(c), quote=False)
            own = _direction(c)
            out.append(f"<span{own}>{text}</span>" if own and own != block else text)
        return "".join(out)

    def heading(self, level: int, content: Inline) -> None:
        n = min(level, 6)
        self.out.append(f"<h{n}{_direction(_words(content))}>{self.inline(content)}</h{n}>")

    def paragraph(self, content: Inline) -> None:
        self.out.append(f"<p{_direction(_words(content))}>{self.inline(content)}</p>")

    def bullets(self, items: list[Inline]) -> None:
        self.out.append("<ul>\n" + "\n".join(f"<li>{self.inline(i)}</li>" for i in items) + "\n</ul>")

    def table(self, headers: list[str], rows: list[list[Inline]], long: bool = False) -> None:
        if too_wide(headers, rows, HTML_TABLE_LINE):   # row by row: each cell after its column's name, over lines
            out = [f'<tr><td class="lhs">{html.escape(header)}:</td><td>{self.broken(cell)}</td></tr>'
                   for row in rows for header, cell in zip(headers, row) if cell]
            self.out.append('<table class="eq">\n' + "\n".join(out) + "\n</table>")
            return
        head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
        body = "\n".join("<tr>" + "".join(f"<td>{self.inline(c)}</td>" for c in row) + "</tr>" for row in rows)
        self.out.append(f'<table class="data">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>')

    def broken(self, content: Inline) -> str:
        """``content`` with each formula too wide for a line over several lines."""
        return "".join(html.escape(printable(c), quote=False) if isinstance(c, str) else
                       "<br>".join(mathml(line if j == 0 else "{}" + line) for j, line in enumerate(break_math(c.tex)))
                       for c in content)

    def equations(self, rows: list[EqRow]) -> None:
        if not rows:
            return
        out = []
        for r in rows:
            note = f'<td class="note">{mathml(r.note)}</td>' if r.note else ""
            if r.one_line and math_width(" = ".join(r.parts)) <= 2 * LINE:
                out.append(f'<tr><td class="lhs">{mathml(r.lhs)}</td><td>{mathml(r.rel)}</td>'
                           f'<td>{mathml(" = ".join(r.parts))}</td>{note}</tr>')
                continue
            for i, part in enumerate(r.parts):
                lines = break_math(part)   # a part too wide for a line continues on the next rows
                for j, line in enumerate(lines):
                    first = i == 0 and j == 0
                    rel = mathml(r.rel if first else "=") if j == 0 else ""
                    last = i == len(r.parts) - 1 and j == len(lines) - 1
                    out.append(f'<tr><td class="lhs">{mathml(r.lhs) if first else ""}</td><td>{rel}</td>'
                               f'<td>{mathml(line if j == 0 else "{}" + line)}</td>{note if last else ""}</tr>')
        self.out.append('<table class="eq">\n' + "\n".join(out) + "\n</table>")

    def boxed(self, items: list[tuple[str, str]]) -> None:
        self.out.append('<ul class="answers">\n' + "\n".join(
            f"<li>{mathml(item)} ({html.escape(where)})</li>" for item, where in items) + "\n</ul>")

    def blank_lines(self, items: list[tuple[str, str]]) -> None:
        self.out.append('<ol class="blanks">\n' + "\n".join(
            f'<li>{mathml(item + " =")} <span class="blank"></span> ({html.escape(where)})</li>'
            for item, where in items) + "\n</ol>")

    def diagram(self, d: Diagram) -> None:
        self.out.append(f'<figure class="picture">\n{diagram_svg(d, self.digits, inline=True)}'
                        f'<figcaption>{html.escape(d.caption, quote=False)}</figcaption>\n</figure>')

    def chart(self, p: Plot) -> None:
        self.out.append(f'<figure class="picture">\n{plot_svg(p, inline=True)}</figure>')

    def part(self, block: doc.Part) -> None:
        self.out.append(f'<section class="problem" id="problem-{block.number}">')

    def end_part(self, block: doc.EndPart) -> None:
        self.out.append("</section>")

    def document(self, title: str) -> str:
        return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                f"<title>{html.escape(printable(one_line(title)))}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
                + "\n".join(self.out) + "\n</body>\n</html>\n")


def check_available() -> None:
    try:
        import latex2mathml  # noqa: F401
    except ImportError:
        raise ExportError("error: HTML export needs the Python package latex2mathml "
                          "(pip install latex2mathml)") from None


def render_html(solution: Solution) -> str:
    """The worked solution as one HTML page."""
    check_available()
    printer = HtmlPrinter(digits=solution.shown_digits)
    printer.spell(walk_solution(solution))
    return printer.document(solution.header.title)


def _key(blocks, digits: int, title: str) -> tuple[str, tuple]:
    check_available()
    printer = HtmlPrinter(digits=digits, level=1)
    printer.spell(blocks(0))
    return printer.document(title), ()


def _derivation(solution, show_all: bool) -> str:
    from .symbolic_doc import derivation_blocks

    check_available()
    printer = HtmlPrinter()
    printer.spell(derivation_blocks(solution, show_all=show_all))
    return printer.document(solution.problem.title)


FORMATS = (OutputFormat("html", 4, solution=render_html, derivation=_derivation, key=_key),)

__all__ = ["FORMATS", "HtmlPrinter", "M", "mathml", "render_html"]
