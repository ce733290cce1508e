"""The loss's ``penalty``: a regularization term added to the batch loss.

    P = (λ₂/2)·Σ θ²  +  λ₁·Σ |θ|      over the penalized parameters

It is part of the loss (its value is in each step's loss, its derivative
λ₂·θ + λ₁·sign(θ) in each gradient), unlike the optimizer's ``weight_decay``,
which only adds λθ to the gradient the optimizer uses. sign(0) = 0, as
PyTorch's |θ|'(0) = 0.
"""

from __future__ import annotations

from typing import Any

import sympy

from .arith import compile_expr
from .errors import DivergenceError
from .evaluate import ARITHMETIC_ERRORS
from .problem import PenaltySpec

class Penalty:
    """The penalty compiled in one arithmetic domain: its value and each parameter's derivative."""

    def __init__(self, spec: PenaltySpec, domain):
        self.spec = spec
        self.domain = domain
        expr = spec.expression()
        symbols = {sympy.Symbol(p, real=True): i for i, p in enumerate(spec.on)}
        self.value_code = compile_expr(expr, symbols, domain)
        self.derivative_code = {p: compile_expr(sympy.diff(expr, sym), symbols, domain)
                                for sym, p in zip(symbols, spec.on)}

    def _run(self, code, params: dict[str, Any], what: str, step):
        d = self.domain
        try:
            value = code([params[p] for p in self.spec.on])
        except ARITHMETIC_ERRORS as exc:
            raise DivergenceError(what, str(exc) or type(exc).__name__, step) from None
        return d.round(d.check(value, what, step))

    def value(self, params: dict[str, Any], step=None):
        return self._run(self.value_code, params, "the penalty", step)

    def derivative(self, p: str, params: dict[str, Any], step=None):
        """∂P/∂p (0 for a parameter the penalty does not cover)."""
        if p not in self.derivative_code:
            return self.domain.const(sympy.Integer(0))
        return self._run(self.derivative_code[p], params, f"the penalty's derivative for {p}", step)
