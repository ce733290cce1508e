"""What every printer of a worked solution shares: dispatch on the record's class
(`_print_<Record>`; a record without a method is a bug and raises, rather than
printing ``str(record)``), the order of the records, and how a line of working
is cut into formula, numbers and value."""

from __future__ import annotations

from typing import Any

from ..solution import Calc, Solution


class RecordPrinter:
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
