"""The optimizer and schedule tables: every update rule, as data.

An optimizer form is an ordered list of assignments per parameter, SymPy
expressions over the parameter θ, its gradient g, the step count t, the
learning rate and the hyper-parameters. The trainer evaluates them in order;
the renderers print the very same expressions, so what is shown is what was
computed. Defaults are PyTorch's unless the spec says otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import sympy
from sympy import Rational, Symbol, sqrt

# The symbols of the update rules. Their names are the words used in the solution
# JSON (state variables) and the keys printers look up for display (θ, μ, β₁ ...).
theta, g, lr, t = (Symbol(n, real=True) for n in ("theta", "g", "lr", "t"))
mu, beta1, beta2, eps, alpha, rho, wd = (
    Symbol(n, real=True) for n in ("mu", "beta1", "beta2", "eps", "alpha", "rho", "weight_decay"))
v, m, s, r, u = (Symbol(n, real=True) for n in ("v", "m", "s", "r", "u"))
m_hat, v_hat, s_hat, d = (Symbol(n, real=True) for n in ("m_hat", "v_hat", "s_hat", "d"))
r0 = Symbol("r0", real=True)  # adagrad's initial accumulator
BIAS_CORRECTED = (m_hat, v_hat, s_hat)
STEP_COUNT_STATE = "t"  # the key of ``state`` that resumes the step count (Adam-like optimizers)


@dataclass(frozen=True)
class Spelling:
    """How an update rule's symbol is written: in Unicode (terminal), in LaTeX
    (documents), and whether it is a hyper-parameter (written first in a product:
    μ·v, lr·g)."""

    unicode: str
    latex: str
    hyper: bool = False


# Every symbol of the update rules, in the order a formula lists them: hyper-parameters
# first (μ·v, lr·g), then θ and the state, g and t, and ε last (√v̂ + ε). A new
# optimizer's new symbol gets its line here; `unspelled_symbols` says if one is missing.
SPELLINGS: dict[str, Spelling] = {
    "lr": Spelling("lr", r"\mathit{lr}", hyper=True),
    "mu": Spelling("μ", r"\mu", hyper=True),
    "beta1": Spelling("β₁", r"\beta_{1}", hyper=True),
    "beta2": Spelling("β₂", r"\beta_{2}", hyper=True),
    "alpha": Spelling("α", r"\alpha", hyper=True),
    "rho": Spelling("ρ", r"\rho", hyper=True),
    "weight_decay": Spelling("λ", r"\lambda", hyper=True),
    "r0": Spelling("r₀", r"r_{0}", hyper=True),
    "theta": Spelling("θ", r"\theta"),
    "v": Spelling("v", "v"),
    "m": Spelling("m", "m"),
    "s": Spelling("s", "s"),
    "r": Spelling("r", "r"),
    "u": Spelling("u", "u"),
    "d": Spelling("Δθ", r"\Delta\theta"),
    "m_hat": Spelling("m\u0302", r"\hat{m}"),
    "v_hat": Spelling("v\u0302", r"\hat{v}"),
    "s_hat": Spelling("s\u0302", r"\hat{s}"),
    "g": Spelling("g", "g"),
    "t": Spelling("t", "t"),
    "eps": Spelling("ε", r"\varepsilon", hyper=True),
}


def spelling(name: str) -> Spelling:
    """The spelling of an update rule's symbol; a name without one (an optimizer added
    without its line in SPELLINGS; `unspelled_symbols` finds it in the tests) is
    written as itself, after every listed symbol."""
    found = SPELLINGS.get(name)
    return found if found is not None else Spelling(name, name)


class _SymbolRank(Mapping):
    """symbol name -> its place in a formula (SPELLINGS' order), read from the table on each use."""

    def __getitem__(self, name: str) -> int:
        for i, key in enumerate(SPELLINGS):
            if key == name:
                return i
        raise KeyError(name)

    def __iter__(self):
        return iter(SPELLINGS)

    def __len__(self) -> int:
        return len(SPELLINGS)


class _HyperNames(AbstractSet):
    """The names of the hyper-parameters, read from SPELLINGS on each use."""

    def __contains__(self, name) -> bool:
        found = SPELLINGS.get(name)
        return found is not None and found.hyper

    def __iter__(self):
        return (name for name, sp in SPELLINGS.items() if sp.hyper)

    def __len__(self) -> int:
        return sum(1 for sp in SPELLINGS.values() if sp.hyper)

    @classmethod
    def _from_iterable(cls, items):  # set operations (names & HYPER_NAMES) give plain sets
        return frozenset(items)


# What printers order a formula's symbols by (`notation.MathPrinter`'s rank and params).
SYMBOL_RANK: Mapping[str, int] = _SymbolRank()
HYPER_NAMES: AbstractSet[str] = _HyperNames()


@dataclass(frozen=True)
class Assign:
    """``target ← expr``; ``state`` marks a variable carried to the next step."""

    target: Symbol
    expr: sympy.Expr
    state: bool = False


@dataclass(frozen=True)
class Hyper:
    """A hyper-parameter as written in the problem file."""

    key: str                  # YAML key
    symbols: tuple[Symbol, ...]
    default: tuple | None     # exact defaults; None = required
    range: tuple[float, float, bool, bool] = (0.0, math.inf, False, True)  # low, high, low open, high open


@dataclass(frozen=True)
class OptimizerDef:
    name: str
    hypers: tuple[Hyper, ...]
    rules: Callable[[], dict[str, tuple[Assign, ...]]] | dict[str, tuple[Assign, ...]]  # see `forms`
    default_form: str
    form_key: str = "form"
    lookahead_form: str | None = None  # the form whose g is taken at θ + μv (nesterov's "lookahead")
    decoupled_decay: bool = False  # adamw: weight decay is a rule, not added to g
    initial_state: dict[str, str] = field(default_factory=dict)  # state var -> hyper symbol giving its start
    names_default_form: bool = True  # False: the solution names the form only when it is not the default

    @cached_property
    def forms(self) -> dict[str, tuple[Assign, ...]]:
        """The update rules by form name. The table below gives each optimizer's as a
        function, called here on first use: a command needs one optimizer's SymPy
        expressions, and building every optimizer's at import was a fortieth of a cold
        `tutor solve`."""
        forms = self.rules() if callable(self.rules) else self.rules
        assert self.default_form in forms, f"{self.name}: the default form {self.default_form!r} has no rules"
        return forms

    def shown_form(self, form: str) -> str | None:
        """The form as the solution names it beside the optimizer, or None."""
        if not self.form_key or len(self.forms) == 1 or (form == self.default_form and not self.names_default_form):
            return None
        return form

    def state_names(self, form: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.target.name for a in self.forms[form] if a.state))

    @property
    def keeps_state(self) -> bool:
        return any(a.state for rules in self.forms.values() for a in rules)

    def reported_names(self, form: str) -> tuple[str, ...]:
        """What the solution's ``state`` holds: the carried state, then the
        bias-corrected values (m_hat, v_hat, s_hat) the step used."""
        corrected = tuple(a.target.name for a in self.forms[form] if a.target in BIAS_CORRECTED)
        return tuple(dict.fromkeys(self.state_names(form) + corrected))

    def counts_steps(self, form: str) -> bool:
        """Whether the rules use the step count t (bias correction): then ``state`` may give t."""
        return any(t in a.expr.free_symbols for a in self.forms[form])


# The values a hyper-parameter may take (low, high, low open, high open).
POSITIVE = (0.0, math.inf, True, True)        # lr
NONNEGATIVE = (0.0, math.inf, False, True)    # eps, weight_decay, initial_accumulator
FRACTION = (0.0, 1.0, False, False)           # momentum, alpha, rho: [0, 1]
BELOW_ONE = (0.0, 1.0, False, True)           # betas: [0, 1) (1 − βᵗ divides)


def _h(key, symbols, *default, range=NONNEGATIVE):
    if not isinstance(symbols, tuple):
        symbols = (symbols,)
    return Hyper(key, symbols, tuple(Rational(str(x)) for x in default) if default else None, range)


LR_REQUIRED = _h("lr", lr, range=POSITIVE)


def adam_rules() -> tuple[Assign, ...]:
    """The moments and their bias corrections: Adam's and AdamW's first four rules."""
    return (
        Assign(m, beta1 * m + (1 - beta1) * g, state=True),
        Assign(v, beta2 * v + (1 - beta2) * g**2, state=True),
        Assign(m_hat, m / (1 - beta1**t)),
        Assign(v_hat, v / (1 - beta2**t)),
    )


WEIGHT_DECAY = _h("weight_decay", wd, "0.01")  # adamw's own; for the others a common key, without default
ADAM_HYPERS = (_h("lr", lr, "0.001", range=POSITIVE), _h("betas", (beta1, beta2), "0.9", "0.999", range=BELOW_ONE),
               _h("eps", eps, "1e-8"))

OPTIMIZERS: dict[str, OptimizerDef] = {o.name: o for o in [
    OptimizerDef("sgd", (LR_REQUIRED,), lambda: {"plain": (Assign(theta, theta - lr * g),)}, "plain", form_key=""),
    OptimizerDef("momentum", (LR_REQUIRED, _h("momentum", mu, "0.9", range=FRACTION)), lambda: {
        "classic": (Assign(v, mu * v + g, state=True), Assign(theta, theta - lr * v)),
        "ema": (Assign(v, mu * v + (1 - mu) * g, state=True), Assign(theta, theta - lr * v)),
        "sutskever": (Assign(v, mu * v - lr * g, state=True), Assign(theta, theta + v)),
    }, "classic"),
    OptimizerDef("nesterov", (LR_REQUIRED, _h("momentum", mu, "0.9", range=FRACTION)), lambda: {
        "pytorch": (Assign(v, mu * v + g, state=True), Assign(theta, theta - lr * (g + mu * v))),
        "lookahead": (Assign(v, mu * v - lr * g, state=True), Assign(theta, theta + v)),
    }, "pytorch", lookahead_form="lookahead"),
    OptimizerDef("adagrad", (_h("lr", lr, "0.01", range=POSITIVE), _h("eps", eps, "1e-10"),
                             _h("initial_accumulator", r0, "0")), lambda: {
        place: (Assign(r, r + g**2, state=True), Assign(theta, theta - lr * g / denominator))
        for place, denominator in (("outside", sqrt(r) + eps), ("inside", sqrt(r + eps)))
    }, "outside", form_key="eps_placement", initial_state={"r": "r0"}, names_default_form=False),
    OptimizerDef("rmsprop", (_h("lr", lr, "0.01", range=POSITIVE), _h("alpha", alpha, "0.99", range=FRACTION),
                             _h("eps", eps, "1e-8")), lambda: {
        place: (Assign(r, alpha * r + (1 - alpha) * g**2, state=True), Assign(theta, theta - lr * g / denominator))
        for place, denominator in (("outside", sqrt(r) + eps), ("inside", sqrt(r + eps)))
    }, "outside", form_key="eps_placement", names_default_form=False),
    OptimizerDef("adadelta", (_h("lr", lr, "1.0", range=POSITIVE), _h("rho", rho, "0.9", range=FRACTION),
                              _h("eps", eps, "1e-6")), lambda: {
        "plain": (Assign(r, rho * r + (1 - rho) * g**2, state=True),
                  Assign(d, sqrt(u + eps) / sqrt(r + eps) * g),
                  Assign(u, rho * u + (1 - rho) * d**2, state=True),
                  Assign(theta, theta - lr * d)),
    }, "plain", form_key=""),
    OptimizerDef("adam", ADAM_HYPERS, lambda: {
        "outside": adam_rules() + (Assign(theta, theta - lr * m_hat / (sqrt(v_hat) + eps)),),
        "inside": adam_rules() + (Assign(theta, theta - lr * m_hat / sqrt(v_hat + eps)),),
    }, "outside", form_key="eps_placement"),
    OptimizerDef("adamw", ADAM_HYPERS + (WEIGHT_DECAY,), lambda: {
        place: (Assign(theta, theta * (1 - lr * wd)),) + rules
        for place, rules in (
            ("outside", adam_rules() + (Assign(theta, theta - lr * m_hat / (sqrt(v_hat) + eps)),)),
            ("inside", adam_rules() + (Assign(theta, theta - lr * m_hat / sqrt(v_hat + eps)),)),
        )
    }, "outside", form_key="eps_placement", decoupled_decay=True),
    OptimizerDef("adabelief", (_h("lr", lr, "0.001", range=POSITIVE),
                               _h("betas", (beta1, beta2), "0.9", "0.999", range=BELOW_ONE),
                               _h("eps", eps, "1e-16")), lambda: {
        place: (
            Assign(m, beta1 * m + (1 - beta1) * g, state=True),
            Assign(s, beta2 * s + (1 - beta2) * (g - m)**2 + eps, state=True),
            Assign(m_hat, m / (1 - beta1**t)),
            Assign(s_hat, s / (1 - beta2**t)),
            Assign(theta, theta - lr * m_hat / denominator),
        )
        for place, denominator in (("outside", sqrt(s_hat) + eps), ("inside", sqrt(s_hat + eps)))
    }, "outside", form_key="eps_placement"),
]}

# Keys every optimizer accepts besides its own hyper-parameters.
COMMON_KEYS = ("name", "weight_decay", "centralize", "schedule")
STATE_KEY = "state"  # an optimizer's given initial state; accepted by those that keep one
L2_DECAY = Assign(g, g + wd * theta)  # weight_decay for all but adamw: L2 added to g


def unspelled_symbols() -> dict[str, list[str]]:
    """Symbols of the optimizer table without a line in SPELLINGS, by optimizer (a
    test requires none: each would be printed as its bare name)."""
    out: dict[str, list[str]] = {}
    for o in OPTIMIZERS.values():
        names = {sym.name for h in o.hypers for sym in h.symbols} | set(o.initial_state.values())
        names |= {sym.name for rules in o.forms.values() for a in rules
                  for sym in (a.target, *a.expr.free_symbols)}
        if not o.decoupled_decay:
            names |= {sym.name for sym in (L2_DECAY.target, *L2_DECAY.expr.free_symbols)}
        missing = sorted(names - set(SPELLINGS))
        if missing:
            out[o.name] = missing
    return out


# ---------------------------------------------------------------- schedules

@dataclass(frozen=True)
class ScheduleDef:
    name: str
    keys: dict[str, str | None]   # key -> default (None = required)
    formula: str                  # as the solution states it, over n
    factor: Callable              # (n, keys, math-like namespace) -> factor
    whole_keys: tuple[str, ...] = ()  # keys that must be whole numbers >= 1


SCHEDULES: dict[str, ScheduleDef] = {sd.name: sd for sd in [
    ScheduleDef("step", {"every": "1", "gamma": "0.1"}, "γ^⌊n / every⌋",
                lambda n, k, M: k["gamma"] ** (n // int(k["every"])), ("every",)),
    ScheduleDef("exponential", {"gamma": None}, "γ^n", lambda n, k, M: k["gamma"] ** n),
    ScheduleDef("inverse_time", {"decay": None}, "1 / (1 + decay·n)",
                lambda n, k, M: 1 / (1 + k["decay"] * n)),
    ScheduleDef("warmup_linear", {"steps": None, "start": "0.1"},
                "start + (1 − start)·min(n, steps)/steps",
                lambda n, k, M: k["start"] + (1 - k["start"]) * M.min(n, k["steps"]) / k["steps"], ("steps",)),
    ScheduleDef("cosine", {"t_max": None, "min_factor": "0"},
                "min_factor + (1 − min_factor)(1 + cos(π·min(n, t_max)/t_max))/2",
                lambda n, k, M: k["min_factor"] + (1 - k["min_factor"])
                * (1 + M.cos(M.pi * M.min(n, k["t_max"]) / k["t_max"])) / 2, ("t_max",)),
]}
SCHEDULE_UNITS = ("step", "epoch")


class FloatMath:
    """The namespace schedule factors use in float arithmetic."""

    cos = staticmethod(math.cos)
    pi = math.pi
    min = staticmethod(min)


class ExactMath:
    """The namespace schedule factors use in exact arithmetic."""

    cos = staticmethod(sympy.cos)
    pi = sympy.pi
    min = staticmethod(sympy.Min)
