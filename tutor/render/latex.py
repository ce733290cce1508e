"""The worked solution as documents: the walk over the `Solution` records shared by
the Markdown, LaTeX and HTML printers, and the LaTeX printer itself.

Every mathematical span in every document format is LaTeX written by
`notation.LatexMathPrinter` (Markdown shows it as $…$, HTML converts it to
MathML), so the walk lives here, with the LaTeX. `DocumentPrinter` has one
``_print_<Record>`` method per record, like `terminal.TerminalPrinter`, and
emits a handful of blocks (heading, paragraph, bullets, table, equations,
boxed answers); each format's printer says how to write those blocks. A
printer never computes: it joins what the records hold.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any, Sequence

import sympy

from ..errors import TutorError
from ..files import scratch_directory
from ..solution import (GradientCheckPart, Upstream, Diverged, LogRow, Answer, Backward, Calc, Evaluation, Final, Header, Loss, Model, SampleForward, Solution,
                        StepLog, StepPart, Update, attach_shadows, build_solution, solution_answers)
from ..train import Run
from .records import RecordPrinter
from .usertext import REPLACEMENT, arabic_runs, leading_text, one_line, printable, rtl_language
from .notation import (LATEX_OPTIMIZER_NAMES, OPTIMIZER_NAMES, LatexMathPrinter,
                       MathPrinter, format_value, latex_identifier, latex_loss_formula, latex_number, latex_value,
                       same_at, to_float)

ONE_LINE = 72   # an equation longer than this (in Unicode characters) gets one line per part
DATA_COLUMNS = 8   # the sheet's data table shows at most this many names beside the sample number


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


def solution_of(run: Run, *, show_all: bool = False, steps: list[int] | None = None,
                digits: int = 4) -> Solution:
    """The records of ``run`` as the terminal shows them (with the unrounded values
    beside the rounded ones in ``arithmetic: round`` mode)."""
    solution = build_solution(run, show_all=show_all, steps=steps, digits=digits)
    if run.problem.arithmetic == "round":
        from ..train import train
        full = train(dataclasses.replace(run.problem, arithmetic="float", round_decimals=None))
        solution = attach_shadows(solution, build_solution(full, show_all=show_all, steps=steps, digits=digits))
    return solution


class ExportError(TutorError):
    """An export that cannot be made (a missing tool, a failed LaTeX run)."""


# ---------------------------------------------------------------- the walk

class DocumentPrinter(RecordPrinter):
    """The walk over the records; subclasses write the blocks in their format."""

    optimizer_names = LATEX_OPTIMIZER_NAMES

    def __init__(self, *, digits: int = 4, level: int = 1):
        self.digits = digits
        self.base_level = level
        self.out: list[str] = []

    # ------------------------------------------------ blocks (each format)

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

    def text(self, raw: str) -> list[str | M]:
        """Plain text (a problem statement): paragraphs split on blank lines."""
        return [raw]

    # ------------------------------------------------ entry

    def h(self, depth: int, content: Inline | str) -> None:
        self.heading(self.base_level + depth, [content] if isinstance(content, str) else content)

    def solution(self, solution: Solution, answers: Sequence[Answer] = (), *, title: bool = True) -> None:
        """The worked solution, then its answers boxed."""
        self.solution_ = solution
        self.digits = max(self.digits, solution.round_decimals or 0)
        self.model_settings = {"rank": solution.rank, "params": solution.params, "digits": self.digits}
        self.show_title = title
        self._print(solution)
        if answers:
            self.h(1, "Answers")
            self.boxed([(f"{latex_identifier(a.label)} = {latex_value(a.value, self.digits)}", self.answer_where(a))
                        for a in answers])

    # ------------------------------------------------ maths

    def calc_settings(self, calc: Calc, unicode: bool = False) -> dict[str, Any]:
        settings = self.settings(calc.context)
        if isinstance(calc.lhs_expr, sympy.Symbol):
            settings = {**settings, "lead": calc.lhs_expr.name}
        if unicode:
            settings = dict(settings)
            settings["names"] = OPTIMIZER_NAMES if calc.context == "optimizer" else {}
            if calc.names:
                settings["names"] = {**settings["names"], **dict(calc.names)}
        elif calc.names:
            settings = {**settings, "names": {**settings.get("names", {}),
                                              **{k: latex_identifier(v) for k, v in calc.names}}}
        return settings

    def tex(self, expr, context: str = "model") -> str:
        return LatexMathPrinter(self.settings(context)).doprint(expr)

    def value(self, x: Any, shadow: Any = None) -> str:
        text = latex_value(x, self.digits)
        if shadow is not None and not same_at(x, shadow, self.digits):
            text += rf" \text{{ (unrounded }} {latex_value(shadow, self.digits)}\text{{)}}"
        return text

    def formula(self, calc: Calc) -> str:
        return LatexMathPrinter(self.calc_settings(calc)).doprint(calc.expr)

    def numbers(self, calc: Calc) -> str:
        return LatexMathPrinter({**self.calc_settings(calc), "values": calc.values}).doprint(calc.expr)

    def lhs(self, calc: Calc) -> tuple[str, str]:
        if calc.lhs_expr is not None:
            return LatexMathPrinter(self.calc_settings(calc)).doprint(calc.lhs_expr), r"\leftarrow"
        return latex_identifier(calc.lhs), "="

    def width(self, calc: Calc) -> int:
        """The length of the line in Unicode, as the terminal would print it: the layout rule."""
        n = len(calc.lhs) + 3
        if calc.expr is not None:
            n += len(MathPrinter(self.calc_settings(calc, unicode=True)).doprint(calc.expr)) + 3
            if calc.values is not None:
                n += len(MathPrinter({**self.calc_settings(calc, unicode=True),
                                      "values": calc.values}).doprint(calc.expr)) + 3
        return n + len(format_value(calc.value, self.digits))

    def kink(self, calc: Calc) -> str:
        if calc.kink is None:
            return rf"\text{{({calc.note})}}" if calc.note else ""
        name, value = calc.kink
        x = to_float(value)
        rel = ">" if x > 0 else ("<" if x < 0 else "=")
        return rf"\text{{since }} {latex_identifier(name)} = {latex_number(value, self.digits)} {rel} 0"

    def row(self, calc: Calc) -> EqRow:
        lhs, rel = self.lhs(calc)
        return EqRow(lhs, rel, tuple(self.parts(calc)), self.kink(calc), self.width(calc) <= ONE_LINE)

    @staticmethod
    def answer_where(a: Answer) -> str:
        if a.step is not None:
            return f"step {a.step}" + (", updated" if a.kind == "update" else "")
        return "after training" if a.kind == "final" else "initial parameters"

    # ------------------------------------------------ records

    def _print_Diverged(self, d: Diverged) -> None:
        self.h(1, "Training stopped")
        self.paragraph([d.text])

    def _print_Header(self, h: Header) -> None:
        if self.show_title:
            self.h(0, one_line(h.title))
        if h.statement:
            for para in self.text(h.statement):
                self.paragraph([para])
        self.conventions(h)

    def conventions(self, h: Header) -> None:
        self.h(1, "Conventions")
        items: list[Inline] = []
        formula = latex_loss_formula(h.loss) if h.loss else None
        if h.custom_loss is not None:
            name, expr = h.custom_loss
            formula = f"{latex_identifier(name)} = {self.tex(expr)}"
        if formula:
            items.append(["loss ", M(formula)] + ([", " + "; ".join(h.loss_notes)] if h.loss_notes else []))
        else:
            items += [["loss: " + note] for note in h.loss_notes]
        if h.rules:
            opt = self.settings("optimizer")
            rules: list[str | M] = [f"optimizer {h.optimizer}, each step, per parameter ", M(r"\theta"),
                                    " with gradient ", M("g"), ": "]
            for i, (target, expr) in enumerate(h.rules):
                rule = {**opt, "lead": target.name}
                rules += ([", "] if i else []) + [M(LatexMathPrinter(rule).doprint(target) + r" \leftarrow "
                                                    + LatexMathPrinter(rule).doprint(expr))]
            rules += ["; "] + _join([M(f"{LATEX_OPTIMIZER_NAMES.get(n, latex_identifier(n))} = "
                                       f"{latex_number(v, max(self.digits, 10))}") for n, v in h.hypers])
            items.append(rules)
        items += [[note] for note in h.notes]
        self.bullets(items)

    def _print_Model(self, m: Model) -> None:
        self.h(1, "The model")
        self.equations([EqRow(latex_identifier(name), "=", (self.tex(expr),)) for name, expr in m.equations])
        if m.constants:
            self.paragraph(["constants: "] + _join([M(f"{latex_identifier(n)} = {latex_value(v, self.digits)}")
                                                    for n, v in m.constants]))
        if m.parameters:  # none: a function of its inputs only (an objective)
            self.h(2, "Initial parameters")
            self.parameter_table(m.parameters)

    def parameter_table(self, parameters) -> None:
        per = 4
        chunk = -(-len(parameters) // per)
        columns = [parameters[i:i + chunk] for i in range(0, len(parameters), chunk)]
        rows = []
        for r in range(chunk):
            cells: list[Inline] = []
            for col in columns:
                if r < len(col):
                    name, value, remark = col[r]
                    cells += [[M(latex_identifier(name))],
                              [M(latex_value(value, self.digits))] + ([f" ({remark})"] if remark else [])]
                else:
                    cells += [[], []]
            rows.append(cells)
        self.table(["parameter", "value"] * len(columns), rows)

    def _print_StepPart(self, p: StepPart) -> None:
        show = self.solution_.show
        samples = "sample" + ("s " if len(p.batch) > 1 else " ") + ", ".join(map(str, p.batch))
        self.h(1, [f"Step {p.step} (epoch {p.epoch}, {samples}; ", M(r"\mathit{lr} = " + self.value(p.lr.value,
                                                                                                   p.lr.shadow)),
                   ")"])
        if "forward" in show:
            for f in p.forward:
                self._forward(f, "Forward pass")
        if "loss" in show:
            self._print(p.loss)
        if p.lookahead and ("gradient" in show or "update" in show):
            self.h(2, ["Look-ahead point (Nesterov): the gradient is taken at ",
                       M(r"\tilde{\theta} = \theta + \mu \cdot v")])
            self.equations([self.row(c) for c in p.lookahead])
            for f in p.lookahead_forward:
                self._forward(f, "Forward pass at the look-ahead point")
        for u in p.upstream:
            self._print(u)
        if p.backward is not None:
            self._print(p.backward)
        if p.updates:
            self.h(2, "Update")
            for u in p.updates:
                self._print(u)

    def _print_Evaluation(self, e: Evaluation) -> None:
        self.h(1, "With the initial parameters (no training steps)")
        if "forward" in self.solution_.show:
            for f in e.forward:
                self._forward(f, "Forward pass")
        if "loss" in self.solution_.show:
            self._print(e.loss)
        for u in e.upstream:
            self._print(u)
        if e.backward is not None:
            self._print(e.backward)

    def _print_GradientCheckPart(self, g: GradientCheckPart) -> None:
        self.h(1, "Gradient check (at the initial parameters)")
        self.paragraph([M(r"\mathit{numeric} = \frac{E(\theta + \varepsilon) - E(\theta - \varepsilon)}{2\varepsilon}"),
                        " with ", M(r"\varepsilon = " + latex_value(g.eps, self.digits)),
                        "; relative error = |numeric − backprop| / max(|numeric|, |backprop|)"])
        wide = max(self.digits, 8)   # E(θ ± ε) differ in the digits beyond the usual ones
        rows = [[[M(latex_identifier(name))], [M(latex_value(plus, wide))], [M(latex_value(minus, wide))],
                 [M(latex_value(numeric, self.digits))], [M(latex_value(analytic, self.digits))], [f"{rel:.1e}"]]
                for name, plus, minus, numeric, analytic, rel in g.rows]
        self.table(["θ", "E(θ + ε)", "E(θ − ε)", "numeric", "backprop", "rel. error"], rows)

    def _print_Upstream(self, u: Upstream) -> None:
        self.h(2, f"Backward pass, sample {u.index}: local derivative × upstream gradient")
        self.equations([self.row(c) for c in u.rows])

    def _forward(self, f: SampleForward, title: str) -> None:
        given = _join([M(f"{latex_identifier(n)} = {latex_value(v, self.digits)}") for n, v in f.given])
        self.h(2, [f"{title}, sample {f.index}"] + ([" ("] + given + [")"] if given else []))
        rows = []
        for c in f.rows:
            numbers = [M(self.numbers(c))] if c.values is not None else []
            rows.append([[M(latex_identifier(c.lhs))], [M(self.formula(c))], numbers,
                         [M(self.value(c.value, c.shadow))]])
        self.table(["node", "formula", "numbers", "value"], rows)

    def _print_Loss(self, loss: Loss) -> None:
        self.h(2, "Loss")
        rows = [self.row(c) for _, c in loss.per_sample]
        if loss.batch is not None:
            rows.append(self.row(loss.batch))
        self.equations(rows)

    def _print_Backward(self, b: Backward) -> None:
        where = " at the look-ahead point" if b.at_lookahead else ""
        for s in b.samples:
            sample = f", sample {s.index}" if len(b.samples) > 1 else ""
            self.h(2, f"Backward pass{where}{sample}: local derivatives")
            rows = []
            for c in s.locals:
                numbers = self.numbers(c) if c.values is not None else ""
                value = self.value(c.value, c.shadow)
                note = self.kink(c)
                rows.append([[M(latex_identifier(c.lhs))], [M(self.formula(c))],
                             [M(numbers)] if numbers and numbers != value else [],
                             [M(value + (rf" \quad {note}" if note else ""))]])
            self.table(["derivative", "formula", "numbers", "value"], rows)
            if b.form == "delta":
                self.h(2, [M(r"\delta = \partial E / \partial \mathit{node}"),
                           ", from the loss down (each used once computed)"])
                self.equations([self.row(c) for c in s.deltas])
            self.h(2, "Gradients (chain rule)" if b.form == "paths" else "Gradients from the δ's")
            self.equations([self.row(c) for _, c in s.gradients])
        if b.batch:
            self.h(2, "Gradients of the batch loss")
            self.equations([self.row(c) for _, c in b.batch])

    def _print_Update(self, u: Update) -> None:
        tail = u.remark
        self.paragraph([M(latex_identifier(u.param)), ": ", M(rf"{self.value(u.old)} \to {self.value(u.new, u.shadow_new)}")]
                       + ([f" ({tail})"] if tail else []))
        if u.rows:
            self.equations([self.row(c) for c in u.rows])

    def _print_StepLog(self, log: StepLog) -> None:
        self.h(1, log.title)
        self.log_table(log.rows())

    def log_table(self, log: tuple[LogRow, ...]) -> None:
        rows = []
        for r in log:
            if r.skipped_before:
                rows.append([["…"], [f"({r.skipped_before} epochs)"], [""], [""], [""]])
            rows.append([[r.steps], [str(r.epoch)], [r.batch], [M(latex_value(r.lr, self.digits))],
                         [M(latex_value(r.loss, self.digits))]])
        self.table(["step", "epoch", "batch", "lr", "loss"], rows)

    def _print_Final(self, f: Final) -> None:
        self.h(1, "After training")
        self.table(["parameter", "initial", "final"],
                   [[[M(latex_identifier(name))], [M(latex_value(before, self.digits))],
                     [M(latex_value(after, self.digits))]] for name, before, after in f.parameters])
        if f.epochs:
            self.h(2, "Loss per epoch (mean of the step losses)")
            self.log_table(f.epochs)
        if f.outputs:
            self.h(2, "Outputs with the final parameters")
            self.table(["sample", "output", "value", "target"],
                       [[[str(i)], [M(latex_identifier(o))], [M(latex_value(v, self.digits))],
                         [M(f"{latex_identifier(t)} = {latex_value(tv, self.digits)}")]]
                        for i, o, v, t, tv in f.outputs])
        if f.loss is not None:
            self.paragraph(["loss with the final parameters: ", M(latex_value(f.loss, self.digits))])

    # ------------------------------------------------ the student sheet

    def sheet(self, run: Run, solution: Solution, answers: Sequence[Answer]) -> None:
        """The statement, the given values and blank answer lines: no working, no results."""
        self.solution_ = solution
        self.model_settings = {"rank": solution.rank, "params": solution.params, "digits": self.digits}
        h = solution.header
        if h.statement:
            for para in self.text(h.statement):
                self.paragraph([para])
        self.conventions(h)
        self.h(1, "The model")
        self.equations([EqRow(latex_identifier(name), "=", (self.tex(expr),))
                        for name, expr in solution.model.equations])
        if solution.model.constants:
            self.paragraph(["constants: "] + _join([M(f"{latex_identifier(n)} = {latex_value(v, self.digits)}")
                                                    for n, v in solution.model.constants]))
        if solution.model.parameters:
            self.h(2, "Initial parameters")
            self.parameter_table(solution.model.parameters)
        problem = run.problem
        names = [*problem.inputs, *problem.targets]
        self.h(2, "Data")
        for first in range(0, len(names), DATA_COLUMNS):   # hundreds of inputs: several tables
            chunk = names[first:first + DATA_COLUMNS]
            self.table(["sample", *chunk],
                       [[[str(i)]] + [[M(latex_value(run.domain.number(sample[n]), self.digits))] for n in chunk]
                        for i, sample in enumerate(problem.samples, 1)])
        self.h(1, "Answers")
        self.blank_lines([(latex_identifier(a.label), self.answer_where(a)) for a in answers])


TABLE_LINE = 240   # a table row wider than this (estimated letters) is set row by row


def too_wide(headers: list[str], rows: list[list[Inline]]) -> bool:
    """Whether a table is far too wide for a page (a formula over hundreds of inputs in
    a cell): each format then sets it row by row, a cell's formula over lines."""
    def width(content: Inline) -> float:
        return sum(len(c) if isinstance(c, str) else math_width(c.tex) for c in content)
    return sum(max([len(header)] + [width(row[j]) for row in rows]) for j, header in enumerate(headers)) > TABLE_LINE


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
PDFLATEX_HEAD = r"""\documentclass[11pt,a4paper]{article}
\usepackage[T1]{fontenc}
\usepackage{lmodern}
"""
LUALATEX_HEAD = r"""% !TEX program = lualatex
\documentclass[11pt,a4paper]{article}
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
PREAMBLE = r"""\usepackage[margin=2.2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{booktabs}
\usepackage{longtable}
\usepackage{graphicx}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.5\baselineskip}
\renewcommand{\arraystretch}{1.3}
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


def latex_text(text: str) -> str:
    """Text (not mathematics) in LaTeX: special characters escaped, the solution's
    Unicode spelled out in ASCII; any other character is kept as it is (a document
    holding one is set by LuaLaTeX), a control character a boxed "?"."""
    text = printable(text)
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


def math_width(tex: str) -> float:
    """About how many letters wide ``tex`` prints: a command is one glyph, an
    operator with its spaces about two, a script 0.9 of its width, a fraction as
    wide as its wider half; braces and sizes take no room. An estimate for layout."""
    return _width_of(_TOKEN.findall(tex))


def _width_of(tokens: list[str]) -> float:
    width, i = 0.0, 0
    while i < len(tokens):
        token = tokens[i]
        if token == r"\frac":
            top, i = _group(tokens, i + 1)
            bottom, i = _group(tokens, i)
            width += max(_width_of(top), _width_of(bottom)) + 0.8   # and the space around the bar
        elif token in ("_", "^"):
            script, i = _group(tokens, i + 1)
            width += SCRIPT * _width_of(script)
        else:
            width += _OPERATORS.get(token, 0 if token in _SIZELESS else 1)
            i += 1
    return width


def _group(tokens: list[str], i: int) -> tuple[list[str], int]:
    """The tokens of the argument starting at ``tokens[i]`` (a braced group or one token), and the index after it."""
    while i < len(tokens) and tokens[i] == " ":
        i += 1
    if i >= len(tokens) or tokens[i] != "{":
        return tokens[i:i + 1], i + 1
    depth = 0
    for j in range(i, len(tokens)):
        depth += (tokens[j] == "{") - (tokens[j] == "}")
        if depth == 0:
            return tokens[i + 1:j], j + 1
    return tokens[i + 1:], len(tokens)


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


class LatexPrinter(DocumentPrinter):
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

    def text(self, raw: str) -> list[str]:
        return [" ".join(p.split()) for p in re.split(r"\n\s*\n", raw.strip()) if p.strip()]

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
        if too_wide(headers, rows):
            self.wide_table(headers, rows)
            return
        spec = "l" * len(headers)
        head = " & ".join(latex_text(h) for h in headers) + r" \\"
        body = [" & ".join(self.inline(c) for c in row) + r" \\" for row in rows]
        if long or len(rows) > TALL:
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
                head, *rest = break_math(tex)
                gap = "[0.6em]" if first and lines else ""
                lines.append(f"{gap}\n&\\text{{{latex_text(header)}: }} {head}")
                lines += [f"\n&\\quad {{}}{line}" for line in rest]
                first = False
        self.out.append("\\begin{align*}" + " \\\\".join(lines) + "\n\\end{align*}\n")

    def equations(self, rows: list[EqRow]) -> None:
        if rows:
            self.out.append("\\begin{align*}\n" + aligned(rows) + "\n\\end{align*}\n")

    def boxed(self, items: list[tuple[str, str]]) -> None:
        body = " \\\\\n".join(rf"\boxed{{{item}}} &\quad \text{{({latex_text(where)})}}" for item, where in items)
        self.out.append("\\begin{align*}\n" + body + "\n\\end{align*}\n")

    def blank_lines(self, items: list[tuple[str, str]]) -> None:
        body = "".join(f"  \\item ${item} = $ \\rule{{5cm}}{{0.4pt}} \\quad ({latex_text(where)})\n"
                       for item, where in items)
        self.out.append("\\begin{enumerate}\\setlength{\\itemsep}{1.2em}\n" + body + "\\end{enumerate}\n")

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


def render_latex(run: Run, *, show_all: bool = False, steps: list[int] | None = None, digits: int = 4) -> str:
    """The worked solution of ``run`` as a complete LaTeX document."""
    solution = solution_of(run, show_all=show_all, steps=steps, digits=digits)
    printer = LatexPrinter(digits=digits)
    title = [one_line(solution.header.title)]
    printer.out.append(f"\\begin{{center}}{{\\LARGE\\bfseries {printer.inline(title)}}}\\end{{center}}\n")
    printer.solution(solution, solution_answers(solution, run.problem.outputs, run.problem.ask is not None),
                     title=False)
    return printer.document(solution.header.title)


# ---------------------------------------------------------------- PDF

ENGINE_PACKAGES = {"pdflatex": "texlive-latex-base texlive-latex-recommended lmodern",
                   "lualatex": "texlive-luatex texlive-latex-recommended fonts-lmodern fonts-dejavu-core"}
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
