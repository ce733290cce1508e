"""A plot (`plot.Plot`) as characters for the terminal: one marker per series
on a grid, the y axis labelled at its top, middle and bottom, the legend under
it. Plain text only (no colour needed: the markers differ)."""

from __future__ import annotations

from ..plot import Plot
from .numbers import axis_tick, full_text

MARKERS = "●×+o*#@%"


_ASCII = str.maketrans({"┤": "|", "└": "+", "─": "-", "▪": "#"})


def text_plot(plot: Plot, width: int = 80, height: int = 14, ascii_only: bool = False) -> str:
    """The plot as text; ``ascii_only``: its axes drawn with | + - (a worked solution stays plain)."""
    text = _text_plot(plot, width, height)
    return text.translate(_ASCII) if ascii_only else text


def _text_plot(plot: Plot, width: int, height: int) -> str:
    xs = [x for s in plot.series for x, _ in s.points]
    ys = [y for s in plot.series for _, y in s.points]
    if not xs:
        return "  (no finite loss to plot)\n"
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    # the top, middle and bottom values are not round ticks: a tenth of their spacing more digits
    labels = [axis_tick(y, (y1 - y0) / 20) for y in (y1, (y0 + y1) / 2, y0)]
    margin = max(len(t) for t in labels) + 1
    cols = max(width - margin - 3, 10)
    grid = [[" "] * cols for _ in range(height)]
    for i, s in enumerate(plot.series):
        for x, y in s.points:
            c = round((x - x0) / ((x1 - x0) or 1.0) * (cols - 1))
            r = height - 1 - round((y - y0) / ((y1 - y0) or 1.0) * (height - 1))
            grid[r][c] = MARKERS[i % len(MARKERS)] if grid[r][c] in (" ", MARKERS[i % len(MARKERS)]) else "▪"
    out = [f"  {plot.y_label} per {plot.x_label}: {plot.title}"]
    for r, row in enumerate(grid):
        label = labels[0] if r == 0 else labels[1] if r == (height - 1) // 2 else labels[2] if r == height - 1 else ""
        out.append(label.rjust(margin) + " ┤" + "".join(row).rstrip())
    out.append(" " * margin + " └" + "─" * cols)
    left, right = axis_tick(x0, (x1 - x0) / 10 or 1.0), axis_tick(x1, (x1 - x0) / 10 or 1.0)
    out.append(" " * (margin + 2) + left + right.rjust(cols - len(left)))
    out.append(" " * (margin + 2) + plot.x_label.center(cols).rstrip())
    out += [f"  {MARKERS[i % len(MARKERS)]} {s.label}" for i, s in enumerate(plot.series)]
    if any(ch == "▪" for row in grid for ch in row):
        out.append("  ▪ several series at one point")
    return "\n".join(line.rstrip() for line in out) + "\n"




def comparison_text(comparison, width: int = 80) -> str:
    """A `compare.Comparison` for the terminal: the table of final losses (at full
    precision, as the JSON solution has them), then the curves."""
    rows = []
    for v in comparison.variants:
        if v.run.diverged is not None:
            step = v.run.diverged.step
            final = f"diverged at step {step}" if step is not None else "diverged (final forward pass)"
        else:
            final = full_text(v.final_loss) if v.final_loss is not None else "not finite"
        rows.append((v.label, str(len(v.run.steps)), final))
    headers = (comparison.varied, "steps", "final loss")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [f"  {comparison.title}: by {comparison.varied}", "", line(headers),
           "  " + "  ".join("-" * w for w in widths), *(line(r) for r in rows), ""]
    return "\n".join(out) + "\n" + text_plot(comparison.plot, width=width)


__all__ = ["comparison_text", "text_plot"]
