"""Vector, matrix and grid names (spec: Vectors and grids): how their scalar components are
named, and the readers of shaped declarations and values.

A shaped name is sugar. ``inputs: {x: 2}`` defines the scalar inputs x1, x2; ``params: {W:
[[...], [...]]}`` defines W11 … W22 with their numbers; data give nested lists. Everything
after the reader sees only the scalar components; the shapes themselves are kept in
``NameTable.shapes`` (-> ``Problem.shapes``) so that printers and layers can group them.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

from ..expr import shape_dims, shape_text, shape_word
from ..source import Node
from .fields import NameTable, key_node, need_list, need_mapping, need_number, need_whole, where
from .records import Number

Shape = tuple[int, ...]
__all__ = ["component_names", "define_shaped", "read_declared_names", "read_shape", "read_shaped_value",
           "shape_dims", "shape_text", "shape_word", "shaped_title", "value_shape"]
MAX_RANK = 3          # vectors, matrices, and grids with channels
MAX_COMPONENTS = 100_000


# ---------------------------------------------------------------- names and words

def component_names(name: str, shape: Shape) -> tuple[str, ...]:
    """Row-major scalar names: x1 x2 x3; W11 … W23; with an index ≥ 10 anywhere in the
    shape the indices are joined by _ (W_1_10), so that no two components read alike."""
    joined = any(n >= 10 for n in shape)
    out = []
    for index in itertools.product(*(range(1, n + 1) for n in shape)):
        digits = [str(i) for i in index]
        out.append(f"{name}_{'_'.join(digits)}" if joined else name + "".join(digits))
    return tuple(out)


def shaped_title(kind: str, name: str, shape: Shape) -> str:
    """"input vector x (2)", "parameter matrix W (2×3)"."""
    return f"{kind} {shape_word(shape)} {name} ({shape_dims(shape)})"


# ---------------------------------------------------------------- declarations

def define_shaped(names: NameTable, node: Node, kind: str, shape: Shape) -> tuple[str, ...]:
    """Define the shaped name ``node.value`` and its scalar components; a component that is
    already a name (or a name some later component would take) is an error naming both."""
    name = names.check_new(node, kind)
    components = component_names(name, shape)
    for component in components:
        if component in names.kind or component in names.shapes:
            raise node.error(f"the {shaped_title(kind, name, shape)} has the component {component!r}, which is "
                             f"already defined as {names.described(component)} at "
                             f"{where(names.where[component])}; rename one of them")
    names.shapes[name] = shape
    names.shaped_kind[name] = kind
    names.where[name] = node
    for component in components:
        names.define(dataclasses.replace(node, value=component), kind)
        names.owner[component] = name
    return components


def read_shape(node: Node, name: str) -> Shape:
    """``3`` (a vector) or ``[4, 6]`` (a matrix or grid), each size a whole number ≥ 1."""
    what = f"the shape of {name}: a size (3) or a list of sizes ([4, 6])"
    if isinstance(node.value, list):
        sizes = need_list(node, what)
        if len(sizes) > MAX_RANK:
            raise node.error(f"expected at most {MAX_RANK} sizes in the shape of {name}, found {len(sizes)}")
        shape = tuple(need_whole(size, f"a size in the shape of {name}", 1) for size in sizes)
    else:
        shape = (need_whole(node, what, 1),)
    if math.prod(shape) > MAX_COMPONENTS:
        raise node.error(f"{name} of shape {shape_dims(shape)} has {math.prod(shape):,} components; "
                         f"at most {MAX_COMPONENTS:,}")
    return shape


def read_declared_names(node: Node, names: NameTable, kind: str, what: str) -> tuple[str, ...]:
    """A list of scalar names (``[x1, x2]``), or a mapping name -> shape (``{x: 2}``, ``{I: [4, 6]}``,
    ``{b: 1, x: 2}``): the scalar names, components in row-major order."""
    if not isinstance(node.value, dict):
        return tuple(names.define(item, kind) for item in need_list(node, what))
    need_mapping(node, what)
    if not node.value:
        raise node.error(f"expected {what}, found an empty mapping")
    out: list[str] = []
    for key, shape_node in node.items():
        out.extend(define_shaped(names, key_node(node, key), kind, read_shape(shape_node, key)))
    return tuple(out)


# ---------------------------------------------------------------- values

def value_shape(node: Node, name: str) -> Shape:
    """The shape of a value as written: a number is a scalar, a list a vector, a list of
    equal lists a matrix (rows), and so on; ragged nesting is an error at the odd row."""
    if not isinstance(node.value, list):
        return ()
    items = need_list(node, f"the components of {name}")
    inner = value_shape(items[0], name)
    for k, item in enumerate(items[1:], 2):
        if value_shape(item, name) != inner:
            raise item.error(f"expected item {k} of {name} to be {shape_text(inner)} like item 1, found "
                             f"{shape_text(value_shape(item, name))}")
    shape = (len(items),) + inner
    if len(shape) > MAX_RANK:
        raise node.error(f"expected at most {MAX_RANK} levels of lists for {name}, found {len(shape)}")
    return shape


def leaves(node: Node) -> list[Node]:
    """The number nodes of a nested list, row-major."""
    if isinstance(node.value, list):
        return [leaf for item in node.value for leaf in leaves(item)]
    return [node]


def read_shaped_value(node: Node, name: str, shape: Shape) -> list[tuple[Number, Node]]:
    """The numbers of ``name``, which must have ``shape`` (a located error says which level is off)."""
    _check_value_shape(node, name, shape, ())
    return [(need_number(leaf, f"a number in {name}"), leaf) for leaf in leaves(node)]


def _check_value_shape(node: Node, name: str, shape: Shape, at: tuple[int, ...]) -> None:
    where_in = _place(name, at, len(shape) + len(at))
    if not shape:
        if isinstance(node.value, list):
            raise node.error(f"expected a number in {where_in}, found a list")
        return
    if not isinstance(node.value, list):
        whole = f" ({shape_text(shape)})" if not at else ""
        raise node.error(f"expected {where_in}{whole} as a list of {shape[0]}, found {node.kind}")
    if len(node.value) != shape[0]:
        whole = f", {shape_text(shape)}" if not at else ""
        raise node.error(f"expected {shape[0]} item{'s' * (shape[0] != 1)} in {where_in}{whole}, "
                         f"found {len(node.value)}")
    for k, item in enumerate(node.value, 1):
        _check_value_shape(item, name, shape[1:], at + (k,))


def _place(name: str, at: tuple[int, ...], rank: int) -> str:
    """Where in a nested value: x, item 2 of x, row 2 of W, item (2, 3) of W."""
    if not at:
        return name
    if len(at) == 1:
        return f"{'row' if rank == 2 else 'item'} {at[0]} of {name}"
    return f"item ({', '.join(map(str, at))}) of {name}"


def expand_sample(sample: Node, shapes: dict[str, Shape]) -> dict[str, Node]:
    """A sample's values by scalar name: a shaped name's nested list becomes its components
    (each its own number node, for located errors); other keys are kept as they are."""
    out: dict[str, Node] = {}
    for key, value in sample.items():
        if key in shapes:
            _check_value_shape(value, key, shapes[key], ())
            out.update(zip(component_names(key, shapes[key]), leaves(value)))
        else:
            out[key] = value
    return out


def written_names(scalar_names, shapes: dict[str, Shape]) -> list[str]:
    """Scalar names as the file writes them: a shaped name once in place of its components."""
    owner = {c: name for name, shape in shapes.items() for c in component_names(name, shape)}
    return list(dict.fromkeys(owner.get(n, n) for n in scalar_names))
