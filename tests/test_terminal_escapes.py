"""A problem file must not drive the reader's terminal: control characters in a
title, statement, key or tag reach stdout and stderr only escaped (tutor.visible)."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from tutor.cli import app
from tutor.visible import json_visible, visible, visible_keeping_colours

runner = CliRunner()

# OSC 52 (write the clipboard), a screen clear, an OSC 8 link, a bidi override.
HOSTILE_TITLE = r'"Evil \e]52;c;aGVsbG8=\a title \e[2J\e[H\u202e txt"'
HOSTILE_STATEMENT = r'"See \e]8;;http://evil.example\e\\here\e]8;;\e\\ \x9b31m now"'
PROBLEM = (f"title: {HOSTILE_TITLE}\nstatement: {HOSTILE_STATEMENT}\n"
           "inputs: [x]\nparams: {w: 1}\nmodel:\n  y: w*x\noutputs: [y]\ntargets: [t]\n"
           "data: {x: 1, t: 0}\nloss: mse\n")
# Every character that must never reach the terminal raw (newline and tab are layout).
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def hostile(tmp_path):
    path = tmp_path / "hostile.yaml"
    path.write_text(PROBLEM)
    return path


def assert_shown_escaped(text: str) -> None:
    assert not RAW_CONTROL.search(text), repr(text)


def test_visible_escapes_controls_and_bidi_but_keeps_text():
    assert visible("a\x1b[2Jb\u202ec\x9bd\x7f") == "a\\x1b[2Jb\\u202ec\\x9bd\\x7f"
    assert visible("line\n\tnext, ÄΔ→ עברית") == "line\n\tnext, ÄΔ→ עברית"
    assert visible("مسئله\u200f ۱\u200c") == "مسئله\u200f ۱\u200c"  # Persian's marks and ZWNJ are kept
    assert visible("two\nlines", one_line=True) == "two\\x0alines"


def test_colours_the_printer_wrote_survive_and_nothing_else():
    assert visible_keeping_colours("\x1b[1mbold\x1b[0m \x1b]52;c;x\x07") == "\x1b[1mbold\x1b[0m \\x1b]52;c;x\\x07"


def test_json_keeps_the_data_and_escapes_what_json_leaves_raw():
    document = json.dumps({"t": "a\u202eb\x9b"}, ensure_ascii=False)
    assert json.loads(json_visible(document)) == {"t": "a\u202eb\x9b"}
    assert_shown_escaped(json_visible(document))


def test_validate_shows_the_title_escaped(hostile):
    result = invoke("validate", str(hostile))
    assert result.exit_code == 0
    assert_shown_escaped(result.stdout)
    assert "\\x1b]52;c;aGVsbG8=\\x07" in result.stdout and "\\u202e" in result.stdout


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_solve_shows_title_and_statement_escaped(hostile, fmt):
    result = invoke("solve", str(hostile), "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert_shown_escaped(result.stdout)
    if fmt == "json":
        assert json.loads(result.stdout)["title"].startswith("Evil \x1b]52")  # the data itself is kept


def test_solve_in_colour_shows_the_title_escaped(hostile):
    from tutor.api import solve_problem
    from conftest import terminal_text as render_terminal

    text = render_terminal(solve_problem(hostile), color=True)
    assert "\x1b[1m" in text  # the printer's own colours
    assert "\x1b]" not in text and "\x1b[2J" not in text and "\u202e" not in text


def test_check_report_and_template_show_the_title_escaped(hostile, tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text("answers:\n  - {step: 1, loss: 1}\n")
    for args in (("check", str(hostile), str(answers)), ("check", str(hostile), str(answers), "-f", "json"),
                 ("check", "--template", str(hostile))):
        result = invoke(*args)
        assert result.exit_code == 0, result.stderr
        assert_shown_escaped(result.stdout)


def test_markdown_export_to_stdout_is_escaped(hostile):
    result = invoke("export", str(hostile), "-o", "-", "-f", "md")
    assert result.exit_code == 0, result.stderr
    assert_shown_escaped(result.stdout)


@pytest.mark.parametrize("text", [
    'title: t\n"bad\\e[2Jkey": 1\n',                        # an unknown key quoted in the message
    "title: !<!%1B%5D52;c;eA==%07> t\n",                    # a YAML tag
    'title: t\ninputs: ["x\\e]52;c;eA==\\a"]\n',              # a name
])
def test_error_messages_show_controls_escaped(tmp_path, text):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}:") and result.stderr.count("\n") == 1
    assert_shown_escaped(result.stderr)


def test_a_file_name_with_controls_is_shown_escaped(tmp_path):
    path = tmp_path / "evil\x1b]52;c;eA==\x07\nname.yaml"
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert_shown_escaped(result.stderr)
    assert result.stderr.count("\n") == 1 and "\\x0aname.yaml" in result.stderr


def test_an_answers_template_written_to_a_file_reads_back(hostile, tmp_path):
    """The title goes into the template's first comment: escaped, or the file would
    not be YAML a student can fill in and check."""
    template = tmp_path / "answers.yaml"
    assert invoke("check", "--template", str(hostile), "-o", str(template)).exit_code == 0
    assert_shown_escaped(template.read_text())
    result = invoke("check", str(hostile), str(template))
    assert result.exit_code in (0, 1), result.output
