"""The worked derivation of a symbolic problem, in every format (docs/symbolic.md).

One walk (`derivation_blocks`) decides the order, headings and wording: the model,
the loss, every local derivative, the backward pass δ = ∂E/∂name, the asked
gradients and their update rules. It yields the blocks of the document model
(`tutor.document`), which the terminal, Markdown, LaTeX and HTML backends spell
as they spell a numeric solution. Labels are structured (`records.Name`,
`Partial`, `Delta`); a formula of `symbolic` is a `Notation` in its two spellings,
`formula_text.pretty_text` and `formula_text.latex_text`, made here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..document import Block, EqRow, Equations, Heading, Math, Notation, Paragraph, Statement, Sym, Text, math
from ..formula import formula
from ..records import Delta, Name, Partial
from .formula_text import latex_text, pretty_text, spelling_settings
from .notation import latex_identifier

BATCH_LOSS_NAMES = ("l", "L", "J", "E_batch")

if TYPE_CHECKING:  # the derivation is made by symbolic.py; printers only read it
    from ..symbolic import SymbolicSolution


def derivation_blocks(solution: SymbolicSolution, *, show_all: bool = False, title: bool = True) -> list[Block]:
    return _Walk(solution, show_all).blocks(title)


class _Walk:
    def __init__(self, solution: SymbolicSolution, show_all: bool):
        self.s = solution
        self.show_all = show_all
        self.settings = spelling_settings(solution)
        graph = solution.graph
        self.loss = graph.loss_name
        self.batch_loss = next(n for n in BATCH_LOSS_NAMES if n not in graph.symbols) if solution.batch \
            else self.loss
        self.users: dict[str, list[str]] = {}
        for d in solution.local:
            self.users.setdefault(d.wrt, []).append(d.node)

    # ------------------------------------------------ pieces

    def formula(self, f) -> Math:
        return math(Notation(pretty_text(f, self.settings), latex_text(f, self.settings)))

    def chain(self, name: str) -> Math | None:
        """δ_c·∂c/∂name + …, over the nodes c that use ``name``."""
        users = self.users.get(name, ())
        if not users:
            return None
        unicode = " + ".join(f"δ_{c}·∂{c}/∂{name}" for c in users)
        latex = " + ".join(rf"\delta_{{{latex_identifier(c)}}} \frac{{\partial {latex_identifier(c)}}}"
                           rf"{{\partial {latex_identifier(name)}}}" for c in users)
        return math(Notation(unicode, latex))

    def batch_sum(self, name: str) -> Math:
        """(1/m)·Σᵢ ∂Eᵢ/∂name (mean), or Σᵢ ∂Eᵢ/∂name."""
        m, mean = self.s.batch, self.s.reduction == "mean"
        unicode = (f"(1/{m})·" if mean else "") + f"Σᵢ ∂{self.loss}ᵢ/∂{name}"
        scale = rf"\frac{{1}}{{{latex_identifier(m)}}} " if mean else ""
        latex = rf"{scale}\sum_{{i}} \frac{{\partial {latex_identifier(self.loss)}_{{i}}}}{{\partial {latex_identifier(name)}}}"
        return math(Notation(unicode, latex))

    def row(self, label, parts, rel: str = "=") -> EqRow:
        return EqRow(math(Sym(label)), rel, tuple(p for p in parts if p is not None))

    # ------------------------------------------------ the walk

    def blocks(self, title: bool) -> list[Block]:
        s, problem = self.s, self.s.problem
        asked = _asked(problem, self.show_all)
        out: list[Block] = []
        if title:
            out.append(Heading(0, (Text(problem.title),)))
        if problem.statement:
            out.append(Statement(problem.statement))
        out.append(Heading(1, (Text("Conventions"),)))
        out.append(Paragraph((Text("arithmetic: symbolic: no numbers; every input, target and parameter is a "
                                   "symbol, and each node keeps its own name (σ′ is written o(1 − o) for "
                                   "o = σ(…))."),)))
        if s.batch:
            how = f"(1/{s.batch})·Σᵢ" if s.reduction == "mean" else "Σᵢ"
            out.append(Paragraph((Text(f"A batch of {s.batch} samples i = 1…{s.batch}; a name of sample i "
                                       f"carries the index i (oᵢ). The batch loss is {self.batch_loss} = {how} "
                                       f"{self.loss}ᵢ."),)))
        out.append(Heading(1, (Text("The model"),)))
        rows = [self.row(Name(n), [self.formula(formula(expr))]) for n, expr in s.equations.items()]
        if s.batch:
            rows.append(self.row(Name(self.batch_loss), [self.formula(s.loss)]))
        out.append(Equations(tuple(rows)))
        if not asked & {"gradient", "update"}:
            return out
        out.append(Heading(1, (Text("Local derivatives"),)))
        out.append(Equations(tuple(self.row(Partial(d.node, d.wrt), [self.formula(d.formula)]) for d in s.local)))
        out.append(Heading(1, (Text(f"Backward pass: δ = ∂{self.loss}/∂name of one sample"),)))
        out.append(Equations(tuple(self.row(Delta(n), [self.chain(n), self.formula(s.deltas[n])])
                                   for n in reversed(s.graph.node_names[:-1]))))
        if "gradient" in asked:
            out.append(Heading(1, (Text("Gradients"),)))
            out.append(Equations(tuple(self.gradient(n) for n in self.gradient_names())))
        if "update" in asked and s.updates:
            chosen = _asked_updates(problem, self.show_all) or tuple(s.updates)
            out.append(Heading(1, (Text(f"Update (sgd, learning rate {s.lr})"),)))
            out.append(Equations(tuple(self.row(Name(p), [self.formula(s.updates[p])], "←")
                                       for p in chosen if p in s.updates)))
        return out

    def gradient_names(self) -> tuple[str, ...]:
        s = self.s
        if not self.show_all:
            return s.asked
        return tuple(s.graph.params) + tuple(n for n in s.asked if n not in s.graph.params)

    def gradient(self, name: str) -> EqRow:
        s = self.s
        if name not in s.gradients:  # an input or node: the derivative of one sample's loss
            return self.row(Partial(self.loss, name), [self.formula(s.deltas[name])])
        middle = self.batch_sum(name) if s.batch else self.chain(name)
        return self.row(Partial(self.batch_loss, name), [middle, self.formula(s.gradients[name])])


def _asked(problem, show_all: bool) -> set[str]:
    if show_all or problem.ask is None:
        return {"forward", "loss", "gradient", "update"}
    return {item.kind for item in problem.ask}


def _asked_updates(problem, show_all: bool) -> tuple[str, ...]:
    if show_all or problem.ask is None:
        return ()
    return next((item.names for item in problem.ask if item.kind == "update" and item.names), ())


# ---------------------------------------------------------------- the backends

def render_symbolic_terminal(solution: SymbolicSolution, *, width: int = 80, color: bool = False,
                             show_all: bool = False) -> str:
    from .terminal import TerminalPrinter

    return TerminalPrinter(width=width, color=color).doprint(derivation_blocks(solution, show_all=show_all))


def render_symbolic_export(solution: SymbolicSolution, fmt: str, *, show_all: bool = False) -> str:
    """The derivation in a document format (md, tex, html, ...): as the format's module spells it."""
    return _derivation_format(fmt).derivation(solution, show_all)


def export_symbolic(solution: SymbolicSolution, fmt: str, *, show_all: bool = False) -> bytes:
    """`tutor export` of a symbolic problem, in any format that writes a derivation."""
    spec = _derivation_format(fmt)
    return spec.finish(spec.derivation(solution, show_all), [(1, str(solution.problem.path))])


def _derivation_format(fmt: str):
    from .formats import output_formats
    from .latex import ExportError

    spec = output_formats().get(fmt)
    if spec is None or spec.derivation is None:
        able = [name for name, f in output_formats().items() if f.derivation is not None]
        raise ExportError(f"error: a derivation is exported as {', '.join(able)}, not {fmt}")
    return spec
