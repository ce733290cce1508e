"""Printers of a `CheckReport`: the --format json object and the terminal report.

Printers never compute: every number and verdict comes from tutor.check.
"""

from __future__ import annotations

import io
import json
from typing import Any

from rich.cells import cell_len
from rich.color import ColorSystem
from rich.console import Console
from rich.style import Style
from rich.table import Table
from rich.text import Text

from ..check import AnswerResult, CheckReport
from ..visible import json_visible, visible, visible_keeping_colours
from .numbers import significant_text

VERDICT_STYLE = {"correct": "green", "consistent": "yellow", "wrong": "bold red"}
VERDICT_WORD = {"correct": "correct", "consistent": "consistent with your earlier answers", "wrong": "wrong"}


def check_report_dict(report: CheckReport) -> dict[str, Any]:
    first = report.first_wrong
    return {
        "title": report.title,
        "correct": report.count("correct"),
        "wrong": report.count("wrong"),
        "consistent": report.count("consistent"),
        "tolerance": report.tolerance.as_dict(),
        "first_wrong": _entry(first) if first else None,
        "answers": [_entry(r) for r in report.results],
        "findings": [{"rule": f.rule, "explanation": f.explanation,
                      "answers": [{"step": r.step, "kind": r.kind, "sample": r.sample, "name": r.name}
                                  for r in f.results]} for f in report.findings],
    }


def _entry(r: AnswerResult) -> dict[str, Any]:
    return {
        "step": r.step, "kind": r.kind, "sample": r.sample, "name": r.name,
        "given": r.given, "expected": r.expected, "verdict": r.verdict,
        "recomputed": r.recomputed,
        "diagnoses": [{"rule": d.rule, "explanation": d.explanation, "detail": d.detail} for d in r.diagnoses],
        "line": r.line, "column": r.col,
    }


def render_check_json(report: CheckReport) -> str:
    return json_visible(json.dumps(check_report_dict(report), indent=1, ensure_ascii=False)) + "\n"


def quantity_label(r: AnswerResult) -> str:
    where = "final" if r.step == "final" else f"step {r.step}"
    if r.sample is not None:
        where += f" · sample {r.sample}"
    name = r.name or ""
    var, _, param = name.partition(":")
    what = {"values": name, "loss": "loss", "delta": f"δ of {name}", "partial": "∂" + name.replace("/", "/∂"),
            "gradient": f"∂E/∂{name}", "state": f"{var} of {param}",
            "parameters": f"{name} after the update" if r.step != "final" else name}[r.kind]
    return visible(f"{where} · {what}", one_line=True)


def number(x: float | None) -> str:
    if x is None:
        return "—"
    if x == 0:
        return "0"
    return significant_text(x, 10)


def render_check_text(report: CheckReport, width: int = 80, color: bool = False) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system="truecolor" if color else None,
                      force_terminal=color, no_color=not color, highlight=False, emoji=False, markup=False)
    console.print(Text(f"Answers to: {visible(report.title, one_line=True)}", style="bold"))
    console.print(f"tolerance: {report.tolerance.describe()}")
    rows = [(quantity_label(r), number(r.given), number(r.expected), r.verdict) for r in report.results]
    console.print()
    plain = _plain_table(rows, width, color)
    if plain is not None:
        buffer.write(plain)
    else:
        console.print(_rich_table(rows))
    console.print()
    first = report.first_wrong
    counts = (f"{report.count('correct')} correct, {report.count('wrong')} wrong, "
              f"{report.count('consistent')} consistent with earlier answers")
    console.print(Text(counts, style="bold"))
    if first is not None:
        console.print(Text.assemble(("First wrong: ", "bold red"),
                                    f"{quantity_label(first)} (line {first.line}): you gave {number(first.given)}, "
                                    f"expected {number(first.expected)}."))
    for finding in report.findings:
        _bullet(console, f"[{finding.rule}] {finding.explanation}:")
        for r in finding.results:
            detail = next((d.detail for d in r.diagnoses if d.rule == finding.rule and d.detail), "")
            _item(console, f"{quantity_label(r)}: you gave {number(r.given)}, expected {number(r.expected)}"
                           + (f"; {detail}" if detail else ""))
    unexplained = [r for r in report.results if r.verdict == "wrong" and not r.diagnoses]
    if unexplained:
        _bullet(console, "no common slip reproduces:")
        for r in unexplained:
            recomputed = (f"; from your earlier answers it would be {number(r.recomputed)}"
                          if r.recomputed is not None and r.recomputed != r.expected else "")
            _item(console, f"{quantity_label(r)}: you gave {number(r.given)}, expected "
                           f"{number(r.expected)}{recomputed}")
    consistent = [r for r in report.results if r.verdict == "consistent"]
    if consistent:
        _bullet(console, "wrong, but consistent with your earlier answers (no new mistake here):")
        for r in consistent:
            _item(console, f"{quantity_label(r)}: {number(r.given)} (expected {number(r.expected)})")
    # Cells are padded to the column width: trailing spaces are noise in a file or a pipe.
    return visible_keeping_colours("\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n")


COLUMNS = (("quantity", "left"), ("given", "right"), ("expected", "right"), ("verdict", "left"))
# rich's Table lays out a few rows well but costs ~0.3 ms a row: a 1,000-step run's
# 27,000 rows took 8 s. Past this many rows the table is written as plain text.
LONG_REPORT_ROWS = 200


def _plain_table(rows: list[tuple[str, str, str, str]], width: int, color: bool) -> str | None:
    """The answers table as aligned text, laid out as rich's Table lays out a table
    that fits (columns two spaces apart, numbers right-aligned), or None to leave a
    short table that does not fit to rich's folding. A long table that does not fit
    folds its quantity column (the only one that can be long) here."""
    cells = [(label, given, expected, VERDICT_WORD[verdict]) for label, given, expected, verdict in rows]
    widths = [max([cell_len(name)] + [cell_len(row[i]) for row in cells]) for i, (name, _) in enumerate(COLUMNS)]
    overflow = sum(widths) + 2 * (len(widths) - 1) - width
    if overflow > 0:
        if len(rows) < LONG_REPORT_ROWS or widths[0] - overflow < 10:
            return None
        widths[0] -= overflow
    bold = Style(bold=True)
    lines = ["  ".join(_styled(_justify(name, w, justify), bold, color)
                       for (name, justify), w in zip(COLUMNS, widths))]
    for (label, given, expected, verdict_word), (_, _, _, verdict) in zip(cells, rows):
        folded = _fold(label, widths[0])
        verdict_cell = _styled(verdict_word, Style.parse(VERDICT_STYLE[verdict]), color)
        lines.append("  ".join((_justify(folded[0], widths[0], "left"), _justify(given, widths[1], "right"),
                                _justify(expected, widths[2], "right"), verdict_cell)))
        lines.extend(folded[1:])
    return "\n".join(lines) + "\n"


def _justify(text: str, width: int, justify: str) -> str:
    pad = " " * (width - cell_len(text))
    return text + pad if justify == "left" else pad + text


def _styled(text: str, style: Style, color: bool) -> str:
    return style.render(text, color_system=ColorSystem.TRUECOLOR) if color else text


def _fold(text: str, width: int) -> list[str]:
    """``text`` cut into pieces of at most ``width`` terminal cells."""
    if cell_len(text) <= width:
        return [text]
    pieces, piece = [], ""
    for char in text:
        if cell_len(piece + char) > width:
            pieces.append(piece)
            piece = ""
        piece += char
    return pieces + [piece]


def _rich_table(rows: list[tuple[str, str, str, str]]) -> Table:
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for column, justify in COLUMNS:
        table.add_column(column, justify=justify, overflow="fold")
    for label, given, expected, verdict in rows:
        table.add_row(label, given, expected, Text(VERDICT_WORD[verdict], style=VERDICT_STYLE[verdict]))
    return table


def _bullet(console: Console, text: str) -> None:
    _hanging(console, "• ", text)


def _item(console: Console, text: str) -> None:
    _hanging(console, "    ", text)


def _hanging(console: Console, lead: str, text: str) -> None:
    """``lead`` then ``text``, whose wrapped lines stay indented under it."""
    grid = Table.grid()
    grid.add_column(width=len(lead), no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(lead, Text(text))
    console.print(grid)
