"""Answer keys and student sheets over several problems, and single-problem exports.

An answer key and a blank worksheet are the same solutions printed with the
answers on or off: one numbered section per problem (title, statement, then
either the full worked solution with its answers boxed, or the given values
and blank answer lines), and for a key a table of the answers first. Every
format spells the blocks of the one walk (`render.walk.walk_key`); this module
only picks the format, among those the backend modules declare (`render.formats`).
The library never writes files: `export_bytes` and `key_bytes` return the bytes,
cli.py writes them (atomically). Both take solved
`Solution`s (`solution.build_solution`): nothing here runs the engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .errors import TutorError
from .records import Solution
from .render.formats import OutputFormat, output_formats
from .render.latex import ExportError, latex_text
from .render.walk import walk_key


def export_formats() -> tuple[str, ...]:
    """Every format `tutor export` writes (each declared by its module in tutor/render)."""
    return tuple(output_formats())


def key_formats() -> tuple[str, ...]:
    """The formats of an answer key or a sheet."""
    return tuple(name for name, f in output_formats().items() if f.key is not None)


def output_format(fmt: str) -> OutputFormat:
    found = output_formats().get(fmt)
    if found is None:
        raise TutorError(f"error: unknown export format {fmt!r}; expected one of {', '.join(export_formats())}")
    return found


def format_of(path: str | Path | None, given: str | None, allowed: Sequence[str] | None = None) -> str:
    """The output format: --format if given, else the output file's suffix."""
    allowed = export_formats() if allowed is None else allowed
    if given:
        fmt = given.lower().lstrip(".")
    elif path is None or str(path) == "-":
        raise TutorError("error: writing to stdout needs --format (" + ", ".join(allowed) + ")")
    else:
        fmt = Path(path).suffix.lower().lstrip(".")
        fmt = next((name for name, f in output_formats().items() if fmt in f.suffixes), fmt)
        if not fmt:
            raise TutorError(f"{path}: error: no file suffix to tell the format; use --format "
                             f"({', '.join(allowed)})")
    if fmt not in allowed:
        raise TutorError(f"error: unknown export format {fmt!r}; expected one of {', '.join(allowed)}")
    return fmt


def export_bytes(solution: Solution, fmt: str) -> bytes:
    """One problem's worked solution in ``fmt`` (md, tex, pdf, html; JSON is written from the run,
    by `render.json`)."""
    spec = output_formats().get(fmt)
    if spec is None or spec.solution is None:
        able = [name for name, f in output_formats().items() if f.solution is not None]
        raise ExportError(f"error: a worked solution is exported as {', '.join(able)}, not {fmt}")
    return spec.finish(spec.solution(solution), [(1, solution.source)])


def key_bytes(solutions: Sequence[Solution], fmt: str, *, answers_only: bool = False,
              sheet: bool = False) -> bytes:
    """An answer key (or, with ``sheet``, the students' problem sheet) over ``solutions``."""
    spec = output_formats().get(fmt)
    if spec is None or spec.key is None:
        raise ExportError(f"error: a key is written as {', '.join(key_formats())}, not {fmt}")
    if answers_only and sheet:
        raise TutorError("error: --answers-only and --sheet exclude each other")
    digits = max((s.shown_digits for s in solutions), default=4)
    title = "Problem sheet" if sheet else ("Answers" if answers_only else "Answer key")
    text, sources = spec.key(lambda level: walk_key(list(solutions), answers_only=answers_only, sheet=sheet,
                                                    title_level=level), digits, title)
    return spec.finish(text, sources)


__all__ = ["export_bytes", "export_formats", "format_of", "key_bytes", "key_formats", "latex_text", "output_format"]
