"""What several test files share: goldens, and the library's output from a solved run.

Goldens: `check_golden` compares a text with its file; ``TUTOR_UPDATE_GOLDEN=1``
rewrites the file instead (read the diff before committing it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

UPDATE_GOLDEN = os.environ.get("TUTOR_UPDATE_GOLDEN") == "1"


def check_golden(golden: Path, text: str) -> None:
    """``text`` is the golden file's text (or, when updating, becomes it)."""
    if UPDATE_GOLDEN:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden {golden.name}: run with TUTOR_UPDATE_GOLDEN=1 and review it"
    assert text == golden.read_text(encoding="utf-8"), f"{golden.name} differs (TUTOR_UPDATE_GOLDEN=1 to review)"


def terminal_text(run, *, width: int = 80, color: bool = False, show_all: bool = False, digits: int = 4,
                  steps: list[int] | None = None) -> str:
    """The terminal's worked solution of a solved run, as `tutor solve` prints it."""
    from tutor.render.terminal import render_terminal
    from tutor.solution import build_solution

    return render_terminal(build_solution(run, show_all=show_all, steps=steps, digits=digits), width=width,
                           color=color)


def export_run(run, fmt: str, *, show_all: bool = False, steps: list[int] | None = None,
               digits: int = 4) -> bytes:
    """A solved run exported as `tutor export` writes it (json from the run itself)."""
    if fmt == "json":
        from tutor.render.json import render_json
        return render_json(run).encode("utf-8")
    from tutor.key import export_bytes
    from tutor.solution import build_solution

    return export_bytes(build_solution(run, show_all=show_all, steps=steps, digits=digits), fmt)


def key_runs(runs: Sequence, fmt: str, *, answers_only: bool = False, sheet: bool = False,
             show_all: bool = False, steps: list[int] | None = None, digits: int = 4) -> bytes:
    """The key (or sheet) over solved runs, as `tutor key` writes it."""
    from tutor.key import key_bytes
    from tutor.solution import build_solution

    return key_bytes([build_solution(r, show_all=show_all, steps=steps, digits=digits) for r in runs], fmt,
                     answers_only=answers_only, sheet=sheet)
