"""Drawings as SVG text: the network diagram (`diagram.Diagram`), plots
(`plot.Plot`) and loss surfaces (`surface.Surface`). Plain text, written here by hand: every coordinate is rounded to
two decimals by one function, so the same input gives the same bytes. No
ids, no scripts, no external fonts: an SVG can be pasted inline into HTML or
Markdown, several on one page. Printers never compute: every number drawn comes
from the data; this module only places it.
"""

from __future__ import annotations

import html
import math

from ..diagram import Diagram, DiagramNode
from ..plot import Plot, Series
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # the type only: a printer never imports the engine
    from ..surface import Surface
from .numbers import axis_tick, format_number

COLUMN = 250         # px between columns, with edge labels
BARE_COLUMN = 120    # px between columns, without
ROW = 104            # px between rows
HEIGHT = 40          # a node's box
MARGIN = 70
FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"'
FILL = {"input": "#e8f0fe", "unit": "#ffffff", "param": "#fff4e0", "constant": "#f2f2f2", "target": "#f2f2f2",
        "stage": "#ffffff", "loss": "#fde8e8"}
VALUE_COLOUR = "#1a7f37"
GRAD_COLOUR = "#c62828"


def n(v: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros, never "-0"."""
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def box_width(name: str) -> float:
    return max(HEIGHT, 8 * len(name) + 16)


def number(x: float | None, digits: int) -> str:
    return format_number(x, digits) if x is not None else "?"


def diagram_svg(d: Diagram, digits: int = 4, inline: bool = False) -> str:
    """The drawing; ``inline`` for an HTML page, which needs (and wants) no namespace URL."""
    gap = COLUMN if d.edge_labels or d.kind == "graph" else BARE_COLUMN   # a graph's ∂E/∂ labels are wide
    width = (d.columns - 1) * gap + 2 * MARGIN + 40
    height = d.rows * ROW + 40
    middle = height / 2
    at = {node.name: (MARGIN + 20 + node.x * gap, middle + node.y * ROW) for node in d.nodes}
    out = [_open(width, height, d.caption, inline)]
    for e in d.edges:
        out.append(_edge(at[e.source], at[e.target], box_width(e.source), box_width(e.target)))
    for node in d.nodes:
        out.append(_node(node, at[node.name], d.grad_label, digits))
    if d.edge_labels:
        for e in d.edges:
            if e.label is None:
                continue
            (x1, y1), (x2, y2) = at[e.source], at[e.target]
            x1, x2 = x1 + box_width(e.source) / 2, x2 - box_width(e.target) / 2   # between the borders
            x, y = x1 + e.at * (x2 - x1), y1 + e.at * (y2 - y1)
            out.append(f'<text x="{n(x)}" y="{n(y + 4)}" text-anchor="middle" font-size="11" '
                       f'paint-order="stroke" stroke="#ffffff" stroke-width="4">'
                       f'{esc(e.label)} = {esc(number(e.value, digits))}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _open(width: float, height: float, caption: str, inline: bool = False) -> str:
    namespace = "" if inline else ' xmlns="http://www.w3.org/2000/svg"'
    return (f'<svg{namespace} viewBox="0 0 {n(width)} {n(height)}" width="{n(width)}" '
            f'height="{n(height)}" style="max-width:100%;height:auto" role="img" {FONT} font-size="12">\n'
            f'<title>{esc(caption)}</title>\n<rect width="100%" height="100%" fill="#ffffff"/>')


def _edge(a: tuple[float, float], b: tuple[float, float], wa: float, wb: float) -> str:
    """A line from the right of box a to the left of box b, with an arrowhead."""
    x1, y1 = a[0] + wa / 2, a[1]
    x2, y2 = b[0] - wb / 2, b[1]
    length = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5 or 1.0
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    bx, by = x2 - 9 * ux, y2 - 9 * uy   # the arrowhead's base
    head = f"{n(x2)},{n(y2)} {n(bx - 4 * uy)},{n(by + 4 * ux)} {n(bx + 4 * uy)},{n(by - 4 * ux)}"
    return (f'<line x1="{n(x1)}" y1="{n(y1)}" x2="{n(bx)}" y2="{n(by)}" stroke="#555555" stroke-width="1.2"/>'
            f'<polygon points="{head}" fill="#555555"/>')


def _node(node: DiagramNode, at: tuple[float, float], grad_label: str, digits: int) -> str:
    x, y = at
    w = box_width(node.name)
    parts = [f'<rect x="{n(x - w / 2)}" y="{n(y - HEIGHT / 2)}" width="{n(w)}" height="{HEIGHT}" '
             f'rx="{HEIGHT // 2}" fill="{FILL[node.kind]}" stroke="#222222" stroke-width="1.3"/>',
             f'<text x="{n(x)}" y="{n(y + 5)}" text-anchor="middle" font-size="14" font-style="italic">'
             f'{esc(node.name)}</text>']
    if node.value is not None:
        parts.append(f'<text x="{n(x)}" y="{n(y - HEIGHT / 2 - 6)}" text-anchor="middle" fill="{VALUE_COLOUR}">'
                     f'{esc(number(node.value, digits))}</text>')
    below = []
    if node.grad is not None:
        label = "δ = " if grad_label == "δ" else f"{grad_label}{node.name} = "
        below.append((GRAD_COLOUR, label + number(node.grad, digits)))
    if node.bias is not None:
        below.append(("#222222", f"{node.bias[2]} {node.bias[0]} = {number(node.bias[1], digits)}"))
    for i, (colour, text) in enumerate(below):
        parts.append(f'<text x="{n(x)}" y="{n(y + HEIGHT / 2 + 15 + 14 * i)}" text-anchor="middle" font-size="11" '
                     f'fill="{colour}">{esc(text)}</text>')
    return "\n".join(parts)




# ---------------------------------------------------------------- plots

PLOT_WIDTH, PLOT_HEIGHT = 640, 380
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 40, 50
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
DASHES = ("", "6 3", "2 3", "8 3 2 3")


def ticks(low: float, high: float, count: int = 5, whole: bool = False) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten; whole numbers if ``whole``) covering [low, high]."""
    if high <= low:
        high = low + 1.0
    raw = max((high - low) / count, 1.0) if whole else (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step + 1e-9) * step
    out = [round(first, 12)]
    while out[-1] < high - step * 1e-9:
        out.append(round(first + len(out) * step, 12))
    return out


def tick_step(values: list[float]) -> float:
    """The spacing of ticks made by `ticks` (1 for a lone tick): what their labels' decimals follow."""
    return values[1] - values[0] if len(values) > 1 else 1.0


def _final_note(s: Series) -> str:
    if s.diverged:
        return ": diverged"
    return f": final {format_number(s.final, 4)}" if s.final is not None else ""


def plot_svg(plot: Plot, inline: bool = False) -> str:
    """The plot, its legend (with each compared run's final loss) to the right of it."""
    xs = [x for s in plot.series for x, _ in s.points] or [0.0, 1.0]
    ys = [y for s in plot.series for _, y in s.points] or [0.0, 1.0]
    xt, yt = ticks(min(xs), max(xs), whole=True), ticks(min(ys), max(ys))
    x0, x1, y0, y1 = xt[0], xt[-1], yt[0], yt[-1]
    entries = [s.label + _final_note(s) for s in plot.series]
    legend = 40 + 7 * max(len(e) for e in entries) if entries else 0
    width = PLOT_WIDTH + legend
    w, h = PLOT_WIDTH - LEFT - RIGHT, PLOT_HEIGHT - TOP - BOTTOM
    px = lambda x: LEFT + (x - x0) / ((x1 - x0) or 1.0) * w  # noqa: E731
    py = lambda y: TOP + h - (y - y0) / ((y1 - y0) or 1.0) * h  # noqa: E731
    out = [_open(width, PLOT_HEIGHT, f"{plot.title}: {plot.y_label} per {plot.x_label}", inline),
           f'<text x="{n(LEFT + w / 2)}" y="22" text-anchor="middle" font-size="14">{esc(plot.title)}</text>']
    for y in yt:
        out.append(f'<line x1="{LEFT}" y1="{n(py(y))}" x2="{LEFT + w}" y2="{n(py(y))}" stroke="#e5e5e5"/>'
                   f'<text x="{LEFT - 6}" y="{n(py(y) + 4)}" text-anchor="end" font-size="11">{axis_tick(y, tick_step(yt))}</text>')
    for x in xt:
        out.append(f'<line x1="{n(px(x))}" y1="{TOP + h}" x2="{n(px(x))}" y2="{TOP + h + 4}" stroke="#333333"/>'
                   f'<text x="{n(px(x))}" y="{TOP + h + 17}" text-anchor="middle" font-size="11">'
                   f'{axis_tick(x, tick_step(xt))}</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{w}" height="{h}" fill="none" stroke="#333333"/>')
    out.append(f'<text x="{n(LEFT + w / 2)}" y="{PLOT_HEIGHT - 10}" text-anchor="middle">{esc(plot.x_label)}</text>')
    out.append(f'<text x="16" y="{n(TOP + h / 2)}" text-anchor="middle" transform="rotate(-90 16 {n(TOP + h / 2)})">'
               f'{esc(plot.y_label)}</text>')
    for i, s in enumerate(plot.series):
        colour, style = _stroke(i)
        points = " ".join(f"{n(px(x))},{n(py(y))}" for x, y in s.points)
        if len(s.points) > 1:
            out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.8"{style}/>')
        if len(s.points) <= 40:
            out += [f'<circle cx="{n(px(x))}" cy="{n(py(y))}" r="2.5" fill="{colour}"/>' for x, y in s.points]
    out += _legend(entries, LEFT + w + 14)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _legend(entries, lx: float) -> list[str]:
    """One line per series, right of the plot: its stroke, then its label."""
    out = []
    for i, entry in enumerate(entries):
        colour, style = _stroke(i)
        y = TOP + 12 + 18 * i
        out.append(f'<line x1="{n(lx)}" y1="{y - 4}" x2="{n(lx + 22)}" y2="{y - 4}" stroke="{colour}" '
                   f'stroke-width="2"{style}/><text x="{n(lx + 28)}" y="{y}" font-size="11">{esc(entry)}</text>')
    return out


def _stroke(i: int) -> tuple[str, str]:
    """The i-th series' colour and dash pattern (dashed once the colours run out)."""
    dash = DASHES[(i // len(PALETTE)) % len(DASHES)]
    return PALETTE[i % len(PALETTE)], (f' stroke-dasharray="{dash}"' if dash else "")


def surface_svg(surface: Surface, inline: bool = False) -> str:
    """The loss surface's contours, and each run's path over them (a dot at the start)."""
    side = 420
    xt, yt = ticks(surface.xs[0], surface.xs[-1]), ticks(surface.ys[0], surface.ys[-1])
    x0, x1, y0, y1 = surface.xs[0], surface.xs[-1], surface.ys[0], surface.ys[-1]
    px = lambda x: LEFT + (x - x0) / ((x1 - x0) or 1.0) * side  # noqa: E731
    py = lambda y: TOP + side - (y - y0) / ((y1 - y0) or 1.0) * side  # noqa: E731
    entries = [p.label for p in surface.paths]
    legend = 40 + 7 * max(len(e) for e in entries) if entries else 0
    width, height = LEFT + side + RIGHT + legend, TOP + side + BOTTOM
    a, b = surface.names
    out = [_open(width, height, f"{surface.title}: the loss over {a} and {b}, and each run's path", inline),
           f'<text x="10" y="22" font-size="14">{esc(surface.title)}</text>']
    for x in (t for t in xt if x0 <= t <= x1):
        out.append(f'<line x1="{n(px(x))}" y1="{TOP + side}" x2="{n(px(x))}" y2="{TOP + side + 4}" stroke="#333333"/>'
                   f'<text x="{n(px(x))}" y="{TOP + side + 17}" text-anchor="middle" font-size="11">'
                   f'{axis_tick(x, tick_step(xt))}</text>')
    for y in (t for t in yt if y0 <= t <= y1):
        out.append(f'<line x1="{LEFT - 4}" y1="{n(py(y))}" x2="{LEFT}" y2="{n(py(y))}" stroke="#333333"/>'
                   f'<text x="{LEFT - 6}" y="{n(py(y) + 4)}" text-anchor="end" font-size="11">{axis_tick(y, tick_step(yt))}</text>')
    for k, (level, segments) in enumerate(surface.contours):
        grey = 90 + int(130 * k / max(len(surface.contours) - 1, 1))   # darker toward the minimum
        path = "".join(f"M{n(px(xa))} {n(py(ya))}L{n(px(xb))} {n(py(yb))}" for xa, ya, xb, yb in segments)
        if path:
            out.append(f'<path d="{path}" fill="none" stroke="rgb({grey},{grey},{grey})" stroke-width="0.8"/>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{side}" height="{side}" fill="none" stroke="#333333"/>')
    out.append(f'<text x="{n(LEFT + side / 2)}" y="{height - 10}" text-anchor="middle" font-style="italic">'
               f'{esc(a)}</text>')
    out.append(f'<text x="16" y="{n(TOP + side / 2)}" text-anchor="middle" font-style="italic" '
               f'transform="rotate(-90 16 {n(TOP + side / 2)})">{esc(b)}</text>')
    for i, p in enumerate(surface.paths):
        colour, style = _stroke(i)
        points = " ".join(f"{n(px(x))},{n(py(y))}" for x, y in p.points)
        thickness = n(max(1.2, 3.6 - 0.8 * i))   # wider first: paths that coincide still show beneath
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="{thickness}"{style}/>')
        out += [f'<circle cx="{n(px(x))}" cy="{n(py(y))}" r="{3.5 if j == 0 else 2}" fill="{colour}"/>'
                for j, (x, y) in enumerate(p.points) if j == 0 or len(p.points) <= 60]
    out += _legend(entries, LEFT + side + 14)
    out.append("</svg>")
    return "\n".join(out) + "\n"


__all__ = ["diagram_svg", "esc", "n", "plot_svg", "surface_svg", "tick_step", "ticks"]
