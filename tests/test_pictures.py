"""Pictures (issue 16): the drawing of each problem (SVG, TikZ, text), loss curves,
and `tutor compare`.

Regenerate the goldens with ``TUTOR_UPDATE_GOLDEN=1 pytest tests/test_pictures.py``
and look at the pictures before accepting them (docs/make-pictures.sh draws the
README's). Expected numbers come from the problem files themselves (the weights)
and from Mazur's published worked example (the δ's), and `tutor compare`'s final
losses from separate `tutor solve --format json` runs of problem files written
with each optimizer.
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
from tutor.compare import compare, with_optimizer
from tutor.diagram import LABELLED_COLUMN, build_diagram
from conftest import check_golden, export_run as export_bytes
from tutor.plot import Plot, Series, loss_plot, shown_in_export
from tutor.problem import parse_problem
from tutor.render.svg import diagram_svg, plot_svg, ticks
from tutor.render.textdiagram import text_diagram
from tutor.render.textplot import text_plot
from tutor.render.tikz import diagram_tikz, plot_tikz
from tutor.train import train

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = sorted((ROOT / "problems").glob("*.yaml"))
IDS = [p.stem for p in PROBLEMS]
GOLDEN = Path(__file__).resolve().parent / "golden" / "diagram"
MAZUR = ROOT / "problems" / "mazur-2-2-2.yaml"
MOMENTUM = ROOT / "problems" / "momentum-ema-3-2-1.yaml"


@lru_cache(maxsize=None)
def run_of(path: Path):
    return solve_problem(path)


def _app():
    from tutor.cli import app
    return app


# ---------------------------------------------------------------- goldens, determinism

@pytest.mark.parametrize("suffix", ["svg", "tikz"])
@pytest.mark.parametrize("path", PROBLEMS, ids=IDS)
def test_golden_diagram(path: Path, suffix: str):
    d = build_diagram(run_of(path))
    if d is None:  # too large to draw: the solution says so instead
        return
    text = diagram_svg(d) if suffix == "svg" else diagram_tikz(d)
    assert text == (diagram_svg(build_diagram(solve_problem(path))) if suffix == "svg"
                    else diagram_tikz(build_diagram(solve_problem(path))))   # same input, same bytes
    check_golden(GOLDEN / f"{path.stem}.{suffix}", text)


def test_svg_is_well_formed_xml():
    import xml.etree.ElementTree as ET
    for path in PROBLEMS:
        d = build_diagram(run_of(path))
        if d is not None:
            ET.fromstring(diagram_svg(d))
    ET.fromstring(plot_svg(loss_plot(run_of(MOMENTUM))))


# ---------------------------------------------------------------- what the drawing shows

MAZUR_WEIGHTS = {"w1": "0.15", "w2": "0.2", "w3": "0.25", "w4": "0.3", "w5": "0.4", "w6": "0.45", "w7": "0.5",
                 "w8": "0.55"}   # the problem file's (and Mazur's) initial weights


def test_mazur_diagram_shows_all_eight_weights_by_name_and_value():
    d = build_diagram(run_of(MAZUR))
    svg, tikz, text = diagram_svg(d), diagram_tikz(d), text_diagram(d, width=80)
    for name, value in MAZUR_WEIGHTS.items():
        assert f">{name} = {value}</text>" in svg
        assert f"{{\\(w_{{{name[1:]}}} = {value}\\)}}" in tikz
        assert f"{name} = {value} · " in text
    assert sorted(e.label for e in d.edges) == sorted(MAZUR_WEIGHTS)


def test_mazur_diagram_values_are_the_published_ones():
    """Mazur's post: out_h1 = 0.593269992, out_o1 = 0.75136507, out_o2 = 0.772928465;
    δ_o1 = ∂E/∂net_o1 = 0.138498562; δ_h1 = 0.036350306 · 0.241300709 = 0.008771354."""
    d = build_diagram(run_of(MAZUR))
    assert abs(d.node("h1").value - 0.593269992) < 1e-9 and abs(d.node("o2").value - 0.772928465) < 1e-9
    assert abs(d.node("o1").grad - 0.138498562) < 1e-9
    assert abs(d.node("h1").grad - 0.036350306 * 0.241300709) < 1e-9
    assert d.node("h1").bias == ("b1", 0.35, "+") and d.node("o2").bias == ("b2", 0.6, "+")
    svg = diagram_svg(d)
    assert ">0.5933</text>" in svg and ">δ = 0.1385</text>" in svg and ">δ = 0.008771</text>" in svg


def test_model_problem_is_a_computational_graph():
    d = build_diagram(run_of(ROOT / "problems" / "quadratic-momentum.yaml"))
    assert d.kind == "graph" and d.grad_label == "∂E/∂"
    # leaves just before their first consumer, stages by longest path, the loss last
    assert {n.name: n.x for n in d.nodes} == {"x1": 0, "x2": 0, "w1": 0, "w2": 0, "w3": 0, "b": 0, "y": 1,
                                              "yhat": 1, "E": 2}
    assert {(e.source, e.target) for e in d.edges} >= {("w1", "yhat"), ("yhat", "E"), ("y", "E")}
    # sample 1 of step 1: yhat = 1 + (-1)(1) + (-1)(1)(-1) + 1 = 2, E = (2 - 10)² = 64, ∂E/∂yhat = 2(2 - 10)
    assert d.node("yhat").value == 2 and d.node("E").value == 64 and d.node("yhat").grad == -16
    assert d.node("w1").grad == -16 * 1 and d.node("w3").grad == -16 * (1 * -1)
    assert ">∂E/∂yhat = −16</text>" in diagram_svg(d)


def _wide_network(units: int) -> str:
    weights = [[0.01 * (i + 1)] * 2 for i in range(units)]
    names = ", ".join(f"h{i + 1}" for i in range(units))
    return (f"title: wide\nnetwork:\n  inputs: [x1, x2]\n  layers:\n"
            f"    - {{units: [{names}], activation: sigmoid, weights: {weights}}}\n"
            f"    - {{units: [o], activation: linear, weights: [{[0.1] * units}]}}\n"
            f"targets: [y]\ndata: {{x1: 1, x2: 2, y: 1}}\nloss: mse\noptimizer: {{name: sgd, lr: 0.1}}\n")


def test_large_networks_lose_their_edge_labels_then_their_drawing():
    small = build_diagram(train(parse_problem(_wide_network(LABELLED_COLUMN))))
    assert small.edge_labels and "without their labels" not in small.caption
    bare = build_diagram(train(parse_problem(_wide_network(LABELLED_COLUMN + 1))))
    assert not bare.edge_labels and "drawn without their labels" in bare.caption
    assert " = 0.01</text>" not in diagram_svg(bare) and "node[weight" not in diagram_tikz(bare)
    run = train(parse_problem(_wide_network(31)))
    assert build_diagram(run) is None
    md = export_bytes(run, "md").decode()
    assert "The network is too large to draw (more than 30 units in a column" in md and "<svg" not in md


def test_text_diagram_fits_or_is_left_out():
    for path in PROBLEMS:
        d = build_diagram(run_of(path))
        text = text_diagram(d, width=80) if d is not None else None  # None: too large to draw
        if text is not None:
            assert max(len(line) for line in text.splitlines()) <= 80
    assert text_diagram(build_diagram(run_of(MAZUR)), width=30) is None
    out = CliRunner().invoke(_app(), ["solve", str(MAZUR)], env={"COLUMNS": "80"})
    assert "  The network\n\n  i1 = 0.05     h1 = 0.5933      o1 = 0.7514\n" in out.output


def test_every_export_has_the_drawing():
    run = run_of(MAZUR)
    assert "<svg" in export_bytes(run, "md").decode() and "<svg" in export_bytes(run, "html").decode()
    assert "\\begin{tikzpicture}" in export_bytes(run, "tex").decode()


# ---------------------------------------------------------------- TeX and a browser

def _tikz_available() -> bool:
    if shutil.which("pdflatex") is None or shutil.which("kpsewhich") is None:
        return False
    found = subprocess.run(["kpsewhich", "tikz.sty"], stdout=subprocess.PIPE, text=True, check=False)
    return bool(found.stdout.strip())


@pytest.mark.skipif(not _tikz_available(), reason="pdflatex with TikZ not installed (texlive-pictures)")
def test_pdflatex_compiles_every_diagram_and_plot(tmp_path):
    pictures = [diagram_tikz(d) for p in PROBLEMS if (d := build_diagram(run_of(p))) is not None]
    pictures.append(plot_tikz(compare(run_of(MOMENTUM).problem, optimizers=["sgd", "adam"]).plot))
    body = "\n\\clearpage\n".join(pictures)
    (tmp_path / "d.tex").write_text("\\documentclass{article}\n\\usepackage[margin=2.2cm]{geometry}\n"
                                    "\\usepackage{amsmath,graphicx,tikz}\n\\begin{document}\n" + body
                                    + "\\end{document}\n", encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "d.tex"], cwd=tmp_path,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    log = (tmp_path / "d.log").read_text(encoding="latin-1")
    assert "Overfull \\hbox" not in log
    assert f"Output written on d.pdf ({len(pictures)} page" in log


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium_run(args: list[str], page: Path) -> str:
    with tempfile.TemporaryDirectory(prefix="tutor-chromium-") as profile:
        done = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                               "--disable-background-networking", "--disable-component-update", "--hide-scrollbars",
                               f"--user-data-dir={profile}", *args, page.as_uri()],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                              timeout=120, check=True, text=True)
    return done.stdout


@pytest.mark.skipif(_chromium() is None, reason="chromium not installed (.ci/install-export-deps.sh installs it)")
def test_chromium_draws_the_svg_without_overflow(tmp_path):
    page = export_bytes(run_of(MAZUR), "html").decode()
    figure = re.search(r'<figure class="picture">.*?</figure>', page, re.S).group(0)
    # Not blank: the figure alone, screenshot.
    alone = tmp_path / "figure.html"
    alone.write_text(f'<!DOCTYPE html><html><body style="margin:0;background:#fff">{figure}</body></html>',
                     encoding="utf-8")
    png = tmp_path / "figure.png"
    _chromium_run([f"--screenshot={png}", "--window-size=800,330"], alone)
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 15_000 and len(set(data[1000:15_000])) > 200
    # No overflow: each drawing is scaled to a narrow window (the page's tables may scroll there),
    # and at the usual width nothing on the page is wider than the window.
    for width, whole_page in ((480, False), (1000, True)):
        page_fits = "document.documentElement.scrollWidth <= window.innerWidth && " if whole_page else ""
        probe = page.replace("</body>", "<script>document.body.setAttribute('data-fit', String(" + page_fits +
                             "[...document.querySelectorAll('svg')].every(s => s.getBoundingClientRect().right "
                             "<= window.innerWidth && s.getBoundingClientRect().height > 50)));</script></body>")
        probed = tmp_path / f"probe-{width}.html"
        probed.write_text(probe, encoding="utf-8")
        dom = _chromium_run(["--dump-dom", f"--window-size={width},900", "--virtual-time-budget=2000"], probed)
        assert 'data-fit="true"' in dom, width


# ---------------------------------------------------------------- loss curves

def test_loss_plot_is_the_runs_losses():
    run = run_of(ROOT / "problems" / "sigmoid-neuron-sgd.yaml")
    steps = loss_plot(run).series[0].points
    assert [x for x, _ in steps] == [float(s.step) for s in run.steps]   # per-sample batches: no final point
    assert [y for _, y in steps] == [run.domain.to_float(s.loss) for s in run.steps]
    epochs = loss_plot(run, "epoch").series[0].points
    by_epoch = {}
    for s in run.steps:
        by_epoch.setdefault(s.epoch, []).append(run.domain.to_float(s.loss))
    assert epochs == tuple((float(e), sum(v) / len(v)) for e, v in by_epoch.items())


def test_ticks_are_round_and_cover_the_range():
    assert ticks(1.427, 1.4785) == [1.42, 1.44, 1.46, 1.48]
    assert ticks(0, 64) == [0, 20, 40, 60, 80]
    assert ticks(1, 3, whole=True) == [1, 2, 3]
    assert ticks(5, 5) == [5, 5.2, 5.4, 5.6, 5.8, 6]


def test_character_plot():
    plot = Plot("t", "step", "loss", (Series("a", ((1.0, 2.0), (2.0, 1.0))), Series("b", ((1.0, 2.0), (2.0, 0.0)))))
    text = text_plot(plot, width=60, height=5)
    lines = text.splitlines()
    assert lines[1] == " 2 ┤▪" and lines[-3:] == ["  ● a", "  × b", "  ▪ several series at one point"]
    assert max(len(line) for line in lines) <= 60
    assert text_plot(Plot("t", "step", "loss", (Series("a", ()),))) == "  (no finite loss to plot)\n"


def test_plot_command(tmp_path):
    runner = CliRunner()
    out = runner.invoke(_app(), ["plot", str(MOMENTUM)], env={"COLUMNS": "80"})
    assert out.exit_code == 0 and "loss per step: Momentum (EMA form)" in out.output and "● loss per step" in out.output
    svg = tmp_path / "loss.svg"
    assert runner.invoke(_app(), ["plot", str(MOMENTUM), "-o", str(svg), "--per", "epoch"]).exit_code == 0
    assert svg.read_text(encoding="utf-8").startswith("<svg ") and ">mean loss per epoch</text>" in svg.read_text()
    again = runner.invoke(_app(), ["plot", str(MOMENTUM), "-o", str(svg)])
    assert again.exit_code == 2 and "--force" in again.output


def test_png_without_chromium_is_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    out = CliRunner().invoke(_app(), ["plot", str(MOMENTUM), "-o", str(tmp_path / "loss.png")])
    assert out.exit_code == 2 and "PNG output needs Chromium (headless), which is not installed" in out.output
    assert not (tmp_path / "loss.png").exists()


@pytest.mark.skipif(_chromium() is None, reason="chromium not installed (.ci/install-export-deps.sh installs it)")
def test_png_through_chromium(tmp_path):
    out = CliRunner().invoke(_app(), ["plot", str(MOMENTUM), "-o", str(tmp_path / "loss.png")])
    assert out.exit_code == 0, out.output
    data = (tmp_path / "loss.png").read_bytes()
    assert data.startswith(b"\x89PNG") and len(set(data[100:5000])) > 100


# ---------------------------------------------------------------- compare

def _solve_json(text: str, tmp_path: Path, name: str) -> dict:
    file = tmp_path / f"{name}.yaml"
    file.write_text(text, encoding="utf-8")
    out = CliRunner().invoke(_app(), ["solve", str(file), "--format", "json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


# The problem's optimizer line, and each optimizer as a problem file would say it:
# the problem's learning rate; rmsprop and adam with their defaults otherwise.
OWN = "optimizer: {name: momentum, form: ema, momentum: 0.8, lr: 0.9}"
WRITTEN = {"sgd": "optimizer: {name: sgd, lr: 0.9}", "momentum": OWN,
           "rmsprop": "optimizer: {name: rmsprop, lr: 0.9, alpha: 0.99, eps: 1e-8}",
           "adam": "optimizer: {name: adam, lr: 0.9, betas: [0.9, 0.999], eps: 1e-8}"}


def test_compare_final_losses_match_separate_solves(tmp_path):
    text = MOMENTUM.read_text(encoding="utf-8")
    assert OWN in text
    svg = tmp_path / "compare.svg"
    out = CliRunner().invoke(_app(), ["compare", str(MOMENTUM), "--optimizer", "sgd,momentum,rmsprop,adam",
                                      "-o", str(svg)], env={"COLUMNS": "80"})
    assert out.exit_code == 0, out.output
    table = dict(re.findall(r"^  (sgd|momentum|rmsprop|adam) +2 +(\S+)$", out.output, re.M))
    assert list(table) == ["sgd", "momentum", "rmsprop", "adam"]
    drawing = svg.read_text(encoding="utf-8")
    for name, line in WRITTEN.items():
        expected = _solve_json(text.replace(OWN, line), tmp_path, name)["final"]["loss"]
        assert abs(float(table[name]) - expected) <= 1e-12 * max(1.0, abs(expected)), name
        assert f">{name}: final " in drawing   # the legend names each
    assert len(set(table.values())) == 4


def test_compare_learning_rates_and_losses(tmp_path):
    text = MOMENTUM.read_text(encoding="utf-8")
    result = compare(parse_problem(text), lrs=["0.1", "1/2"], losses=["half_sse", "mse"])
    assert [v.label for v in result.variants] == ["lr 0.1, loss half_sse", "lr 0.1, loss mse",
                                                  "lr 1/2, loss half_sse", "lr 1/2, loss mse"]
    assert result.varied == "learning rate and loss"
    expected = _solve_json(text.replace("lr: 0.9", "lr: 0.5").replace("loss: half_sse", "loss: mse"),
                           tmp_path, "lr-loss")["final"]["loss"]
    assert abs(result.variants[3].final_loss - expected) <= 1e-12


def test_compare_keeps_the_problems_own_optimizer_and_hyper_parameters():
    problem = run_of(MOMENTUM).problem
    assert with_optimizer(problem, "momentum") is problem
    nesterov = with_optimizer(problem, "nesterov").optimizer
    assert nesterov.form == "pytorch" and nesterov.hypers["mu"].value == 0.8 and nesterov.hypers["lr"].value == 0.9


@pytest.mark.parametrize("args,message", [
    (["--optimizer", "sgd,adamx"], "error: unknown optimizer 'adamx'; expected one of sgd, momentum"),
    (["--lr", "0.1,-1"], "error: expected a learning rate above 0, found '-1'"),
    (["--lr", "0.1,abc"], "error: expected a learning rate above 0, found 'abc'"),
    (["--loss", "mse,huber"], "error: unknown loss 'huber'; expected one of mse, sse"),
    (["--lr", ","], "error: expected learning rates separated by commas"),
    ([], "error: nothing to compare; give --optimizer, --lr or --loss with several values"),
])
def test_compare_bad_options(args, message):
    out = CliRunner().invoke(_app(), ["compare", str(MOMENTUM), *args])
    assert out.exit_code == 2 and message in out.output and "Traceback" not in out.output


# ---------------------------------------------------------------- loss surface (two parameters)

LINEAR = ROOT / "problems" / "nesterov-lookahead-linear.yaml"


def test_loss_surface_is_the_problems_loss_and_paths_are_the_runs():
    from tutor.surface import loss_surface
    problem = run_of(LINEAR).problem
    result = compare(problem, optimizers=["sgd", "nesterov"])
    surface = loss_surface(problem, [(v.label, v.run) for v in result.variants])
    assert surface.names == ("w", "b") and [p.label for p in surface.paths] == ["sgd", "nesterov"]

    # independent: the file's loss, ½(w·x + b − y)² averaged over its two samples
    def loss(w, b):
        return ((w * 1.0 + b - 2.0) ** 2 / 2 + (w * 2.0 + b - 3.0) ** 2 / 2) / 2

    sgd = surface.paths[0].points
    # sgd by hand from (0, 0), lr 0.1: g_w = mean((wx + b − y)x) = −4, g_b = mean(wx + b − y) = −2.5
    assert sgd[0] == (0.0, 0.0) and sgd[1] == pytest.approx((0.4, 0.25), abs=1e-15) and len(sgd) == 4
    for level, segments in surface.contours:
        assert segments
        for xa, ya, xb, yb in segments[:20]:   # on the level, up to the grid's linear interpolation
            spacing = (surface.xs[1] - surface.xs[0]) ** 2 * 8
            assert abs(loss(xa, ya) - level) <= spacing and abs(loss(xb, yb) - level) <= spacing
    assert surface.xs[0] < 0 < 1.2 < surface.xs[-1]


def test_compare_surface_option(tmp_path):
    out = CliRunner().invoke(_app(), ["compare", str(LINEAR), "--optimizer", "sgd,adam", "--surface",
                                      str(tmp_path / "s.svg")])
    assert out.exit_code == 0, out.output
    svg = (tmp_path / "s.svg").read_text(encoding="utf-8")
    assert svg.count("<polyline") == 2 and ">sgd</text>" in svg and ">adam</text>" in svg and "<path d=" in svg
    bad = CliRunner().invoke(_app(), ["compare", str(MAZUR), "--lr", "0.1,1", "--surface", str(tmp_path / "m.svg")])
    assert bad.exit_code == 2 and "a loss surface needs a problem with two trained parameters" in bad.output
    assert not (tmp_path / "m.svg").exists()


# ---------------------------------------------------------------- the loss curve in exports

def _six_steps():
    text = (ROOT / "problems" / "sigmoid-neuron-sgd.yaml").read_text(encoding="utf-8")
    assert "training: {epochs: 2, batch_size: 1}" in text
    return train(parse_problem(text.replace("training: {epochs: 2, batch_size: 1}",
                                            "training: {epochs: 3, batch_size: 1}")))


def test_exports_of_longer_trainings_show_the_loss_curve():
    run = _six_steps()
    assert len(run.steps) == 6
    md, page, tex = (export_bytes(run, fmt).decode() for fmt in ("md", "html", "tex"))
    assert md.count("<svg") == 2 and "## The loss during training" in md and ">loss per step</text>" in md
    assert page.count("<svg") == 2 and "<h2>The loss during training</h2>" in page
    assert "\\subsection*{The loss during training}" in tex and "{loss per step};" in tex
    # three epochs of two steps: each epoch's mean at its last step (steps 2, 4, 6)
    means = shown_in_export(run).series[1].points
    losses = [run.domain.to_float(s.loss) for s in run.steps]
    assert means == tuple((2.0 * e, (losses[2 * e - 2] + losses[2 * e - 1]) / 2) for e in (1, 2, 3))
    short = export_bytes(run_of(ROOT / "problems" / "sigmoid-neuron-sgd.yaml"), "md").decode()
    assert short.count("<svg") == 1 and "The loss during training" not in short   # 4 steps: no curve


@pytest.mark.skipif(not _tikz_available(), reason="pdflatex with TikZ not installed (texlive-pictures)")
def test_pdf_with_diagram_and_loss_curve_compiles():
    pdf = export_bytes(_six_steps(), "pdf")
    assert pdf.startswith(b"%PDF")


def test_compare_reports_a_diverged_variant():
    # lr 1000 on Mazur's network with BCE: the sigmoid outputs saturate to 0 or 1, log(0) in the final pass
    out = CliRunner().invoke(_app(), ["compare", str(MAZUR), "--lr", "0.5,1000", "--loss", "bce"])
    assert out.exit_code == 0 and "  lr 1000, loss bce       1      diverged (final forward pass)\n" in out.output


def test_plot_and_compare_read_standard_input():
    text = MOMENTUM.read_text(encoding="utf-8")
    plotted = CliRunner().invoke(_app(), ["plot", "-"], input=text)
    assert plotted.exit_code == 0 and "loss per step: Momentum (EMA form)" in plotted.output
    compared = CliRunner().invoke(_app(), ["compare", "-", "--optimizer", "sgd,adam"], input=text)
    assert compared.exit_code == 0 and "\n  adam       2      " in compared.output


def test_thresholds_are_drawn_subtracted():
    """Negnevitsky's net_j = Σ w·x − θ_j: a threshold is drawn with its minus sign, never as a bias."""
    d = build_diagram(solve_problem(ROOT / "problems" / "negnevitsky-xor-thresholds.yaml"))
    assert d.node("y3").bias == ("theta3", 0.8, "−")
    assert "− theta3 = 0.8" in diagram_svg(d, 4)
    assert "\\(-\\,\\mathit{theta}_{3} = 0.8\\)" in diagram_tikz(d, 4)
    assert "+ theta3" not in text_diagram(d, 120, 4) and "− theta3" in text_diagram(d, 120, 4)
