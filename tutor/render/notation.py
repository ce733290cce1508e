"""Numbers and mathematics as text: the one place every printer gets them from.

* `format_number` turns a value of any arithmetic domain (float, `Exact`) into
  text: ``digits`` decimals, trailing zeros trimmed, the minus sign −, exact
  rationals as fractions.
* `MathPrinter` is a SymPy printer that writes an expression in Unicode
  (∂, Σ, σ, ·, ², √, −) and, given ``values``, the same expression with the
  numbers in place of the names (the "substitution" line of a worked step).

Nothing else in the renderers builds mathematics by joining strings.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import sympy
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.printer import Printer

from .. import optim
from ..ops import LOSSES, OP_OF_CLASS, softmax
from .numbers import (MINUS, _float_text, format_number, format_value, latex_number,  # noqa: F401
                      latex_number_text, latex_value, same_at, shown_approximately, to_float, is_negative)

SUPERSCRIPT = str.maketrans("0123456789-+()tn", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁽⁾ᵗⁿ")
SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")

# The optimizer's symbols are spelled by their table (tutor/optim.py SPELLINGS): there,
# also their order in a formula (hyper-parameters first: μ·v, lr·g; ε last: √v̂ + ε).
OPTIMIZER_RANK = optim.SYMBOL_RANK
OPTIMIZER_HYPERS = optim.HYPER_NAMES


def superscript(text: str) -> str:
    return str(text).translate(SUPERSCRIPT)


def subscript(text: str) -> str:
    return str(text).translate(SUBSCRIPT)


# ---------------------------------------------------------------- the printer

def _terminating(q: sympy.Rational, max_decimals: int = 6) -> str | None:
    """1/5 -> "0.2"; 1/3 -> None."""
    den = int(q.q)
    for p in (2, 5):
        while den % p == 0:
            den //= p
    if den != 1:
        return None
    for decimals in range(1, max_decimals + 1):
        text = f"{float(q):.{decimals}f}"
        if sympy.Rational(text) == q:
            return text.replace("-", MINUS)
    return None


class MathPrinter(Printer):
    """Unicode mathematics; with ``values`` the same expression with numbers substituted.

    Settings:
      names   symbol name -> display name (default: the name itself)
      values  symbol name -> value; when given, every symbol prints as its number
      digits  decimals of substituted numbers
      rank    symbol name -> definition order; terms of a sum and factors of a
              product are ordered by it (None: the expression's own order)
      params  names of parameters (a weight is written before its source: w11·i1)
    """

    printmethod = "_tutor_math"
    # lead: the name of an assignment's target; where it stands alone in the sum it
    # leads, as written by hand (θ ← θ − lr·g, g ← g + λ·θ, r ← r + g²).
    _default_settings = {"names": {}, "values": None, "digits": 4, "rank": None, "params": frozenset(),
                         "lead": "theta", "labels": {}}

    def emptyPrinter(self, expr):
        raise TypeError(f"MathPrinter cannot print {type(expr).__name__}: {expr!r}")

    # ------------------------------------------------ helpers

    @property
    def _values(self):
        return self._settings["values"]

    def _value_of(self, expr: sympy.Symbol):
        values = self._values
        if values is None or expr.name not in values:
            return None
        return values[expr.name]

    def _prec(self, expr) -> int:
        if isinstance(expr, sympy.Symbol):
            value = self._value_of(expr)
            if value is not None:
                text = format_number(value, self._settings["digits"])
                if text.startswith(MINUS) or "/" in text or "e" in text:
                    return PRECEDENCE["Add"]
            return PRECEDENCE["Atom"]
        if isinstance(expr, sympy.Rational) and not expr.is_Integer:
            return PRECEDENCE["Add"] if expr < 0 or _terminating(expr) is None else PRECEDENCE["Atom"]
        if expr.is_Number and expr < 0:
            return PRECEDENCE["Add"]
        if isinstance(expr, sympy.Function):
            return PRECEDENCE["Func"]
        if isinstance(expr, sympy.Pow) and expr.exp == sympy.Rational(1, 2):
            return PRECEDENCE["Func"]
        if isinstance(expr, sympy.Mul) and self._negative_term(expr):
            return PRECEDENCE["Add"]
        return precedence(expr)

    # The spelling: the only differences between the Unicode and the LaTeX printer
    # are these tokens and how a product, a power, a root and a function are written.
    minus = MINUS            # the sign of a negative term
    open_paren, close_paren = "(", ")"

    def wrap(self, text: str) -> str:
        return f"{self.open_paren}{text}{self.close_paren}"

    def _paren(self, expr, level: int, strict: bool = False) -> str:
        text = self._print(expr)
        p = self._prec(expr)
        if p < level or (strict and p <= level):
            return self.wrap(text)
        return text

    def _rank(self, expr) -> tuple:
        rank = self._settings["rank"]
        params = self._settings["params"]
        names = [s.name for s in expr.free_symbols]
        ranks = [rank.get(n, len(rank)) for n in names]
        param_ranks = [rank.get(n, len(rank)) for n in names if n in params]
        return (min(param_ranks, default=math.inf), min(ranks, default=math.inf))

    @staticmethod
    def _negative_term(term) -> bool:
        if isinstance(term, sympy.Mul):
            first = term.args[0]
            return bool(first.is_Number and first < 0)
        return bool(term.is_Number and term < 0)

    def _add_terms(self, expr: sympy.Add) -> list:
        terms = list(expr.args)
        if self._settings["rank"] is not None:
            params = self._settings["params"]

            def key(a):
                if isinstance(a, sympy.Symbol) and a.name in ("theta", self._settings["lead"]):
                    return (False, False, False, (-1, -1), False)  # θ + μ·v: the updated variable leads
                lone = isinstance(a, sympy.Symbol) and a.name in params  # a bias: written last
                nested = isinstance(a, sympy.Mul) and any(isinstance(f, sympy.Add) for f in a.args)
                return (self._negative_term(a), bool(a.is_number), lone, self._rank(a), nested)
            terms.sort(key=key)
        return terms

    def _mul_factors(self, expr: sympy.Mul) -> list:
        factors = list(expr.args)
        if self._settings["rank"] is not None:
            params = self._settings["params"]

            def key(f):
                names = {s.name for s in f.free_symbols}
                return (not f.is_Number, not (names & params), self._rank(f)[1], isinstance(f, sympy.Add))
            factors.sort(key=key)
        return factors

    # ------------------------------------------------ atoms

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        if self._values is not None:
            if expr.name not in self._values:
                raise KeyError(f"no value for {expr.name} in a substitution")
            return format_number(self._values[expr.name], self._settings["digits"])
        if expr.name in self._settings["labels"]:
            return unicode_label(self._settings["labels"][expr.name])
        return self._settings["names"].get(expr.name, expr.name)

    def _print_Integer(self, expr) -> str:
        return str(int(expr)).replace("-", MINUS)

    def _print_Rational(self, expr) -> str:
        decimal = _terminating(expr)
        if decimal is not None:
            return decimal
        return f"{expr.p}/{expr.q}".replace("-", MINUS)

    def _print_Float(self, expr) -> str:
        return _float_text(float(expr), self._settings["digits"])

    def _print_Exp1(self, expr) -> str:
        return "e"

    def _print_Pi(self, expr) -> str:
        return "π"

    def _print_Half(self, expr) -> str:
        return "0.5"

    def _print_NegativeOne(self, expr) -> str:
        return MINUS + "1"

    # ------------------------------------------------ operators

    def _print_Add(self, expr: sympy.Add) -> str:
        out = []
        for i, term in enumerate(self._add_terms(expr)):
            if self._negative_term(term):
                text = self._paren(-term if not isinstance(term, sympy.Mul) else _negate(term), PRECEDENCE["Add"],
                                   strict=True)
                out.append(f"{self.minus}{text}" if i == 0 else f" {self.minus} {text}")
            else:
                text = self._paren(term, PRECEDENCE["Add"])
                if i and text.startswith(self.minus):
                    text = self.wrap(text)
                out.append(text if i == 0 else f" + {text}")
        return "".join(out)

    def _mul_parts(self, expr: sympy.Mul):
        """sign, numerator factors, denominator factors of a product, as printed:
        1/3 stays a fraction, 0.25 a decimal, x**-1 goes below the line."""
        sign = ""
        numer, denom = [], []
        for f in self._mul_factors(expr):
            if f.is_Number and f < 0:
                sign = self.minus
                f = -f
            if f == 1:
                continue
            if isinstance(f, sympy.Rational) and not f.is_Integer:
                if f.p == 1 or _terminating(f) is None:
                    if f.p != 1:
                        numer.append(sympy.Integer(f.p))
                    denom.append(sympy.Integer(f.q))
                else:
                    numer.append(f)
            elif isinstance(f, sympy.Pow) and f.exp.is_Number and f.exp < 0:
                denom.append(f.base if f.exp == -1 else sympy.Pow(f.base, -f.exp, evaluate=False))
            else:
                numer.append(f)
        return sign, numer, denom

    def _print_Mul(self, expr: sympy.Mul) -> str:
        sign, numer, denom = self._mul_parts(expr)
        level = PRECEDENCE["Mul"]
        if numer:
            parts = [self._paren(f, level) for f in numer]
            top = "·".join(parts)
            if len(numer) == 1 and denom and self._prec(numer[0]) < level:
                top = parts[0]
        else:
            top = "1"
        if not denom:
            return sign + top
        if len(denom) == 1:
            bottom = self._paren(denom[0], level, strict=True)
        else:
            bottom = "(" + "·".join(self._paren(f, level) for f in denom) + ")"
        return f"{sign}{top}/{bottom}"

    def _print_Pow(self, expr: sympy.Pow) -> str:
        base, exp = expr.base, expr.exp
        if exp == sympy.Rational(1, 2):
            return "√" + self._paren(base, PRECEDENCE["Func"], strict=True)
        if exp.is_Number and exp < 0:
            return "1/" + self._paren(sympy.Pow(base, -exp, evaluate=False), PRECEDENCE["Mul"], strict=True)
        base_text = self._paren(base, PRECEDENCE["Pow"], strict=True)
        if exp.is_Integer and exp > 0:
            return base_text + superscript(int(exp))
        if isinstance(exp, sympy.Symbol):
            if self._values is not None and exp.name in self._values:
                text = format_number(self._values[exp.name], self._settings["digits"])
                if text.lstrip(MINUS).isdigit():
                    return base_text + superscript(text.replace(MINUS, "-"))
                return f"{base_text}^({text})"
            name = self._print(exp)
            if name in ("t", "n"):
                return base_text + superscript(name)
            return f"{base_text}^{name}"
        return f"{base_text}^({self._print(exp)})"

    def _print_Abs(self, expr) -> str:
        return f"|{self._print(expr.args[0])}|"

    def _print_UnevaluatedExpr(self, expr) -> str:   # a chain rule's factor kept in place: ·(−1)
        return self._print(expr.args[0])

    def _print_Function(self, expr) -> str:
        op = OP_OF_CLASS.get(type(expr))
        if op is None:
            raise TypeError(f"MathPrinter: no display name for the function {type(expr).__name__}")
        args = list(expr.args)
        name = op.unicode_name
        if isinstance(expr, softmax):
            name = "softmax" + subscript(int(args[0]))
            args = args[1:]
        return f"{name}({', '.join(self._print(a) for a in args)})"


def _negate(term: sympy.Mul) -> sympy.Expr:
    """−term for a product with a negative coefficient, keeping the factor order."""
    first, *rest = term.args
    coeff = -first
    factors = rest if coeff == 1 else [coeff, *rest]
    if len(factors) == 1:
        return factors[0]
    return sympy.Mul(*factors, evaluate=False)


def print_math(expr: sympy.Expr, **settings) -> str:
    return MathPrinter(settings).doprint(expr)


def substitute(expr: sympy.Expr, values: dict[str, Any], **settings) -> str:
    return MathPrinter({**settings, "values": values}).doprint(expr)


# ---------------------------------------------------------------- LaTeX mode
#
# The same printer writing LaTeX (for the Markdown, LaTeX and HTML exports):
# the same numbers (format_number / format_value, then spelled in LaTeX), the
# same order of terms and factors, the same parentheses. Names become
# identifiers with subscripts (w21 -> w_{21}, net_o1 -> \mathit{net}_{o_{1}}),
# the solution's labels become fractions (∂E/∂w21 -> \frac{\partial E}{\partial w_{21}}).
# Only commands that KaTeX, pdflatex (amsmath) and latex2mathml all know are used.

import re as _re

_SUPERSCRIPT_BACK = {v: k for k, v in zip("0123456789-+()tn", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁽⁾ᵗⁿ")}
# A name the subscript convention reads: letters, then digits, then optionally "_" and
# such a name again (w21, net_o1, b_h2). Any other identifier the format allows
# (w1a, _bias, w__1, u1_0, w_21) is written whole, so that no two names look alike.
_CONVENTIONAL_NAME = _re.compile(r"[A-Za-z]+[0-9]*(?:_[A-Za-z]+[0-9]*)*\Z")
_HEAD = _re.compile(r"([A-Za-z]+)([0-9]*)(?:_(.*))?\Z")
_GREEK_NAMES = ("theta", "mu", "eps", "alpha", "rho")


def latex_identifier(name: str) -> str:
    """A name or a label of the solution in LaTeX: w21 -> w_{21}, net_o1 -> \\mathit{net}_{o_{1}},
    ∂E/∂o1 -> \\frac{\\partial E}{\\partial o_{1}}, δ_h1 -> \\delta_{h_{1}}, E⁽²⁾ -> E^{(2)}, w21~ -> \\tilde{w}_{21},
    w1a -> \\mathit{w1a}, w__1 -> \\mathit{w\\_\\_1}."""
    if name.startswith("∂") and "/∂" in name:
        top, bottom = name[1:].split("/∂", 1)
        return rf"\frac{{\partial {latex_identifier(top)}}}{{\partial {latex_identifier(bottom)}}}"
    if name.startswith("δ_"):
        return rf"\delta_{{{latex_identifier(name[2:])}}}"
    mark = ""
    while name and name[-1] in _SUPERSCRIPT_BACK:
        mark = _SUPERSCRIPT_BACK[name[-1]] + mark
        name = name[:-1]
    if mark:
        return f"{latex_identifier(name)}^{{{mark}}}"
    if name.endswith("~"):
        kernel, sub = _kernel_and_subscript(name[:-1])
        return rf"\tilde{{{kernel}}}" + (f"_{{{sub}}}" if sub else "")
    kernel, sub = _kernel_and_subscript(name)
    return kernel + (f"_{{{sub}}}" if sub else "")


def _kernel_and_subscript(name: str) -> tuple[str, str]:
    if name in _GREEK_NAMES:
        return optim.spelling(name).latex, ""
    if not _CONVENTIONAL_NAME.match(name):
        if not _re.fullmatch(r"[A-Za-z0-9_]+", name):
            raise ValueError(f"no LaTeX spelling for the name {name!r}")
        return r"\mathit{" + name.replace("_", r"\_") + "}", ""
    letters, digits, rest = _HEAD.match(name).groups()
    kernel = letters if len(letters) == 1 else rf"\mathit{{{letters}}}"
    subs = [digits] if digits else []
    if rest:
        subs.append(latex_identifier(rest))
    return kernel, ",".join(subs)


def latex_loss_formula(formula: str) -> str:
    """The header's loss formula ("E = (1/K) Σₖ (oₖ − tₖ)²") in LaTeX: the right side
    as its loss (tutor/ops.py LOSSES) spells it."""
    lhs, _, rhs = formula.partition(" = ")
    latex = next((loss.latex for loss in LOSSES.values() if loss.right_side == rhs), None)
    if not latex:
        raise ValueError(f"no LaTeX form of the loss formula {formula!r}")
    return f"{latex_identifier(lhs)} = {latex}"


class LatexMathPrinter(MathPrinter):
    """`MathPrinter` writing LaTeX. Settings as MathPrinter's, except that ``names``
    maps a symbol name to its LaTeX (default: `latex_identifier` of the name)."""

    printmethod = "_tutor_latex"
    minus = "-"
    open_paren, close_paren = r"\left(", r"\right)"
    # slash: a chain rule's partials written ∂E/∂o1 (in a table's cell, a fraction is tiny)
    _default_settings = {**MathPrinter._default_settings, "slash": False}

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        if self._values is not None:
            if expr.name not in self._values:
                raise KeyError(f"no value for {expr.name} in a substitution")
            return latex_number(self._values[expr.name], self._settings["digits"])
        if expr.name in self._settings["labels"]:
            return latex_label(self._settings["labels"][expr.name], self._settings["slash"])
        names = self._settings["names"]
        return names[expr.name] if expr.name in names else latex_identifier(expr.name)

    def _print_Integer(self, expr) -> str:
        return str(int(expr))

    def _print_Rational(self, expr) -> str:
        decimal = _terminating(expr)
        if decimal is not None:
            return decimal.replace(MINUS, "-")
        sign = "-" if expr.p < 0 else ""
        return rf"{sign}\frac{{{abs(expr.p)}}}{{{expr.q}}}"

    def _print_Float(self, expr) -> str:
        return latex_number_text(_float_text(float(expr), self._settings["digits"]))

    def _print_Pi(self, expr) -> str:
        return r"\pi"

    def _print_NegativeOne(self, expr) -> str:
        return "-1"

    def _print_Mul(self, expr: sympy.Mul) -> str:
        sign, numer, denom = self._mul_parts(expr)
        level = PRECEDENCE["Mul"]
        if not denom:
            return sign + (r" \cdot ".join(self._paren(f, level) for f in numer) if numer else "1")
        if len(numer) == 1:
            top = self._print(numer[0])
        else:
            top = r" \cdot ".join(self._paren(f, level) for f in numer) if numer else "1"
        if len(denom) == 1:
            bottom = self._print(denom[0])
        else:
            bottom = r" \cdot ".join(self._paren(f, level) for f in denom)
        return rf"{sign}\frac{{{top}}}{{{bottom}}}"

    def _print_Pow(self, expr: sympy.Pow) -> str:
        base, exp = expr.base, expr.exp
        if exp == sympy.Rational(1, 2):
            return rf"\sqrt{{{self._print(base)}}}"
        if exp.is_Number and exp < 0:
            return rf"\frac{{1}}{{{self._print(sympy.Pow(base, -exp, evaluate=False))}}}"
        base_text = self._paren(base, PRECEDENCE["Pow"], strict=True)
        if base_text.startswith((r"\frac", r"\sqrt")) or "^" in base_text:
            base_text = rf"\left({base_text}\right)"
        if exp.is_Integer and exp > 0:
            return f"{base_text}^{{{int(exp)}}}"
        if isinstance(exp, sympy.Symbol) and self._values is not None and exp.name in self._values:
            return f"{base_text}^{{{latex_number(self._values[exp.name], self._settings['digits'])}}}"
        return f"{base_text}^{{{self._print(exp)}}}"

    def _print_Abs(self, expr) -> str:
        return rf"\left\lvert {self._print(expr.args[0])} \right\rvert"

    def _print_Function(self, expr) -> str:
        op = OP_OF_CLASS.get(type(expr))
        if op is None:
            raise TypeError(f"LatexMathPrinter: no display name for the function {type(expr).__name__}")
        args = list(expr.args)
        prime = "'" if op.name.endswith("'") else ""
        if isinstance(expr, softmax):
            head = rf"\operatorname{{softmax}}_{{{int(args[0])}}}"
            args = args[1:]
        else:
            head = op.latex_name
        inner = ", ".join(self._print(a) for a in args)
        return rf"{head}{prime}\left({inner}\right)"


def print_latex(expr: sympy.Expr, **settings) -> str:
    return LatexMathPrinter(settings).doprint(expr)


def substitute_latex(expr: sympy.Expr, values: dict[str, Any], **settings) -> str:
    return LatexMathPrinter({**settings, "values": values}).doprint(expr)


# ---------------------------------------------------------------- labels
#
# A label of the solution (`records.Name`, `Partial`, `Delta`) in each spelling.

@functools.lru_cache(maxsize=8192)
def unicode_label(label) -> str:
    """∂E⁽²⁾/∂w21, δ_h1, E⁽²⁾, w21~ (the look-ahead point); W⁽²⁾, a⁽¹⁾ᵀ, δ_z⁽²⁾, ∂E/∂W⁽²⁾."""
    from ..records import Delta, Name, Partial, Tensor
    if isinstance(label, Tensor):
        core = label.base + (superscript(f"({label.layer})") if label.layer is not None else "") + \
            ("ᵀ" if label.transpose else "")
        return {"value": core, "delta": f"δ_{core}", "gradient": f"∂E/∂{core}"}[label.role]
    if isinstance(label, Name):
        mark = superscript(f"({label.sample})") if label.sample is not None else ""
        return label.name + mark + ("~" if label.tilde else "")
    if isinstance(label, Partial):
        return f"∂{unicode_label(Name(label.of, label.sample))}/∂{label.wrt}"
    if isinstance(label, Delta):
        return f"δ_{label.node}"
    raise TypeError(f"no spelling for the label {label!r}")


@functools.lru_cache(maxsize=8192)
def latex_label(label, slash: bool = False) -> str:
    """\\frac{\\partial E^{(2)}}{\\partial w_{21}}, \\delta_{h_{1}}, E^{(2)}, \\tilde{w}_{21};
    with ``slash`` a partial as \\partial E / \\partial w_{21} (in a table's cell, a fraction is tiny)."""
    from ..records import Delta, Name, Partial, Tensor
    if isinstance(label, Tensor):
        marks = ([f"({label.layer})"] if label.layer is not None else []) + ([r"\top"] if label.transpose else [])
        kernel = r"\theta" if label.base == "θ" else latex_identifier(label.base)
        core = kernel + (f"^{{{' '.join(marks)}}}" if marks else "")
        return {"value": core, "delta": rf"\delta_{{{core}}}",
                "gradient": rf"\frac{{\partial E}}{{\partial {core}}}"}[label.role]
    if isinstance(label, Name):
        if label.tilde:
            kernel, sub = _kernel_and_subscript(label.name)
            text = rf"\tilde{{{kernel}}}" + (f"_{{{sub}}}" if sub else "")
        else:
            text = latex_identifier(label.name)
        return text + (f"^{{({label.sample})}}" if label.sample is not None else "")
    if isinstance(label, Partial):
        top = latex_label(Name(label.of, label.sample))
        if slash:
            return rf"\partial {top} / \partial {latex_identifier(label.wrt)}"
        return rf"\frac{{\partial {top}}}{{\partial {latex_identifier(label.wrt)}}}"
    if isinstance(label, Delta):
        return rf"\delta_{{{latex_identifier(label.node)}}}"
    raise TypeError(f"no spelling for the label {label!r}")


# ---------------------------------------------------------------- spans of a document
#
# A `document.Math` span in each spelling: the one layout (`MathPrinter`) for formulas,
# `numbers` for values, the label spellings above for names.

_UNICODE_OPS = {"=": " = ", "←": " ← ", "→": " → ", "<": " < ", ">": " > ", "≈": " ≈ ", ",": ", "}
_LATEX_OPS = {"=": " = ", "←": r" \leftarrow ", "→": r" \to ", "<": " < ", ">": " > ", "≈": r" \approx ", ",": ", "}


def _settings(style, values, latex: bool) -> dict[str, Any]:
    names: dict[str, str] = {}
    if style.context == "optimizer":
        names.update((n, sp.latex if latex else sp.unicode) for n, sp in optim.SPELLINGS.items())
    names.update((k, latex_identifier(v) if latex else v) for k, v in style.names)
    settings: dict[str, Any] = {"names": names, "digits": style.digits, "labels": dict(style.labels)}
    if style.rank is not None:
        settings["rank"] = style.rank
        settings["params"] = style.params
    if style.lead is not None:
        settings["lead"] = style.lead
    if values is not None:
        settings["values"] = values
    return settings


def shown_items(items: tuple) -> tuple:
    """A span's items as they read: a result `shown_approximately` after = takes the ≈ in the
    place of the = ("E ≈ 0.4424", not "E = ≈ 0.4424")."""
    if len(items) < 2:   # (most spans: one name or number)
        return items
    from ..document import Num, Op
    out = items
    for i in range(1, len(items)):
        item, before = items[i], items[i - 1]
        if (type(item) is Num and item.result and type(before) is Op and before.op == "="
                and shown_approximately(item.value)):
            out = out[:i - 1] + (Op("≈"), Num(item.value, item.digits, result=False)) + out[i + 1:]
    return out


def unicode_item(item) -> str:
    from ..document import Formula, Matrix, Notation, Num, Op, Sym, Words
    if isinstance(item, Matrix):    # on one line; the terminal lays matrices out in rows (terminal.matrix_lines)
        return "[" + "; ".join("  ".join(unicode_item(n) for n in row) for row in item.rows) + "]"
    if isinstance(item, Sym):
        return unicode_label(item.label)
    if isinstance(item, Num):
        return (format_value if item.result else format_number)(item.value, item.digits)
    if isinstance(item, Formula):
        return MathPrinter(_settings(item.style, item.values, False)).doprint(item.expr)
    if isinstance(item, Op):
        return _UNICODE_OPS[item.op]
    if isinstance(item, Words):
        return item.text
    if isinstance(item, Notation):
        return item.unicode
    raise TypeError(f"no Unicode spelling for {type(item).__name__}")


def unicode_math(span) -> str:
    """A `document.Math` span in Unicode: w21 ← w21 − lr·g."""
    return "".join(unicode_item(i) for i in shown_items(span.items))


_LATEX_WORDS = str.maketrans({c: "\\" + c for c in "{}$&#%_"})


def latex_item(item, slash: bool = False) -> str:
    from ..document import Formula, Matrix, Notation, Num, Op, Sym, Words
    if isinstance(item, Matrix):
        return (r"\begin{bmatrix}" + r" \\ ".join(" & ".join(latex_item(n, slash) for n in row) for row in item.rows)
                + r"\end{bmatrix}")
    if isinstance(item, Sym):
        return latex_label(item.label, slash)
    if isinstance(item, Num):
        return (latex_value if item.result else latex_number)(item.value, item.digits)
    if isinstance(item, Formula):
        settings = _settings(item.style, item.values, True)
        if slash and item.style.labels:
            settings["slash"] = True
        return LatexMathPrinter(settings).doprint(item.expr)
    if isinstance(item, Op):
        return _LATEX_OPS[item.op]
    if isinstance(item, Words):
        return rf"\text{{{item.text.translate(_LATEX_WORDS)}}}"
    if isinstance(item, Notation):
        return item.latex
    raise TypeError(f"no LaTeX spelling for {type(item).__name__}")


def latex_math(span, slash: bool = False) -> str:
    """A `document.Math` span in LaTeX (maths mode): w_{21} \\leftarrow w_{21} - \\mathit{lr} \\cdot g;
    ``slash``: its labels' partials written ∂E/∂w (in a table's cell)."""
    return "".join(latex_item(i, slash) for i in shown_items(span.items))
