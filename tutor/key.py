"""Answer keys and student sheets over several problems, and single-problem exports.

An answer key and a blank worksheet are the same solutions printed with the
answers on or off: one numbered section per problem (title, statement, then
either the full worked solution with its answers boxed, or the given values
and blank answer lines), and for a key a table of the answers first. Every
format is a `render.latex.DocumentPrinter`; this module only orders the
sections. The library never writes files: `export_bytes` and `key_bytes`
return the bytes, cli.py writes them (atomically).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .errors import TutorError
from .figures import figures_of
from .render.latex import M, ExportError, LatexPrinter, compile_pdf, latex_text, solution_of
from .render.notation import latex_identifier, latex_value
from .render.usertext import one_line
from .solution import Answer, Solution, solution_answers
from .train import Run

FORMATS = ("md", "tex", "pdf", "html", "json")
KEY_FORMATS = ("md", "tex", "pdf", "html")


def format_of(path: str | Path | None, given: str | None, allowed: Sequence[str] = FORMATS) -> str:
    """The output format: --format if given, else the output file's suffix."""
    if given:
        fmt = given.lower().lstrip(".")
    elif path is None or str(path) == "-":
        raise TutorError("error: writing to stdout needs --format (" + ", ".join(allowed) + ")")
    else:
        fmt = Path(path).suffix.lower().lstrip(".")
        if fmt == "markdown":
            fmt = "md"
        if not fmt:
            raise TutorError(f"{path}: error: no file suffix to tell the format; use --format "
                             f"({', '.join(allowed)})")
    if fmt not in allowed:
        raise TutorError(f"error: unknown export format {fmt!r}; expected one of {', '.join(allowed)}")
    return fmt


def _printer(fmt: str, digits: int, level: int = 1):
    if fmt == "md":
        from .render.markdown import MarkdownPrinter
        return MarkdownPrinter(digits=digits, level=level)
    if fmt == "html":
        from .render.html import HtmlPrinter, check_available
        check_available()
        return HtmlPrinter(digits=digits, level=level)
    return LatexPrinter(digits=digits, level=level)


def _finish(printer, fmt: str, title: str) -> bytes:
    if fmt == "md":
        return printer.document().encode("utf-8")
    text = printer.document(title)
    if fmt == "pdf":
        return compile_pdf(text, printer.source_lines)
    return text.encode("utf-8")


def export_bytes(run: Run, fmt: str, *, show_all: bool = False, steps: list[int] | None = None,
                 digits: int = 4) -> bytes:
    """One problem's worked solution in ``fmt`` (md, tex, pdf, html, json)."""
    if fmt == "json":
        from .render.json import render_json
        return render_json(run).encode("utf-8")
    if fmt == "md":
        from .render.markdown import render_markdown
        return render_markdown(run, show_all=show_all, steps=steps, digits=digits).encode("utf-8")
    if fmt == "html":
        from .render.html import render_html
        return render_html(run, show_all=show_all, steps=steps, digits=digits).encode("utf-8")
    from .render.latex import render_latex
    text = render_latex(run, show_all=show_all, steps=steps, digits=digits)
    return compile_pdf(text, [(1, str(run.problem.path))]) if fmt == "pdf" else text.encode("utf-8")


def key_bytes(runs: Sequence[Run], fmt: str, *, answers_only: bool = False, sheet: bool = False,
              show_all: bool = False, steps: list[int] | None = None, digits: int = 4) -> bytes:
    """An answer key (or, with ``sheet``, the students' problem sheet) over ``runs``."""
    if fmt not in KEY_FORMATS:
        raise ExportError(f"error: a key is written as {', '.join(KEY_FORMATS)}, not {fmt}")
    if answers_only and sheet:
        raise TutorError("error: --answers-only and --sheet exclude each other")
    printer = _printer(fmt, digits, level=1)
    solutions: list[tuple[Run, Solution, tuple[Answer, ...]]] = []
    for run in runs:
        solution = solution_of(run, show_all=show_all, steps=steps, digits=digits)
        solutions.append((run, solution, solution_answers(solution, run.problem.outputs,
                                                          run.problem.ask is not None)))
    title = "Problem sheet" if sheet else ("Answers" if answers_only else "Answer key")
    printer.heading(0 if fmt == "tex" or fmt == "pdf" else 1, [title])
    if not sheet:
        rows = []
        for number, (run, solution, answers) in enumerate(solutions, 1):
            for i, a in enumerate(answers):
                rows.append([[str(number)] if i == 0 else [], [printer.answer_where(a)],
                             [M(f"{latex_identifier(a.label)} = {latex_value(a.value, printer.digits)}")]])
        if not answers_only:
            printer.paragraph(["The answers of every problem; the worked solutions follow, one section per "
                               "problem."])
        printer.table(["problem", "where", "answer"], rows, long=True)
    if not answers_only:
        for number, (run, solution, answers) in enumerate(solutions, 1):
            _section(printer, fmt, number, run, solution, answers, sheet)
    return _finish(printer, fmt, title)


def _section(printer, fmt: str, number: int, run: Run, solution: Solution, answers, sheet: bool) -> None:
    title = [f"Problem {number}: ", one_line(solution.header.title)]
    variant = run.problem.meta.get("variant")  # tutor vary's id (a student's, with --ids)
    if variant is not None:
        title.append(f" (variant {one_line(str(variant))})")
    if fmt in ("tex", "pdf"):
        if number > 1:
            printer.out.append("\\clearpage\n")
        printer.source(run.problem.path)
        if variant is not None:  # in the header of each of its pages
            printer.out.append(f"\\pagestyle{{myheadings}}\\markright{{variant {latex_text(str(variant))}}}\n")
    if fmt == "html":
        printer.raw(f'<section class="problem" id="problem-{number}">')
    printer.h(0, title)
    if sheet:
        printer.sheet(run, solution, answers)
    else:
        printer.solution(solution, answers, title=False, figures=figures_of(run))
    if fmt == "html":
        printer.raw("</section>")


__all__ = ["FORMATS", "KEY_FORMATS", "export_bytes", "format_of", "key_bytes", "latex_text"]
