"""A result shown only approximately (an exact fraction too long to write) takes the ≈ in the
place of the =: "(64273/76800 − 1)² ≈ 0.02661", never "= ≈ 0.02661", in every format.

The expected decimal comes from Python's fractions, not from tutor: the line's own
numbers, squared exactly and rounded to the shown four significant figures."""

from __future__ import annotations

import re
from decimal import Decimal, localcontext
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import pytest
import sympy

from conftest import export_run, key_runs, terminal_text
from tutor.api import solve_problem
from tutor.arith import Exact
from tutor.document import Num, Op, Sym, math
from tutor.records import Name
from tutor.render.notation import latex_math, shown_items, unicode_math
from tutor.render.numbers import format_value, shown_approximately

ROOT = Path(__file__).resolve().parent.parent
EXACT = ROOT / "problems" / "exact-quadratic-sutskever.yaml"
LONG = Exact(sympy.Rational(64273 - 76800, 76800) ** 2)   # (64273/76800 − 1)²: 19 characters as a fraction


def four_figures(q: Fraction) -> str:
    """``q`` to four significant figures, by the decimal module's rounding of the exact value."""
    with localcontext() as context:
        context.prec = 4
        return str(Decimal(q.numerator) / Decimal(q.denominator))


def test_which_values_are_shown_only_approximately():
    assert shown_approximately(LONG)
    assert not shown_approximately(Exact(sympy.Rational(1, 3)))   # 1/3 ≈ 0.3333: the fraction is exact
    assert not shown_approximately(Exact(sympy.Integer(2)))
    assert not shown_approximately(0.02661)                       # a float is its own decimal
    assert format_value(LONG) == "≈ " + four_figures((Fraction(64273, 76800) - 1) ** 2)


def test_the_relation_becomes_approximately():
    span = math(Sym(Name("E")), Op("="), Num(LONG, 4))
    expected = four_figures((Fraction(64273, 76800) - 1) ** 2)
    assert unicode_math(span) == f"E ≈ {expected}"
    assert latex_math(span) == rf"E \approx {expected}"
    exact_fraction = math(Sym(Name("E")), Op("="), Num(Exact(sympy.Rational(1, 3)), 4))
    assert shown_items(exact_fraction.items) == exact_fraction.items   # "E = 1/3 ≈ 0.3333" stays
    factor = math(Op("="), Num(LONG, 4, result=False))
    assert shown_items(factor.items) == factor.items                    # a factor is not a result


@lru_cache(maxsize=None)
def outputs() -> dict[str, str]:
    run = solve_problem(EXACT)
    out = {"terminal": terminal_text(run)}
    for fmt in ("md", "tex", "html"):
        out[fmt] = export_run(run, fmt).decode("utf-8")
    out["key.tex"] = key_runs([run], "tex").decode("utf-8")
    return out


APPROXIMATE_AFTER_EQUALS = {
    "terminal": re.compile(r"= ≈"),
    "md": re.compile(r"=\s*\\approx"),
    "tex": re.compile(r"=\s*\\approx"),
    "key.tex": re.compile(r"=\s*\\approx"),
    "html": re.compile(r"<mo>(=|&#x0003D;)</mo>\s*<mo>(≈|&#x02248;)</mo>"),
}


@pytest.mark.parametrize("fmt", sorted(APPROXIMATE_AFTER_EQUALS))
def test_no_equals_before_an_approximation(fmt: str):
    text = outputs()[fmt]
    assert not APPROXIMATE_AFTER_EQUALS[fmt].search(text)


def test_the_loss_line_reads_approximately():
    loss = four_figures((Fraction(64273, 76800) - 1) ** 2)
    text = outputs()
    assert f"= (64273/76800 − 1)² ≈ {loss}" in text["terminal"]
    assert rf"\left(\frac{{64273}}{{76800}} - 1\right)^{{2}} \approx {loss}" in text["tex"]
    assert rf"\left(\frac{{64273}}{{76800}} - 1\right)^{{2}} \approx {loss}" in text["md"]
