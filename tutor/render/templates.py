"""Formulas spelled once per printer: a long training shows the same formulas at every
step, with other numbers. A formula without numbers is spelled once; a formula with
numbers is laid out once per shape of its numbers (which are negative, which are
fractions or powers of ten: what decides its parentheses and how they are set) with stand-ins in their
places, and each time its numbers' digits are filled in. The same bytes as spelling
it whole, at a fraction of the cost (a key spells thousands of such lines)."""

from __future__ import annotations

from typing import Callable

import sympy

from ..document import Formula
from .numbers import Shown, format_number, number_shape


def substitutable(expr) -> tuple[str, ...]:
    """The names of ``expr``'s symbols, when stand-ins may take their numbers' place: not in an
    exponent (x² or x^(−0.5) are written by the number's own value)."""
    if any(isinstance(p.exp, sympy.Symbol) or p.exp.free_symbols for p in expr.atoms(sympy.Pow)):
        return ()
    return tuple(sorted(s.name for s in expr.free_symbols))


def stand_in(i: int, shape: tuple[bool, bool, bool]) -> Shown:
    """The i-th number's place, written as a number of that shape (`number_shape`) is: its sign,
    its fraction bar or its power of ten, around a mark no number has."""
    negative, fraction, power = shape
    return Shown(("−" if negative else "") + f"\x01{i}" + ("/" if fraction else "e" if power else "") + "\x02")


class Formulas:
    """One printer's spellings of formulas: ``spell`` spells a formula, ``number_text``
    turns a number's text (`format_number`'s) into the spelling (LaTeX: −1/3 as \\frac)."""

    def __init__(self, spell: Callable[[Formula], str], number_text: Callable[[str], str] = lambda text: text):
        self.spell = spell
        self.number_text = number_text
        self.texts: dict[tuple, str] = {}   # each formula's spelling, or its spelling with stand-ins
        self.symbols: dict = {}             # each formula's symbols that take numbers (() when it has none)

    def __call__(self, item: Formula) -> str:
        st = item.style
        key = (item.expr, id(st.rank), st.context, st.digits, st.lead, st.names, st.labels)
        if item.values is None:
            text = self.texts.get(key)
            if text is None:
                text = self.texts[key] = self.spell(item)
            return text
        names = self.symbols.get(item.expr)
        if names is None:
            names = self.symbols[item.expr] = substitutable(item.expr)
        if not names:
            return self.spell(item)
        texts = [format_number(item.values[n], st.digits) for n in names]
        shapes = tuple(number_shape(t) for t in texts)
        template = self.texts.get((key, shapes))
        if template is None:
            stand_ins = {n: stand_in(i, shape) for i, (n, shape) in enumerate(zip(names, shapes))}
            template = self.texts[(key, shapes)] = self.spell(Formula(item.expr, st, {**item.values, **stand_ins}))
        for i, (text, shape) in enumerate(zip(texts, shapes)):
            template = template.replace(self.number_text(stand_in(i, shape)), self.number_text(text))
        return template


__all__ = ["Formulas", "stand_in", "substitutable"]
