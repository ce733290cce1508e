"""Every number the user sees is written by `tutor.render.numbers`: no other output module
formats one itself (a scan of their source), and the functions that write axis labels,
significant figures and full floats (expected texts worked out by hand, not by tutor)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tutor.render.numbers import axis_tick, error_text, full_text, significant_text
from tutor.render.svg import tick_step, ticks

ROOT = Path(__file__).resolve().parent.parent / "tutor"

# The output side: every printer, and the modules whose sentences reach the reader (a check's
# diagnoses and tolerance, the solution's records and header, the key).
OUTPUT_MODULES = sorted({*(ROOT / "render").glob("*.py"), ROOT / "slips.py", ROOT / "check.py", ROOT / "tolerance.py",
                         ROOT / "solution.py", ROOT / "records.py", ROOT / "document.py", ROOT / "key.py",
                         ROOT / "figures.py", ROOT / "plot.py", ROOT / "compare.py"} - {ROOT / "render" / "numbers.py"})

# Numbers formatted outside numbers.py on purpose: (module, function) -> why.
ALLOWED = {
    ("render/svg.py", "n"): "an SVG coordinate (geometry, not a number shown)",
    ("render/tikz.py", "cm"): "a TikZ length in centimetres (geometry, not a number shown)",
    ("render/notation.py", "_terminating"): "tries decimals of an exact rational until one reads back as it "
                                            "(a test of the value, not its display)",
    ("tolerance.py", "written_half_unit"): "reads how many digits a student wrote (a measure, not a display)",
}

NUMBER_SPEC = re.compile(r"[eEfFgGn%]$|\d+d$")   # a presentation type of a number (.4g, .2f, .1e, 5d, %)


def _specs(node: ast.JoinedStr) -> str:
    """The literal text of an f-string field's format spec ("" if none or fully computed)."""
    return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))


def number_formats(path: Path) -> list[tuple[str, int, str]]:
    """(function, line, what) for each place in ``path`` that writes a number as text itself:
    an f-string field with a number's format spec, format(x, spec), "%…g" % x, repr(x)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            if isinstance(child, ast.FormattedValue) and child.format_spec is not None:
                spec = _specs(child.format_spec)
                if NUMBER_SPEC.search(spec):
                    found.append((name, child.lineno, f"format spec {spec!r}"))
            elif isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id in ("format", "repr"):
                if child.func.id == "repr" or (len(child.args) == 2 and isinstance(child.args[1], ast.Constant)
                                               and NUMBER_SPEC.search(str(child.args[1].value))):
                    found.append((name, child.lineno, f"{child.func.id}()"))
            elif (isinstance(child, ast.BinOp) and isinstance(child.op, ast.Mod) and isinstance(child.left, ast.Constant)
                  and isinstance(child.left.value, str) and re.search(r"%[-+ #0]*\d*(\.\d+)?[eEfFgG]", child.left.value)):
                found.append((name, child.lineno, "% formatting"))
            visit(child, name)

    visit(tree, "<module>")
    return found


@pytest.mark.parametrize("path", OUTPUT_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_output_module_formats_a_number_itself(path: Path):
    module = str(path.relative_to(ROOT))
    offending = [f"{module}:{line} in {function}: {what}" for function, line, what in number_formats(path)
                 if (module, function) not in ALLOWED]
    assert not offending, "format it with a function of tutor/render/numbers.py:\n" + "\n".join(offending)


def test_the_scan_finds_number_formats(tmp_path: Path):
    """The scan itself: each way of writing a number is caught (a scan that finds nothing proves nothing)."""
    source = tmp_path / "sample.py"
    source.write_text('def a(x):\n    return f"{x:.4g}"\n\ndef b(x):\n    return format(x, ".2f")\n\n'
                      'def c(x):\n    return "%.3e" % x\n\ndef d(x):\n    return repr(x)\n\n'
                      'def e(name, w):\n    return f"{name:<{w}} {name!r}"\n')
    assert [f for f, _, _ in number_formats(source)] == ["a", "b", "c", "d"]


def test_allowed_places_exist():
    """Each allowed place is still there (a stale allow-list would hide a new one)."""
    for module, function in ALLOWED:
        assert any(f == function for f, _, _ in number_formats(ROOT / module)), (module, function)


# ---------------------------------------------------------------- the functions


@pytest.mark.parametrize("values, step, expected", [
    ([0, 0.05, 0.1, 0.15000000000000002], 0.05, ["0", "0.05", "0.1", "0.15"]),
    ([0.6000000000000001, 0.8, 1.0], 0.2, ["0.6", "0.8", "1"]),
    ([0, 500, 1000, 1500], 500, ["0", "500", "1000", "1500"]),
    ([-0.5, 0.0, 0.5], 0.5, ["−0.5", "0", "0.5"]),
    ([-1e-17, 0.1], 0.1, ["0", "0.1"]),                       # a tick computed near zero is 0
    ([0, 1e-06, 2e-06, 3.0000000000000004e-06], 1e-06, ["0", "1e−6", "2e−6", "3e−6"]),
    ([1.2e-4, 1.4e-4], 2e-05, ["1.2e−4", "1.4e−4"]),
    ([0, 5e8, 1e9, 1.5e9], 5e8, ["0", "5e8", "1e9", "1.5e9"]),
])
def test_axis_ticks_are_short_and_distinct(values, step, expected):
    assert [axis_tick(v, step) for v in values] == expected


def test_ticks_of_a_plot_read_distinctly():
    for low, high in [(0.0123, 0.6931), (-3.2, 4.7), (1e-7, 9e-7), (0, 2e4), (0.99, 1.01)]:
        values = ticks(low, high)
        labels = [axis_tick(v, tick_step(values)) for v in values]
        assert len(set(labels)) == len(labels), labels
        assert all("-" not in t for t in labels), labels   # the minus sign −
        for label, v in zip(labels, values):                # each label reads back as its tick
            assert abs(float(label.replace("−", "-")) - v) <= 1e-9 * max(1.0, abs(v)), (label, v)


def test_significant_and_full_texts():
    assert significant_text(-0.000123456789012, 10) == "−0.000123456789"
    assert significant_text(12.3456, 4) == "12.35"
    assert significant_text(-1.5e-12, 4) == "−1.5e−12"
    assert full_text(0.1 + 0.2) == "0.30000000000000004"
    assert full_text(-2.5e-7) == "-2.5e-07"   # as the JSON has it
    assert error_text(3.24e-11) == "3.2e−11"
    assert error_text(0.0) == "0" and error_text(0.5) == "5.0e−1" and error_text(1.25) == "1.2"
