"""Numbers that recompute: every line of working the terminal shows with its numbers
substituted gives, recomputed from the numbers as shown, the value shown, to the
precision they are shown at.

A number shown as 0.9991 (digits 4) stands for anything within ±0.00005 of it, one shown
as 8.3e−7 for anything within ±0.0005e−7 (trailing zeros are trimmed: "2" is 2.0000).
The line passes when the recomputed value is within what those half-units of its
inputs move it (first order, each input in turn) of the value shown, give or take the
value's own half-unit. A line whose numbers nearly cancel ((0.9991 − 1)², its result
2000 times more sensitive than its numbers) must do better: recomputed from its numbers
as shown, it gives its result to the result's own half-unit (so its numbers are shown
with the digits that takes: (0.99908895 − 1)² = 8.3e−7, "8.3e−7" standing
for 8.300e−7).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest

from test_terminal import Arithmetic
from tutor.api import solve_problem
from tutor.document import Equations, Formula, Table
from tutor.render.notation import unicode_math
from tutor.render.walk import walk_solution
from tutor.solution import build_solution

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = sorted((ROOT / "problems").glob("*.yaml"))
DIGITS = 4
_NUMBER = re.compile(r"(?P<mantissa>\d+(?:\.(?P<decimals>\d+))?)(?:e(?P<exp>[−-]?\d+))?")


@lru_cache(maxsize=None)
def run_of(path: Path):
    return solve_problem(path)


def half_unit(text: str) -> float:
    m = _NUMBER.fullmatch(text)
    assert m, text
    decimals = len(m.group("decimals") or "")
    if m.group("exp") is None:
        return 0.5 * 10.0 ** -max(decimals, DIGITS)
    exponent = int(m.group("exp").replace("−", "-"))
    return 0.5 * 10.0 ** (exponent - max(decimals, DIGITS - 1))


def shown_value(text: str) -> tuple[float, float] | None:
    """The value a result's text shows and its half-unit; None for one not shown as a decimal."""
    text = text.split(" (unrounded")[0].strip()
    if "≈" in text:
        text = text.split("≈")[-1].strip()
    negative = text.startswith("−")
    body = text.lstrip("−")
    if not _NUMBER.fullmatch(body):
        return None
    value = float(body.replace("−", "-"))
    return (-value if negative else value), half_unit(body)


CANCELLING = 10   # a result this many times more sensitive, relatively, than its numbers: they nearly cancel


def recompute(text: str) -> tuple[float, float]:
    """The substituted line's value from its numbers as shown, and how far their half-units move it."""
    base, spread, _ = recompute_and_condition(text)
    return base, spread


def recompute_and_condition(text: str) -> tuple[float, float, float]:
    """The line's value from its numbers as shown, how far their half-units move it, and its
    condition number Σ|x·∂f/∂x|/|f| over its rounded numbers (∞ for a result of 0 that they
    move); an integer is taken as exact (a constant, a given target)."""
    parser = Arithmetic(text)
    base = Arithmetic(text).parse()
    spread = 0.0
    sensitivity = 0.0
    for i, (kind, token) in enumerate(parser.tokens):
        if kind != "num":
            continue
        h = half_unit(token)
        x = float(token.replace("−", "-"))
        moved, shifted_values = [], []
        for sign in (1, -1):
            shifted = Arithmetic(text)
            value = max(x + sign * h, 0.0)
            shifted.tokens[i] = ("num", repr(value))
            try:
                result = shifted.parse()
                moved.append(abs(result - base))
                shifted_values.append((value, result))
            except (ValueError, ZeroDivisionError, OverflowError):
                moved.append(float("inf"))
        spread += max(moved)
        if len(shifted_values) == 2 and x and not token.isdigit():   # an integer (the 1 of 1 − o) is exact
            (x1, f1), (x2, f2) = shifted_values
            sensitivity += abs(x * (f1 - f2) / (x1 - x2))
    if base == 0:
        condition = float("inf") if sensitivity else 0.0
    else:
        condition = sensitivity / abs(base)
    return base, spread, condition


def substituted_lines(path: Path):
    """(formula, numbers, value) as the terminal spells them, for every line with numbers substituted."""
    for block in walk_solution(build_solution(run_of(path)), answers=False):
        if isinstance(block, Equations):
            for row in block.rows:
                parts = row.parts
                for k in range(1, len(parts) - 1):
                    if any(isinstance(i, Formula) and i.values is not None for i in parts[k].items):
                        yield unicode_math(row.lhs), unicode_math(parts[k]), unicode_math(parts[-1])
        elif isinstance(block, Table) and block.headers[2:3] == ("numbers",):
            for row in block.rows:
                if row[2]:
                    yield unicode_math(row[0][0]), unicode_math(row[2][0]), unicode_math(row[3][0])


@pytest.mark.parametrize("path", PROBLEMS, ids=[p.stem for p in PROBLEMS])
def test_every_substituted_line_recomputes_at_its_shown_precision(path: Path):
    checked = 0
    for lhs, numbers, value in substituted_lines(path):
        shown = shown_value(value)
        if shown is None:
            continue
        result, spread, condition = recompute_and_condition(numbers)
        target, half = shown
        assert abs(result - target) <= spread + half + 1e-12 * abs(target), \
            f"{lhs} = {numbers} = {value}: recomputed {result!r} (±{spread:.2g})"
        if condition >= CANCELLING:   # numbers that nearly cancel: recomputed, the result as shown
            assert recomputes_strictly(numbers, value), \
                f"{lhs} = {numbers} = {value}: its numbers nearly cancel (×{condition:.3g}) and give {result!r}"
        checked += 1
    assert checked


def recomputes_strictly(numbers: str, value: str) -> bool:
    """The line's numbers, as shown, give its result to the result's own half-unit."""
    target, half = shown_value(value)
    return abs(Arithmetic(numbers).parse() - target) <= half + 1e-12 * abs(target)


CANCELLING_PROBLEM = ROOT / "tests" / "recompute" / "sigmoid-at-its-target.yaml"


def test_a_loss_whose_numbers_nearly_cancel_recomputes_strictly():
    """σ(7) = 0.999089 against the target 1: E = (0.9991 − 1)² would recompute to 8.1e−7, not
    the 8.3e−7 shown; the line shows its numbers with the digits it needs."""
    lines = [(lhs, numbers, value) for lhs, numbers, value in substituted_lines(CANCELLING_PROBLEM)
             if lhs == "E"]
    assert lines
    for lhs, numbers, value in lines:
        assert recompute_and_condition(numbers)[2] >= CANCELLING
        assert recomputes_strictly(numbers, value), f"E = {numbers} = {value}"
    assert lines[0][1:] == ("(0.99908895 − 1)²", "8.3e−7")   # 8.3e−7 stands for 8.300e−7


def test_the_check_can_fail():
    result, spread = recompute("(0.9991 − 1)²")
    assert abs(result - 8.3e-7) <= spread + half_unit("8.3e−7")       # within what 0.9991's rounding allows
    assert recompute_and_condition("(0.9991 − 1)²")[2] >= CANCELLING    # but its numbers nearly cancel
    assert not recomputes_strictly("(0.9991 − 1)²", "8.3e−7")          # and give 8.1e−7
    assert recompute_and_condition("0.7414·0.1868·0.5933")[2] < CANCELLING   # a product: no cancelling
    result, spread = recompute("0.5 − 0.1·(−1.5)")
    assert not abs(result - 0.66) <= spread + half_unit("0.66")       # 0.65, not 0.66
