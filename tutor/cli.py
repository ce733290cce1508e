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
    json = "json"


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
    format: Format = typer.Option(Format.json, "--format", "-f", help="Output format."),
    max_steps: int | None = MAX_STEPS,
    yes: bool = YES,
) -> None:
    """Solve a problem: every forward value, gradient and update."""

    def action() -> int:
        from . import api
        from .render.json import render_json

        run = api.solve_problem(file, max_steps=max_steps, yes=yes)
        sys.stdout.write(render_json(run))
        if run.diverged is not None:
            print(f"{file}: {run.diverged}", file=sys.stderr)
            return 1
        return 0

    _guarded(action)


@app.command()
def validate(file: Path = typer.Argument(..., help="The problem file (YAML).")) -> None:
    """Check a problem file without solving it."""

    def action() -> int:
        from .problem import load_problem

        problem = load_problem(file)
        print(f"{file}: ok ({problem.title})")
        return 0

    _guarded(action)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
