"""The `export` and `key` commands: thin typer commands over tutor.key.

`register(app)` adds them to the `tutor` app (cli.py calls it). Output goes
through `files.write_output` (atomic; an existing file is kept unless
--force), or to stdout with ``-o -``. Library errors become a message on stderr
and an exit code, as for every other command (cli._guarded).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def _emit(output: str, data: bytes, force: bool) -> None:
    if output == "-":
        sys.stdout.buffer.write(data) if hasattr(sys.stdout, "buffer") else sys.stdout.write(data.decode("utf-8"))
        sys.stdout.flush()
        return
    from .files import write_output

    write_output(output, data, force=force)


def register(app: typer.Typer) -> None:
    """Add `tutor export` and `tutor key` to ``app`` (once)."""
    if any((c.name or getattr(c.callback, "__name__", "")) == "export" for c in app.registered_commands):
        return
    from .cli import MAX_STEPS, YES, _guarded, _parse_steps

    @app.command()
    def export(
        file: Path = typer.Argument(..., help="The problem file (YAML)."),
        output: str = typer.Option(..., "--output", "-o", help="The output file (.md, .tex, .pdf, .html, .json), "
                                   "or - for stdout (with --format)."),
        format: str | None = typer.Option(None, "--format", "-f", help="md, tex, pdf, html or json (default: "
                                          "the output file's suffix)."),
        show_all: bool = typer.Option(False, "--all", help="Show everything, not only what the problem asks."),
        digits: int = typer.Option(4, "--digits", min=1, max=17, help="Decimals shown (the numbers stay exact)."),
        steps: str | None = typer.Option(None, "--steps", help="Steps to show in full, e.g. 1,2,10."),
        force: bool = typer.Option(False, "--force", help="Overwrite an existing output file."),
        max_steps: int | None = MAX_STEPS,
        yes: bool = YES,
    ) -> None:
        """Write a problem's worked solution as Markdown, LaTeX, PDF, HTML or JSON."""
        chosen_steps = _parse_steps(steps)

        def action() -> int:
            from . import api
            from .key import export_bytes, format_of

            fmt = format_of(output, format)
            run = api.solve_problem(file, max_steps=max_steps, yes=yes)
            _emit(output, export_bytes(run, fmt, show_all=show_all, steps=chosen_steps, digits=digits), force)
            if run.diverged is not None:
                print(f"{file}: {run.diverged}", file=sys.stderr)
                return 1
            return 0

        _guarded(action)

    @app.command()
    def key(
        files: list[Path] = typer.Argument(..., help="The problem files (YAML), in the order of the key."),
        output: str = typer.Option(..., "--output", "-o", help="The output file (.pdf, .tex, .md, .html), "
                                   "or - for stdout (with --format)."),
        format: str | None = typer.Option(None, "--format", "-f", help="md, tex, pdf or html (default: the "
                                          "output file's suffix)."),
        answers_only: bool = typer.Option(False, "--answers-only", help="Only the table of answers."),
        sheet: bool = typer.Option(False, "--sheet", help="The students' sheet: statements, given values and "
                                   "blank answer lines; no solutions."),
        show_all: bool = typer.Option(False, "--all", help="Show everything, not only what each problem asks."),
        digits: int = typer.Option(4, "--digits", min=1, max=17, help="Decimals shown (the numbers stay exact)."),
        steps: str | None = typer.Option(None, "--steps", help="Steps to show in full, e.g. 1,2,10."),
        force: bool = typer.Option(False, "--force", help="Overwrite an existing output file."),
        max_steps: int | None = MAX_STEPS,
        yes: bool = YES,
    ) -> None:
        """Write an instructor's answer key (or the students' sheet) for several problems."""
        chosen_steps = _parse_steps(steps)

        def action() -> int:
            from . import api
            from .key import KEY_FORMATS, format_of, key_bytes

            fmt = format_of(output, format, KEY_FORMATS)
            runs = [api.solve_problem(f, max_steps=max_steps, yes=yes) for f in files]
            _emit(output, key_bytes(runs, fmt, answers_only=answers_only, sheet=sheet, show_all=show_all,
                                    steps=chosen_steps, digits=digits), force)
            diverged = [(f, r.diverged) for f, r in zip(files, runs) if r.diverged is not None]
            for f, d in diverged:
                print(f"{f}: {d}", file=sys.stderr)
            return 1 if diverged else 0

        _guarded(action)
