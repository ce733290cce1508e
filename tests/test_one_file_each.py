"""Adding an activation, a loss, an optimizer or an output format touches one file.

Each test registers a new entry in one table only (tutor/ops.py OPS, tutor/ops.py
LOSSES, tutor/optim.py OPTIMIZERS with a new symbol's line in SPELLINGS), solves a
tiny problem that uses it and renders it in every format (terminal, Markdown,
LaTeX, HTML, JSON, and an answer key), and finds the entry's own display facts
there: its Unicode spelling in the terminal, its LaTeX spelling in the .tex. A
new output format is one new backend module (tutor/render/formats.py finds it).

OPS is indexed by name, by user-callable name and by SymPy class (USER_FUNCTIONS,
OP_OF_CLASS); ops.py fills all three from its one list, so the test fills them
the same way.
"""

from __future__ import annotations

import json
import re

import pytest
import sympy

from conftest import export_run, key_runs, terminal_text
from tutor import ops, optim
from tutor.api import solve_problem

FORMATS = ("md", "tex", "html")


def _render_everywhere(path) -> dict[str, str]:
    """The problem solved and rendered in every format; each rendering must succeed."""
    run = solve_problem(path)
    out = {"terminal": terminal_text(run, width=80)}
    for fmt in (*FORMATS, "json"):
        out[fmt] = export_run(run, fmt).decode("utf-8")
    json.loads(out["json"])
    for fmt in FORMATS:
        out["key." + fmt] = key_runs([run], fmt).decode("utf-8")
        key_runs([run], fmt, sheet=True)
        key_runs([run], fmt, answers_only=True)
    return out


# ---------------------------------------------------------------- an activation

class softsign(ops.RealFunction):
    """x / (1 + |x|), derivative 1 / (1 + |x|)²."""

    @classmethod
    def eval(cls, x):
        if x.is_number:
            return x / (1 + sympy.Abs(x))

    def fdiff(self, argindex=1):
        return 1 / (1 + sympy.Abs(self.args[0])) ** 2


SOFTSIGN = ops.Op("softsign", softsign, lambda x: x / (1 + abs(x)), 1, lambda x: x / (1 + sympy.Abs(x)),
                  unicode="φ", latex=r"\varphi", convention="φ(z) = z/(1 + |z|), φ′(z) = 1/(1 + |z|)²")


@pytest.fixture
def new_activation(monkeypatch):
    monkeypatch.setitem(ops.OPS, SOFTSIGN.name, SOFTSIGN)
    monkeypatch.setitem(ops.USER_FUNCTIONS, SOFTSIGN.name, SOFTSIGN)
    monkeypatch.setitem(ops.OP_OF_CLASS, softsign, SOFTSIGN)


def test_a_new_activation_needs_only_its_line_in_the_op_table(new_activation, tmp_path):
    path = tmp_path / "softsign.yaml"
    path.write_text("title: A new activation\ninputs: [x]\nparams: {w: 0.5, b: -0.25}\n"
                    "model:\n  z: w*x + b\n  o: softsign(z)\noutputs: [o]\ntargets: [t]\n"
                    "data: {x: 1, t: 1}\nloss: half_sse\noptimizer: {name: sgd, lr: 0.1}\n"
                    "training: {epochs: 1}\n", encoding="utf-8")
    out = _render_everywhere(path)
    assert "o = φ(z)" in out["terminal"]
    assert SOFTSIGN.convention in out["terminal"]
    assert r"\varphi\left(z\right)" in out["tex"]
    assert r"\varphi\left(z\right)" in out["key.tex"]
    # the worked numbers: z = 0.25, o = 0.2, ∂o/∂z = 1/1.25² = 0.64 (by hand)
    gradient = json.loads(out["json"])["steps"][0]["gradients"]["w"]
    assert gradient == pytest.approx((0.2 - 1) * 0.64 * 1, rel=1e-12)


# ---------------------------------------------------------------- a loss

QUARTIC = ops.Loss("quartic", "E = ¼ Σₖ (oₖ − tₖ)⁴",
                   lambda o, t: sympy.Rational(1, 4) * sympy.Add(*[(ok - tk) ** 4 for ok, tk in zip(o, t)]),
                   latex=r"\frac{1}{4} \sum_{k} \left(o_{k} - t_{k}\right)^{4}")


def test_a_new_loss_needs_only_its_line_in_the_loss_table(monkeypatch, tmp_path):
    monkeypatch.setitem(ops.LOSSES, QUARTIC.name, QUARTIC)
    path = tmp_path / "quartic.yaml"
    path.write_text("title: A new loss\ninputs: [x]\nparams: {w: 0.5}\nmodel:\n  o: w*x\noutputs: [o]\n"
                    "targets: [t]\ndata: {x: 2, t: 3}\nloss: quartic\noptimizer: {name: sgd, lr: 0.01}\n"
                    "training: {epochs: 1}\n", encoding="utf-8")
    out = _render_everywhere(path)
    assert "E = ¼ Σₖ (oₖ − tₖ)⁴" in out["terminal"]
    for fmt in ("tex", "md", "key.tex"):
        assert QUARTIC.latex in out[fmt], fmt
    # o = 1, E = ¼·(1 − 3)⁴ = 4, ∂E/∂w = (o − t)³·x = −16 (by hand)
    step = json.loads(out["json"])["steps"][0]
    assert step["gradients"]["w"] == pytest.approx(-16.0, rel=1e-12)


# ---------------------------------------------------------------- an optimizer with a new symbol

kappa = sympy.Symbol("kappa", real=True)
DAMPED = optim.OptimizerDef(
    "damped", (optim.LR_REQUIRED, optim._h("damping", kappa, "0.5", range=optim.FRACTION)),
    {"plain": (optim.Assign(optim.v, kappa * optim.v + optim.g, state=True),
               optim.Assign(optim.theta, optim.theta - optim.lr * optim.v))}, "plain", form_key="")


@pytest.fixture
def new_optimizer(monkeypatch):
    monkeypatch.setitem(optim.OPTIMIZERS, DAMPED.name, DAMPED)
    monkeypatch.setitem(optim.SPELLINGS, "kappa", optim.Spelling("κ", r"\kappa", hyper=True))


def test_a_new_optimizer_with_a_new_symbol_needs_only_the_optimizer_tables(new_optimizer, tmp_path):
    path = tmp_path / "damped.yaml"
    path.write_text("title: A new optimizer\ninputs: [x]\nparams: {w: 1}\nmodel:\n  o: w*x\noutputs: [o]\n"
                    "targets: [t]\ndata: {x: 1, t: 0}\nloss: half_sse\n"
                    "optimizer: {name: damped, lr: 0.5, damping: 0.25}\ntraining: {epochs: 2}\n",
                    encoding="utf-8")
    out = _render_everywhere(path)
    assert "v ← κ·v + g" in out["terminal"]
    assert "κ = 0.25" in out["terminal"]
    assert r"\kappa \cdot v" in out["tex"]
    assert "kappa" not in out["terminal"] and not re.search(r"(?<!\\)kappa", out["tex"])   # no bare name
    # by hand: g = w·x − t; step 1: g = 1, v = 1, w = 0.5; step 2: g = 0.5, v = 0.25 + 0.5 = 0.75, w = 0.125
    steps = json.loads(out["json"])["steps"]
    assert [s["parameters"]["w"] for s in steps] == pytest.approx([0.5, 0.125], rel=1e-12)


def test_a_range_of_the_new_hyper_parameter_is_enforced(new_optimizer, tmp_path):
    from tutor.errors import TutorError

    path = tmp_path / "damped.yaml"
    path.write_text("title: Out of range\ninputs: [x]\nparams: {w: 1}\nmodel:\n  o: w*x\noutputs: [o]\n"
                    "targets: [t]\ndata: {x: 1, t: 0}\nloss: half_sse\n"
                    "optimizer: {name: damped, lr: 0.5, damping: 2}\n",
                    encoding="utf-8")
    with pytest.raises(TutorError, match=r"damped.yaml:\d+:\d+: error: .*damping"):
        solve_problem(path)


def test_every_symbol_of_every_optimizer_has_its_spelling():
    assert optim.unspelled_symbols() == {}


def test_a_symbol_without_a_spelling_is_found_and_printed_as_its_name(monkeypatch):
    monkeypatch.delitem(optim.SPELLINGS, "rho")
    assert optim.unspelled_symbols() == {"adadelta": ["rho"]}
    assert optim.spelling("rho") == optim.Spelling("rho", "rho")


# ---------------------------------------------------------------- an output format

PLAIN_TEXT_BACKEND = '''
"""Plain text: the worked solution as the terminal shows it, without colour, as a file."""
from tutor.render.formats import OutputFormat
from tutor.render.terminal import render_terminal

FORMATS = (OutputFormat("txt", 6, solution=render_terminal, suffixes=("text",)),)
'''


@pytest.fixture
def new_format(monkeypatch, tmp_path):
    """A backend module dropped beside the others (here: a directory added to the package's path)."""
    import sys

    import tutor.render
    from tutor.render.formats import output_formats

    folder = tmp_path / "backend"
    folder.mkdir()
    (folder / "plaintext.py").write_text(PLAIN_TEXT_BACKEND, encoding="utf-8")
    monkeypatch.setattr(tutor.render, "__path__", [*tutor.render.__path__, str(folder)])
    output_formats.cache_clear()
    yield
    sys.modules.pop("tutor.render.plaintext", None)
    output_formats.cache_clear()


def test_a_new_output_format_needs_only_its_module(new_format, tmp_path):
    from typer.testing import CliRunner

    from tutor.cli import app
    from tutor.key import export_formats, format_of, key_formats

    assert export_formats()[-1] == "txt" and "txt" not in key_formats()   # it declares no key
    assert format_of("notes.text", None) == "txt"
    problem = tmp_path / "tiny.yaml"
    problem.write_text("title: A new format\ninputs: [x]\nparams: {w: 0.5}\nmodel:\n  o: w*x\noutputs: [o]\n"
                       "targets: [t]\ndata: {x: 2, t: 3}\nloss: half_sse\noptimizer: {name: sgd, lr: 0.1}\n"
                       "training: {epochs: 1}\n", encoding="utf-8")
    runner = CliRunner()
    out, key = tmp_path / "tiny.txt", tmp_path / "key.txt"
    assert runner.invoke(app, ["export", str(problem), "-o", str(out)]).exit_code == 0
    assert out.read_text(encoding="utf-8") == terminal_text(solve_problem(problem))
    refused = runner.invoke(app, ["key", str(problem), "-o", str(key)])
    assert refused.exit_code == 2 and "expected one of md, tex, pdf, html" in refused.stderr and not key.exists()


def test_two_modules_declaring_one_format_are_refused(new_format, tmp_path, monkeypatch):
    import tutor.render
    from tutor.render.formats import output_formats

    folder = tmp_path / "again"
    folder.mkdir()
    (folder / "plaintext2.py").write_text(PLAIN_TEXT_BACKEND, encoding="utf-8")
    monkeypatch.setattr(tutor.render, "__path__", [*tutor.render.__path__, str(folder)])
    output_formats.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="'txt' is declared by both plaintext and plaintext2"):
            output_formats()
    finally:
        import sys
        sys.modules.pop("tutor.render.plaintext2", None)
