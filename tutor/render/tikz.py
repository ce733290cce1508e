r"""The network diagram (`diagram.Diagram`) as a TikZ picture, for the LaTeX and
PDF exports: the same layout as the SVG, in centimetres. Names are written by
`notation.latex_identifier` (w21 as w_{21}); numbers by `notation.format_number`
in math mode, \(…\) (a document's $ belong to its escaped text). A picture wider than the text is scaled down to it.
"""

from __future__ import annotations

from ..diagram import Diagram, DiagramNode
from ..plot import Plot
from .svg import tick_step, ticks
from .notation import latex_identifier
from .numbers import axis_tick, format_number, latex_number_text

COLUMN = 4.8        # cm between columns, with edge labels
BARE_COLUMN = 2.4   # cm between columns, without
ROW = 2.1           # cm between rows
TEXT_WIDTH = 16.0   # cm: wider pictures are scaled to \linewidth
TEXT_HEIGHT = 21.0  # cm: taller pictures (after that) are scaled to this height, to stay on one page
COLOURS = {"input": "blue!8", "unit": "white", "param": "orange!12", "constant": "black!6", "target": "black!6",
           "stage": "white", "loss": "red!10"}


def cm(v: float) -> str:
    text = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def math_number(x: float | None, digits: int) -> str:
    return format_number(x, digits).replace("−", "-") if x is not None else "?"


def diagram_tikz(d: Diagram, digits: int = 4) -> str:
    gap = COLUMN if d.edge_labels or d.kind == "graph" else BARE_COLUMN   # a graph's ∂E/∂ labels are wide
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
            label = (f" node[weight, pos={cm(e.at)}] {{\\({latex_identifier(e.label)} = "
                     f"{math_number(e.value, digits)}\\)}}")
        lines.append(rf"\draw[->, black!65] (n{index[e.source]}){label} -- (n{index[e.target]});"
                     if not label else
                     rf"\draw[->, black!65] (n{index[e.source]}) --{label} (n{index[e.target]});")
    lines.append(r"\end{tikzpicture}")
    picture = "\n".join(lines)
    width, height = (d.columns - 1) * gap + 3, (d.rows - 1) * ROW + 2
    if height * min(1.0, TEXT_WIDTH / width) > TEXT_HEIGHT:   # a tall picture (a grid's column): fit the page
        picture = f"\\resizebox{{!}}{{{cm(TEXT_HEIGHT)}cm}}{{%\n" + picture + "%\n}"
    elif width > TEXT_WIDTH:
        picture = "\\resizebox{\\linewidth}{!}{%\n" + picture + "%\n}"
    return "\\begin{center}\n" + picture + "\n\\end{center}\n"


def _node(node: DiagramNode, i: int, gap: float, grad_label: str, digits: int) -> str:
    labels = []
    if node.value is not None:
        labels.append(f"label={{[value]above:\\({math_number(node.value, digits)}\\)}}")
    if node.grad is not None:
        lhs = r"\delta" if grad_label == "δ" else (
            rf"\partial {latex_identifier(grad_label[1:-2])}/\partial {latex_identifier(node.name)}")
        labels.append(f"label={{[grad]below:\\({lhs} = {math_number(node.grad, digits)}\\)}}")
    if node.bias is not None:
        sign = "+" if node.bias[2] == "+" else "-"
        labels.append(f"label={{[bias]below:\\({sign}\\,{latex_identifier(node.bias[0])} = "
                      f"{math_number(node.bias[1], digits)}\\)}}")
    options = ", ".join(["unit", f"fill={COLOURS[node.kind]}"] + labels)
    return (rf"\node[{options}] (n{i}) at ({cm(node.x * gap)},{cm(-node.y * ROW)}) "
            f"{{\\({latex_identifier(node.name)}\\)}};")




# ---------------------------------------------------------------- plots

PLOT_WIDTH, PLOT_HEIGHT = 11.0, 5.5   # cm, the axes' box
COLOURS_OF_SERIES = ("blue!70!black", "red!75!black", "green!50!black", "orange!90!black", "violet",
                     "brown", "magenta", "cyan!60!black")


def plot_tikz(plot: Plot) -> str:
    """The plot as a TikZ picture, with the same ticks as the SVG."""
    from .latex import latex_text   # (latex imports this module)

    xs = [x for s in plot.series for x, _ in s.points] or [0.0, 1.0]
    ys = [y for s in plot.series for _, y in s.points] or [0.0, 1.0]
    xt, yt = ticks(min(xs), max(xs), whole=True), ticks(min(ys), max(ys))
    x0, x1, y0, y1 = xt[0], xt[-1], yt[0], yt[-1]
    px = lambda x: (x - x0) / ((x1 - x0) or 1.0) * PLOT_WIDTH  # noqa: E731
    py = lambda y: (y - y0) / ((y1 - y0) or 1.0) * PLOT_HEIGHT  # noqa: E731
    lines = [r"\begin{tikzpicture}[font=\scriptsize]",
             rf"\draw[black!60] (0,0) rectangle ({cm(PLOT_WIDTH)},{cm(PLOT_HEIGHT)});"]
    for y in yt:
        lines.append(rf"\draw[black!12] (0,{cm(py(y))}) -- ({cm(PLOT_WIDTH)},{cm(py(y))}); "
                     rf"\node[left] at (0,{cm(py(y))}) {{\({latex_number_text(axis_tick(y, tick_step(yt)))}\)}};")
    for x in xt:
        lines.append(rf"\draw ({cm(px(x))},0) -- ({cm(px(x))},-0.1) node[below] {{\({latex_number_text(axis_tick(x, tick_step(xt)))}\)}};")
    lines.append(rf"\node at ({cm(PLOT_WIDTH / 2)},-0.8) {{{latex_text(plot.x_label)}}};")
    lines.append(rf"\node[rotate=90] at (-1.3,{cm(PLOT_HEIGHT / 2)}) {{{latex_text(plot.y_label)}}};")
    for i, s in enumerate(plot.series):
        colour = COLOURS_OF_SERIES[i % len(COLOURS_OF_SERIES)]
        path = " -- ".join(f"({cm(px(x))},{cm(py(y))})" for x, y in s.points)
        if len(s.points) > 1:
            lines.append(rf"\draw[{colour}, thick] {path};")
        if len(s.points) <= 40:
            lines += [rf"\fill[{colour}] ({cm(px(x))},{cm(py(y))}) circle (1.2pt);" for x, y in s.points]
        legend = latex_text(s.label)
        lines.append(rf"\draw[{colour}, thick] ({cm(PLOT_WIDTH + 0.3)},{cm(PLOT_HEIGHT - 0.2 - 0.45 * i)}) -- "
                     rf"++(0.5,0) node[right, black] {{{legend}}};")
    lines.append(r"\end{tikzpicture}")
    return "\\begin{center}\n\\resizebox{\\linewidth}{!}{%\n" + "\n".join(lines) + "%\n}\n\\end{center}\n"




__all__ = ["diagram_tikz", "plot_tikz"]
