"""The network diagram (`diagram.Diagram`) as a TikZ picture, for the LaTeX and
PDF exports: the same layout as the SVG, in centimetres. Names are written by
`notation.latex_identifier` (w21 as w_{21}); numbers by `notation.format_number`
in math mode. A picture wider than the text is scaled down to it.
"""

from __future__ import annotations

from ..diagram import Diagram, DiagramNode
from .notation import format_number, latex_identifier

COLUMN = 4.8        # cm between columns, with edge labels
BARE_COLUMN = 2.4   # cm between columns, without
ROW = 2.1           # cm between rows
TEXT_WIDTH = 16.0   # cm: wider pictures are scaled to \linewidth
COLOURS = {"input": "blue!8", "unit": "white", "param": "orange!12", "constant": "black!6", "target": "black!6",
           "stage": "white", "loss": "red!10"}


def cm(v: float) -> str:
    text = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def math_number(x: float | None, digits: int) -> str:
    return format_number(x, digits).replace("−", "-") if x is not None else "?"


def diagram_tikz(d: Diagram, digits: int = 4) -> str:
    gap = COLUMN if d.edge_labels else BARE_COLUMN
    index = {node.name: i for i, node in enumerate(d.nodes)}
    lines = [r"\begin{tikzpicture}[>=stealth, every node/.style={inner sep=2pt},",
             r"  unit/.style={draw, rounded corners=2.5mm, minimum height=7mm, minimum width=7mm, thick},",
             r"  value/.style={font=\scriptsize, text=green!45!black},",
             r"  grad/.style={font=\scriptsize, text=red!70!black},",
             r"  bias/.style={font=\scriptsize, label distance=3.4mm},",
             r"  weight/.style={font=\scriptsize, fill=white, inner sep=1pt, text=black}]"]
    for node in d.nodes:
        lines.append(_node(node, index[node.name], gap, d.grad_label, digits))
    for e in d.edges:
        label = ""
        if d.edge_labels and e.label is not None:
            label = (f" node[weight, pos={cm(e.at)}] {{${latex_identifier(e.label)} = "
                     f"{math_number(e.value, digits)}$}}")
        lines.append(rf"\draw[->, black!65] (n{index[e.source]}){label} -- (n{index[e.target]});"
                     if not label else
                     rf"\draw[->, black!65] (n{index[e.source]}) --{label} (n{index[e.target]});")
    lines.append(r"\end{tikzpicture}")
    picture = "\n".join(lines)
    if (d.columns - 1) * gap + 3 > TEXT_WIDTH:
        picture = "\\resizebox{\\linewidth}{!}{%\n" + picture + "%\n}"
    return "\\begin{center}\n" + picture + "\n\\end{center}\n"


def _node(node: DiagramNode, i: int, gap: float, grad_label: str, digits: int) -> str:
    labels = []
    if node.value is not None:
        labels.append(f"label={{[value]above:${math_number(node.value, digits)}$}}")
    if node.grad is not None:
        lhs = r"\delta" if grad_label == "δ" else (
            rf"\partial {latex_identifier(grad_label[1:-2])}/\partial {latex_identifier(node.name)}")
        labels.append(f"label={{[grad]below:${lhs} = {math_number(node.grad, digits)}$}}")
    if node.bias is not None:
        labels.append(f"label={{[bias]below:$+\\,{latex_identifier(node.bias[0])} = "
                      f"{math_number(node.bias[1], digits)}$}}")
    options = ", ".join(["unit", f"fill={COLOURS[node.kind]}"] + labels)
    return (rf"\node[{options}] (n{i}) at ({cm(node.x * gap)},{cm(-node.y * ROW)}) "
            f"{{${latex_identifier(node.name)}$}};")


__all__ = ["diagram_tikz"]
