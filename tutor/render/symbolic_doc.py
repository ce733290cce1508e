"""The worked derivation of a symbolic problem, in every format (docs/symbolic.md).

One walk (`derivation_blocks`) decides the order, headings and wording: the model,
the loss, every local derivative, the backward pass δ = ∂E/∂name, the asked
gradients and their update rules. It yields small blocks whose mathematics is
data (labels and `symbolic` formulas), and each format only spells them: the
terminal with `symbolic.pretty_text`, Markdown, LaTeX and HTML through the
`DocumentPrinter` blocks of latex.py with `symbolic.latex_text`.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Iterator, Union

from ..symbolic import SymbolicSolution, formula, latex_text, pretty_text, spelling_settings
from .notation import latex_identifier

BATCH_LOSS_NAMES = ("l", "L", "J", "E_batch")


# ---------------------------------------------------------------- blocks

@dataclass(frozen=True)
class Label:
    """A name of the derivation, kept structured until a format spells it:
    ∂top/∂bottom (derivative), δ_name (delta), or a plain name; ``sample`` marks the
    batch's sample i (∂Eᵢ/∂w1_12)."""

    kind: str          # "name", "derivative", "delta"
    top: str
    bottom: str = ""
    sample: bool = False


@dataclass(frozen=True)
class Sigma:
    """(1/m)·Σᵢ label, or Σᵢ label: a batch's reduction of per-sample quantities."""

    batch: str
    mean: bool
    label: Label


Part = Union[Label, Sigma, object]  # object: a `symbolic` formula


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Rows:
    """Lines of working: lhs rel part = part = …"""

    rows: tuple[tuple[Label, str, tuple[Part, ...]], ...]   # rel: "=" or "←"


Block = Union[Heading, Paragraph, Rows]


# ---------------------------------------------------------------- the walk

def derivation_blocks(solution: SymbolicSolution, show_all: bool = False) -> Iterator[Block]:
    problem, graph = solution.problem, solution.graph
    asked = _asked(problem, show_all)
    loss = graph.loss_name
    batch_loss = next(n for n in BATCH_LOSS_NAMES if n not in graph.symbols) if solution.batch else loss
    if problem.statement:
        yield Paragraph(problem.statement)
    yield Heading("Conventions")
    yield Paragraph("arithmetic: symbolic: no numbers; every input, target and parameter is a symbol, and "
                    "each node keeps its own name (σ′ is written o(1 − o) for o = σ(…)).")
    if solution.batch:
        how = f"(1/{solution.batch})·Σᵢ" if solution.reduction == "mean" else "Σᵢ"
        yield Paragraph(f"A batch of {solution.batch} samples i = 1…{solution.batch}; a name of sample i carries "
                        f"the index i (oᵢ). The batch loss is {batch_loss} = {how} {loss}ᵢ.")
    yield Heading("The model")
    rows = [(Label("name", n), "=", (formula(expr),)) for n, expr in solution.equations.items()]
    if solution.batch:
        rows.append((Label("name", batch_loss), "=", (solution.loss,)))
    yield Rows(tuple(rows))
    if not asked & {"gradient", "update"}:
        return
    yield Heading("Local derivatives")
    yield Rows(tuple((Label("derivative", d.node, d.wrt), "=", (d.formula,)) for d in solution.local))
    yield Heading(f"Backward pass: δ = ∂{loss}/∂name of one sample")
    users = {}
    for d in solution.local:
        users.setdefault(d.wrt, []).append(d.node)
    rows = []
    for name in reversed(graph.node_names[:-1]):
        chain = tuple(Chain(c, name) for c in users.get(name, ()))
        rows.append((Label("delta", name), "=", (*((ChainSum(chain),) if chain else ()), solution.deltas[name])))
    yield Rows(tuple(rows))
    names = solution.asked if not show_all else tuple(graph.params) + tuple(
        n for n in solution.asked if n not in graph.params)
    if "gradient" in asked:
        yield Heading("Gradients")
        rows = []
        for name in names:
            if name in solution.gradients:
                chain = tuple(Chain(c, name) for c in users.get(name, ()))
                per_sample = Label("derivative", loss, name, sample=bool(solution.batch))
                middle = (Sigma(solution.batch, solution.reduction == "mean", per_sample),) if solution.batch \
                    else ((ChainSum(chain),) if chain else ())
                rows.append((Label("derivative", batch_loss, name), "=", (*middle, solution.gradients[name])))
            else:  # an input or node: the derivative of one sample's loss
                rows.append((Label("derivative", loss, name), "=", (solution.deltas[name],)))
        yield Rows(tuple(rows))
    if "update" in asked and solution.updates:
        chosen = _asked_updates(problem, show_all) or tuple(solution.updates)
        yield Heading("Update (sgd, learning rate lr)")
        yield Rows(tuple((Label("name", p), "←", (solution.updates[p],)) for p in chosen if p in solution.updates))


@dataclass(frozen=True)
class Chain:
    """δ_user·∂user/∂name: one term of the chain rule."""

    user: str
    name: str


@dataclass(frozen=True)
class ChainSum:
    terms: tuple[Chain, ...]


def _asked(problem, show_all: bool) -> set[str]:
    if show_all or problem.ask is None:
        return {"forward", "loss", "gradient", "update"}
    return {item.kind for item in problem.ask}


def _asked_updates(problem, show_all: bool) -> tuple[str, ...]:
    if show_all or problem.ask is None:
        return ()
    return next((item.names for item in problem.ask if item.kind == "update" and item.names), ())


# ---------------------------------------------------------------- the terminal

def _pretty_label(label: Label) -> str:
    i = "ᵢ" if label.sample else ""
    if label.kind == "derivative":
        return f"∂{label.top}{i}/∂{label.bottom}"
    if label.kind == "delta":
        return f"δ_{label.top}"
    return label.top


def _pretty_part(part, settings: dict) -> str:
    if isinstance(part, Label):
        return _pretty_label(part)
    if isinstance(part, Sigma):
        return (f"(1/{part.batch})·" if part.mean else "") + f"Σᵢ {_pretty_label(part.label)}"
    if isinstance(part, ChainSum):
        return " + ".join(f"δ_{c.user}·∂{c.user}/∂{c.name}" for c in part.terms)
    return pretty_text(part, settings)


def render_symbolic_terminal(solution: SymbolicSolution, *, width: int = 80, show_all: bool = False) -> str:
    out = [solution.problem.title, "=" * min(len(solution.problem.title), width), ""]
    settings = spelling_settings(solution)
    for block in derivation_blocks(solution, show_all):
        if isinstance(block, Heading):
            out += [block.text, "-" * min(len(block.text), width)]
        elif isinstance(block, Paragraph):
            for paragraph in block.text.strip().split("\n\n"):
                out += textwrap.wrap(" ".join(paragraph.split()), width) + [""]
        else:
            for lhs, rel, parts in block.rows:
                out += _rows_text(_pretty_label(lhs), rel, [_pretty_part(p, settings) for p in parts], width)
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _rows_text(lhs: str, rel: str, parts: list[str], width: int) -> list[str]:
    """lhs = a = b on one line if it fits; else one part per line, the relation signs
    under each other, and a part too long broken after a · or before a + or −."""
    line = f"  {lhs} {rel} " + " = ".join(parts)
    if len(line) <= width:
        return [line]
    lead = f"  {lhs} {rel} "
    pad = " " * (len(lead) - 2)
    out = []
    for k, part in enumerate(parts):
        first = lead if k == 0 else pad + "= "
        out += _broken(first, part, width)
    return out


def _broken(first: str, text: str, width: int) -> list[str]:
    lines, current = [], first
    indent = " " * (len(first) + 2)
    for piece in _pieces(text):
        if len(current) + len(piece) > width and current.strip() and current != first:
            lines.append(current.rstrip())
            current = indent + piece.lstrip()
        else:
            current += piece
    lines.append(current.rstrip())
    return lines


def _pieces(text: str) -> list[str]:
    """The text cut after each ·, and before each + and − between terms."""
    pieces, start = [], 0
    for k, ch in enumerate(text):
        if ch == "·":
            pieces.append(text[start:k + 1])
            start = k + 1
        elif ch in "+−" and text[k - 1:k] == " " and k > start + 1:
            pieces.append(text[start:k])
            start = k
    pieces.append(text[start:])
    return [p for p in pieces if p]


# ---------------------------------------------------------------- Markdown, LaTeX, HTML

def _tex_label(label: Label) -> str:
    top = latex_identifier(label.top) + (r"_{i}" if label.sample else "")
    if label.kind == "derivative":
        return rf"\frac{{\partial {top}}}{{\partial {latex_identifier(label.bottom)}}}"
    if label.kind == "delta":
        return rf"\delta_{{{latex_identifier(label.top)}}}"
    return latex_identifier(label.top)


def _tex_part(part, settings: dict) -> str:
    if isinstance(part, Label):
        return _tex_label(part)
    if isinstance(part, Sigma):
        scale = rf"\frac{{1}}{{{latex_identifier(part.batch)}}} " if part.mean else ""
        return rf"{scale}\sum_{{i}} {_tex_label(part.label)}"
    if isinstance(part, ChainSum):
        return " + ".join(rf"\delta_{{{latex_identifier(c.user)}}} \frac{{\partial {latex_identifier(c.user)}}}"
                          rf"{{\partial {latex_identifier(c.name)}}}" for c in part.terms)
    return latex_text(part, settings)


def print_blocks(printer, solution: SymbolicSolution, show_all: bool = False) -> None:
    """The walk's blocks written by a `latex.DocumentPrinter` (Markdown, LaTeX, HTML)."""
    from .latex import EqRow

    settings = spelling_settings(solution)
    for block in derivation_blocks(solution, show_all):
        if isinstance(block, Heading):
            printer.h(1, block.text)
        elif isinstance(block, Paragraph):
            for paragraph in printer.text(block.text):
                printer.paragraph([paragraph] if isinstance(paragraph, str) else paragraph)
        else:
            printer.equations([EqRow(_tex_label(lhs), r"\leftarrow" if rel == "←" else "=",
                                     tuple(_tex_part(p, settings) for p in parts)) for lhs, rel, parts in block.rows])


def render_symbolic_export(solution: SymbolicSolution, fmt: str, *, show_all: bool = False) -> str:
    """Markdown (md), LaTeX (tex) or HTML (html) of the derivation."""
    title = solution.problem.title
    if fmt == "md":
        from .markdown import MarkdownPrinter, markdown_text

        printer = MarkdownPrinter()
        printer.out.append(f"# {markdown_text(title)}")
        print_blocks(printer, solution, show_all)
        return printer.document()
    if fmt == "html":
        from .html import HtmlPrinter, check_available

        check_available()
        printer = HtmlPrinter()
        printer.h(0, title)
        print_blocks(printer, solution, show_all)
        return printer.document(title)
    from .latex import LatexPrinter
    from .usertext import one_line

    printer = LatexPrinter()
    printer.out.append(f"\\begin{{center}}{{\\LARGE\\bfseries {printer.inline([one_line(title)])}}}\\end{{center}}\n")
    print_blocks(printer, solution, show_all)
    return printer.document(title)


def export_symbolic(solution: SymbolicSolution, fmt: str, *, show_all: bool = False) -> bytes:
    """`tutor export` of a symbolic problem: md, tex, pdf, html or json."""
    if fmt == "json":
        from .symbolic_json import render_symbolic_json

        return render_symbolic_json(solution).encode("utf-8")
    text = render_symbolic_export(solution, "tex" if fmt == "pdf" else fmt, show_all=show_all)
    if fmt == "pdf":
        from .latex import compile_pdf

        return compile_pdf(text, [(1, str(solution.problem.path))])
    return text.encode("utf-8")
