"""Answer keys and student sheets over several problems, and single-problem exports.

An answer key and a blank worksheet are the same solutions printed with the
answers on or off: one numbered section per problem (title, statement, then
either the full worked solution with its answers boxed, or the given values
and blank answer lines), and for a key a table of the answers first. Every
format spells the blocks of the one walk (`render.walk.walk_key`); this module
only picks the format. The library never writes files: `export_bytes` and
`key_bytes` return the bytes, cli.py writes them (atomically). Both take solved
`Solution`s (`solution.build_solution`): nothing here runs the engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .errors import TutorError
from .records import Solution
from .render.latex import ExportError, LatexPrinter, compile_pdf, latex_text
from .render.walk import walk_key

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


def export_bytes(solution: Solution, fmt: str) -> bytes:
    """One problem's worked solution in ``fmt`` (md, tex, pdf, html; JSON is written from the run,
    by `render.json`)."""
    if fmt == "md":
        from .render.markdown import render_markdown
        return render_markdown(solution).encode("utf-8")
    if fmt == "html":
        from .render.html import render_html
        return render_html(solution).encode("utf-8")
    if fmt not in ("tex", "pdf"):
        raise ExportError(f"error: a worked solution is exported as md, tex, pdf or html, not {fmt}")
    from .render.latex import render_latex
    text = render_latex(solution)
    return compile_pdf(text, [(1, solution.source)]) if fmt == "pdf" else text.encode("utf-8")


def key_bytes(solutions: Sequence[Solution], fmt: str, *, answers_only: bool = False,
              sheet: bool = False) -> bytes:
    """An answer key (or, with ``sheet``, the students' problem sheet) over ``solutions``."""
    if fmt not in KEY_FORMATS:
        raise ExportError(f"error: a key is written as {', '.join(KEY_FORMATS)}, not {fmt}")
    if answers_only and sheet:
        raise TutorError("error: --answers-only and --sheet exclude each other")
    digits = max((s.shown_digits for s in solutions), default=4)
    printer = _printer(fmt, digits, level=1)
    title = "Problem sheet" if sheet else ("Answers" if answers_only else "Answer key")
    printer.spell(walk_key(list(solutions), answers_only=answers_only, sheet=sheet,
                           title_level=-1 if fmt in ("tex", "pdf") else 0))
    return _finish(printer, fmt, title)


__all__ = ["FORMATS", "KEY_FORMATS", "export_bytes", "format_of", "key_bytes", "latex_text"]
