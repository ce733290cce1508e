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
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import sympy

from .ops import NAMED_CONSTANTS, USER_FUNCTIONS
from .source import did_you_mean

MAX_LENGTH = 4000
MAX_DEPTH = 60
MAX_CONSTANT_POWER_DIGITS = 400  # |base|**exponent may have at most this many digits
OPERATORS = "+ - * / **"
# Argument names of the functions taking more than one, for messages (default: x).
ARGUMENT_NAMES = {"leaky_relu": "x, slope", "elu": "x, alpha", "max": "a, b", "min": "a, b"}

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
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
    def __init__(self, text: str, resolve_name, fail):
        self.fail = fail
        self.resolve_name = resolve_name  # (name, offset) -> sympy.Expr, raising on unknown
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0

    # -- token helpers
    @property
    def tok(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind == "bad":
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
            return base ** exponent
        return base

    def atom(self) -> sympy.Expr:
        tok = self.tok
        if tok.kind == "number":
            self.pos += 1
            mantissa, _, power = tok.text.lower().partition("e")
            if power and abs(int(power)) > MAX_CONSTANT_POWER_DIGITS:
                raise self.fail(tok.offset, f"number {tok.text!r} out of range")
            return sympy.Rational(tok.text)  # exact: "0.1" is 1/10, as written
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

    def call(self, name: Token) -> sympy.Expr:
        op = USER_FUNCTIONS.get(name.text)
        if op is None:
            hint = did_you_mean(name.text, USER_FUNCTIONS)
            known = f"did you mean {hint!r}?" if hint else f"known: {', '.join(USER_FUNCTIONS)}"
            raise self.fail(name.offset, f"unknown function {name.text!r} ({known})")
        self.take("(")
        self.nested()
        args = [self.expr()]
        while self.take(","):
            args.append(self.expr())
        self.depth -= 1
        self.expect_close(f"',' or ')' to close {name.text}(")
        if len(args) != op.arity:
            signature = f"{name.text}({ARGUMENT_NAMES.get(name.text, 'x' if op.arity == 1 else '…')})"
            raise self.fail(name.offset, f"expected {op.arity} argument{'s' * (op.arity > 1)} for {signature}, "
                                         f"found {len(args)}")
        return op.sympy_fn(*args)


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


def parse_expression(text: str, resolve_name, fail) -> sympy.Expr:
    """Parse equation text. ``resolve_name(name, offset)`` maps a name to its symbol
    (raising for unknown ones); ``fail(offset, message)`` builds the located error."""
    if len(text) > MAX_LENGTH:
        raise fail(0, f"expression too long ({len(text)} characters; at most {MAX_LENGTH})")
    if not text.strip():
        raise fail(0, "expected an expression, found empty text")
    return _Parser(text, resolve_name, fail).parse()


def parse_constant(text: str, fail) -> sympy.Expr:
    """Parse a number string such as "1/3" or "sqrt(2)/2": an expression with no names."""

    def no_names(name: str, offset: int):
        raise fail(offset, f"a number cannot refer to a name ({name!r}); "
                           f"write an arithmetic expression such as \"1/3\" or \"sqrt(2)/2\"")

    return parse_expression(text, no_names, fail)

