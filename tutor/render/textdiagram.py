"""The network diagram (`diagram.Diagram`) as plain text for the terminal.

The columns of the drawing side by side (each node: its name and value, then
its δ or ∂E/∂node), an arrow between columns, and under them the wiring, one
line per node: what feeds it (the weights by name and value, the bias). Lines
cannot cross in text, so the wiring is written out rather than drawn. A drawing
wider than the terminal is left out (`text_diagram` returns None).
"""

from __future__ import annotations

import textwrap

from ..diagram import Diagram, DiagramNode
from .notation import format_number

ARROW = "  →  "   # (plain output has no box-drawing characters)
INDENT = "  "
NBSP = "\u00a0"


def _cell(node: DiagramNode, grad_label: str, digits: int) -> tuple[str, str]:
    value = f" = {format_number(node.value, digits)}" if node.value is not None else ""
    grad = ""
    if node.grad is not None:
        name = "δ" if grad_label == "δ" else f"{grad_label}{node.name}"
        grad = f"{name} = {format_number(node.grad, digits)}"
    return node.name + value, grad


def text_diagram(d: Diagram, width: int = 80, digits: int = 4) -> str | None:
    columns: list[list[DiagramNode]] = [[] for _ in range(d.columns)]
    for node in d.nodes:
        columns[node.x].append(node)
    blocks = []
    for column in columns:
        lines = [""] * (d.rows - len(column))   # centred: a node is two lines
        for node in column:
            lines += list(_cell(node, d.grad_label, digits))
        lines += [""] * (2 * d.rows - len(lines))
        blocks.append(lines)
    widths = [max(len(line) for line in block) for block in blocks]
    middle = d.rows - 1 if d.rows > 1 else 0
    out = []
    for i in range(2 * d.rows):
        joiner = [ARROW if i == middle else " " * len(ARROW) for _ in blocks[1:]]
        pieces = [INDENT]
        for k, block in enumerate(blocks):
            pieces.append(block[i].ljust(widths[k]))
            if k < len(joiner):
                pieces.append(joiner[k])
        out.append("".join(pieces).rstrip())
    if max(len(line) for line in out) > width:
        return None
    out.append("")
    out += textwrap.wrap(d.caption, width=width, initial_indent=INDENT, subsequent_indent=INDENT)
    out.append("")
    for line in _wiring(d, digits):   # broken only between terms: a term's spaces are no-break
        out += [w.replace(NBSP, " ") for w in textwrap.wrap(line, width=width, initial_indent=INDENT,
                                                              subsequent_indent=INDENT * 3)]
    return "\n".join(out) + "\n"


def _wiring(d: Diagram, digits: int) -> list[str]:
    into: dict[str, list[str]] = {}
    for e in d.edges:
        if d.edge_labels and e.label is not None:
            term = f"{e.label} = {format_number(e.value, digits)} · {e.source}" if e.value is not None else \
                f"{e.label} · {e.source}"
            into.setdefault(e.target, []).append(term.replace(" ", NBSP))
        else:
            into.setdefault(e.target, []).append(e.source)
    lines = []
    for node in d.nodes:
        if node.name not in into:
            continue
        terms = into[node.name]
        sep = " + " if d.kind == "network" else ", "
        line = f"{node.name} ← " + sep.join(terms)
        if node.bias is not None:
            line += f" {node.bias[2]} " + f"{node.bias[0]} = {format_number(node.bias[1], digits)}".replace(" ", NBSP)
        lines.append(line)
    return lines




def figure_text(figures, width: int = 80, digits: int = 4) -> tuple[str, str]:
    """The terminal's figure (`figures.Figures`): its heading and the text drawing, or a
    sentence where there is none (too large to draw, or wider than the terminal)."""
    d = figures.diagram
    heading = "The network" if d is None or d.kind == "network" else "The computational graph"
    if d is None:
        body = figures.note or ""
    else:
        drawn = text_diagram(d, width=width, digits=digits)
        if drawn is not None:
            return heading, drawn.rstrip("\n")
        body = f"The drawing is wider than {width} columns; an export (tutor export) draws it."
    return heading, "\n".join(textwrap.wrap(body, width=width, initial_indent=INDENT, subsequent_indent=INDENT))


__all__ = ["figure_text", "text_diagram"]
