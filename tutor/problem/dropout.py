"""dropout: the problem fixes the randomness. Each sample's mask (0 drops a unit,
1 keeps it) is given in data order; a mask component is a per-sample input m_<unit>,
so one equation serves every sample: d_j = s_j·m_j·1/(1 − p) (inverted, the
default, as PyTorch) or d_j = s_j·m_j. A dropped unit passes no gradient."""

from __future__ import annotations

import sympy

from ..source import Node
from .fields import check_keys, need_bool, need_list, need_number_in, need_text
from .network import Build, Feature, flat, symbol
from .records import Grid, Number

DROPOUT_KEYS = ("type", "p", "masks", "inverted", "units")


def read_dropout(node: Node, feature: Feature, build: Build) -> Feature:
    check_keys(node, DROPOUT_KEYS, ("p", "masks", "units"), "dropout")
    v = node.value
    inverted = need_bool(v["inverted"], "inverted") if "inverted" in v else True
    p = need_number_in(v["p"], "p (the probability of dropping a unit)", 0.0, 1.0, high_open=inverted)
    sources = flat(feature)
    out = _outputs(v["units"], feature, build, node)
    units = flat(out)
    if len(units) != len(sources):
        raise v["units"].error(f"expected {len(sources)} unit names, one per source ({', '.join(sources[:6])}"
                               f"{', …' if len(sources) > 6 else ''}), found {len(units)}")
    masks = []
    for mask_node in need_list(v["masks"], "the masks: one list of 0/1 per sample, in data order"):
        items = _flattened(need_list(mask_node, "a mask: one 0 or 1 per unit (rows of them after a grid)"))
        if len(items) != len(units):
            raise mask_node.error(f"expected a mask of {len(units)} (one 0 or 1 per unit: {', '.join(units[:6])}"
                                  f"{', …' if len(units) > 6 else ''}), found {len(items)}")
        for item in items:
            if item.value not in (0, 1) or isinstance(item.value, bool):
                raise item.error(f"expected 0 (dropped) or 1 (kept) in a mask, found {item.kind}")
        masks.append(tuple(Number(sympy.Integer(i.value), float(i.value)) for i in items))
    mask_names = tuple(build.names.define(Node(f"m_{u}", v["masks"].line, v["masks"].col, node.path), "input")
                       for u in units)
    build.masks.append((v["masks"], mask_names, masks))
    scale = 1 / (1 - p.exact) if inverted else sympy.Integer(1)
    for unit, source, mask in zip(units, sources, mask_names):
        build.equation(unit, symbol(source) * symbol(mask) * scale)
    return out


def _flattened(items: list[Node]) -> list[Node]:
    """A mask after a grid may be written as its rows: read row by row."""
    return [leaf for item in items for leaf in (_flattened(item.value) if isinstance(item.value, list) else [item])]


def _outputs(node: Node, feature: Feature, build: Build, layer: Node) -> Feature:
    """A list of unit names, or the name of the output grid (one per channel: O1, O2, …)."""
    if isinstance(node.value, str):
        several = len(feature) > 1
        return tuple(build.grid(f"{node.value}{c if several else ''}", g.shape, "units", layer)
                     for c, g in enumerate(feature, 1))
    names = tuple(build.names.define(u, "node") for u in need_list(node, "the layer's unit names")
                  if need_text(u, "a unit name"))
    return (Grid("", (len(names),), names, "units"),)
