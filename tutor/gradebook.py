"""A class's answers files graded into one CSV (`tutor check ... --gradebook`).

One row per answers file: who wrote it, which variant, the score, a verdict
for every slot of the answers template (correct, consistent, wrong, blank),
the first slip diagnosed, and notes. A file that cannot be read is a row with
its located error in the notes, never a crash. Each answers file is graded
against the problem whose ``meta: {variant}`` its ``variant:`` names (with one
problem and no variants, against that problem).

Score: the instructor's credit per verdict (default correct 1, consistent 0.5,
wrong 0, blank 0), summed over the template's slots.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .answers import Key, answers_variant, label, load_answers, template_yaml, parse_answers
from .check import CheckReport, check
from .derive import derive
from .errors import ProblemError, TutorError
from .graph import build_graph
from .problem import Problem
from .tolerance import Tolerance

VERDICTS = ("correct", "consistent", "wrong")
FIXED_COLUMNS = ("student", "variant", "answers", "score", "out_of")


class GradebookError(TutorError):
    pass


@dataclass(frozen=True)
class Credit:
    """What each verdict earns: partial credit for an answer consistent with earlier mistakes."""

    correct: float = 1.0
    consistent: float = 0.5
    wrong: float = 0.0

    def of(self, verdict: str) -> float:
        return getattr(self, verdict) if verdict in VERDICTS else 0.0


def parse_credit(text: str) -> Credit:
    """``correct=1,consistent=0.5`` (the verdicts not named keep their defaults)."""
    given: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        verdict, eq, number = part.partition("=")
        verdict = verdict.strip()
        if not eq or verdict not in VERDICTS:
            raise GradebookError(f"error: --credit expects verdict=number pairs ({', '.join(VERDICTS)}), "
                                 f"e.g. correct=1,consistent=0.5; found {part!r}")
        try:
            value = float(number)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0:
            raise GradebookError(f"error: --credit {verdict} must be a number ≥ 0, found {number.strip()!r}")
        given[verdict] = value
    return Credit(**given)


@dataclass(frozen=True)
class Row:
    student: str
    variant: str
    answers: str
    score: float | None                 # None: not graded (see notes)
    out_of: int
    verdicts: dict[Key, str]
    first_slip: str
    notes: str


def slots(problem: Problem) -> list[Key]:
    """The quantities the answers template asks for, in the solution's order."""
    blank = parse_answers(template_yaml(problem), problem, "<template>")
    return list(blank.blanks)


def match_problem(problems: Sequence[Problem], answers_path: str | Path) -> tuple[Problem | None, str, str]:
    """(the problem to grade against, the variant named, a note when there is none)."""
    named = answers_variant(answers_path)
    by_variant = {str(p.meta["variant"]): p for p in problems if p.meta.get("variant") is not None}
    if len(problems) == 1:
        own = problems[0].meta.get("variant")
        if named is not None and own is not None and named != str(own):
            return None, named, f"written for variant {named}, not {own} (the problem given)"
        return problems[0], named or ("" if own is None else str(own)), ""
    if named is None:
        return None, "", "names no variant (add variant: ID to the answers file)"
    if named not in by_variant:
        return None, named, f"variant {named} is not among the problems given"
    return by_variant[named], named, ""


def grade(problems: Sequence[Problem], answers_paths: Sequence[str | Path], credit: Credit = Credit(),
          tolerance: Tolerance | None = None) -> tuple[list[Key], list[Row]]:
    if not problems:
        raise GradebookError("error: no problem to grade against")
    columns = slots(problems[0])
    derivations = {}
    rows = []
    for path in answers_paths:
        path = str(path)
        fallback = Path(path).stem
        if not Path(path).is_file():
            rows.append(Row(fallback, "", path, None, len(columns), {}, "", f"{path}:1:1: error: cannot read file"))
            continue
        problem, variant, note = match_problem(problems, path)
        if problem is None:
            rows.append(Row(fallback, variant, path, None, len(columns), {}, "", note))
            continue
        if id(problem) not in derivations:
            derivations[id(problem)] = derive(build_graph(problem))
        try:
            answers = load_answers(path, problem, derivations[id(problem)])
        except ProblemError as exc:
            rows.append(Row(fallback, variant, path, None, len(columns), {}, "", str(exc)))
            continue
        report = check(problem, answers, tolerance)
        rows.append(_row(report, answers.student or fallback, variant, path, slots(problem), credit))
    return columns, rows


def _row(report: CheckReport, student: str, variant: str, path: str, asked: list[Key], credit: Credit) -> Row:
    verdicts = {r.key: r.verdict for r in report.results}
    score = sum(credit.of(verdicts.get(key, "blank")) for key in asked)
    notes = "no answers" if not report.results else ""
    return Row(student, variant, path, score, len(asked), verdicts, _first_slip(report), notes)


def _first_slip(report: CheckReport) -> str:
    first = report.first_wrong
    if first is None:
        return ""
    found = ", ".join(d.rule for d in first.diagnoses) or "no slip found"
    return f"{label(first.key)}: {found}"


def gradebook_csv(columns: list[Key], rows: Sequence[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*FIXED_COLUMNS, *(label(key) for key in columns), "first_slip", "notes"])
    for row in rows:
        score = "" if row.score is None else f"{row.score:g}"
        verdicts = [row.verdicts.get(key, "blank") if row.score is not None else "" for key in columns]
        writer.writerow([row.student, row.variant, row.answers, score, row.out_of, *verdicts, row.first_slip,
                         row.notes])
    return out.getvalue()


def load_problems(path: str | Path) -> list[Problem]:
    """A problem file, or a directory of variants (every *.yaml in it, by name)."""
    from .problem import load_problem

    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.yaml"))
        if not files:
            raise GradebookError(f"{path}: error: no problem files (*.yaml) in this directory")
        problems = [load_problem(f) for f in files]
        ids = [p.meta.get("variant") for p in problems]
        missing = next((f for f, i in zip(files, ids) if i is None), None)
        if missing is not None:
            raise GradebookError(f"{missing}: error: a problem in a directory of variants needs meta: {{variant: ID}}")
        return problems
    return [load_problem(path)]
