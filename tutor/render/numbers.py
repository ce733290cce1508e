"""Every number the user sees, as text: the one place where a value becomes digits.

* `format_number`: a number as a factor of a formula: exact short fractions as
  themselves, else ``digits`` decimals (more for small numbers, so that they keep
  ``digits`` significant figures), trailing zeros trimmed, the minus sign −.
* `format_value`: a result: like `format_number`, and an exact fraction also as a
  decimal (1/3 ≈ 0.3333), an inexact exact-arithmetic value marked ≈.
* `shown_approximately`: whether a result is shown only as a decimal (its line then
  reads ≈ where it would read =: `notation.shown_items`).
* `latex_number` / `latex_value`: the same numbers spelled in LaTeX.
* `number_shape`: what of a number's text decides how a formula holds it (`templates`).
* `parameter_text`, `error_text`: a hyper-parameter as given, a relative error.
* `axis_tick`: a label on a plot's axis, with the decimals its ticks' spacing needs.
* `significant_text`, `full_text`: a number to some significant figures (a check report),
  a float in full (a comparison's final losses, as the JSON has them).

The printers never format a number themselves (tests/test_numbers_formatting.py scans them).
"""

from __future__ import annotations

import functools
import math
from decimal import Decimal
from typing import Any

import sympy

from ..arith import Exact

MINUS = "−"
MAX_FRACTION_CHARS = 15  # longer exact fractions are shown as decimals only

def _short_exact(x: float, digits: int) -> str | None:
    """A float that is exactly a short decimal (0.015625 = 1/64, 2.5), written in full: its
    rounding (0.01562) would not recompute. At most ``digits`` + 3 significant figures."""
    if len(repr(x)) > digits + 8:   # its shortest decimal is long: not a short exact one
        return None
    text = format(Decimal(x), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    figures = text.lstrip("-").replace(".", "").lstrip("0").rstrip("0")
    if len(figures) > digits + 3 or len(text) > digits + 12:
        return None
    return text


@functools.lru_cache(maxsize=1 << 16)   # a long solution shows the same values many times
def _float_text(x: float, digits: int) -> str:
    if x != x:
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else MINUS + "∞"
    if x == 0:
        return "0"
    short = _short_exact(x, digits) if abs(x) < 1e9 else None
    if short is not None:
        return short.replace("-", MINUS)
    ax = abs(x)
    if ax < 10.0 ** -max(digits, 4) or ax >= 1e9:
        mantissa, exponent = f"{x:.{max(digits - 1, 0)}e}".split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        text = f"{mantissa}e{int(exponent)}"
    else:
        decimals = digits
        if ax < 0.1:  # keep `digits` significant figures of small numbers
            decimals = max(digits, digits - 1 - math.floor(math.log10(ax)))
        text = f"{x:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        if text in ("-0", "0") and x != 0:
            text = f"{x:.{digits}e}"
    if text.startswith("-0") and set(text) <= set("-0."):
        text = "0"
    return text.replace("-", MINUS)


def exact_fraction(x) -> str | None:
    """An exact rational as a short fraction or integer ("1/3", "−2"), else None."""
    if isinstance(x, Exact) and x.expr.is_Rational:
        q = x.expr
        text = str(q.p) if q.q == 1 else f"{q.p}/{q.q}"
        if len(text) <= MAX_FRACTION_CHARS:
            return text.replace("-", MINUS)
    return None


def to_float(x) -> float:
    if isinstance(x, Exact):
        return float(x.approx)
    if isinstance(x, sympy.Basic):
        return float(x.evalf(30))
    return float(x)


class Shown(str):
    """A number already written (by `format_number`), or a stand-in for one: printed as it is."""


def format_number(x: Any, digits: int = 4) -> str:
    """A number as a factor of a formula: exact short fractions as themselves, else decimals."""
    if isinstance(x, Shown):
        return x
    fraction = exact_fraction(x)
    if fraction is not None:
        return fraction
    return _float_text(to_float(x), digits)


def shown_approximately(x: Any) -> bool:
    """Whether a result is shown only as a decimal that is not its value: an exact value whose
    fraction is too long to write (or that is irrational). After a name or a formula it reads
    "≈ 0.02661", the ≈ in the place of the = ("(64273/76800 − 1)² ≈ 0.02661", not "= ≈ 0.02661")."""
    return isinstance(x, Exact) and exact_fraction(x) is None


def format_value(x: Any, digits: int = 4) -> str:
    """A result: like `format_number`, and an exact fraction also as a decimal (1/3 ≈ 0.3333);
    a value `shown_approximately` as ≈ and its decimal (≈ 0.02661)."""
    fraction = exact_fraction(x)
    if fraction is not None and "/" in fraction:
        return f"{fraction} ≈ {_float_text(to_float(x), digits)}"
    if fraction is not None:
        return fraction
    text = _float_text(to_float(x), digits)
    if shown_approximately(x):
        return "≈ " + text
    return text


def same_at(a: Any, b: Any, digits: int) -> bool:
    """Whether two values print the same at ``digits``."""
    return _float_text(to_float(a), digits) == _float_text(to_float(b), digits)


def number_shape(text: str) -> tuple[bool, bool, bool]:
    """What of a number's text (`format_number`'s) decides how a formula holds it: whether it
    has a sign, is a fraction, or has a power of ten (the three are parenthesized as factors,
    and in LaTeX a fraction and a power are set differently)."""
    return text.startswith(MINUS), "/" in text, "e" in text


def is_negative(x: Any) -> bool:
    return to_float(x) < 0


def latex_number_text(text: str) -> str:
    """A number as `format_number` / `format_value` writes it, in LaTeX:
    −1/3 -> -\\frac{1}{3}, 2.5e−8 -> 2.5 \\times 10^{-8}, 1/3 ≈ 0.3333 -> \\frac{1}{3} \\approx 0.3333."""
    if " ≈ " in text:
        left, right = text.split(" ≈ ", 1)
        return f"{latex_number_text(left)} \\approx {latex_number_text(right)}"
    if text.startswith("≈ "):
        return r"\approx " + latex_number_text(text[2:])
    sign = ""
    if text.startswith(MINUS):
        sign, text = "-", text[1:]
    if text == "∞":
        return sign + r"\infty"
    if text == "NaN":
        return r"\mathrm{NaN}"
    if "/" in text:
        p, q = text.split("/", 1)
        return rf"{sign}\frac{{{p}}}{{{q}}}"
    if "e" in text:
        mantissa, exponent = text.split("e", 1)
        exponent = exponent.replace(MINUS, "-")
        if mantissa == "1":
            return f"{sign}10^{{{exponent}}}"
        return rf"{sign}{mantissa} \times 10^{{{exponent}}}"
    return sign + text


def latex_value(x: Any, digits: int = 4) -> str:
    """`format_value` in LaTeX."""
    return latex_number_text(format_value(x, digits))


def latex_number(x: Any, digits: int = 4) -> str:
    """`format_number` in LaTeX."""
    return latex_number_text(format_number(x, digits))


def axis_tick(v: float, step: float) -> str:
    """A label on an axis whose ticks are ``step`` apart: as many decimals as the step needs,
    so that ticks are distinct and short (0, 0.05, 0.1, 0.15; 0, 500, 1000), an exponent when
    the step is tiny or the values huge (2e−6, 1.5e9), the minus sign −."""
    if v != v or math.isinf(v) or not step > 0 or math.isinf(step):
        return _float_text(v, 4)
    step_power = math.floor(math.log10(step) + 1e-9)   # (log10 of 0.001 may be −2.9999…)
    if abs(v) < step * 1e-6:   # zero, as a tick computed near it (3e−17) is
        return "0"
    if step_power < -4 or abs(v) >= 1e6:
        figures = max(0, math.floor(math.log10(abs(v)) + 1e-9) - step_power)
        mantissa, exponent = f"{v:.{figures}e}".split("e")
        return _trimmed(mantissa) + "e" + str(int(exponent)).replace("-", MINUS)
    text = _trimmed(f"{v:.{max(0, -step_power)}f}")
    return "0" if text == "-0" else text.replace("-", MINUS)


def _trimmed(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def significant_text(x: Any, figures: int) -> str:
    """``figures`` significant figures, as short as they read (12.35, 1.2e−05), the minus sign −:
    a student's answer and the expected one in a check report, a value quoted in a diagnosis."""
    return f"{to_float(x):.{figures}g}".replace("-", MINUS)


def full_text(x: Any) -> str:
    """A float at full precision: the shortest decimal that reads back as the same double
    (0.1, 0.30000000000000004, 6.2e-09), character for character as the JSON solution holds
    it, so that it can be compared and read back (hence the ASCII minus)."""
    return repr(to_float(x))


def parameter_text(x: Any) -> str:
    """A number the problem gives (a schedule's key, an upstream gradient) as short as it reads: 0.5, 1e−3."""
    return f"{to_float(x):g}".replace("-", MINUS)


def error_text(x: float) -> str:
    """A relative error: two significant figures and its exponent (3.2e−11; 0 as 0), the
    minus sign −, as `latex_number_text` reads it."""
    if x == 0 or not math.isfinite(x):
        return _float_text(x, 2)
    mantissa, exponent = f"{x:.1e}".split("e")
    text = mantissa if int(exponent) == 0 else f"{mantissa}e{int(exponent)}"
    return text.replace("-", MINUS)
