"""Exports and answer keys: goldens, LaTeX that compiles, Markdown maths that KaTeX
renders, HTML that a browser shows, the CLI.

Regenerate the goldens with ``TUTOR_UPDATE_GOLDEN=1 pytest tests/test_export.py``
and read the diff before accepting it. The pdflatex, KaTeX and Chromium tests
skip when the tool is missing locally; .ci/install-export-deps.sh installs them.
"""

from __future__ import annotations

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
from tutor.key import export_bytes, format_of, key_bytes
from tutor.render.latex import M, latex_text, solution_of
from tutor.render.markdown import render_markdown, markdown_text
from tutor.render.notation import latex_identifier, latex_number_text
from tutor.solution import solution_answers

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = sorted((ROOT / "problems").glob("*.yaml"))
IDS = [p.stem for p in PROBLEMS]
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("TUTOR_UPDATE_GOLDEN") == "1"
KATEX_DIR = Path(__file__).resolve().parent / "js"
RELU = ROOT / "problems" / "relu-2-2-2-one-step.yaml"


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
    text = export_of(path, fmt)
    golden = GOLDEN / ("markdown" if fmt == "md" else "latex") / f"{path.stem}.{suffix}"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden {golden.name}: run with TUTOR_UPDATE_GOLDEN=1 and review it"
    assert text == golden.read_text(encoding="utf-8")


# ---------------------------------------------------------------- same records, no drift

def test_every_value_of_the_terminal_is_in_the_exports():
    """The exports print the same records as the terminal: every boxed answer of the
    Markdown is a value the solution holds, at the same digits."""
    run = run_of(RELU)
    solution = solution_of(run)
    answers = solution_answers(solution, run.problem.outputs)
    md = export_of(RELU, "md")
    for a in answers:
        assert latex_identifier(a.label) in md
    assert r"\boxed{\frac{\partial E}{\partial w_{21}} = -1.5}" in md
    assert r"\boxed{w_{21} = 0.65}" in md
    assert r"\boxed{E = 2.5}" in md


def test_options_as_the_terminal():
    run = run_of(ROOT / "problems" / "sigmoid-neuron-sgd.yaml")
    few = export_bytes(run, "md").decode()
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


def _compile(tex: str, tmp: Path) -> str:
    (tmp / "doc.tex").write_text(tex, encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=300)
    log = (tmp / "doc.log").read_text(encoding="latin-1") if (tmp / "doc.log").exists() else done.stdout.decode()
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert done.returncode == 0 and not errors, "LaTeX errors:\n" + "\n".join(errors[:10]) + log[-2000:]
    return log


def _overfull(log: str) -> list[float]:
    return [float(x) for x in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]


@pdflatex
@pytest.mark.parametrize("path", PROBLEMS, ids=IDS)
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
    documents = {p.stem: export_of(p, "md") for p in PROBLEMS}
    runs = [run_of(p) for p in PROBLEMS]
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
