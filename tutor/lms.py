"""Quizzes for a course's LMS (`tutor lms`): Moodle XML and Canvas QTI 1.2.

Each problem becomes, per answer its key lists (docs/instructors.md), a
numerical question: the problem's statement, model and given values (the
student sheet of `tutor key --sheet`, in HTML) with that one answer asked,
the key's number with an absolute tolerance, and the worked solution as
general feedback. With ``cloze``, a Moodle problem is one cloze question
with a ``{1:NUMERICAL:=value:tolerance}`` field per answer.

Tolerances: the LMS compares |given − value| ≤ tolerance; the tolerance is
the instructor's rule (tutor/tolerance.py) turned into that one number per
answer: rel × |value|, or for an updated parameter rel × |θ_new − θ_old| (the
checker judges an update by its step), 0.5·10⁻ᴺ with {digits: N}.

The library returns bytes; nothing depends on the clock or the machine: the
zip's entries are sorted and dated 1980-01-01.
"""

from __future__ import annotations

import hashlib
import html
import io
import zipfile
from decimal import ROUND_CEILING, Decimal
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence
from xml.etree import ElementTree as ET

from .errors import TutorError
from .render.html import HtmlPrinter
from .train import Run

LMS_FORMATS = ("moodle", "qti")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Blank:
    """One number a student gives in the LMS."""

    label: str          # as the worked solution writes it: o1, E, ∂E/∂w21, w21
    where: str          # step 1, step 1, updated, after training
    value: float
    tolerance: float    # absolute: accepted when |given − value| ≤ tolerance


@dataclass(frozen=True)
class QuizProblem:
    title: str
    variant: str | None
    sheet: list[str]              # the question's HTML, before the answers
    blanks: tuple[Blank, ...]
    feedback: str                 # the worked solution, HTML


def lms_format(path: str | Path | None, given: str | None) -> str:
    if given:
        fmt = given.lower()
    elif path is not None and Path(str(path)).suffix.lower() in (".xml", ".zip"):
        fmt = "moodle" if Path(str(path)).suffix.lower() == ".xml" else "qti"
    else:
        raise TutorError("error: say --format moodle (an .xml file) or --format qti (a .zip for Canvas)")
    if fmt not in LMS_FORMATS:
        raise TutorError(f"error: unknown LMS format {fmt!r}; expected one of {', '.join(LMS_FORMATS)}")
    return fmt


def quiz_problem(run: Run, digits: int = 4) -> QuizProblem:
    """A problem's sheet, its answers with their tolerances, and its worked solution."""
    from .check import Judge, effective_tolerance, world_of_run
    from .render.html import check_available
    from .render.walk import answer_where, walk_sheet, walk_solution
    from .solution import build_solution

    check_available()
    problem = run.problem
    solution = build_solution(run, digits=digits, figures=False)
    answers = solution.answers
    tolerance = effective_tolerance(problem)
    judge = Judge(tolerance, world_of_run(run))
    f = run.domain.to_float
    blanks = []
    for a in answers:
        value = f(a.value)
        before = _before(run, a)
        if before is not None and tolerance.digits is None:
            width = tolerance.half_width(value - before, judge.scale.get("step", 0.0))
        else:  # a final answer that is not a parameter is the final loss
            kind = "loss" if a.kind == "final" else _KIND.get(a.kind, a.kind)
            width = tolerance.half_width(value, judge.scale.get(kind, 0.0))
        blanks.append(Blank(a.label, answer_where(a), value, width))

    sheet = _SheetPrinter(digits=digits)
    sheet.spell(walk_sheet(solution))
    worked = HtmlPrinter(digits=digits)
    worked.spell(walk_solution(solution, title=False, figure=False, chart=False))
    variant = problem.meta.get("variant")
    return QuizProblem(problem.title, None if variant is None else str(variant), sheet.out, tuple(blanks),
                       "\n".join(worked.out))


_KIND = {"forward": "values", "update": "step", "final": "step"}   # the key's kinds, as check.Judge scales them


def _before(run: Run, answer) -> float | None:
    """θ before the step of an updated (or final) parameter: an update is judged by its step."""
    f = run.domain.to_float
    if answer.kind == "update":
        return f(run.steps[answer.step - 1].parameters_before[answer.label])
    if answer.kind == "final" and answer.label in run.initial:
        return f(run.initial[answer.label])
    return None


class _SheetPrinter(HtmlPrinter):
    """The student sheet without its list of blank answer lines (the LMS asks them)."""

    def blank_lines(self, items) -> None:
        if self.out and self.out[-1].startswith("<h"):
            self.out.pop()   # the "Answers" heading above the blank lines


def _name(q: QuizProblem) -> str:
    return q.title + (f" (variant {q.variant})" if q.variant is not None else "")


def _number(x: float) -> str:
    return repr(float(x))


def _width(x: float) -> str:
    """A tolerance at 6 significant digits, rounded up (never narrower than the rule,
    once the double's own noise in the 12th digit is set aside: 1.5e-4, not 1.50001e-4)."""
    if not x > 0:
        return "0"
    exact = Decimal(repr(float(x)))
    clean = exact.quantize(Decimal(1).scaleb(exact.adjusted() - 11))
    return format(clean.quantize(Decimal(1).scaleb(clean.adjusted() - 5), rounding=ROUND_CEILING).normalize(), "g")


def _asked(blank: Blank) -> str:
    return f"<p>Give {html.escape(blank.label)} ({html.escape(blank.where)}).</p>"


# ---------------------------------------------------------------- Moodle XML

def moodle_xml(quiz: Sequence[QuizProblem], cloze: bool = False) -> bytes:
    root = ET.Element("quiz")
    for q in quiz:
        if cloze:
            _moodle_cloze(root, q)
        else:
            for n, blank in enumerate(q.blanks, 1):
                _moodle_numerical(root, q, n, blank)
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"


def _text(parent: ET.Element, tag: str, text: str, fmt: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(element, "text").text = text
    return element


def _moodle_common(question: ET.Element, name: str, text: str, feedback: str, idnumber: str) -> None:
    _text(question, "name", name)
    _text(question, "questiontext", text, "html")
    _text(question, "generalfeedback", feedback, "html")
    ET.SubElement(question, "defaultgrade").text = "1"
    ET.SubElement(question, "penalty").text = "0"
    ET.SubElement(question, "hidden").text = "0"
    ET.SubElement(question, "idnumber").text = idnumber


def _moodle_numerical(root: ET.Element, q: QuizProblem, n: int, blank: Blank) -> None:
    question = ET.SubElement(root, "question", {"type": "numerical"})
    text = "\n".join([*q.sheet, _asked(blank)])
    _moodle_common(question, f"{_name(q)}: {blank.label} ({blank.where})", text, q.feedback,
                   _ident(q, n))
    answer = ET.SubElement(question, "answer", {"fraction": "100", "format": "moodle_auto_format"})
    ET.SubElement(answer, "text").text = _number(blank.value)
    ET.SubElement(answer, "tolerance").text = _width(blank.tolerance)
    _text(answer, "feedback", "", "html")
    ET.SubElement(question, "unitgradingtype").text = "0"
    ET.SubElement(question, "unitpenalty").text = "0"
    ET.SubElement(question, "showunits").text = "3"   # no units
    ET.SubElement(question, "unitsleft").text = "0"


def _moodle_cloze(root: ET.Element, q: QuizProblem) -> None:
    question = ET.SubElement(root, "question", {"type": "cloze"})
    fields = "\n".join(f"<li>{html.escape(b.label)} = {{1:NUMERICAL:={_number(b.value)}:{_width(b.tolerance)}}} "
                       f"({html.escape(b.where)})</li>" for b in q.blanks)
    text = "\n".join([*q.sheet, f"<ol>\n{fields}\n</ol>"])
    _moodle_common(question, _name(q), text, q.feedback, _ident(q, 0))


def _ident(q: QuizProblem, n: int) -> str:
    """A stable id for a question: from the problem's title, variant and the answer's place."""
    digest = hashlib.sha256(f"{q.title}\0{q.variant}\0{n}".encode("utf-8")).hexdigest()[:12]
    return f"tutor-{digest}-{n}"


# ---------------------------------------------------------------- Canvas QTI 1.2

QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"


def qti_zip(quiz: Sequence[QuizProblem], title: str = "tutor quiz") -> bytes:
    """A QTI 1.2 package: imsmanifest.xml and one assessment, as Canvas imports it."""
    ident = "tutor-" + hashlib.sha256("\0".join(_name(q) for q in quiz).encode("utf-8")).hexdigest()[:16]
    assessment = _qti_assessment(quiz, ident, title)
    files = {"imsmanifest.xml": _manifest(ident), f"{ident}/{ident}.xml": assessment}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return out.getvalue()


def _xml(root: ET.Element) -> bytes:
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"


def _manifest(ident: str) -> bytes:
    manifest = ET.Element("manifest", {"identifier": f"{ident}-manifest", "xmlns": CP_NS})
    metadata = ET.SubElement(manifest, "metadata")
    ET.SubElement(metadata, "schema").text = "IMS Content"
    ET.SubElement(metadata, "schemaversion").text = "1.1.3"
    ET.SubElement(manifest, "organizations")
    resources = ET.SubElement(manifest, "resources")
    resource = ET.SubElement(resources, "resource", {"identifier": ident, "type": "imsqti_xmlv1p2",
                                                     "href": f"{ident}/{ident}.xml"})
    ET.SubElement(resource, "file", {"href": f"{ident}/{ident}.xml"})
    return _xml(manifest)


def _field(parent: ET.Element, label: str, entry: str) -> None:
    field = ET.SubElement(parent, "qtimetadatafield")
    ET.SubElement(field, "fieldlabel").text = label
    ET.SubElement(field, "fieldentry").text = entry


def _mattext(parent: ET.Element, text: str) -> None:
    ET.SubElement(ET.SubElement(parent, "material"), "mattext", {"texttype": "text/html"}).text = text


def _qti_assessment(quiz: Sequence[QuizProblem], ident: str, title: str) -> bytes:
    root = ET.Element("questestinterop", {"xmlns": QTI_NS})
    assessment = ET.SubElement(root, "assessment", {"ident": ident, "title": title})
    metadata = ET.SubElement(ET.SubElement(assessment, "qtimetadata"), "qtimetadatafield")
    ET.SubElement(metadata, "fieldlabel").text = "cc_maxattempts"
    ET.SubElement(metadata, "fieldentry").text = "1"
    section = ET.SubElement(assessment, "section", {"ident": "root_section"})
    for q in quiz:
        for n, blank in enumerate(q.blanks, 1):
            _qti_item(section, q, n, blank)
    return _xml(root)


def _qti_item(section: ET.Element, q: QuizProblem, n: int, blank: Blank) -> None:
    item = ET.SubElement(section, "item", {"ident": _ident(q, n),
                                           "title": f"{_name(q)}: {blank.label} ({blank.where})"})
    meta = ET.SubElement(ET.SubElement(item, "itemmetadata"), "qtimetadata")
    _field(meta, "question_type", "numerical_question")
    _field(meta, "points_possible", "1.0")
    presentation = ET.SubElement(item, "presentation")
    _mattext(presentation, "\n".join([*q.sheet, _asked(blank)]))
    response = ET.SubElement(presentation, "response_str", {"ident": "response1", "rcardinality": "Single"})
    ET.SubElement(ET.SubElement(response, "render_fib", {"fibtype": "Decimal"}), "response_label",
                  {"ident": "answer1"})
    processing = ET.SubElement(item, "resprocessing")
    outcomes = ET.SubElement(processing, "outcomes")
    ET.SubElement(outcomes, "decvar", {"maxvalue": "100", "minvalue": "0", "varname": "SCORE",
                                       "vartype": "Decimal"})
    condition = ET.SubElement(processing, "respcondition", {"continue": "No"})
    either = ET.SubElement(ET.SubElement(condition, "conditionvar"), "or")
    ET.SubElement(either, "varequal", {"respident": "response1"}).text = _number(blank.value)
    bounds = ET.SubElement(either, "and")
    ET.SubElement(bounds, "vargte", {"respident": "response1"}).text = _number(blank.value - float(_width(blank.tolerance)))
    ET.SubElement(bounds, "varlte", {"respident": "response1"}).text = _number(blank.value + float(_width(blank.tolerance)))
    ET.SubElement(condition, "setvar", {"action": "Set", "varname": "SCORE"}).text = "100"
    ET.SubElement(condition, "displayfeedback", {"feedbacktype": "Response", "linkrefid": "general_fb"})
    feedback = ET.SubElement(item, "itemfeedback", {"ident": "general_fb"})
    _mattext(ET.SubElement(feedback, "flow_mat"), q.feedback)


def lms_bytes(runs: Sequence[Run], fmt: str, *, cloze: bool = False, digits: int = 4) -> bytes:
    if cloze and fmt != "moodle":
        raise TutorError("error: --cloze is a Moodle question type; a QTI quiz has one question per answer")
    quiz = [quiz_problem(run, digits) for run in runs]
    return moodle_xml(quiz, cloze) if fmt == "moodle" else qti_zip(quiz)
