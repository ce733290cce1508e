"""One problem under several optimizers, learning rates or losses: the runs, their
loss curves on one plot, and a table of final losses (`tutor compare`).

The variants are built as data from the parsed `Problem` (dataclasses.replace on
its optimizer, lr or loss), never by editing the YAML text. An optimizer other
than the problem's own takes the problem's hyper-parameters where it has the
same ones (the learning rate, μ, β's, ε) and its defaults for the rest, its
default form, and keeps the problem's weight decay, centralization and
schedules; the problem's own optimizer keeps its form. Every variant is solved
in full by `train`, exactly as `tutor solve` would solve a file that says so;
variants with the same loss share one derivation (the symbolic work).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from fractions import Fraction

import sympy

from .derive import derive
from .errors import TutorError
from .graph import build_graph
from .ops import LOSSES
from .optim import OPTIMIZERS
from .plot import Plot, Series, epoch_losses, step_losses
from .problem import LossSpec, Number, OptimizerSpec, Problem
from .train import Run, train


@dataclass(frozen=True)
class Variant:
    label: str
    problem: Problem
    run: Run

    @property
    def final_loss(self) -> float | None:
        """As the JSON solution's final.loss: None when not finite or diverged."""
        if self.run.diverged is not None or self.run.final_loss is None:
            return None
        value = self.run.domain.to_float(self.run.final_loss)
        return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Comparison:
    title: str
    varied: str                  # what differs, in words: "optimizer", "learning rate and loss"
    variants: tuple[Variant, ...]
    plot: Plot


def split_list(text: str, what: str) -> list[str]:
    items = [part.strip() for part in text.split(",") if part.strip()]
    if not items:
        raise TutorError(f"error: expected {what} separated by commas")
    return items


def with_optimizer(problem: Problem, name: str) -> Problem:
    if name not in OPTIMIZERS:
        raise TutorError(f"error: unknown optimizer {name!r}; expected one of {', '.join(OPTIMIZERS)}")
    own = problem.optimizer
    if name == own.name:
        return problem
    definition = OPTIMIZERS[name]
    hypers: dict[str, Number] = {}
    for hyper in definition.hypers:
        for i, symbol in enumerate(hyper.symbols):
            if symbol.name in own.hypers:
                hypers[symbol.name] = own.hypers[symbol.name]
            elif hyper.default is not None:
                hypers[symbol.name] = Number(hyper.default[i], float(hyper.default[i]))
            else:
                raise TutorError(f"error: optimizer {name} needs {hyper.key}, which the problem does not give")
    decay = None if definition.decoupled_decay else own.weight_decay
    spec = OptimizerSpec(name, definition.default_form, hypers, decay, own.centralize, own.schedules)
    return dataclasses.replace(problem, optimizer=spec)


def with_lr(problem: Problem, text: str) -> Problem:
    try:   # a decimal or a fraction, read exactly (never sympify'd)
        fraction = Fraction(text.strip())
        value = sympy.Rational(fraction.numerator, fraction.denominator)
    except (ValueError, ZeroDivisionError):
        value = None
    if value is None or not value > 0:
        raise TutorError(f"error: expected a learning rate above 0, found {text!r}")
    hypers = {**problem.optimizer.hypers, "lr": Number(value, float(value))}
    return dataclasses.replace(problem, optimizer=dataclasses.replace(problem.optimizer, hypers=hypers))


def with_loss(problem: Problem, name: str) -> Problem:
    if name not in LOSSES:
        raise TutorError(f"error: unknown loss {name!r}; expected one of {', '.join(LOSSES)}")
    return dataclasses.replace(problem, loss=LossSpec(name, None, problem.loss.reduction))


def compare(problem: Problem, *, optimizers: list[str] | None = None, lrs: list[str] | None = None,
            losses: list[str] | None = None, per: str = "step") -> Comparison:
    """Every combination of the given optimizers, learning rates and losses (the
    problem's own where a list is not given), solved and plotted together."""
    axes = [(o, "optimizer", with_optimizer, lambda n: n) for o in [optimizers] if o] + \
        [(r, "learning rate", with_lr, lambda t: f"lr {t}") for r in [lrs] if r] + \
        [(l, "loss", with_loss, lambda n: f"loss {n}") for l in [losses] if l]  # noqa: E741
    if not axes:
        raise TutorError("error: nothing to compare; give --optimizer, --lr or --loss with several values")
    derivations: dict[object, object] = {}
    variants = []
    for choice in itertools.product(*(values for values, *_ in axes)):
        variant, labels = problem, []
        for value, (_, _, apply, label) in zip(choice, axes):
            variant = apply(variant, value)
            labels.append(label(value))
        key = variant.loss
        if key not in derivations:
            derivations[key] = derive(build_graph(variant))
        run = train(variant, details=False, derivation=derivations[key])
        variants.append(Variant(", ".join(labels), variant, run))
    points = epoch_losses if per == "epoch" else step_losses
    plot = Plot(problem.title, per, "mean loss" if per == "epoch" else "loss",
                tuple(Series(v.label, points(v.run), v.final_loss, v.run.diverged is not None) for v in variants))
    varied = " and ".join(name for _, name, _, _ in axes)
    return Comparison(problem.title, varied, tuple(variants), plot)


__all__ = ["Comparison", "Variant", "compare", "split_list", "with_loss", "with_lr", "with_optimizer"]
