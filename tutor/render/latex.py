"""The worked solution as documents: how the blocks of the one walk
(`walk.walk_solution`) are spelled in a document format (`DocumentBackend`: every
mathematical span is LaTeX from `notation`, which Markdown shows as $…$ and HTML
converts to MathML), the LaTeX printer itself, and the PDF.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import operator
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Sequence

from .. import document as doc
from ..diagram import Diagram
from ..errors import TutorError
from ..files import scratch_directory
from ..plot import Plot
from ..records import Solution
from .formats import OutputFormat
from .notation import latex_item, shown_items, unicode_item
from .numbers import latex_number_text
from .templates import Formulas
from .usertext import REPLACEMENT, arabic_runs, leading_text, one_line, printable, rtl_language
from .walk import walk_solution

ONE_LINE = 72   # an equation longer than this (in Unicode characters) gets one line per part,
ONE_LINE_TEX = 76   # unless its LaTeX (∂E/∂o1 as a fraction is narrow) is about this many letters wide at most


# ---------------------------------------------------------------- inline content

@dataclass(frozen=True)
class M:
    """Inline mathematics (LaTeX) within text."""

    tex: str


Inline = Sequence["str | M"]


@dataclass(frozen=True)
class EqRow:
    """One line of working: lhs = part = part = … (note)."""

    lhs: str
    rel: str                 # "=" or r"\leftarrow"
    parts: tuple[str, ...]
    note: str = ""           # LaTeX (math mode), shown after the last part
    one_line: bool = True


class ExportError(TutorError):
    """An export that cannot be made (a missing tool, a failed LaTeX run)."""


# ---------------------------------------------------------------- spelling the blocks

class DocumentBackend:
    """Spells the blocks of a document (`tutor.document`) in a document format: every
    mathematical span as LaTeX (`notation.latex_math`; Markdown shows it as $…$, HTML
    converts it to MathML). Each format's printer says how to write the primitive
    blocks (heading, paragraph, bullets, table, equations, boxed answers, blank lines,
    diagram, chart); a block without a spelling raises."""

    def __init__(self, *, digits: int = 4, level: int = 1):
        self.digits = digits
        self.base_level = level
        self.out: list[str] = []
        # each formula laid out once per printer, in each spelling (`templates.Formulas`)
        self.latex_formulas = Formulas(latex_item, latex_number_text)
        self.slashed_formulas = Formulas(lambda item: latex_item(item, slash=True), latex_number_text)  # in cells
        self.unicode_formulas = Formulas(unicode_item)

    # ------------------------------------------------ primitives (each format)

    def heading(self, level: int, content: Inline) -> None:
        raise NotImplementedError

    def paragraph(self, content: Inline) -> None:
        raise NotImplementedError

    def bullets(self, items: list[Inline]) -> None:
        raise NotImplementedError

    def table(self, headers: list[str], rows: list[list[Inline]], long: bool = False) -> None:
        raise NotImplementedError

    def equations(self, rows: list[EqRow]) -> None:
        raise NotImplementedError

    def boxed(self, items: list[tuple[str, str]]) -> None:
        """Boxed answers: (a LaTeX equation, where it belongs in words)."""
        raise NotImplementedError

    def blank_lines(self, items: list[tuple[str, str]]) -> None:
        """Answer lines for a student to fill in: (a LaTeX left-hand side, where in words)."""
        raise NotImplementedError

    def diagram(self, d: Diagram) -> None:
        raise NotImplementedError

    def chart(self, p: Plot) -> None:
        raise NotImplementedError

    def part(self, block: doc.Part) -> None:
        """A problem's part of a key begins."""

    def end_part(self, block: doc.EndPart) -> None:
        """A problem's part of a key ends."""

    def text(self, raw: str) -> list[str]:
        """A statement's paragraphs: split on blank lines, each joined into one line."""
        return [" ".join(p.split()) for p in re.split(r"\n\s*\n", raw.strip()) if p.strip()]

    # ------------------------------------------------ blocks

    def spell(self, blocks) -> None:
        for block in blocks:
            method = getattr(self, f"_spell_{type(block).__name__}", None)
            if method is None:
                raise TypeError(f"{type(self).__name__} cannot spell a {type(block).__name__}")
            method(block)

    def cells(self, content: doc.Inline, slash: bool = False) -> list[str | M]:
        return [c.text if isinstance(c, doc.Text) else M(self.tex(c, slash)) for c in content]

    def tex(self, span: doc.Math, slash: bool = False) -> str:
        """A span in LaTeX; each formula laid out once per printer."""
        return "".join(self._spelled(i, slash, True) for i in shown_items(span.items))

    def width(self, span: doc.Math) -> int:
        """How many characters the span's Unicode spelling has (the layout rule)."""
        return sum(len(self._spelled(i, False, False)) for i in shown_items(span.items))

    def _spelled(self, item, slash: bool, latex: bool) -> str:
        if not isinstance(item, doc.Formula):
            return latex_item(item, slash) if latex else unicode_item(item)
        if not latex:
            return self.unicode_formulas(item)
        return (self.slashed_formulas if slash else self.latex_formulas)(item)

    def _spell_Heading(self, h: doc.Heading) -> None:
        content = self.cells(h.content)
        if h.level == 0:   # a title: its text on one line (a title of several lines cannot add headings)
            content = [_one_line_keeping_edges(c) if isinstance(c, str) else c for c in content]
        self.heading(self.base_level + h.level, content)

    def _spell_Statement(self, s: doc.Statement) -> None:
        for para in self.text(s.text):
            self.paragraph([para])

    def _spell_Paragraph(self, p: doc.Paragraph) -> None:
        self.paragraph(self.cells(p.content))

    def _spell_Bullets(self, b: doc.Bullets) -> None:
        self.bullets([self.cells(item) for item in b.items])

    def _spell_Definitions(self, d: doc.Definitions) -> None:
        """One item per term (its lines joined: "loss: E = …; K = 2 outputs"); notes one item each."""
        items: list[Inline] = []
        for term, lines in d.rows:
            if term == "notes":
                items += [self.cells(line) for line in lines]
                continue
            item: list[str | M] = [term + ": "]
            for i, line in enumerate(lines):
                if i:
                    previous = lines[i - 1][-1]
                    item.append(" " if isinstance(previous, doc.Text) and previous.text.endswith(":") else "; ")
                item += self.cells(line)
            items.append(item)
        self.bullets(items)

    def _spell_Table(self, t: doc.Table) -> None:
        self.table(list(t.headers), [[self.cells(c, slash=True) for c in row] for row in t.rows], t.long)

    def _spell_Pairs(self, pairs: doc.Pairs) -> None:
        per = 4
        items = pairs.items
        chunk = -(-len(items) // per)
        columns = [items[i:i + chunk] for i in range(0, len(items), chunk)]
        rows = []
        for r in range(chunk):
            cells: list[Inline] = []
            for col in columns:
                cells += [self.cells(col[r][0]), self.cells(col[r][1])] if r < len(col) else [[], []]
            rows.append(cells)
        self.table(list(pairs.headers) * len(columns), rows)

    def _spell_Equations(self, e: doc.Equations) -> None:
        self.equations([self.row(r) for r in e.rows])

    def row(self, r: doc.EqRow) -> EqRow:
        """A line of working in LaTeX, on one line if its Unicode form is short (the layout rule)."""
        note = ""
        if r.note:
            pieces = [rf"\text{{{latex_text(c.text)}}}" if isinstance(c, doc.Text) else self.tex(c) for c in r.note]
            note = r"\text{(}" + "".join(pieces) + r"\text{)}"
            if all(isinstance(c, doc.Text) for c in r.note):
                note = rf"\text{{({latex_text(''.join(c.text for c in r.note))})}}"
        lhs, parts = self.tex(r.lhs), tuple(self.tex(p) for p in r.parts)
        # the LaTeX's width first: it is at hand, and the Unicode form is spelled only when it is wide
        one = math_width(f"{lhs} = {' = '.join(parts)} {note}") <= ONE_LINE_TEX or self._unicode_width(r) <= ONE_LINE
        return EqRow(lhs, r"\leftarrow" if r.rel == "←" else "=", parts, note, one)

    def _unicode_width(self, r: doc.EqRow) -> int:
        return self.width(r.lhs) + 3 + sum(self.width(p) + 3 for p in r.parts) - 3

    def _spell_Boxed(self, b: doc.Boxed) -> None:
        self.boxed([(self.tex(m, slash=True), where) for m, where in b.items])

    def _spell_Blanks(self, b: doc.Blanks) -> None:
        self.blank_lines([(self.tex(m), where) for m, where in b.items])

    def _spell_Figure(self, f: doc.Figure) -> None:
        if f.figures.diagram is not None:
            self.diagram(f.figures.diagram)
        else:
            self.paragraph([f.figures.note or ""])

    def _spell_Chart(self, c: doc.Chart) -> None:
        self.chart(c.plot)

    def _spell_Part(self, p: doc.Part) -> None:
        self.part(p)

    def _spell_EndPart(self, p: doc.EndPart) -> None:
        self.end_part(p)



def _one_line_keeping_edges(text: str) -> str:
    """`one_line`, keeping one space where ``text`` starts or ends with one ("Problem 1: ")."""
    inner = one_line(text)
    if not inner:
        return " " if text else ""
    return (" " if text[0].isspace() else "") + inner + (" " if text[-1].isspace() else "")


TABLE_LINE = 240   # a table row wider than this (estimated letters) is set row by row


def too_wide(headers: list[str], rows: list[list[Inline]], limit: float = TABLE_LINE) -> bool:
    """Whether a table is far too wide for a page (a formula over hundreds of inputs in
    a cell): each format then sets it row by row, a cell's formula over lines."""
    return table_width(headers, rows) > limit


def table_width(headers: list[str], rows: list[list[Inline]]) -> float:
    """About how many letters wide a table's widest cells of each column make it."""
    def width(content: Inline) -> float:
        return sum(len(c) if isinstance(c, str) else math_width(c.tex) for c in content)
    return sum(max([len(header)] + [width(row[j]) for row in rows]) for j, header in enumerate(headers))


def _join(items: list, sep: str = ", ") -> list:
    out: list = []
    for i, item in enumerate(items):
        if i:
            out.append(sep)
        out.append(item)
    return out


# ---------------------------------------------------------------- LaTeX

# The engine, decided once (`latex_engine`): pdflatex sets a document whose source is
# ASCII (every shipped problem: the solution's own symbols are spelled in ASCII
# LaTeX, and pdflatex is several times faster); any other character in a title or
# statement (naïve, Persian, Greek ο) makes it a LuaLaTeX document, with fonts for
# any script and Persian set right to left.
# T1 Latin Modern: vector fonts, and _ < > | as glyphs that copy and search as text.
PDFLATEX_HEAD = r"""\documentclass[10pt,a4paper]{article}
\usepackage[T1]{fontenc}
\usepackage{lmodern}
"""
LUALATEX_HEAD = r"""% !TEX program = lualatex
\documentclass[10pt,a4paper]{article}
% Latin Modern; DejaVu for the characters it lacks (Greek, Cyrillic, symbols). Arabic
% script is set right to left as Persian, in DejaVu Sans shaped by HarfBuzz (Amiri,
% though handsomer, leaves gaps inside words that pdftotext and copying read as spaces).
\directlua{luaotfload.add_fallback("tutorfallback", {"DejaVuSerif:mode=harf;", "DejaVuSans:mode=harf;"})}
\usepackage[bidi=basic]{babel}
\babelprovide[import,main]{english}
\babelprovide[import,onchar=ids fonts]{persian}
\babelfont{rm}[RawFeature={fallback=tutorfallback}]{Latin Modern Roman}
\babelfont[persian]{rm}[Renderer=HarfBuzz,RawFeature={fallback=tutorfallback}]{DejaVu Sans}
"""
PREAMBLE = r"""\usepackage[margin=2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{booktabs}
\usepackage{longtable}
\usepackage{graphicx}
\usepackage{tikz}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.3\baselineskip}
\sloppy   % a long title or name wraps with wider spaces rather than running into the margin
% Headings closer to their text than article's: a one-step solution fits on two pages.
\makeatletter
\renewcommand\section{\@startsection{section}{1}{\z@}{-2.2ex \@plus -1ex \@minus -.2ex}{1.2ex \@plus .2ex}{\normalfont\Large\bfseries}}
\renewcommand\subsection{\@startsection{subsection}{2}{\z@}{-2ex \@plus -1ex \@minus -.2ex}{0.8ex \@plus .2ex}{\normalfont\large\bfseries}}
\renewcommand\subsubsection{\@startsection{subsubsection}{3}{\z@}{-1.8ex \@plus -1ex \@minus -.2ex}{0.6ex \@plus .2ex}{\normalfont\normalsize\bfseries}}
\makeatother
\renewcommand{\arraystretch}{1.15}
\allowdisplaybreaks
\newsavebox{\tutorbox}
% A table or equation wider than the line is scaled down to fit it.
\newcommand{\tutorfit}[1]{\sbox{\tutorbox}{#1}\ifdim\wd\tutorbox>\linewidth
  \resizebox{\linewidth}{!}{\usebox{\tutorbox}}\else\usebox{\tutorbox}\fi}
"""
PERSIAN = "persian"   # the babel language of right-to-left text in Arabic script (usertext.rtl_language)


def latex_engine(tex: str) -> str:
    """The TeX engine that sets ``tex`` (a document, or the body of one): pdflatex for ASCII, else lualatex."""
    return "pdflatex" if tex.isascii() else "lualatex"


# Characters of the solution's text (notes, titles, statements) that are not ASCII.
TEXT_UNICODE = {
    "−": r"\ensuremath{-}", "·": r"\ensuremath{\cdot}", "×": r"\ensuremath{\times}", "≈": r"\ensuremath{\approx}",
    "→": r"\ensuremath{\to}", "←": r"\ensuremath{\leftarrow}", "≤": r"\ensuremath{\le}", "≥": r"\ensuremath{\ge}",
    "½": r"\ensuremath{\tfrac{1}{2}}", "∞": r"\ensuremath{\infty}", "√": r"\ensuremath{\surd}",
    "∂": r"\ensuremath{\partial}", "Σ": r"\ensuremath{\Sigma}", "Δ": r"\ensuremath{\Delta}",
    "–": "--", "—": "---", "’": "'", "‘": "`", "“": "``", "”": "''", "…": r"\ldots{}", "°": r"\ensuremath{^\circ}",
    "é": r"\'e", "è": r"\`e", "ö": r"\"o", "ü": r"\"u", "ä": r"\"a",
    "\u0302": "", "\u0303": "", "⌊": r"\ensuremath{\lfloor}", "⌋": r"\ensuremath{\rfloor}",
    "⌈": r"\ensuremath{\lceil}", "⌉": r"\ensuremath{\rceil}", "Γ": r"\ensuremath{\Gamma}",
    REPLACEMENT: r"\fbox{?}",   # a control character (usertext.printable); LuaTeX refuses U+FFFD itself
}
# The Greek letters with a command of their own in LaTeX's mathematics (ο and ς have none).
GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "varepsilon", "ζ": "zeta", "η": "eta",
         "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi", "π": "pi",
         "ρ": "rho", "σ": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega"}
SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁽⁾ᵗⁿ", "0123456789-+()tn"))
SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉ₖ", "0123456789k"))
SPECIAL = {"\\": r"\ensuremath{\backslash}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%",
           "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}", "<": r"\ensuremath{<}",
           "`": r"\textasciigrave{}",
           ">": r"\ensuremath{>}", "|": r"\ensuremath{|}", "\n": " ", "\r": " ", "\t": " "}

# A character the loop below changes: one of the tables', or a doubled - ' or , (kept from ligatures).
_TO_SPELL = re.compile("[" + re.escape("".join([*SUPERSCRIPTS, *SUBSCRIPTS, *SPECIAL, *TEXT_UNICODE, *GREEK]))
                       + r"]|([-',])(?=\1)")


def latex_text(text: str) -> str:
    """Text (not mathematics) in LaTeX: special characters escaped, the solution's
    Unicode spelled out in ASCII; any other character is kept as it is (a document
    holding one is set by LuaLaTeX), a control character a boxed "?"."""
    text = printable(text)
    if _TO_SPELL.search(text) is None:   # most text: nothing to escape or spell (checked at C speed)
        return text
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in SUPERSCRIPTS or ch in SUBSCRIPTS:
            table = SUPERSCRIPTS if ch in SUPERSCRIPTS else SUBSCRIPTS
            j = i
            while j < len(text) and text[j] in table:
                j += 1
            run = "".join(table[c] for c in text[i:j])
            out.append(rf"\ensuremath{{{'^' if table is SUPERSCRIPTS else '_'}{{{run}}}}}")
            i = j
            continue
        if ch in SPECIAL:
            out.append(SPECIAL[ch])
        elif ch in "-'," and text[i + 1:i + 2] == ch:   # no ligature: -- '' ,, stay as typed
            out.append(ch + "{}")
        elif ch in TEXT_UNICODE:
            out.append(TEXT_UNICODE[ch])
        elif ch in GREEK:
            out.append(rf"\ensuremath{{\{GREEK[ch]}}}")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


# ---------------------------------------------------------------- long formulas

LINE = 70   # a part of a line of working wider than this (estimated characters) is broken into lines
_TOKEN = re.compile(r"\\(?:[A-Za-z]+|.)|.", re.S)
_SIZELESS = {r"\left", r"\right", r"\bigl", r"\bigr", r"\mathit", r"\mathrm", r"\operatorname", "{", "}", " "}
# Widths, in letters, of what takes more or less room than a letter: operators with
# their spaces, points and parentheses; scripts are set smaller. (Measured against
# TeX's own widths of the shipped problems' lines: 4.8 to 6.1 pt a unit at 11pt.)
_OPERATORS = {"+": 2.2, "-": 2.2, r"\times": 2.2, r"\cdot": 1.3, "=": 2.4, "<": 2.4, ">": 2.4,
              r"\leftarrow": 2.8, r"\approx": 2.4, r"\to": 2.8, ".": 0.5, ",": 0.5, "(": 0.8, ")": 0.8}
SCRIPT = 0.9
# \left( … \right) must close on the line it opens; \bigl( … \bigr) may not.
_FIXED_SIZE = {r"\left(": r"\bigl(", r"\right)": r"\bigr)", r"\left[": r"\bigl[", r"\right]": r"\bigr]",
               r"\left\lvert": r"\bigl\lvert", r"\right\rvert": r"\bigr\rvert"}


_LETTERS = {**dict.fromkeys(_SIZELESS, 0), **_OPERATORS}   # a token's width; any other: 1


@functools.lru_cache(maxsize=1 << 14)   # a key measures the same cells and lines again and again
def math_width(tex: str) -> float:
    """About how many letters wide ``tex`` prints: a command is one glyph, an
    operator with its spaces about two, a script 0.9 of its width, a fraction as
    wide as its wider half; braces and sizes take no room. An estimate for layout."""
    tokens = _TOKEN.findall(tex)
    if "_" not in tex and "^" not in tex and r"\frac" not in tex:   # (a number, a plain cell) the same sum
        return functools.reduce(operator.add, map(_LETTERS.get, tokens, itertools.repeat(1)), 0.0)
    return _width_of(tokens, 0, len(tokens))


def _width_of(tokens: list[str], i: int, end: int) -> float:
    """The width of ``tokens[i:end]`` (indices, not slices: this runs on every line of a key)."""
    width = 0.0
    while i < end:
        token = tokens[i]
        if token == r"\frac":
            top, top_end, i = _group(tokens, i + 1, end)
            bottom, bottom_end, i = _group(tokens, i, end)
            width += max(_width_of(tokens, top, top_end), _width_of(tokens, bottom, bottom_end)) + 0.8
        elif token == "_" or token == "^":
            script, script_end, i = _group(tokens, i + 1, end)
            width += SCRIPT * _width_of(tokens, script, script_end)
        else:
            width += _LETTERS.get(token, 1)
            i += 1
    return width


def _group(tokens: list[str], i: int, end: int) -> tuple[int, int, int]:
    """The argument starting at ``tokens[i]`` (a braced group or one token), before ``end``:
    where its tokens start and end, and the index after it."""
    while i < end and tokens[i] == " ":
        i += 1
    if i >= end or tokens[i] != "{":
        return i, min(i + 1, end), i + 1
    depth = 0
    for j in range(i, end):
        token = tokens[j]
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0:
                return i + 1, j, j + 1
    return i + 1, end, end


def break_math(tex: str, width: int = LINE) -> list[str]:
    """``tex`` as lines about ``width`` characters wide at most, broken before a +, −
    or = and after a comma outside braces and parentheses: the sums over a unit with
    hundreds of inputs. When that is not enough, inside parentheses too, whose
    \\left…\\right sizes then become fixed. A formula that fits is one line, unchanged."""
    if math_width(tex) <= width:
        return [tex]
    lines = _fill(_pieces(tex), width)
    if any(math_width(line) > width for line in lines):
        lines = _fill(_pieces(_fixed_size(tex)), width)
    return lines


def _fixed_size(tex: str) -> str:
    """``tex`` with \\left…\\right made \\bigl…\\bigr: maths that may break inside parentheses."""
    for sized, fixed in _FIXED_SIZE.items():
        tex = tex.replace(sized, fixed)
    return tex


def _fill(pieces: list[str], width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for piece in pieces:
        if line.strip() and math_width(line + piece) > width:
            lines.append(line.strip())
            line = ""
        line += piece
    lines.append(line.strip())
    return lines


_SIZED = re.compile(r"\\(left|right)(?![A-Za-z])")


def _pieces(tex: str) -> list[str]:
    """``tex`` cut before each " + ", " - ", " = " and after each ", " outside braces and \\left…\\right."""
    pieces, depth, start, i = [], 0, 0, 0
    while i < len(tex):
        sized = _SIZED.match(tex, i)
        if sized:
            depth += 1 if sized.group(1) == "left" else -1
            i = sized.end()
            continue
        ch = tex[i]
        if ch == "\\":
            i += 2
            continue
        depth += (ch == "{") - (ch == "}")
        if depth == 0 and i > start:
            if tex.startswith((" + ", " - ", " = "), i):
                pieces.append(tex[start:i])
                start = i
            elif tex.startswith(", ", i):
                pieces.append(tex[start:i + 2])
                start = i + 2
        i += 1
    pieces.append(tex[start:])
    return [p for p in pieces if p]


def aligned(rows: list[EqRow]) -> str:
    """Lines of working as the body of an align*/aligned block: the relation signs
    under each other, a long line's parts on lines of their own, and a part too wide
    for a line broken over several."""
    lines = []
    for r in rows:
        note = rf" \quad {r.note}" if r.note else ""
        if r.one_line and math_width(" = ".join(r.parts)) <= 2 * LINE:
            lines.append(f"{r.lhs} &{r.rel} " + " = ".join(r.parts) + note)
            continue
        parts = []
        for i, part in enumerate(r.parts):
            first, *rest = break_math(part)
            parts.append(f"{r.lhs if i == 0 else ''} &{r.rel if i == 0 else '='} {first}".lstrip())
            parts += [rf"&\quad {{}}{line}" for line in rest]
        parts[-1] += note
        lines.append(" \\\\\n".join(parts))
    return " \\\\\n".join(lines)


TALL = 40          # a table with more rows than this runs over pages
LONG_TABLE_LINE = 95   # such a table wider than this (estimated letters) is set row by row


class LatexPrinter(DocumentBackend):
    """A complete LaTeX document (article, amsmath, booktabs) that pdflatex, or for
    text beyond ASCII LuaLaTeX, compiles."""

    SECTIONS = ["section*", "section*", "subsection*", "subsubsection*", "paragraph*", "paragraph*"]

    def __init__(self, *, digits: int = 4, level: int = 1):
        super().__init__(digits=digits, level=level)
        self.sources: list[tuple[int, str]] = []   # (index in out, problem file) where each problem begins
        self.source_lines: list[tuple[int, str]] = []

    def source(self, path: str) -> None:
        """What follows comes from the problem file ``path`` (named when TeX fails on it)."""
        self.sources.append((len(self.out), str(path)))

    def part(self, block: doc.Part) -> None:
        """A new page for each problem, its file named in errors, its variant in the page headers."""
        if block.number > 1:
            self.out.append("\\clearpage\n")
        self.source(block.source)
        if block.variant is not None:
            self.out.append(f"\\pagestyle{{myheadings}}\\markright{{variant {latex_text(block.variant)}}}\n")

    def inline(self, content: Inline, persian: bool = False) -> str:
        """Text escaped, maths in $…$; a piece in Arabic script, in a block that is not ``persian``, set as Persian."""
        out = []
        for c in content:
            if isinstance(c, M):
                out.append(f"${c.tex}$")
            elif persian:
                out.append(latex_text(c))
            elif rtl_language(c):   # right-to-left text (a title after "Problem 1: ")
                out.append(f"\\foreignlanguage{{{PERSIAN}}}{{{latex_text(c)}}}")
            else:               # left-to-right text, perhaps with Persian words in it
                out += [f"\\foreignlanguage{{{PERSIAN}}}{{{latex_text(run)}}}" if arabic else latex_text(run)
                        for run, arabic in arabic_runs(c)]
        return "".join(out)

    def block(self, content: Inline, before: str, after: str) -> str:
        """``content`` between ``before`` and ``after``: right to left, in Persian, when its text starts in Arabic script."""
        if rtl_language(leading_text(c for c in content if isinstance(c, str))):
            body = before + self.inline(content, persian=True) + after
            return f"\\begin{{otherlanguage}}{{{PERSIAN}}}\n{body}\\end{{otherlanguage}}\n"
        return before + self.inline(content) + after

    def heading(self, level: int, content: Inline) -> None:
        command = self.SECTIONS[min(level, len(self.SECTIONS) - 1)]
        self.out.append(self.block(content, f"\\{command}{{", "}\n"))

    def paragraph(self, content: Inline) -> None:
        self.out.append(self.block(content, "", "\n"))

    def bullets(self, items: list[Inline]) -> None:
        body = "".join(f"  \\item {self.inline(item)}\n" for item in items)
        self.out.append("\\begin{itemize}\n" + body + "\\end{itemize}\n")

    def table(self, headers: list[str], rows: list[list[Inline]], long: bool = False) -> None:
        """A table: scaled down to the line if a little too wide; over pages (its
        header repeated) if long or tall; row by row if far too wide (`wide_table`)."""
        over_pages = long or len(rows) > TALL
        # A table over pages cannot be scaled down to the line: wider than the line, it is set row by row.
        width = table_width(headers, rows)
        if width > TABLE_LINE or (over_pages and width > LONG_TABLE_LINE):
            self.wide_table(headers, rows)
            return
        spec = "l" * len(headers)
        head = " & ".join(latex_text(h) for h in headers) + r" \\"
        body = [" & ".join(self.inline(c) for c in row) + r" \\" for row in rows]
        if over_pages:
            lines = [f"\\begin{{longtable}}{{{spec}}}", "\\toprule", head, "\\midrule", "\\endhead",
                     "\\bottomrule", "\\endfoot"]
            self.out.append("\n".join(lines + body) + "\n\\end{longtable}\n")
            return
        lines = [f"\\begin{{tabular}}{{@{{}}{spec}@{{}}}}", "\\toprule", head, "\\midrule", *body,
                 "\\bottomrule", "\\end{tabular}"]
        self.out.append("\\begin{center}\\small\n\\tutorfit{" + "\n".join(lines) + "}\n\\end{center}\n")

    def wide_table(self, headers: list[str], rows: list[list[Inline]]) -> None:
        """A table far too wide for the page (a unit with hundreds of inputs) as lines
        of working: each cell on lines of its own after its column's name, long
        formulas broken over lines; a display that may run over pages, as no table row can."""
        lines: list[str] = []
        for row in rows:
            first = True
            for header, cell in zip(headers, row):
                if not cell:
                    continue
                tex = "".join(c.tex if isinstance(c, M) else rf"\text{{{latex_text(c)}}}" for c in cell)
                head, *rest = break_math(tex, LINE - len(header) - 2)   # after "header: "
                gap = "[0.6em]" if first and lines else ""
                lines.append(f"{gap}\n&\\text{{{latex_text(header)}: }} {head}")
                lines += [f"\n&\\quad {{}}{line}" for line in rest]
                first = False
        self.out.append("\\begin{align*}" + " \\\\".join(lines) + "\n\\end{align*}\n")

    def equations(self, rows: list[EqRow]) -> None:
        if rows:
            self.out.append("\\begin{align*}\n" + aligned(rows) + "\n\\end{align*}\n")

    def boxed(self, items: list[tuple[str, str]]) -> None:
        """The answers flow as a paragraph, each boxed with where it belongs (a line each would
        take a page of a short solution)."""
        body = "\\quad\n".join(rf"\mbox{{$\boxed{{{item}}}$ ({latex_text(where)})}}" for item, where in items)
        self.out.append("{\\setlength{\\fboxsep}{2pt}\\raggedright\n" + body + "\\par}\n")

    def blank_lines(self, items: list[tuple[str, str]]) -> None:
        body = "".join(f"  \\item ${item} = $ \\rule{{5cm}}{{0.4pt}} \\quad ({latex_text(where)})\n"
                       for item, where in items)
        self.out.append("\\begin{enumerate}\\setlength{\\itemsep}{1.2em}\n" + body + "\\end{enumerate}\n")

    def diagram(self, d: Diagram) -> None:
        from .tikz import diagram_tikz
        self.out.append(diagram_tikz(d, self.digits) + "{\\small " + latex_text(d.caption) + "}\n")

    def chart(self, p: Plot) -> None:
        from .tikz import plot_tikz
        self.out.append(plot_tikz(p))

    def document(self, title: str) -> str:
        """The document; `source_lines` then holds (line, problem file) where each problem's part begins."""
        start = f"\\title{{{latex_text(one_line(title))}}}\n\\date{{}}\n\\begin{{document}}\n"
        body = "\n".join(self.out) + "\n\\end{document}\n"
        head = (PDFLATEX_HEAD if latex_engine(start + body) == "pdflatex" else LUALATEX_HEAD) + PREAMBLE + start
        starts = dict(self.sources)
        line = head.count("\n") + 1
        self.source_lines = []
        for i, chunk in enumerate(self.out):
            if i in starts:
                self.source_lines.append((line, starts[i]))
            line += chunk.count("\n") + 1
        return head + body


def render_latex(solution: Solution) -> str:
    """The worked solution as a complete LaTeX document."""
    printer = LatexPrinter(digits=solution.shown_digits)
    title = [one_line(solution.header.title)]
    printer.out.append(f"\\begin{{center}}{{\\LARGE\\bfseries {printer.inline(title)}}}\\end{{center}}\n")
    printer.spell(walk_solution(solution, title=False))
    return printer.document(solution.header.title)


# ---------------------------------------------------------------- PDF

ENGINE_PACKAGES = {"pdflatex": "texlive-latex-base texlive-latex-recommended texlive-pictures lmodern",
                   "lualatex": "texlive-luatex texlive-latex-recommended texlive-pictures fonts-lmodern "
                               "fonts-dejavu-core"}
_RERUN = re.compile(r"Rerun LaTeX|Rerun to get")
_LOCATED = re.compile(r"^\./tutor\.tex:(\d+): (.*)$", re.M)


def compile_pdf(tex: str, sources: Sequence[tuple[int, str]] = ()) -> bytes:
    """``tex`` typeset by its engine (`latex_engine`) in a temporary directory, without
    shell escape; the PDF's bytes. ``sources`` are (first line, problem file) of the
    document's parts, to say whose text TeX failed on. Run again while LaTeX asks
    (longtable's column widths). Deterministic: the dates and the file ID come from
    SOURCE_DATE_EPOCH, fixed here."""
    engine = latex_engine(tex)
    program = shutil.which(engine)
    if program is None:
        need = "" if engine == "pdflatex" else " (the text is not all ASCII)"
        raise ExportError(f"error: the PDF needs {engine}{need}, which is not installed; install it (Debian: "
                          f"apt-get install {ENGINE_PACKAGES[engine]}) or export .tex and compile it yourself")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}
    with scratch_directory("tutor-latex-") as tmp:
        with open(os.path.join(tmp, "tutor.tex"), "w", encoding="utf-8") as handle:
            handle.write(tex)
        source = "tutor.tex"
        if engine == "lualatex":   # LuaTeX's file ID hashes the temporary directory's path: give it one
            digest = hashlib.md5(tex.encode("utf-8")).hexdigest().upper()
            source = f"\\pdfvariable trailerid{{[<{digest}> <{digest}>]}}\\input{{tutor.tex}}"
        for _ in range(3):
            try:
                done = subprocess.run([program, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
                                       "-file-line-error", "-jobname=tutor", source], cwd=tmp, env=env,
                                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      timeout=300)
            except subprocess.TimeoutExpired:
                raise ExportError(f"error: {engine} did not finish the PDF within 300 seconds") from None
            log = _read(os.path.join(tmp, "tutor.log")) or done.stdout.decode("utf-8", "replace")
            if done.returncode != 0:
                raise tex_failure(engine, tex, log, sources)
            if not _RERUN.search(log):
                break
        with open(os.path.join(tmp, "tutor.pdf"), "rb") as handle:
            return handle.read()


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except FileNotFoundError:
        return ""


def tex_failure(engine: str, tex: str, log: str, sources: Sequence[tuple[int, str]] = ()) -> ExportError:
    """TeX's first error as one line: the problem file whose text it is in (if known),
    TeX's message, and the line of the LaTeX it stopped at."""
    located = _LOCATED.search(log)
    if located is None:
        bangs = [line[1:].strip() for line in log.splitlines() if line.startswith("!")]
        message = bangs[0] if bangs else (log.strip().splitlines() or ["no log"])[-1]
        return ExportError(f"error: {engine} could not make the PDF: {message}")
    number, message = int(located.group(1)), located.group(2).strip()
    source = [path for first, path in sources if first <= number][-1:]
    lines = tex.splitlines()
    text = lines[number - 1].strip() if 0 < number <= len(lines) else ""
    if len(text) > 80:
        text = text[:77] + "..."
    where = f"{source[0]}: " if source else ""
    return ExportError(f"{where}error: {engine} could not make the PDF: {message} "
                       f"(line {number} of the LaTeX: {text})")


# ---------------------------------------------------------------- the formats: tex, and pdf typeset from it

def _key(blocks, digits: int, title: str) -> tuple[str, list]:
    printer = LatexPrinter(digits=digits, level=1)
    printer.spell(blocks(-1))
    text = printer.document(title)
    return text, printer.source_lines


def _derivation(solution, show_all: bool) -> str:
    from .symbolic_doc import derivation_blocks

    title = solution.problem.title
    printer = LatexPrinter()
    printer.out.append(f"\\begin{{center}}{{\\LARGE\\bfseries {printer.inline([one_line(title)])}}}\\end{{center}}\n")
    printer.spell(derivation_blocks(solution, show_all=show_all, title=False))
    return printer.document(title)


FORMATS = (OutputFormat("tex", 2, solution=render_latex, derivation=_derivation, key=_key),
           OutputFormat("pdf", 3, solution=render_latex, derivation=_derivation, key=_key, finish=compile_pdf,
                        binary=True))
