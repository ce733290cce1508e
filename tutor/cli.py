"""The `tutor` command: thin typer commands over the library.

Library errors become one line on stderr and an exit code (2 for bad input,
1 for a computation that diverged); anything else is a bug in tutor and is
reported as such, never as a traceback. Heavy modules are imported inside the
commands, so that `tutor --help` is instant.
"""

from __future__ import annotations

import gc
import sys
from enum import Enum
from pathlib import Path
from typing import Callable

import typer

from .errors import TutorError
from .start import report_divergence as _report_divergence
from .start import defer_sympy_tensors, run_guarded, solve_json
from .start import warn as _warn
from .visible import visible, visible_keeping_colours

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="A tutor for backpropagation: worked solutions of problem files, exact to the last digit.",
    pretty_exceptions_enable=False,
)


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
    raise typer.Exit(run_guarded(action))


def _print_version(wanted: bool) -> None:
    if wanted:
        from . import __version__

        print(f"tutor {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print tutor's version and exit."),
) -> None:
    """Options before the command name; the help text is the app's."""


# Options several commands share: one definition each.
MAX_STEPS = typer.Option(None, "--max-steps", min=0, help="Solve only the first N update steps.")
YES = typer.Option(False, "--yes", "-y", help="Solve even a problem estimated to take over a minute.")
SHOW_ALL = typer.Option(False, "--all", help="Show everything, not only what the problem asks.")
DIGITS = typer.Option(4, "--digits", min=1, max=17, help="Decimals shown (the numbers stay exact).")
STEPS = typer.Option(None, "--steps", help="Steps to show in full, e.g. 1,2,10.")
FORCE = typer.Option(False, "--force", help="Overwrite an existing output file.")
PROBLEM = typer.Argument(..., help="The problem file (YAML); - reads it from standard input.")


def _emit(data: str | bytes, output: str | None, force: bool, inputs: tuple[Path, ...] = ()) -> None:
    """Command output to stdout (no output, or "-"), or atomically to a file. Text
    on stdout goes through `visible`: a problem's title must not drive the terminal."""
    if output is None or output == "-":
        raw = visible_keeping_colours(data).encode("utf-8") if isinstance(data, str) else data
        sys.stdout.buffer.write(raw) if hasattr(sys.stdout, "buffer") else sys.stdout.write(raw.decode("utf-8"))
        sys.stdout.flush()
        return
    from .files import write_output

    write_output(output, data, force=force, inputs=inputs)


def _shown(show_all: bool, steps: list[int] | None):
    """The steps a printer shows in full, for the estimate (limits.Rendering)."""
    return "all" if show_all and steps is None else (tuple(steps) if steps is not None else None)


@app.command()
def solve(
    file: Path = PROBLEM,
    format: Format = typer.Option(Format.text, "--format", "-f", help="text: the worked solution; json: every "
                                  "number at full precision."),
    show_all: bool = SHOW_ALL,
    digits: int = DIGITS,
    steps: str | None = STEPS,
    exact: bool = typer.Option(False, "--exact", help="Solve in exact arithmetic (fractions, e^-2, √2)."),
    max_steps: int | None = MAX_STEPS,
    yes: bool = YES,
) -> None:
    """Solve a problem: every forward value, gradient and update, worked out."""
    chosen_steps = _parse_steps(steps)

    def action() -> int:
        from . import api

        arithmetic = "exact" if exact else None
        if format is Format.json:  # streamed: written step by step as computed (start.py runs it without typer)
            return solve_json(file, max_steps, yes, exact)
        else:
            from .limits import Rendering
            from .render.terminal import render_terminal
            from .solution import build_solution

            run = api.solve_or_derive(file, max_steps=max_steps, yes=yes, arithmetic=arithmetic,
                                      rendering=Rendering("terminal", _shown(show_all, chosen_steps)))
            _warn(run.problem)
            width, color = _terminal()
            if run.problem.arithmetic == "symbolic":
                from .render.symbolic_doc import render_symbolic_terminal

                _emit(render_symbolic_terminal(run, width=width, color=color, show_all=show_all), None, False)
            else:
                solution = build_solution(run, show_all=show_all, digits=digits, steps=chosen_steps)
                _emit(render_terminal(solution, width=width, color=color), None, False)
        return _report_divergence([(file, run.diverged)] if run.diverged else [])

    _guarded(action)


@app.command()
def export(
    file: Path = PROBLEM,
    output: str = typer.Option(..., "--output", "-o", help="The output file (.md, .tex, .pdf, .html, .json), "
                               "or - for stdout (with --format)."),
    format: str | None = typer.Option(None, "--format", "-f", help="md, tex, pdf, html or json (default: "
                                      "the output file's suffix)."),
    show_all: bool = SHOW_ALL,
    digits: int = DIGITS,
    steps: str | None = STEPS,
    force: bool = FORCE,
    max_steps: int | None = MAX_STEPS,
    yes: bool = YES,
) -> None:
    """Write a problem's worked solution as Markdown, LaTeX, PDF, HTML or JSON."""
    chosen_steps = _parse_steps(steps)

    def action() -> int:
        from . import api
        from .key import export_bytes, format_of, output_format

        from .limits import JSON, Rendering

        fmt = format_of(output, format)
        spec = output_format(fmt)
        rendering = JSON if spec.run is not None else Rendering("export", _shown(show_all, chosen_steps))
        run = api.solve_or_derive(file, max_steps=max_steps, yes=yes, rendering=rendering)
        _warn(run.problem)
        if run.problem.arithmetic == "symbolic":
            from .render.symbolic_doc import export_symbolic

            data = export_symbolic(run, fmt, show_all=show_all)
        elif spec.run is not None:   # written from the run itself (JSON)
            data = spec.finish(spec.run(run), [(1, str(file))])
        else:
            from .solution import build_solution
            data = export_bytes(build_solution(run, show_all=show_all, steps=chosen_steps, digits=digits), fmt)
        _emit(data if spec.binary else data.decode("utf-8"), output, force, (file,))
        return _report_divergence([(file, run.diverged)] if run.diverged else [])

    _guarded(action)


@app.command()
def key(
    files: list[Path] = typer.Argument(..., help="The problem files (YAML), in the order of the key; - reads "
                                       "one from standard input."),
    output: str = typer.Option(..., "--output", "-o", help="The output file (.pdf, .tex, .md, .html), "
                               "or - for stdout (with --format)."),
    format: str | None = typer.Option(None, "--format", "-f", help="md, tex, pdf or html (default: the "
                                      "output file's suffix)."),
    answers_only: bool = typer.Option(False, "--answers-only", help="Only the table of answers."),
    sheet: bool = typer.Option(False, "--sheet", help="The students' sheet: statements, given values and "
                               "blank answer lines; no solutions."),
    show_all: bool = SHOW_ALL,
    digits: int = DIGITS,
    steps: str | None = STEPS,
    force: bool = FORCE,
    max_steps: int | None = MAX_STEPS,
    yes: bool = YES,
) -> None:
    """Write an instructor's answer key (or the students' sheet) for several problems."""
    chosen_steps = _parse_steps(steps)

    def action() -> int:
        # A key is built once, then the process exits: the cycle collector frees next to nothing
        # here (peak memory 95.0 -> 95.7 MiB over every shipped problem) but walks the library's
        # objects and the growing solutions again and again (benchmarks/RESULTS.md, row 13).
        gc.disable()
        defer_sympy_tensors()   # (no problem makes a tensor: start.py says why this pays)
        from .key import format_of, key_bytes, key_formats, output_format
        from .api import read_problem
        from .limits import JSON, Rendering, apply_limits_together
        from .train import train
        from .solution import build_solution

        fmt = format_of(output, format, key_formats())
        rendering = JSON if answers_only or sheet else Rendering("export", _shown(show_all, chosen_steps))
        problems = apply_limits_together([read_problem(f) for f in files], max_steps, yes, rendering)
        for problem in problems:
            _warn(problem)
        runs = [train(p) for p in problems]
        solutions = [build_solution(r, show_all=show_all, steps=chosen_steps, digits=digits) for r in runs]
        data = key_bytes(solutions, fmt, answers_only=answers_only, sheet=sheet)
        _emit(data if output_format(fmt).binary else data.decode("utf-8"), output, force, tuple(files))
        return _report_divergence([(f, r.diverged) for f, r in zip(files, runs) if r.diverged is not None])

    _guarded(action)


@app.command()
def lms(
    files: list[Path] = typer.Argument(..., help="The problem files (YAML), in the order of the quiz."),
    output: str = typer.Option(..., "--output", "-o", help="The quiz file: .xml (Moodle XML) or .zip (Canvas "
                               "QTI 1.2), or - for stdout (with --format)."),
    format: str | None = typer.Option(None, "--format", "-f", help="moodle or qti (default: the output file's "
                                      "suffix)."),
    cloze: bool = typer.Option(False, "--cloze", help="Moodle: one cloze question per problem, instead of one "
                               "numerical question per answer."),
    digits: int = DIGITS,
    force: bool = FORCE,
    max_steps: int | None = MAX_STEPS,
    yes: bool = YES,
) -> None:
    """Write a quiz for a course's LMS: the key's answers as numerical questions with their tolerance."""

    def action() -> int:
        from . import api
        from .lms import lms_bytes, lms_format

        fmt = lms_format(None if output == "-" else output, format)
        runs = [api.solve_problem(f, max_steps=max_steps, yes=yes) for f in files]
        diverged = [(f, r.diverged) for f, r in zip(files, runs) if r.diverged is not None]
        if diverged:
            return _report_divergence(diverged)
        _emit(lms_bytes(runs, fmt, cloze=cloze, digits=digits), output, force)
        return 0

    _guarded(action)


@app.command()
def check(
    problem: Path = typer.Argument(..., help="The problem file (YAML); with --gradebook, also a directory of "
                                   "variants (tutor vary)."),
    answers: list[Path] | None = typer.Argument(None, help="The student's answers (YAML); see --template. With "
                                                "--gradebook, every student's."),
    format: Format = typer.Option(Format.text, "--format", "-f", help="text: a graded report; json: machine-readable."),
    template: bool = typer.Option(False, "--template", help="Write an answers file to fill in, instead of checking."),
    output: str | None = typer.Option(None, "--output", "-o", help="With --template: the file to write (default: "
                                      "stdout)."),
    force: bool = FORCE,
    tolerance: str | None = typer.Option(None, "--tolerance", help="The grading tolerance, e.g. 'rel: 1e-4' or "
                                         "'digits: 3' (overrides the problem's check: tolerance)."),
    gradebook: str | None = typer.Option(None, "--gradebook", help="Grade every answers file into this CSV (one row "
                                         "per student), or - for stdout."),
    credit: str = typer.Option("correct=1,consistent=0.5", "--credit", help="With --gradebook: what each verdict "
                               "earns, e.g. correct=1,consistent=0.5,wrong=0."),
    yes: bool = YES,
) -> None:
    """Check a student's numbers: correct, consistent with their earlier answers, or wrong (and why)."""
    answers = answers or []
    if not answers and not template:
        raise typer.BadParameter("give the answers file, or --template to write one", param_hint="ANSWERS")
    if len(answers) > 1 and gradebook is None:
        raise typer.BadParameter("several answers files are graded with --gradebook FILE.csv", param_hint="ANSWERS")

    def action() -> int:
        from .check import tolerance_option

        chosen = tolerance_option(tolerance) if tolerance is not None else None
        if gradebook is not None:
            from .gradebook import grade, gradebook_csv, load_problems, parse_credit

            from .limits import refuse_class_if_too_big

            from .api import with_numbers

            problems = [with_numbers(p) for p in load_problems(problem)]
            refuse_class_if_too_big(problems, len(answers), yes)
            columns, rows = grade(problems, answers, parse_credit(credit), chosen)
            _emit(gradebook_csv(columns, rows), gradebook, force, (problem, *answers))
            return 0
        from .api import read_problem

        loaded = read_problem(problem)
        _warn(loaded)
        if template:
            from .answers import template_yaml

            _emit(template_yaml(loaded), output, force, (problem,))
            return 0
        from .answers import load_answers
        from .check import check as check_answers
        from .limits import CHECK, apply_limits

        apply_limits(loaded, None, yes, CHECK)

        report = check_answers(loaded, load_answers(answers[0], loaded), chosen)
        if format is Format.json:
            from .render.check_report import render_check_json

            _emit(render_check_json(report), None, False)
        else:
            from .render.check_report import render_check_text

            width, color = _terminal()
            _emit(render_check_text(report, width=width, color=color), None, False)
        return report.exit_code

    _guarded(action)


class Per(str, Enum):
    step = "step"
    epoch = "epoch"


PER = typer.Option(Per.step, "--per", help="A point per step (each update) or per epoch (the mean of its steps).")


def _picture(svg: str, output: str, force: bool) -> None:
    """An SVG drawing to a .svg file, or rasterized to .png (by headless Chromium)."""
    from .files import write_output

    if output.lower().endswith(".png"):
        from .plot import png_of

        write_output(output, png_of(svg), force=force)
    else:
        write_output(output, svg, force=force)


@app.command()
def plot(
    file: Path = PROBLEM,
    output: str | None = typer.Option(None, "--output", "-o", help="An SVG (or PNG) file; default: a character "
                                      "plot on stdout."),
    per: Per = PER,
    force: bool = FORCE,
    max_steps: int | None = MAX_STEPS,
    yes: bool = YES,
) -> None:
    """Plot the loss of a problem's training, per step or per epoch."""

    def action() -> int:
        from . import api
        from .plot import loss_plot

        run = api.solve_problem(file, max_steps=max_steps, yes=yes, details=False)
        drawn = loss_plot(run, per.value)
        if output is None or output == "-":
            from .render.textplot import text_plot

            _emit(text_plot(drawn, width=_terminal()[0]), None, False)
        else:
            from .render.svg import plot_svg

            _picture(plot_svg(drawn), output, force)
        return _report_divergence([(file, run.diverged)] if run.diverged else [])

    _guarded(action)


@app.command()
def compare(
    file: Path = PROBLEM,
    optimizer: str | None = typer.Option(None, "--optimizer", help="Optimizers to compare, e.g. sgd,momentum,adam."),
    lr: str | None = typer.Option(None, "--lr", help="Learning rates to compare, e.g. 0.01,0.1,1."),
    loss: str | None = typer.Option(None, "--loss", help="Losses to compare, e.g. mse,bce."),
    output: str | None = typer.Option(None, "--output", "-o", help="Also draw the curves to an SVG (or PNG) file."),
    surface: str | None = typer.Option(None, "--surface", help="For a problem with two trained parameters: draw "
                                       "each run's path over the loss surface's contours to an SVG (or PNG) file."),
    per: Per = PER,
    force: bool = FORCE,
    max_steps: int | None = MAX_STEPS,
    yes: bool = YES,
) -> None:
    """Solve a problem under several optimizers, learning rates or losses: final losses and curves."""

    def action() -> int:
        from .api import read_problem
        from .compare import compare as compare_runs
        from .compare import split_list
        from .limits import apply_limits
        from .render.textplot import comparison_text

        problem = apply_limits(read_problem(file), max_steps, yes)
        result = compare_runs(problem, optimizers=split_list(optimizer, "optimizer names") if optimizer else None,
                              lrs=split_list(lr, "learning rates") if lr else None,
                              losses=split_list(loss, "loss names") if loss else None, per=per.value)
        drawings = []   # made before anything is written: an error leaves no file behind
        if output is not None:
            from .render.svg import plot_svg

            drawings.append((plot_svg(result.plot), output))
        if surface is not None:
            from .render.svg import surface_svg
            from .surface import loss_surface

            drawings.append((surface_svg(loss_surface(problem, [(v.label, v.run) for v in result.variants])),
                             surface))
        for svg, path in drawings:
            _picture(svg, path, force)
        _emit(comparison_text(result, width=_terminal()[0]), None, False)
        return 0

    _guarded(action)


@app.command()
def vary(
    file: Path = PROBLEM,
    count: int | None = typer.Option(None, "-n", "--count", min=1, help="How many variants (v01, v02, ...)."),
    seed: int = typer.Option(0, "--seed", help="The random seed: the same seed gives the same variants."),
    output: Path = typer.Option(..., "--output", "-o", help="The directory for the variant files."),
    ids: Path | None = typer.Option(None, "--ids", help="A file of student ids, one a line: one variant each, "
                                    "named by the id."),
    force: bool = FORCE,
) -> None:
    """Write variants of a problem (its vary: section says what varies and the rules they meet)."""

    def action() -> int:
        from .vary import make_variants, read_ids, variant_ids, write_variants

        chosen = variant_ids(count, read_ids(ids) if ids is not None else None)
        paths = write_variants(make_variants(file, chosen, seed), output, force)
        print(visible(f"{len(paths)} variants of {file} in {output}/ (seed {seed})", one_line=True), file=sys.stderr)
        return 0

    _guarded(action)


@app.command()
def validate(files: list[Path] = typer.Argument(..., help="The problem files (YAML); - reads one from "
                                                "standard input.")) -> None:
    """Check problem files without solving them: one line each, exit 2 if any is invalid."""

    def action() -> int:
        from .api import STDIN, STDIN_NAME, read_problem

        code = 0
        for file in files:
            try:
                problem = read_problem(file, symbolic=True)
            except TutorError as exc:  # report it and go on: every file gets its line
                print(visible(str(exc), one_line=True), file=sys.stderr)
                code = max(code, exc.exit_code)
                continue
            _warn(problem)
            print(visible(f"{STDIN_NAME if str(file) == STDIN else file}: ok ({problem.title})", one_line=True))
        return code

    _guarded(action)


def main() -> None:
    """The console script (start.main: a fast path for `solve --format json`, then this app)."""
    from .start import main as start

    start()


if __name__ == "__main__":
    main()
