"""The console script `tutor` (and `python -m tutor`): the command, then the exit.

`tutor solve FILE --format json` is the command other programs run, often many
times; the CLI library's import and set-up would be a tenth of its cost. So
`main` reads that one form of command line itself (the file, --format json,
and any of --exact, --yes, --max-steps N) and runs what `cli.solve` runs for it;
any other command line, including every mistake and request for help, goes to
the typer app in `cli`, which answers as always. This module imports nothing
heavy: the library is imported by the command that needs it.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import os
import sys
import types
from pathlib import Path
from typing import Callable, Iterator, TextIO

from .errors import TutorError
from .visible import visible

BUG_REPORT = "tutor: internal error ({}: {}); this is a bug in tutor, please report it with the input file"


def main() -> None:
    """Run the command, then exit without tearing down the objects it made (SymPy's
    caches and expressions: a tenth of a second)."""
    code = _solve_json_fast(sys.argv[1:])
    if code is None:
        code = _typer_app()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _typer_app() -> int:
    app = import_uncollected(".cli").app

    try:
        app(prog_name="tutor")  # also under `python -m tutor`
        return 0
    except SystemExit as exc:
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)


def _solve_json_fast(args: list[str]) -> int | None:
    """`tutor solve FILE --format json [--exact] [--yes] [--max-steps N]`, options in
    any order, each at most once, run without typer; None for any other command line."""
    if len(args) < 3 or args[0] != "solve":
        return None
    file: str | None = None
    seen: dict[str, str | None] = {}
    rest = iter(args[1:])
    for arg in rest:
        if arg in ("--format", "-f"):
            name, value = "format", next(rest, None)
        elif arg.startswith("--format="):
            name, value = "format", arg.removeprefix("--format=")
        elif arg == "--exact":
            name, value = "exact", None
        elif arg in ("--yes", "-y"):
            name, value = "yes", None
        elif arg == "--max-steps":
            name, value = "max-steps", next(rest, None)
            if value is None or not (value.isascii() and value.isdigit()):
                return None
        elif arg == "-" or (arg and not arg.startswith("-")):
            if file is not None:
                return None
            file = arg
            continue
        else:
            return None
        if name in seen:
            return None
        seen[name] = value
    if file is None or seen.get("format", "text") != "json":
        return None
    max_steps = int(seen["max-steps"]) if "max-steps" in seen else None
    defer_sympy_tensors()
    import_uncollected(".api")
    return run_guarded(lambda: solve_json(Path(file), max_steps, "yes" in seen, "exact" in seen))


def import_uncollected(module: str) -> types.ModuleType:
    """Import a module of tutor (and the libraries it imports) with the cyclic garbage
    collector paused. Importing SymPy and tutor makes some 55,000 objects that live as
    long as the process, and almost no garbage; the 160-odd collections the import
    would trigger walk them again and again, an eighth of `import sympy`'s time.
    Afterwards they are frozen (left out of every later collection, which then looks
    only at what the command makes) and collection resumes. For the console script
    only: a program that imports tutor keeps its own collector as it is."""
    gc.disable()
    try:
        return importlib.import_module(module, __package__)
    finally:
        gc.freeze()
        gc.enable()


def defer_sympy_tensors() -> None:
    """SymPy's Add imports its tensor module the first time it adds (to ask whether a
    term is a tensor): that module imports the combinatorics package, which builds
    its polyhedra, a twentieth of a JSON solve. A solve makes no tensor, so the process
    gets a stand-in whose two classes nothing is an instance of; anything that asks it
    for more gets the real module, which replaces it from then on. Only for the
    command above: tutor as a library leaves SymPy alone."""
    name = "sympy.tensor.tensor"
    if name in sys.modules:
        return
    stand_in = types.ModuleType(name, "A stand-in until the real module is needed (tutor/start.py).")

    class TensExpr:  # noqa: D101 - stand-ins: no object is an instance of these
        pass

    class TensAdd(TensExpr):
        pass

    def real(attribute: str):
        if attribute.startswith("__"):  # the import system asks for __path__, __spec__ ...
            raise AttributeError(attribute)
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
        return getattr(importlib.import_module(name), attribute)

    stand_in.TensExpr, stand_in.TensAdd, stand_in.__getattr__ = TensExpr, TensAdd, real
    sys.modules[name] = stand_in


def solve_json(file: Path, max_steps: int | None, yes: bool, exact: bool) -> int:
    """`tutor solve FILE --format json`: the solution streamed to stdout as computed."""
    from . import api

    with utf8_stdout() as out:
        run = api.write_solution_json(file, out, max_steps=max_steps, yes=yes,
                                      arithmetic="exact" if exact else None)
    warn(run.problem)
    return report_divergence([(file, run.diverged)] if run.diverged else [])


def run_guarded(action: Callable[[], int]) -> int:
    """Run a command body; map library errors to messages and exit codes."""
    try:
        return action()
    except TutorError as exc:
        print(visible(str(exc), one_line=True), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place a bug is turned into a message
        print(visible(BUG_REPORT.format(type(exc).__name__, exc), one_line=True), file=sys.stderr)
        return 1


def warn(problem) -> None:
    """A problem's warnings (valid input that is probably a mistake), one line each on stderr."""
    for warning in problem.warnings:
        print(visible(str(warning), one_line=True), file=sys.stderr)


@contextlib.contextmanager
def utf8_stdout() -> Iterator[TextIO]:
    """stdout as UTF-8 text with "\n" line ends, whatever the locale, for streamed output."""
    if not hasattr(sys.stdout, "buffer"):
        yield sys.stdout
        return
    sys.stdout.flush()
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")
    try:
        yield out
    finally:
        out.flush()
        out.detach()  # leaves sys.stdout's own buffer open


def report_divergence(diverged: list[tuple[Path, object]]) -> int:
    for file, error in diverged:
        print(visible(f"{file}: {error}", one_line=True), file=sys.stderr)
    return 1 if diverged else 0
