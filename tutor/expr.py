"""The whitelist expression grammar: equation and number text -> SymPy.

A small recursive-descent parser, so that nothing from a problem file ever
reaches ``eval``, ``sympify`` or ``parse_expr``, and every error has a column:

    expr   := term (("+" | "-") term)*
    term   := unary (("*" | "/") unary)*
    unary  := ("+" | "-") unary | power
    power  := atom (("**" | "^") unary)?          right-associative, as in Python
    atom   := NUMBER | NAME | NAME "(" expr ("," expr)* ")" | "(" expr ")"

Limits keep parsing cheap whatever the input: length, nesting depth, and the
size of constant powers (``10**10**10`` is refused, not computed).
Errors are reported in reading order: a character the grammar does not know is
refused only when the parser reaches it, so ``__import__('os')`` is an unknown
function, not a stray quote.

Numbers are read by the rules of docs/numbers.md: exactly as written, in ASCII,
Persian or Arabic-Indic digits; every constant must be a finite real number
whose nearest double is finite, and not 0 unless the constant is 0.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

import sympy

from .ops import NAMED_CONSTANTS, USER_FUNCTIONS
from .source import did_you_mean

MAX_LENGTH = 4000
MAX_DEPTH = 60
MAX_CONSTANT_POWER_DIGITS = 400  # |base|**exponent may have at most this many digits
OPERATORS = "+ - * / **"
# Argument names of the functions taking more than one, for messages (default: x).
ARGUMENT_NAMES = {"leaky_relu": "x, slope", "elu": "x, alpha", "max": "a, b, …", "min": "a, b, …"}

_DIGIT = "0-9\u06f0-\u06f9\u0660-\u0669"  # ASCII, Persian (Extended Arabic-Indic), Arabic-Indic
_POINT = ".\u066b"                          # the decimal point, and the Arabic decimal separator ٫
_TO_ASCII = str.maketrans({**{chr(0x06F0 + d): str(d) for d in range(10)},
                           **{chr(0x0660 + d): str(d) for d in range(10)}, "\u066b": "."})
_DATE = re.compile(r"\s*[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ][0-9:.]+(?:Z|[-+][0-9:]+)?)?\s*\Z")
_WRITTEN_NUMBER = re.compile(r"[0-9_]*\.?[0-9_]*(?:[eE][-+]?[0-9_]+)?")  # with '_', to quote it back
_TOKEN = re.compile(
    rf"""(?P<space>\s+)
      | (?P<number>(?:[{_DIGIT}]+[{_POINT}]?[{_DIGIT}]*|[{_POINT}][{_DIGIT}]+)(?:[eE][+-]?[{_DIGIT}]+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>\*\*|[-+*/^(),])""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str   # number, name, op, end, or bad (a character outside the grammar)
    text: str
    offset: int


def tokenize(text: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            tokens.append(Token("bad", text[pos], pos))
            break
        if match.lastgroup != "space":
            tokens.append(Token(match.lastgroup, match.group(), pos))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str, resolve_name, fail, functions=None):
        self.fail = fail
        self.functions = functions or {}  # name -> SymPy callable, beyond USER_FUNCTIONS (any arity)
        self.resolve_name = resolve_name  # (name, offset) -> sympy.Expr, raising on unknown
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0

    # -- token helpers
    @property
    def tok(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind == "bad":
            if unicodedata.category(tok.text) in ("Nd", "No"):
                raise self.fail(tok.offset, f"the digit {tok.text!r} ({unicodedata.name(tok.text, 'unnamed')}) "
                                            f"is not read as a number; write numbers with the digits 0-9 "
                                            f"(Persian and Arabic-Indic digits are read too)")
            raise self.fail(tok.offset, f"unexpected character {tok.text!r}: an expression holds only numbers, "
                                        f"names, {OPERATORS}, parentheses and commas")
        return tok

    def take(self, *texts: str) -> Token | None:
        if self.tok.kind == "op" and self.tok.text in texts:
            self.pos += 1
            return self.tokens[self.pos - 1]
        return None

    def expect_close(self, what: str) -> None:
        if not self.take(")"):
            raise self.fail(self.tok.offset, f"expected {what}, found {self._found()}")

    def _found(self) -> str:
        return "end of expression" if self.tok.kind == "end" else repr(self.tok.text)

    def nested(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(self.tok.offset, f"expression nested too deeply (more than {MAX_DEPTH} levels)")

    # -- grammar
    def parse(self) -> sympy.Expr:
        value = self.expr()
        tok = self.tok
        if tok.kind in ("number", "name") or tok.text == "(":
            raise self.fail(tok.offset, f"expected an operator ({OPERATORS}) before {self._found()}")
        if tok.text == ")":
            raise self.fail(tok.offset, "unexpected ')': there is no '(' for it to close")
        if tok.kind != "end":
            raise self.fail(tok.offset, f"unexpected {self._found()} in expression")
        return value

    def expr(self) -> sympy.Expr:
        value = self.term()
        while op := self.take("+", "-"):
            rhs = self.term()
            value = value + rhs if op.text == "+" else value - rhs
        return value

    def term(self) -> sympy.Expr:
        value = self.unary()
        while op := self.take("*", "/"):
            rhs_at = self.tok.offset
            rhs = self.unary()
            if op.text == "*":
                value = value * rhs
            else:
                if rhs.is_zero:
                    raise self.fail(rhs_at, "division by zero")
                value = value / rhs
        return value

    def unary(self) -> sympy.Expr:
        if op := self.take("+", "-"):
            self.nested()
            operand = self.unary()
            self.depth -= 1
            return -operand if op.text == "-" else operand
        return self.power()

    def power(self) -> sympy.Expr:
        base = self.atom()
        if op := self.take("**", "^"):
            self.nested()
            exponent = self.unary()
            self.depth -= 1
            _check_constant_power(base, exponent, lambda msg: self.fail(op.offset, msg))
            if base.is_zero and exponent.is_number and exponent.is_negative:
                raise self.fail(op.offset, "division by zero (0 to a negative power)")
            return _real(base ** exponent, lambda msg: self.fail(op.offset, f"this power {msg}"))
        return base

    def atom(self) -> sympy.Expr:
        tok = self.tok
        if tok.kind == "number":
            self.pos += 1
            return self.number(tok)
        if tok.kind == "name":
            self.pos += 1
            if self.tokens[self.pos].text == "(":  # peek without refusing a bad character yet
                return self.call(tok)
            if tok.text in NAMED_CONSTANTS:
                return NAMED_CONSTANTS[tok.text]
            return self.resolve_name(tok.text, tok.offset)
        if self.take("("):
            self.nested()
            value = self.expr()
            self.depth -= 1
            self.expect_close("')' to close '('")
            return value
        raise self.fail(tok.offset, f"expected a number, a name or '(', found {self._found()}")

    def number(self, tok: Token) -> sympy.Expr:
        after = self.tokens[self.pos]
        if after.kind == "name" and after.offset == tok.offset + len(tok.text) and after.text.startswith("_"):
            written = _WRITTEN_NUMBER.match(self.text, tok.offset).group()
            raise self.fail(tok.offset, f"{written!r} is not a number: YAML 1.2 and tutor do not read '_' "
                                        f"between digits; write {written.replace('_', '')}")
        text = tok.text.translate(_TO_ASCII)
        mantissa, _, power = text.lower().partition("e")
        if power and abs(int(power)) > MAX_CONSTANT_POWER_DIGITS and sympy.Rational(mantissa) != 0:
            raise self.fail(tok.offset, _range_problem(math.inf if int(power) > 0 else 0.0, tok.text))
        value = sympy.Rational(mantissa) * sympy.Integer(10) ** int(power or 0)  # exact: "0.1" is 1/10
        problem = _range_problem(float(value), tok.text) if value != 0 else None
        if problem:
            raise self.fail(tok.offset, problem)
        return value

    def call(self, name: Token) -> sympy.Expr:
        if name.text in self.functions:
            return self.functions[name.text](*self.arguments(name))
        op = USER_FUNCTIONS.get(name.text)
        if op is None:
            hint = did_you_mean(name.text, USER_FUNCTIONS)
            known = f"did you mean {hint!r}?" if hint else f"known: {', '.join(USER_FUNCTIONS)}"
            raise self.fail(name.offset, f"unknown function {name.text!r} ({known})")
        args = self.arguments(name)
        if len(args) != op.arity and not (op.variadic and len(args) > op.arity):
            signature = f"{name.text}({ARGUMENT_NAMES.get(name.text, 'x' if op.arity == 1 else '…')})"
            count = f"{op.arity}{' or more' * op.variadic} argument{'s' * (op.arity > 1)}"
            raise self.fail(name.offset, f"expected {count} for {signature}, found {len(args)}")
        return _real(op.sympy_fn(*args), lambda msg: self.fail(name.offset, f"{name.text}(…) {msg}"))


    def arguments(self, name: Token) -> list[sympy.Expr]:
        self.take("(")
        self.nested()
        args = [self.expr()]
        while self.take(","):
            args.append(self.expr())
        self.depth -= 1
        self.expect_close(f"',' or ')' to close {name.text}(")
        return args


def _real(value: sympy.Expr, fail) -> sympy.Expr:
    """A constant result must be a finite real number: sqrt(-4) is not silently
    dropped by a later relu, log(0) is not left to the evaluator."""
    if value.is_number:
        if value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            raise fail("is infinite or undefined here, not a finite number")
        if value.is_extended_real is False:
            raise fail(f"is the complex number {_clip(str(value))}, not a real number")
    return value


def _range_problem(value: float, written: str) -> str | None:
    """Why the nearest double of a nonzero constant cannot stand for it, or None.
    (Subnormal doubles, 5e-324 to 2.2e-308, are kept: every double's repr reads back.)"""
    if math.isinf(value) or math.isnan(value):
        return f"the number {_clip(written)} is out of range for a double (at most about 1.8e308)"
    if value == 0:
        return (f"the number {_clip(written)} is too small for a double: it would be 0 (the smallest "
                f"double is about 4.9e-324); write 0 if you mean zero")
    return None


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_constants(expr: sympy.Expr, fail) -> None:
    """Constants folded while parsing (1e-200*1e-200, exp(-1000)) obey the same range."""
    for sub in sympy.preorder_traversal(expr):
        if sub.is_number and not sub.is_zero:
            try:
                value = float(sub)
            except (TypeError, ValueError, OverflowError):
                raise fail(0, f"the constant {_clip(str(sub))} is not a finite real number") from None
            problem = _range_problem(value, str(sub) if len(str(sub)) <= 20 else str(sympy.N(sub, 3)))
            if problem:
                raise fail(0, problem.replace("the number", "the constant", 1))


def _check_constant_power(base: sympy.Expr, exponent: sympy.Expr, fail) -> None:
    """Refuse constant powers too large to compute quickly (10**10**10)."""
    if not (base.is_number and exponent.is_number):
        return
    try:
        size = abs(float(exponent)) * max(math.log10(abs(float(base))), 1.0) if base != 0 else 0.0
    except (OverflowError, TypeError, ValueError):
        size = math.inf
    if size > MAX_CONSTANT_POWER_DIGITS:
        raise fail(f"constant power too large (about {size:.3g} digits; at most {MAX_CONSTANT_POWER_DIGITS})")


def parse_expression(text: str, resolve_name, fail, functions=None) -> sympy.Expr:
    """Parse equation text. ``resolve_name(name, offset)`` maps a name to its symbol
    (raising for unknown ones); ``fail(offset, message)`` builds the located error;
    ``functions`` (name -> SymPy callable) adds functions that only tutor's own output
    uses (a symbolic solution's sum_i and derivative helpers)."""
    if len(text) > MAX_LENGTH:
        raise fail(0, f"expression too long ({len(text)} characters; at most {MAX_LENGTH})")
    if not text.strip():
        raise fail(0, "expected an expression, found empty text")
    if _DATE.match(text):
        raise fail(0, f"found the date {text.strip()!r}, not a number (YAML 1.2 has no dates, and as "
                      f"arithmetic it would be {text.strip().split('-')[0]} minus the rest); write the number meant")
    expr = _Parser(text, resolve_name, fail, functions).parse()
    _check_constants(expr, fail)
    return expr


def parse_constant(text: str, fail) -> sympy.Expr:
    """Parse a number string such as "1/3" or "sqrt(2)/2": an expression with no names."""

    def no_names(name: str, offset: int):
        raise fail(offset, f"a number cannot refer to a name ({name!r}); "
                           f"write an arithmetic expression such as \"1/3\" or \"sqrt(2)/2\"")

    return parse_expression(text, no_names, fail)

