"""What every printer of a worked solution shares: dispatch on the record's class
(`_print_<Record>`; a record without a method is a bug and raises, rather than
printing ``str(record)``), the order of the records, and how a line of working
is cut into formula, numbers and value."""

from __future__ import annotations

from typing import Any

from ..solution import Calc, Solution
from .notation import OPTIMIZER_HYPERS, OPTIMIZER_RANK


class RecordPrinter:
    digits: int = 4
    model_settings: dict[str, Any] = {}   # how the model's names print (set per solution)
    optimizer_names: dict[str, str] = {}  # how θ, μ, β₁ ... print in this format

    def settings(self, context: str) -> dict[str, Any]:
        """The math printer's settings for a formula of the model, of the optimizer, or plain."""
        if context == "model":
            return self.model_settings
        if context == "optimizer":
            return {"names": self.optimizer_names, "rank": OPTIMIZER_RANK, "params": OPTIMIZER_HYPERS,
                    "digits": self.digits}
        return {"digits": self.digits}

    def _print(self, record) -> None:
        method = getattr(self, f"_print_{type(record).__name__}", None)
        if method is None:
            raise TypeError(f"{type(self).__name__} has no method for {type(record).__name__}")
        method(record)

    def _print_Solution(self, s: Solution) -> None:
        for record in s.records():
            self._print(record)

    # A line of working: the formula, the same formula with numbers, the value.
    def formula(self, calc: Calc) -> str:
        raise NotImplementedError

    def numbers(self, calc: Calc) -> str:
        raise NotImplementedError

    def value(self, x: Any, shadow: Any = None) -> str:
        raise NotImplementedError

    def parts(self, calc: Calc) -> list[str]:
        """formula, numbers, value, without repeats (a name's value is not shown twice)."""
        out = []
        if calc.expr is not None:
            out.append(self.formula(calc))
            if calc.values is not None:
                out.append(self.numbers(calc))
        out.append(self.value(calc.value, calc.shadow))
        kept: list[str] = []
        for part in out:
            if not kept or part != kept[-1]:
                kept.append(part)
        return kept
