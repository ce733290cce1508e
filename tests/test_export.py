"""Exports and answer keys: goldens, LaTeX that compiles, Markdown maths that KaTeX
renders, HTML that a browser shows, the CLI.

Regenerate the goldens with ``TUTOR_UPDATE_GOLDEN=1 pytest tests/test_export.py``
and read the diff before accepting it. The pdflatex, LuaLaTeX, KaTeX and Chromium
tests skip when the tool is missing locally; .ci/install-export-deps.sh installs them.
The problems in tests/export/ (a Persian one, one whose text is all special
characters, one using every odd identifier the format allows) are exported to
every format beside the shipped ones.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tutor.api import solve_problem
from tutor.errors import TutorError
from conftest import check_golden, export_run as export_bytes, key_runs as key_bytes
from tutor.key import format_of
from tutor.render.latex import ExportError, M, break_math, compile_pdf, latex_engine, latex_text
from tutor.render.markdown import markdown_text
from tutor.render.notation import latex_identifier, latex_label, latex_number_text
from tutor.solution import build_solution

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = sorted((ROOT / "problems").glob("*.yaml"))
IDS = [p.stem for p in PROBLEMS]
GOLDEN = Path(__file__).resolve().parent / "golden"
KATEX_DIR = Path(__file__).resolve().parent / "js"
RELU = ROOT / "problems" / "relu-2-2-2-one-step.yaml"
CASES = Path(__file__).resolve().parent / "export"
PERSIAN = CASES / "persian.yaml"
SPECIAL = CASES / "special-text.yaml"
IDENTIFIERS = CASES / "identifiers.yaml"
EXTRA = [PERSIAN, SPECIAL, IDENTIFIERS]
PERSIAN_TITLE = "یک گام گرادیان کاهشی روی نورون سیگموید"
SPECIAL_TITLE = r"naïve <b>&amp; \textbf{x} $y$ %"


@lru_cache(maxsize=None)
def run_of(path: Path):
    return solve_problem(path)


@lru_cache(maxsize=None)
def export_of(path: Path, fmt: str) -> str:
    return export_bytes(run_of(path), fmt).decode("utf-8")


def _app():
    from tutor.cli import app

    return app


# ---------------------------------------------------------------- goldens

@pytest.mark.parametrize("fmt,suffix", [("md", "md"), ("tex", "tex")])
@pytest.mark.parametrize("path", PROBLEMS, ids=IDS)
def test_golden(path: Path, fmt: str, suffix: str):
    check_golden(GOLDEN / ("markdown" if fmt == "md" else "latex") / f"{path.stem}.{suffix}", export_of(path, fmt))


# ---------------------------------------------------------------- same records, no drift

def test_every_value_of_the_terminal_is_in_the_exports():
    """The exports print the same records as the terminal: every boxed answer of the
    Markdown is a value the solution holds, at the same digits."""
    run = run_of(RELU)
    solution = build_solution(run)
    md = export_of(RELU, "md")
    for a in solution.answers:
        assert latex_label(a.quantity) in md
    assert r"\boxed{\partial E / \partial w_{21} = -1.5}" in md   # a fraction in a box is tiny: ∂E/∂w
    assert r"\boxed{w_{21} = 0.65}" in md
    assert r"\boxed{E = 2.5}" in md


def test_options_as_the_terminal():
    run = run_of(ROOT / "problems" / "sigmoid-neuron-sgd.yaml")
    few = export_bytes(run, "md", steps=[1]).decode()
    every = export_bytes(run, "md", show_all=True).decode()
    assert every.count("\n## Step ") > few.count("\n## Step ")
    only2 = export_bytes(run, "md", steps=[2]).decode()
    assert "## Step 2 " in only2 and "## Step 1 " not in only2
    long = export_bytes(run, "md", digits=8).decode()
    assert long != few


@pytest.mark.parametrize("fmt", ["md", "tex", "html", "json"])
def test_deterministic(fmt):
    a = export_bytes(solve_problem(RELU), fmt)
    b = export_bytes(solve_problem(RELU), fmt)
    assert a == b


def test_number_and_name_spelling():
    assert latex_number_text("−1/3") == r"-\frac{1}{3}"
    assert latex_number_text("2.5e−8") == r"2.5 \times 10^{-8}"
    assert latex_number_text("1/3 ≈ 0.3333") == r"\frac{1}{3} \approx 0.3333"
    assert latex_identifier("∂E⁽²⁾/∂w21") == r"\frac{\partial E^{(2)}}{\partial w_{21}}"
    assert latex_identifier("net_o1") == r"\mathit{net}_{o_{1}}"
    assert latex_identifier("δ_h1") == r"\delta_{h_{1}}"
    assert latex_identifier("w21~") == r"\tilde{w}_{21}"
    assert latex_text("a_b & 50% − θ") == r"a\_b \& 50\% \ensuremath{-} \ensuremath{\theta}"
    assert markdown_text("w1*x1^2 [a] $5 |x|") == r"w1\*x1^2 \[a\] \$5 \|x\|"


# ---------------------------------------------------------------- keys and sheets

def test_key_has_numbered_sections_and_table():
    runs = [run_of(RELU), run_of(ROOT / "problems" / "relu-forward-only.yaml")]
    md = key_bytes(runs, "md").decode()
    assert md.startswith("# Answer key\n")
    assert "# Problem 1: One SGD step on a 2-2-2 ReLU network" in md
    assert "# Problem 2: Forward pass of a 2-2-2-1 ReLU network" in md
    table = md.split("# Problem 1")[0]
    assert r"$w_{21} = 0.65$" in table and "| 2 |" in table
    only = key_bytes(runs, "md", answers_only=True).decode()
    assert "# Problem 1" not in only and r"$w_{21} = 0.65$" in only


def test_sheet_has_no_answers():
    runs = [run_of(RELU)]
    sheet = key_bytes(runs, "md", sheet=True).decode()
    assert "# Problem 1: One SGD step" in sheet
    assert "0.65" not in sheet and "-1.5" not in sheet and "boxed" not in sheet
    assert r"\_\_\_\_" in sheet                       # blank answer lines
    assert r"$w_{21}$ | $0.5$" in sheet              # the given values
    assert "| 1 | $2$ | $-1$ | $1$ | $0.5$ |" in sheet  # the data


# ---------------------------------------------------------------- CLI

def test_cli_export_and_key(tmp_path):
    app = _app()
    runner = CliRunner()
    out = tmp_path / "relu.md"
    result = runner.invoke(app, ["export", str(RELU), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == export_of(RELU, "md")
    again = runner.invoke(app, ["export", str(RELU), "-o", str(out)])
    assert again.exit_code == 2 and "file exists" in again.stderr
    assert runner.invoke(app, ["export", str(RELU), "-o", str(out), "--force"]).exit_code == 0
    stdout = runner.invoke(app, ["export", str(RELU), "-o", "-", "--format", "tex"])
    assert stdout.exit_code == 0 and stdout.stdout.startswith(r"\documentclass")
    bad = runner.invoke(app, ["export", str(RELU), "-o", str(tmp_path / "x.docx")])
    assert bad.exit_code == 2 and "unknown export format" in bad.stderr
    js = runner.invoke(app, ["export", str(RELU), "-o", "-", "-f", "json"])
    assert json.loads(js.stdout)["title"].startswith("One SGD step")
    key = tmp_path / "key.html"
    result = runner.invoke(app, ["key", str(RELU), str(PROBLEMS[0]), "-o", str(key), "--sheet"])
    assert result.exit_code == 0, result.output
    assert "<math" in key.read_text(encoding="utf-8")
    missing = runner.invoke(app, ["key", str(tmp_path / "nope.yaml"), "-o", str(tmp_path / "k.md")])
    assert missing.exit_code == 2 and not (tmp_path / "k.md").exists()


def test_format_of():
    assert format_of("a/b.TEX", None) == "tex"
    assert format_of("-", "md") == "md"
    with pytest.raises(Exception):
        format_of("-", None)


# ---------------------------------------------------------------- LaTeX compiles

pdflatex = pytest.mark.skipif(shutil.which("pdflatex") is None,
                              reason="pdflatex not installed (.ci/install-export-deps.sh installs it)")
lualatex = pytest.mark.skipif(shutil.which("lualatex") is None or shutil.which("pdftotext") is None,
                              reason="lualatex or pdftotext not installed (.ci/install-export-deps.sh installs them)")


def _compile(tex: str, tmp: Path) -> str:
    engine = latex_engine(tex)
    if shutil.which(engine) is None:
        pytest.skip(f"{engine} not installed (.ci/install-export-deps.sh installs it)")
    (tmp / "doc.tex").write_text(tex, encoding="utf-8")
    done = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=300)
    log = (tmp / "doc.log").read_text(encoding="latin-1") if (tmp / "doc.log").exists() else done.stdout.decode()
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert done.returncode == 0 and not errors, "LaTeX errors:\n" + "\n".join(errors[:10]) + log[-2000:]
    return log


def _overfull(log: str) -> list[float]:
    return [float(x) for x in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]


@pdflatex
@pytest.mark.parametrize("path", PROBLEMS + EXTRA, ids=IDS + [p.stem for p in EXTRA])
def test_latex_compiles(path: Path, tmp_path):
    log = _compile(export_of(path, "tex"), tmp_path)
    assert len([x for x in _overfull(log) if x > 5]) <= 1, _overfull(log)


@pdflatex
def test_key_and_sheet_compile(tmp_path):
    runs = [run_of(p) for p in PROBLEMS]
    log = _compile(key_bytes(runs, "tex").decode(), tmp_path)
    assert len([x for x in _overfull(log) if x > 5]) <= 2, _overfull(log)
    _compile(key_bytes(runs, "tex", sheet=True).decode(), tmp_path)


@pdflatex
def test_pdf_export_is_deterministic():
    a = export_bytes(run_of(RELU), "pdf")
    b = export_bytes(run_of(RELU), "pdf")
    assert a.startswith(b"%PDF") and a == b


# ---------------------------------------------------------------- KaTeX

MATH = re.compile(r"\$\$\n(.*?)\n\$\$|(?<![\\$])\$((?:[^$\\]|\\.)+?)\$", re.S)


def math_spans(markdown: str) -> list[dict]:
    return [{"tex": display or inline, "display": bool(display)} for display, inline in MATH.findall(markdown)]


def test_math_spans_are_found():
    spans = math_spans("a $x$ \\$5 b\n\n$$\n\\begin{aligned}a &= b\\end{aligned}\n$$\n$\\boxed{y}$")
    assert [s["tex"] for s in spans] == ["x", "\\begin{aligned}a &= b\\end{aligned}", "\\boxed{y}"]


@pytest.mark.skipif(shutil.which("node") is None or not (KATEX_DIR / "node_modules" / "katex").is_dir(),
                    reason="node or katex missing (.ci/install-export-deps.sh runs npm ci in tests/js)")
def test_markdown_math_renders_with_katex():
    documents = {p.stem: export_of(p, "md") for p in PROBLEMS + EXTRA}
    runs = [run_of(p) for p in PROBLEMS + EXTRA]
    documents["key"] = key_bytes(runs, "md").decode()
    documents["sheet"] = key_bytes(runs, "md", sheet=True).decode()
    spans, where = [], []
    for name, text in documents.items():
        found = math_spans(text)
        assert found, name
        spans += found
        where += [name] * len(found)
    done = subprocess.run(["node", str(KATEX_DIR / "katex-check.js")], input=json.dumps(spans).encode(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=KATEX_DIR, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    failures = json.loads(done.stdout)
    assert not failures, "\n".join(f"{where[f['index']]}: {spans[f['index']]['tex'][:200]}: {f['error']}"
                                   for f in failures[:10])


# ---------------------------------------------------------------- HTML in a browser

def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(html_path: Path, png: Path, width: int = 1000, height: int = 1400) -> None:
    with tempfile.TemporaryDirectory(prefix="tutor-chromium-") as profile:
        subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={png}",
                        f"--window-size={width},{height}", html_path.as_uri()],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=120,
                       check=True)


def test_html_is_self_contained():
    page = export_of(RELU, "html")
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/1998/Math/MathML", "")
    assert "https://" not in page and "<math" in page and "@media print" in page


@pytest.mark.skipif(_chromium() is None, reason="chromium not installed (.ci/install-export-deps.sh installs it)")
def test_html_renders_in_chromium(tmp_path):
    page = tmp_path / "relu.html"
    page.write_text(export_of(RELU, "html"), encoding="utf-8")
    png = tmp_path / "relu.png"
    screenshot(page, png)
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG")
    # Not blank: a white page compresses to a few kilobytes; count the distinct byte values too.
    assert len(data) > 20_000 and len(set(data[1000:50_000])) > 200


# ---------------------------------------------------------------- any text, any name, any size

def _pdf_text(pdf: bytes, tmp: Path) -> str:
    """The PDF's text layer, without the bidi marks pdftotext wraps right-to-left runs in."""
    (tmp / "out.pdf").write_bytes(pdf)
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(tmp / "out.pdf"), "-"], stdout=subprocess.PIPE,
                          check=True, timeout=60)
    return re.sub("[\u202a-\u202e]", "", done.stdout.decode("utf-8"))


def test_persian_is_right_to_left_in_html():
    page = export_of(PERSIAN, "html")
    assert f'<h1 dir="rtl" lang="fa">{PERSIAN_TITLE}</h1>' in page
    assert '<p dir="rtl" lang="fa">یک نورون سیگموید با دو ورودی و نرخ یادگیری 0.5؛' in page
    assert '<p dir="rtl" lang="fa">خطای مربعی را حساب کنید.</p>' in page
    assert "<h2>Conventions</h2>" in page                        # the solution itself stays left to right
    assert re.search(r"math \{[^}]*direction: ltr", page)         # and so does every formula
    key = key_bytes([run_of(RELU), run_of(PERSIAN)], "html").decode()
    assert f'<h1>Problem 2: <span dir="rtl" lang="fa">{PERSIAN_TITLE}</span></h1>' in key


def test_persian_is_right_to_left_in_latex():
    tex = export_of(PERSIAN, "tex")
    assert latex_engine(tex) == "lualatex" and tex.startswith("% !TEX program = lualatex\n")
    assert f"\\foreignlanguage{{persian}}{{{PERSIAN_TITLE}}}" in tex
    assert "\\begin{otherlanguage}{persian}\nیک نورون سیگموید با دو ورودی" in tex
    assert tex.count("\\begin{otherlanguage}{persian}") == 2      # the statement's paragraphs; the rest is LTR
    assert export_of(PERSIAN, "md").startswith(f"# {PERSIAN_TITLE}\n\n")


@lualatex
def test_persian_pdf_holds_the_title(tmp_path):
    pdf = export_bytes(run_of(PERSIAN), "pdf")
    assert pdf.startswith(b"%PDF") and pdf == export_bytes(run_of(PERSIAN), "pdf")   # deterministic
    text = _pdf_text(pdf, tmp_path)
    assert PERSIAN_TITLE in text and "خطای مربعی را حساب کنید" in text


@lualatex
def test_key_and_sheet_pdf_of_any_text_and_names(tmp_path):
    runs = [run_of(p) for p in EXTRA]
    text = _pdf_text(key_bytes(runs, "pdf"), tmp_path)
    assert PERSIAN_TITLE in text and f"Problem 2: {SPECIAL_TITLE}" in text
    assert "w__1" in text and "_bias" in text and "u1_0" in text
    sheet = _pdf_text(key_bytes(runs, "pdf", sheet=True), tmp_path)
    assert PERSIAN_TITLE in sheet and SPECIAL_TITLE in sheet


def test_special_characters_come_out_literally():
    md = export_of(SPECIAL, "md")
    assert md.startswith("# naïve \\<b\\>\\&amp; \\\\textbf{x} \\$y\\$ %\n")
    assert "\\<script\\>alert(1)\\</script\\>" in md and "\\[link\\](http://example.com) \\*em\\* \\`code\\`" in md
    page = export_of(SPECIAL, "html")
    assert "<h1>naïve &lt;b&gt;&amp;amp; \\textbf{x} $y$ %</h1>" in page
    assert "<script" not in page and "<b>" not in page
    tex = export_of(SPECIAL, "tex")
    assert latex_text(SPECIAL_TITLE) in tex and "\\textbf{x}" not in tex and "$y$" not in tex
    for doc in (md, page):   # a control character (DEL) shows as U+FFFD; Greek ο is kept
        assert "a DEL \ufffd and" in doc and "Greek ο (omicron)" in doc
    assert "a DEL \\fbox{?} and" in tex and "Greek ο (omicron)" in tex


@lualatex
def test_special_text_pdf_holds_the_title_literally(tmp_path):
    text = _pdf_text(export_bytes(run_of(SPECIAL), "pdf"), tmp_path)
    assert SPECIAL_TITLE in text
    assert "Greek ο (omicron), a DEL ? and" in text and "<script>alert(1)</script>" in text


def test_latex_text_escapes_every_special_character():
    assert latex_text("\\ { } $ & # ^ _ % ~") == (r"\ensuremath{\backslash} \{ \} \$ \& \# \textasciicircum{} "
                                                  r"\_ \% \textasciitilde{}")
    assert latex_text("a\x7fb\x00c\nd") == r"a\fbox{?}b\fbox{?}c d"
    assert latex_text("-- '' ,, `") == r"-{}- '{}' ,{}, \textasciigrave{}"
    assert latex_text("naïve ο") == "naïve ο"
    assert latex_engine(latex_text("a_b")) == "pdflatex" and latex_engine(latex_text("naïve")) == "lualatex"


def test_every_identifier_has_a_latex_spelling():
    spelled = {name: latex_identifier(name) for name in
               ["w1a", "_bias", "w__1", "u1_0", "w_21", "w21", "w2_1", "x_", "net_o1", "b_h2", "h_1x"]}
    assert spelled["w1a"] == r"\mathit{w1a}"
    assert spelled["_bias"] == r"\mathit{\_bias}"
    assert spelled["w__1"] == r"\mathit{w\_\_1}"
    assert spelled["u1_0"] == r"\mathit{u1\_0}"
    assert spelled["w21"] == "w_{21}" and spelled["net_o1"] == r"\mathit{net}_{o_{1}}"
    assert len(set(spelled.values())) == len(spelled)        # no two names look alike
    assert latex_identifier("w__1~") == r"\tilde{\mathit{w\_\_1}}"
    assert latex_identifier("∂E⁽²⁾/∂_bias") == r"\frac{\partial E^{(2)}}{\partial \mathit{\_bias}}"


def test_identifiers_export_to_every_format():
    run = run_of(IDENTIFIERS)
    for fmt in ("md", "tex", "html", "json"):
        assert export_bytes(run, fmt)
    for fmt in ("md", "tex", "html"):
        assert key_bytes([run], fmt) and key_bytes([run], fmt, sheet=True)
    md = export_of(IDENTIFIERS, "md")
    assert r"\boxed{\partial E / \partial \mathit{w\_\_1} = " in md
    assert r"\mathit{h\_1x} &= \operatorname{relu}\left(\mathit{w1a} \cdot \mathit{w\_21}" in md


def test_a_multi_line_title_cannot_change_the_structure():
    run = run_of(RELU)
    title = "One step\n# Injected heading\n\n- injected item\n1. numbered"
    run = dataclasses.replace(run, problem=dataclasses.replace(run.problem, title=title))
    md = export_bytes(run, "md").decode()
    assert md.startswith("# One step # Injected heading - injected item 1. numbered\n")
    lines = md.splitlines()
    assert [line for line in lines if line.startswith("# ")] == [lines[0]]
    assert not any(line.startswith(("- injected", "1. numbered", "# Injected")) for line in lines)
    key = key_bytes([run], "md").decode()
    assert "# Problem 1: One step # Injected heading - injected item 1. numbered\n" in key
    html_page = export_bytes(run, "html").decode()
    assert "<h1>One step # Injected heading - injected item 1. numbered</h1>" in html_page
    assert "\\begin{center}{\\LARGE\\bfseries One step \\# Injected heading - injected item 1. numbered}" in \
        export_bytes(run, "tex").decode()
    from tutor.render.markdown import markdown_text
    assert markdown_text("# a") == "\\# a" and markdown_text("1. a") == "1\\. a" and markdown_text("---") == "\\---"


def _wide_problem(tmp: Path, n: int = 220) -> Path:
    xs = [f"x{i}" for i in range(1, n + 1)]
    path = tmp / "wide.yaml"
    path.write_text("\n".join([
        f"title: One unit with {n} inputs",
        f"inputs: [{', '.join(xs)}]",
        "params: {" + ", ".join(f"w{i}: 0.01" for i in range(1, n + 1)) + ", b: 0}",
        "model:",
        "  z: " + " + ".join(f"w{i}*x{i}" for i in range(1, n + 1)) + " + b",
        "  yhat: sigmoid(z)",
        "outputs: [yhat]", "targets: [y]",
        "data: {" + ", ".join(f"{x}: 1" for x in xs) + ", y: 0}",
        "loss: sse", "optimizer: {name: sgd, lr: 0.5}"]) + "\n", encoding="utf-8")
    return path


def test_long_sums_break_across_lines():
    terms = " + ".join(f"w_{{{i}}} \\cdot x_{{{i}}}" for i in range(1, 60))
    lines = break_math(rf"\sigma\left({terms}\right)")
    assert len(lines) > 5 and lines[0].startswith(r"\sigma\bigl(w_{1}") and lines[-1].endswith(r"\bigr)")
    assert all(line.startswith("+ ") for line in lines[1:])
    assert break_math(terms[:40]) == [terms[:40]]


@pdflatex
def test_a_unit_with_hundreds_of_inputs_exports(tmp_path):
    run = solve_problem(_wide_problem(tmp_path))
    tex = export_bytes(run, "tex").decode()
    model = tex.split("\\subsection*{The model}")[1].split("\\end{align*}")[0]
    assert model.count("\\\\\n&\\quad {}+ w_{") > 20                   # the model's sum, on many lines
    assert "&\\text{formula: } w_{1} \\cdot x_{1} + " in tex                # the forward table, row by row
    log = _compile(tex, tmp_path)
    assert "Dimension too large" not in log and "Overfull \\vbox" not in log   # nothing cut off at a page's foot
    page = export_bytes(run, "html").decode()
    assert '<td class="lhs">formula:</td>' in page and "<br>" in page   # HTML too: the forward pass row by row
    assert export_bytes(run, "md")
    sheet = key_bytes([run], "tex", sheet=True).decode()
    assert sheet.count("\\toprule\nsample & ") == 28                # the data, 8 names a table
    _compile(sheet, tmp_path)


@pdflatex
def test_a_tex_failure_names_the_problem_and_the_line(tmp_path, monkeypatch):
    tex = "\\documentclass{article}\n\\begin{document}\nfine\n\n\\undefinedcommand{here}\n\\end{document}\n"
    with pytest.raises(ExportError) as failure:
        compile_pdf(tex, [(1, "a.yaml"), (4, "b.yaml")])
    assert isinstance(failure.value, TutorError)
    assert str(failure.value) == ("b.yaml: error: pdflatex could not make the PDF: Undefined control sequence. "
                                  "(line 5 of the LaTeX: \\undefinedcommand{here})")
    import tutor.render.latex as latex
    monkeypatch.setattr(latex, "PREAMBLE", latex.PREAMBLE + "\\undefinedcommand\n")
    out = tmp_path / "relu.pdf"
    result = CliRunner().invoke(_app(), ["export", str(RELU), "-o", str(out)])
    assert result.exit_code == 2 and not out.exists()
    assert result.stderr.startswith(f"{RELU}: error: pdflatex could not make the PDF: Undefined control sequence.")
    assert "internal error" not in result.stderr


@pdflatex
def test_a_tex_failure_in_a_key_names_its_problem(monkeypatch):
    import tutor.render.latex as latex
    spell = latex.latex_text
    monkeypatch.setattr(latex, "latex_text", lambda text: spell(text) + ("\\undefinedcommand" if text == "Problem 2: "
                                                                        else ""))
    second = ROOT / "problems" / "relu-forward-only.yaml"
    with pytest.raises(ExportError) as failure:
        key_bytes([run_of(RELU), run_of(second)], "pdf")
    assert str(failure.value).startswith(f"{second}: error: pdflatex could not make the PDF: Undefined control "
                                         "sequence. (line ")
    assert str(failure.value).endswith(": \\section*{Problem 2: \\undefinedcommandForward pass of a 2-2-2-1 "
                                       "ReLU network})")


def test_a_missing_tex_engine_is_an_error_not_a_crash(monkeypatch):
    import tutor.render.latex as latex
    monkeypatch.setattr(latex.shutil, "which", lambda name: None)
    with pytest.raises(ExportError, match=r"^error: the PDF needs lualatex \(the text is not all ASCII\), which is "
                                          r"not installed; install it \(Debian: apt-get install texlive-luatex"):
        compile_pdf("\\documentclass{article}\\begin{document}naïve\\end{document}")
    with pytest.raises(ExportError, match=r"^error: the PDF needs pdflatex, which is not installed"):
        compile_pdf("\\documentclass{article}\\begin{document}plain\\end{document}")
