"""Documents fit their page: no line of a shipped problem's LaTeX export, nor of the key
over all of them, sticks out of the text block by more than 1pt (TeX's own report of
overfull boxes), and no HTML export is wider than a 1000 px browser window (headless
Chromium's layout). Skipped where the TeX engine or Chromium is not installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest

from conftest import export_run, key_runs
from tutor.api import solve_problem
from tutor.render.latex import latex_engine

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = sorted((ROOT / "problems").glob("*.yaml"))
IDS = [p.stem for p in PROBLEMS]
TOLERANCE_PT = 1.0
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_OVERFULL = re.compile(r"^Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\) (.*)$", re.M)


@lru_cache(maxsize=None)
def run_of(path: Path):
    return solve_problem(path)


def overfull_boxes(tex: str, tmp: Path) -> list[str]:
    """TeX's overfull boxes wider than the tolerance: "12.3pt: in paragraph at lines 10--12"."""
    engine = latex_engine(tex)
    if shutil.which(engine) is None:
        pytest.skip(f"{engine} is not installed")
    (tmp / "doc.tex").write_text(tex, encoding="utf-8")
    for _ in range(2):   # longtable settles its column widths on the second run
        done = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "doc.tex"],
                              cwd=tmp, stdin=subprocess.DEVNULL, capture_output=True, timeout=600)
        assert done.returncode == 0, done.stdout.decode("utf-8", "replace")[-2000:]
    log = (tmp / "doc.log").read_text(encoding="utf-8", errors="replace")
    return [f"{width}pt: {where}" for width, where in _OVERFULL.findall(log) if float(width) > TOLERANCE_PT]


@pytest.mark.parametrize("path", PROBLEMS, ids=IDS)
def test_no_line_leaves_the_page_in_an_export(path: Path, tmp_path: Path):
    tex = export_run(run_of(path), "tex").decode("utf-8")
    assert overfull_boxes(tex, tmp_path) == []


def test_no_line_leaves_the_page_in_the_key_over_every_problem(tmp_path: Path):
    tex = key_runs([run_of(p) for p in PROBLEMS], "tex").decode("utf-8")
    assert overfull_boxes(tex, tmp_path) == []


def test_the_check_sees_an_overfull_line(tmp_path: Path):
    """The check can fail: a line of 80 letters without a break point does stick out."""
    tex = "\\documentclass{article}\\begin{document}\n" + "x" * 200 + "\n\\end{document}\n"
    assert overfull_boxes(tex, tmp_path)


# ---------------------------------------------------------------- HTML in a browser

_PROBE = """<script>
(function () {
  var root = document.documentElement, wide = [];
  document.querySelectorAll("body *").forEach(function (e) {
    var r = e.getBoundingClientRect();
    if (r.right > root.clientWidth + 1 && wide.length < 5) wide.push(e.tagName + ":" + (e.textContent || "").slice(0, 60));
  });
  var p = document.createElement("pre");
  p.id = "tutor-fit";
  p.textContent = "scroll=" + root.scrollWidth + " client=" + root.clientWidth + " wide=" + wide.join(" | ");
  document.body.appendChild(p);
})();
</script>"""


def page_fit(html: str, tmp: Path) -> tuple[int, int, str]:
    """(scrollWidth, clientWidth, the widest elements) of ``html`` in a 1000 px wide window."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    page = tmp / "page.html"
    page.write_text(html.replace("</body>", _PROBE + "\n</body>"), encoding="utf-8")
    done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1000,800",
                           "--hide-scrollbars", "--virtual-time-budget=2000", "--dump-dom", page.as_uri()],
                          capture_output=True, timeout=120)
    found = re.search(r"scroll=(\d+) client=(\d+) wide=([^<]*)", done.stdout.decode("utf-8", "replace"))
    if found is None:
        pytest.skip("chromium did not run: " + done.stderr.decode("utf-8", "replace")[-300:])
    return int(found.group(1)), int(found.group(2)), found.group(3)


@pytest.mark.parametrize("path", PROBLEMS, ids=IDS)
def test_no_horizontal_scrollbar_at_1000px(path: Path, tmp_path: Path):
    scroll, client, wide = page_fit(export_run(run_of(path), "html").decode("utf-8"), tmp_path)
    assert scroll <= client, f"{scroll} px wide in a {client} px window: {wide}"


def test_the_browser_check_sees_a_wide_page(tmp_path: Path):
    html = "<!DOCTYPE html><html><body><div style=\"width:3000px\">x</div></body></html>"
    scroll, client, _ = page_fit(html, tmp_path)
    assert scroll > client


def test_a_one_step_2_2_2_problem_fits_on_two_pages(tmp_path: Path):
    from tutor.render.latex import compile_pdf

    if shutil.which("pdflatex") is None or shutil.which("pdfinfo") is None:
        pytest.skip("pdflatex or pdfinfo (poppler-utils) is not installed")
    pdf = tmp_path / "relu.pdf"
    pdf.write_bytes(compile_pdf(export_run(run_of(ROOT / "problems" / "relu-2-2-2-one-step.yaml"), "tex")
                                .decode("utf-8")))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert 1 <= pages <= 2
