"""What every layer kind of a network shares while it is read: the names and
parameters defined so far, the grids (feature maps) flowing from layer to layer,
and the equations the layers expand to.

A layer reads its sources as a `Feature`: one or more channels, each a vector or
grid of scalar names (a dense layer's units are one channel of shape (n,)). Every
layer kind expands to the scalar equations a student writes by hand."""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from ..source import Node
from .fields import NameTable, clip, where
from .records import BatchStat, Equation, Grid, Number, TimeStep
from .shapes import component_names

Feature = tuple[Grid, ...]  # the channels a layer reads or produces


def flat(feature: Feature) -> tuple[str, ...]:
    """A feature read row by row, channel after channel (what a dense layer sees)."""
    return tuple(name for grid in feature for name in grid.components)


def symbol(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, real=True)


@dataclass
class Build:
    """The network being read: every layer adds its parameters, names and equations."""

    names: NameTable
    params: dict[str, Number] = field(default_factory=dict)
    param_nodes: dict[str, Node] = field(default_factory=dict)
    constants: dict[str, Number] = field(default_factory=dict)
    equations: list[Equation] = field(default_factory=list)
    grids: list[Grid] = field(default_factory=list)
    time_steps: list[TimeStep] = field(default_factory=list)
    weights: list[str] = field(default_factory=list)   # what a penalty `on: weights` covers
    masks: list[tuple[Node, tuple[str, ...], list[tuple[Number, ...]]]] = field(default_factory=list)
    batch_stats: list[BatchStat] = field(default_factory=list)

    def param(self, name_node: Node, value: tuple[Number, Node]) -> str:
        """Define a parameter; a repeated name is one shared parameter."""
        number, value_node = value
        name = name_node.value
        if name in self.params:
            if self.params[name].exact != number.exact:
                first = self.param_nodes[name]
                raise value_node.error(f"shared parameter {name!r} has initial value {clip(str(value_node.value))} "
                                       f"here but {clip(str(first.value))} at {where(first)}; "
                                       f"a shared parameter has one initial value")
            return name
        self.names.define(name_node, "parameter")
        self.params[name] = number
        self.param_nodes[name] = value_node
        return name

    def node(self, name: str, at: Node) -> str:
        """Define a computed name (a net, a unit, a gate), located at the layer."""
        return self.names.define(Node(name, at.line, at.col, at.path), "node")

    def constant(self, name: str, value: Number, at: Node) -> str:
        self.names.define(Node(name, at.line, at.col, at.path), "constant")
        self.constants[name] = value
        return name

    def grid(self, name: str, shape: tuple[int, ...], role: str, at: Node, define: str | None = "node") -> Grid:
        """A grid of names (its components defined as nodes unless ``define`` is None, when
        the caller defines them), recorded for the solution; its name, like a vector's,
        stands for every component (in ask, frozen, answers)."""
        name_node = Node(name, at.line, at.col, at.path)
        self.names.check_new(name_node, "node" if define else "parameter")
        components = component_names(name, shape)
        if define == "node":
            for c in components:
                self.node(c, at)
        grid = Grid(name, shape, components, role)
        self.grids.append(grid)
        if define == "node":
            self.shaped(grid, "node", name_node)
        return grid

    def shaped(self, grid: Grid, kind: str, at: Node) -> None:
        """Make the grid's name stand for its components, as a vector's does (shapes.py)."""
        self.names.shapes[grid.name] = grid.shape
        self.names.shaped_kind[grid.name] = kind
        self.names.where[grid.name] = at
        for c in grid.components:
            self.names.owner[c] = grid.name

    def equation(self, name: str, expr: sympy.Expr) -> None:
        self.equations.append(Equation(name, expr))
