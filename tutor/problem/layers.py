"""The layered form (`network:`) expanded into layers of named units, weights and biases:
the default names, shared parameters, and every count checked against the layer's shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy

from ..ops import ACTIVATION_PARAMETER, LAYER_ACTIVATIONS, OPS
from ..source import Node
from .fields import (
    NameTable,
    check_keys,
    clip,
    need_choice,
    need_list,
    need_mapping,
    need_number,
    need_text,
    where,
)
from .network import Build, flat, symbol
from .records import THRESHOLDS_KEY, Equation, Grid, Layer, Number
from .shapes import component_names, read_declared_names

LAYER_KEYS = ("type", "units", "net", "activation", "weights", "bias", THRESHOLDS_KEY, "names")


def _bias_key(node: Node) -> str:
    """Which of bias / thresholds the layer gives (not both)."""
    if THRESHOLDS_KEY in node.value and "bias" in node.value:
        raise node.key_error(THRESHOLDS_KEY, "a layer gives either bias (+b_j) or thresholds (−θ_j), not both")
    return THRESHOLDS_KEY if THRESHOLDS_KEY in node.value else "bias"



LAYER_TYPES = ("dense", "conv1d", "conv2d", "maxpool", "avgpool", "batchnorm", "dropout", "rnn", "lstm", "gru")


@dataclass
class Network:
    """A network as read. Every layer dense: the layered form (``layers``), expanded by
    graph.py. Any other kind: every layer expanded here to ``equations``, which the
    engine reads as the model form, with the grids and time steps kept for the solution."""

    inputs: tuple[str, ...]
    params: dict[str, Number]
    layers: tuple[Layer, ...] | None
    equations: tuple[Equation, ...] | None
    outputs: tuple[str, ...]
    build: Build


def read_network(node: Node, names: NameTable) -> Network:
    need_mapping(node, "network: inputs and layers")
    check_keys(node, ("inputs", "layers"), ("inputs", "layers"), "network")
    build = Build(names)
    inputs = read_declared_names(node.value["inputs"], names, "input", "the input names")
    feature = _input_feature(node.value["inputs"], inputs, names, build)
    layer_nodes = need_list(node.value["layers"], "a list of layers")
    kinds = [_kind(n) for n in layer_nodes]
    layers = []
    for layer_node, kind in zip(layer_nodes, kinds):
        if kind == "dense":
            layer = _layer(layer_node, flat(feature), names, build.params, build.param_nodes)
            layers.append(layer)
            build.weights.extend(w for row in layer.weights for w in row)
            build.equations.extend(dense_equations(layer))
            feature = (Grid("", (len(layer.units),), layer.units, "units"),)
        else:
            feature = _read_kind(layer_node, kind, feature, build)
    outputs = flat(feature)
    if all(kind == "dense" for kind in kinds):
        return Network(inputs, build.params, tuple(layers), None, outputs, build)
    return Network(inputs, build.params, None, tuple(build.equations), outputs, build)


def with_masks(masks, inputs: tuple[str, ...], samples):
    """Dropout masks are per-sample inputs: mask k goes with sample k, in data order."""
    for masks_node, mask_names, values in masks:
        if len(values) != len(samples):
            raise masks_node.error(f"expected {len(samples)} mask{'s' * (len(samples) != 1)}, one per sample "
                                   f"in data order, found {len(values)}")
        inputs = inputs + mask_names
        samples = tuple(sample | dict(zip(mask_names, mask)) for sample, mask in zip(samples, values))
    return inputs, samples


def _input_feature(node: Node, inputs: tuple[str, ...], names: NameTable, build: Build):
    """What the first layer reads: a list of inputs as one vector; shaped inputs
    (``{x: 7}``, ``{I: [4, 6]}``) each as its own vector or grid."""
    if not isinstance(node.value, dict):
        return (Grid("", (len(inputs),), inputs, "input"),)
    grids = tuple(Grid(name, names.shapes[name], component_names(name, names.shapes[name]), "input")
                  for name in node.value)
    build.grids.extend(grids)
    return grids


def _kind(node: Node) -> str:
    need_mapping(node, "a layer")
    return need_choice(node.value["type"], "a layer type", LAYER_TYPES) if "type" in node.value else "dense"


def _read_kind(node: Node, kind: str, feature, build: Build):
    from .convolution import read_conv, read_pool
    from .dropout import read_dropout
    from .recurrent import read_cell

    if kind in ("conv1d", "conv2d"):
        return read_conv(node, kind, feature, build, _activation)
    if kind in ("maxpool", "avgpool"):
        return read_pool(node, kind, feature, build)
    if kind == "dropout":
        return read_dropout(node, feature, build)
    if kind == "batchnorm":
        from .batchnorm import read_batchnorm
        return read_batchnorm(node, feature, build)
    return read_cell(node, kind, feature, build, _activation)


def dense_equations(layer: Layer) -> list[Equation]:
    """net_j = Σ_i w_ji·s_i + b_j, then unit_j = activation(net_j) (nets of a layer first,
    then its units, so softmax can see every net)."""
    equations = []
    for net, row, j in zip(layer.nets, layer.weights, range(len(layer.units))):
        terms = [symbol(w) * symbol(s) for w, s in zip(row, layer.sources)]
        if layer.bias is not None:  # thresholds are subtracted: net_j = Σ w_ji·s_i − θ_j
            terms.append(-symbol(layer.bias[j]) if layer.thresholds else symbol(layer.bias[j]))
        equations.append(Equation(net, sympy.Add(*terms)))
    nets = [symbol(n) for n in layer.nets]
    for j, unit in enumerate(layer.units):
        equations.append(Equation(unit, _activate(layer, j, nets)))
    return equations


def _activate(layer: Layer, j: int, nets: list[sympy.Symbol]) -> sympy.Expr:
    name = layer.activation
    if name == "linear":
        return nets[j]
    if name == "softmax":
        return OPS["softmax"].sympy_fn(sympy.Integer(j + 1), *nets)
    fn = OPS[name].sympy_fn
    return fn(nets[j], layer.activation_arg) if layer.activation_arg is not None else fn(nets[j])


def _layer(node: Node, sources, names: NameTable, params, param_nodes) -> Layer:
    need_mapping(node, "a layer")
    check_keys(node, LAYER_KEYS, ("units", "activation", "weights"), "layer")
    v = node.value
    unit_nodes = need_list(v["units"], "the layer's unit names")
    unit_names = [need_text(u, "a unit name") for u in unit_nodes]
    if "net" in v:
        net_nodes = need_list(v["net"], "pre-activation names")
        if len(net_nodes) != len(unit_nodes):
            raise v["net"].error(f"expected {len(unit_nodes)} pre-activation names, one per unit, "
                                 f"found {len(net_nodes)}")
    else:
        net_nodes = [Node(f"net_{u}", un.line, un.col, un.path) for u, un in zip(unit_names, unit_nodes)]
    activation, act_arg = _activation(v["activation"])
    if activation == "softmax" and len(unit_nodes) < 2:
        raise v["activation"].error("softmax needs a layer of at least 2 units")

    weight_rows = _matrix(v["weights"], unit_names, sources, "weights", need_number)
    bias_key = _bias_key(node)
    bias_what = "thresholds" if bias_key == THRESHOLDS_KEY else "biases"
    bias_values = _vector(v[bias_key], unit_names, bias_what, need_number) if bias_key in v else None
    names_node = v.get("names")
    weight_names = bias_names = None
    if names_node is not None:
        need_mapping(names_node, "names: weights and/or bias")
        check_keys(names_node, ("weights", bias_key), (), "names")
        if "weights" in names_node.value:
            weight_names = _matrix(names_node.value["weights"], unit_names, sources, "weight names", _name_node)
        if bias_key in names_node.value:
            if bias_values is None:
                raise names_node.key_error(bias_key, "bias names given, but the layer has no bias "
                                                   "(add bias: one number per unit, or remove these names)")
            bias_names = _vector(names_node.value[bias_key], unit_names, f"{bias_key} names", _name_node)

    # Nets and units are defined after the weights are read, in the order used by the solution.
    nets = tuple(names.define(n, "node") for n in net_nodes)
    units = tuple(names.define(n, "node") for n in unit_nodes)
    w_table, b_table = [], []
    for j, unit in enumerate(units):
        row = []
        for i, source in enumerate(sources):
            name_node = weight_names[j][i] if weight_names else Node(f"w_{unit}_{source}", node.line, node.col,
                                                                     node.path)
            row.append(_param(name_node, weight_rows[j][i], names, params, param_nodes))
        w_table.append(tuple(row))
        if bias_values is not None:
            default = f"theta_{unit}" if bias_key == THRESHOLDS_KEY else f"b_{unit}"
            name_node = bias_names[j] if bias_names else Node(default, node.line, node.col, node.path)
            b_table.append(_param(name_node, bias_values[j], names, params, param_nodes))
    return Layer(units, nets, activation, act_arg, tuple(sources), tuple(w_table),
                 tuple(b_table) if bias_values is not None else None, bias_key == THRESHOLDS_KEY)


def _name_node(node: Node, what: str = "a parameter name") -> Node:
    need_text(node, what)
    return node


def _param(name_node: Node, value: tuple[Number, Node], names: NameTable, params, param_nodes) -> str:
    """Define a layer parameter; a repeated name is one shared parameter."""
    number, value_node = value
    name = name_node.value
    if name in params:
        if params[name].exact != number.exact:
            first = param_nodes[name]
            raise value_node.error(f"shared parameter {name!r} has initial value {clip(str(value_node.value))} "
                                   f"here but {clip(str(first.value))} at {where(first)}; "
                                   f"a shared parameter has one initial value")
        return name
    names.define(name_node, "parameter")
    params[name] = number
    param_nodes[name] = value_node
    return name


def _matrix(node: Node, units, sources, what: str, read: Callable):
    rows = need_list(node, f"{what}: one row per unit")
    if len(rows) != len(units):
        raise node.error(f"expected {len(units)} row{'s' * (len(units) != 1)} of {what}, one per unit "
                         f"({', '.join(units)}), found {len(rows)}")
    out = []
    for row in rows:
        items = need_list(row, f"a row of {what}")
        if len(items) != len(sources):
            raise row.error(f"expected {len(sources)} {what}, one per source ({', '.join(sources)}), "
                            f"found {len(items)}")
        out.append([_read_item(item, what, read) for item in items])
    return out


def _vector(node: Node, units, what: str, read: Callable):
    items = need_list(node, f"{what}: one per unit")
    if len(items) != len(units):
        raise node.error(f"expected {len(units)} {what}, one per unit ({', '.join(units)}), found {len(items)}")
    return [_read_item(item, what, read) for item in items]


def _read_item(item: Node, what: str, read: Callable):
    if read is need_number:
        return need_number(item, f"a number in {what}"), item
    return read(item)


def _activation(node: Node) -> tuple[str, sympy.Expr | None]:
    if isinstance(node.value, dict):
        check_keys(node, ("name", "slope", "alpha"), ("name",), "activation")
        name = need_choice(node.value["name"], "an activation", LAYER_ACTIVATIONS)
        allowed = ACTIVATION_PARAMETER.get(name)
        for key, value in node.items():
            if key == "name":
                continue
            if not allowed or allowed[0] != key:
                raise node.key_error(key, f"activation {name} takes no {key!r}"
                                          + (f" (its parameter is {allowed[0]!r})" if allowed else ""))
        if allowed:
            key, default = allowed
            return name, need_number(node.value[key], f"{key}: a number").exact if key in node.value else default
        return name, None
    name = need_choice(node, "an activation", LAYER_ACTIVATIONS)
    return name, ACTIVATION_PARAMETER[name][1] if name in ACTIVATION_PARAMETER else None
