"""The figures of a worked solution, as data: the drawing of the problem (or the
sentence saying it is too large to draw) and, for a training of several steps,
its loss curve. Built once from the solved run; every printer spells them."""

from __future__ import annotations

from dataclasses import dataclass

from .diagram import Diagram, build_diagram, diagram_note
from .plot import Plot, shown_in_export
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # the type only: the printers that read these figures never import the engine
    from .train import Run


@dataclass(frozen=True)
class Figures:
    diagram: Diagram | None
    note: str | None            # instead of a diagram too large to draw
    losses: Plot | None


def figures_of(run: Run) -> Figures:
    diagram = build_diagram(run)
    return Figures(diagram, None if diagram is not None else diagram_note(run), shown_in_export(run))


__all__ = ["Figures", "figures_of"]
