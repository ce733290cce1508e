"""The `tutor` command: thin typer commands over the library.

Library errors become one line on stderr and an exit code (2 for bad input,
1 for a computation that diverged); anything else is a bug in tutor and is
reported as such, never as a traceback. Heavy modules are imported inside the
commands, so that `tutor --help` is instant.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Callable

import typer

from .errors import TutorError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="A tutor for backpropagation: worked solutions of problem files, exact to the last digit.",
    pretty_exceptions_enable=False,
)

BUG_REPORT = "tutor: internal error ({}: {}); this is a bug in tutor, please report it with the input file"


class Format(str, Enum):
    text = "text"
    json = "json"


def _terminal() -> tuple[int, bool]:
    """Width and colour for stdout: a terminal's own width and colour unless
    NO_COLOR is set; plain 80 columns when piped (COLUMNS overrides the width)."""
    import os
    import shutil

    tty = sys.stdout.isatty()
    width = shutil.get_terminal_size((80, 24)).columns if tty or "COLUMNS" in os.environ else 80
    return max(width, 40), tty and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def _parse_steps(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        steps = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise typer.BadParameter("expected step numbers separated by commas, e.g. 1,2,10") from None
    if not steps or min(steps) < 1:
        raise typer.BadParameter("step numbers start at 1")
    return steps


def _guarded(action: Callable[[], int]) -> None:
    """Run a command body; map library errors to messages and exit codes."""
    try:
        code = action()
    except TutorError as exc:
        print(str(exc), file=sys.stderr)
        code = exc.exit_code
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # noqa: BLE001 - the one place a bug is turned into a message
        print(BUG_REPORT.format(type(exc).__name__, exc), file=sys.stderr)
        code = 1
    raise typer.Exit(code)


MAX_STEPS = typer.Option(None, "--max-steps", min=0, help="Solve only the first N update steps.")
YES = typer.Option(False, "--yes", "-y", help="Solve even a problem estimated to take over a minute.")


@app.command()
def solve(
    file: Path = typer.Argument(..., help="The problem file (YAML)."),
    format: Format = typer.Option(Format.text, "--format", "-f", help="text: the worked solution; json: every "
                                  "number at full precision."),
    show_all: bool = typer.Option(False, "--all", help="Show everything, not only what the problem asks."),
    digits: int = typer.Option(4, "--digits", min=1, max=17, help="Decimals shown (the numbers stay exact)."),
    steps: str | None = typer.Option(None, "--steps", help="Steps to show in full, e.g. 1,2,10."),
    exact: bool = typer.Option(False, "--exact", help="Solve in exact arithmetic (fractions, e^-2, √2)."),
    max_steps: int | None = MAX_STEPS,
    yes: bool = YES,
) -> None:
    """Solve a problem: every forward value, gradient and update, worked out."""
    chosen_steps = _parse_steps(steps)

    def action() -> int:
        from . import api

        run = api.solve_problem(file, max_steps=max_steps, yes=yes, arithmetic="exact" if exact else None,
                                details=format is not Format.json)
        if format is Format.json:
            from .render.json import render_json

            sys.stdout.write(render_json(run))
        else:
            from .render.terminal import render_terminal

            width, color = _terminal()
            sys.stdout.write(render_terminal(run, width=width, color=color, show_all=show_all, digits=digits,
                                             steps=chosen_steps))
        if run.diverged is not None:
            print(f"{file}: {run.diverged}", file=sys.stderr)
            return 1
        return 0

    _guarded(action)


@app.command()
def check(
    problem: Path = typer.Argument(..., help="The problem file (YAML)."),
    answers: Path | None = typer.Argument(None, help="The student's answers (YAML); see --template."),
    format: Format = typer.Option(Format.text, "--format", "-f", help="text: a graded report; json: machine-readable."),
    template: bool = typer.Option(False, "--template", help="Write an answers file to fill in, instead of checking."),
    output: str | None = typer.Option(None, "--output", "-o", help="With --template: the file to write (default: "
                                      "stdout)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output file."),
) -> None:
    """Check a student's numbers: correct, consistent with their earlier answers, or wrong (and why)."""
    if answers is None and not template:
        raise typer.BadParameter("give the answers file, or --template to write one", param_hint="ANSWERS")

    def action() -> int:
        from .problem import load_problem

        if template:
            from .check import template_yaml

            text = template_yaml(load_problem(problem))
            return _emit(text, output, force)
        from .check import check as check_answers
        from .check import load_answers

        loaded = load_problem(problem)
        report = check_answers(loaded, load_answers(answers, loaded))
        if format is Format.json:
            from .render.check_report import render_check_json

            sys.stdout.write(render_check_json(report))
        else:
            from .render.check_report import render_check_text

            width, color = _terminal()
            sys.stdout.write(render_check_text(report, width=width, color=color))
        return report.exit_code

    _guarded(action)


def _emit(text: str, output: str | None, force: bool) -> int:
    """Write command output to stdout, or atomically to a file."""
    if output is None or output == "-":
        sys.stdout.write(text)
    else:
        from .files import write_output

        write_output(output, text, force=force)
        print(f"wrote {output}", file=sys.stderr)
    return 0


@app.command()
def validate(file: Path = typer.Argument(..., help="The problem file (YAML).")) -> None:
    """Check a problem file without solving it."""

    def action() -> int:
        from .problem import load_problem

        problem = load_problem(file)
        print(f"{file}: ok ({problem.title})")
        return 0

    _guarded(action)


from .cli_export import register as _register_export  # noqa: E402 - the commands need `app` defined

_register_export(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
