"""How close a student's number must be: the instructor's tolerance and the one
rule that applies it (docs/checking.md states the rules in words).

A quantity is judged against its own size: ``rel`` of |expected| (of the step
θ_new − θ_old for an updated parameter). Only a value that is zero, or
negligible against the problem's own scale for that kind of quantity, is judged
with an absolute floor. A non-zero value is never accepted with the wrong sign.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .arith import round_half_up

MAX_DIGITS = 15
# Against the largest value of its kind in the whole solution, a value this much
# smaller is cancellation noise, not a number a student can be asked to match.
NEGLIGIBLE = 1e-9
# Room for binary floating point when a decimal is compared with its double.
SLACK = 1e-9


@dataclass(frozen=True)
class Tolerance:
    """``rel``: the relative error allowed. ``abs``: the floor for a value that is
    zero or negligible (default: NEGLIGIBLE × the problem's scale of that quantity).
    ``digits``: instead, the value must round to the expected one at that many decimals.
    A zero is judged by how small the given value is against the problem's scale:
    a value the check would judge relatively when expected cannot pass for zero."""

    rel: float = 1e-3
    abs: float | None = None
    digits: int | None = None

    def as_dict(self) -> dict[str, Any]:
        if self.digits is not None:
            return {"digits": self.digits}
        return {"rel": self.rel, "abs": self.abs}

    def describe(self) -> str:
        from .render.numbers import parameter_text   # (the reader needs this module, not the printer's)

        if self.digits is not None:
            return f"the solution rounded to {self.digits} decimals"
        floor = parameter_text(self.abs) if self.abs is not None else f"{parameter_text(NEGLIGIBLE)} × the problem's scale"
        return f"rel {parameter_text(self.rel)} of each value's own size (zero values: within {floor})"

    def matches(self, given: float, expected: float | None, scale: float = 0.0) -> bool:
        """Whether ``given`` is ``expected``; ``scale`` is the largest size of this kind of
        quantity in the problem (what "negligible" is measured against)."""
        if expected is None or given is None or not math.isfinite(expected) or not math.isfinite(given):
            return False
        size = abs(expected)
        negligible = NEGLIGIBLE * scale
        if _opposite(given, expected, negligible):
            return False
        if self.digits is not None:
            return _rounds_to(given, expected, self.digits)
        if size <= negligible or size == 0:
            return abs(given - expected) <= (self.abs if self.abs is not None else negligible)
        return abs(given - expected) <= self.rel * size * (1 + SLACK)


    def half_width(self, expected: float, scale: float = 0.0) -> float:
        """How far from ``expected`` a given value may lie (an LMS's absolute
        tolerance): the same rule as `matches`, as one number for this value.
        For an updated parameter, pass its step θ_new − θ_old as ``expected``."""
        if self.digits is not None:
            return _half(self.digits)
        negligible = NEGLIGIBLE * scale
        if abs(expected) <= negligible or expected == 0:
            return self.abs if self.abs is not None else negligible
        return self.rel * abs(expected)


def _half(digits: int) -> float:
    return 0.5 * 10.0 ** -digits


def _rounds_to(given: float, expected: float, digits: int) -> bool:
    """``given`` is a correct rounding of ``expected`` at ``digits`` decimals, or rounds to
    the same: at a rounding boundary (…5) both neighbours are accepted."""
    if round_half_up(given, digits) == round_half_up(expected, digits):
        return True
    return abs(given - expected) <= _half(digits) * (1 + SLACK)


def _opposite(given: float, expected: float, zero: float) -> bool:
    """Non-zero values of opposite signs (values within ``zero`` of 0 have no sign)."""
    return abs(given) > zero and abs(expected) > zero and (given > 0) != (expected > 0)


def written_half_unit(x: float) -> float:
    """Half a unit of the last digit the student wrote (8.3e-7 -> 5e-9): how precise the
    number they wrote is, whatever the tolerance asks."""
    exponent = Decimal(repr(float(x))).as_tuple().exponent
    return 0.5 * 10.0 ** exponent if isinstance(exponent, int) else 0.0


def same_as_written(given: float, value: float | None) -> bool:
    """``value`` rounds to ``given`` at the digits the student wrote."""
    if value is None or not math.isfinite(value):
        return False
    return abs(given - value) <= written_half_unit(given) * (1 + SLACK)
