"""The sections that give names and numbers: constants, parameters, equations, samples
(or class labels), the loss with its penalty, and an objective in place of a loss."""

from __future__ import annotations

import dataclasses
import math

import sympy

from ..expr import Array, parse_shaped_expression
from ..ops import LOSSES
from ..source import Node
from .fields import (
    NameTable,
    article,
    check_keys,
    key_node,
    need_choice,
    need_list,
    need_mapping,
    need_number,
    need_number_in,
    need_text,
    need_whole,
    parse_equation,
    refer,
    shaped_symbols,
    suggestion,
    where,
)
from .records import Equation, LossSpec, Number, Objective, PenaltySpec
from .shapes import (
    component_names,
    define_shaped,
    expand_sample,
    read_shaped_value,
    shape_text,
    value_shape,
    written_names,
)


def read_constants(node: Node | None, names: NameTable) -> dict[str, Number]:
    if node is None:
        return {}
    need_mapping(node, "constants: name -> value")
    out = {}
    for key, value in node.items():
        shape = value_shape(value, key)
        if shape:  # a vector or matrix of constants
            components = define_shaped(names, key_node(node, key), "constant", shape)
            out.update(zip(components, (number for number, _ in read_shaped_value(value, key, shape))))
            continue
        name = names.define(key_node(node, key), "constant")
        out[name] = need_number(value, f"a value for constant {name}")
    return out


def read_params(node: Node, names: NameTable) -> dict[str, Number]:
    need_mapping(node, "params: name -> initial value")
    if not node.value:
        raise node.error("expected at least one parameter")
    out = {}
    for key, value in node.items():
        shape = value_shape(value, key)
        if shape:  # a vector or matrix: its components, each with its number
            components = define_shaped(names, key_node(node, key), "parameter", shape)
            out.update(zip(components, (number for number, _ in read_shaped_value(value, key, shape))))
            continue
        name = names.define(key_node(node, key), "parameter")
        out[name] = need_number(value, f"an initial value for {name}")
    return out


def read_equations(node: Node, names: NameTable) -> tuple[Equation, ...]:
    need_mapping(node, "model: node name -> equation")
    if not node.value:
        raise node.error("expected at least one equation")
    later = {key: key_node(node, key) for key in node.value}
    out = []
    for key, value in node.items():
        del later[key]
        expr = parse_equation(value, names, ("input", "parameter", "constant", "node"), later,
                               f"the equation of {key}", shaped=True)
        if isinstance(expr, Array):  # a vector or matrix node: one equation per component
            components = define_shaped(names, key_node(node, key), "node", expr.shape)
            out.extend(Equation(c, e) for c, e in zip(components, expr.items))
            continue
        names.define(key_node(node, key), "node")
        out.append(Equation(key, expr))
    return tuple(out)


def read_samples(node: Node, inputs, targets, shapes=None) -> tuple[dict[str, Number], ...]:
    """Each sample's number for every input and target; ``shapes`` (name -> shape) are the
    vector and grid names, given as nested lists and read by their components."""
    sample_nodes = need_list(node, "samples") if isinstance(node.value, list) else [node]
    shapes = {n: s for n, s in (shapes or {}).items() if set(component_names(n, s)) <= {*inputs, *targets}}
    expected = written_names(list(inputs) + list(targets), shapes)
    written_inputs = written_names(inputs, shapes)
    out = []
    for k, sample in enumerate(sample_nodes, 1):
        need_mapping(sample, f"sample {k}: input and target name -> value")
        for key in sample.value:
            if key not in expected:
                owner = next((n for n, s in shapes.items() if key in component_names(n, s)), None)
                if owner:
                    raise sample.key_error(key, f"{key!r} is a component of {owner}: sample {k} gives {owner} "
                                                f"as a whole ({shape_text(shapes[owner])}), as a list")
                raise sample.key_error(key, f"unknown name {key!r} in sample {k} "
                                            f"(expected the inputs and targets: {', '.join(expected)})")
        missing = [n for n in expected if n not in sample.value]
        if missing:
            kind = "input" if missing[0] in written_inputs else "target"
            raise sample.error(f"sample {k} has no value for {kind} {missing[0]!r} "
                               f"(a sample gives every input and target: {', '.join(expected)})")
        values = expand_sample(sample, shapes)
        out.append({n: need_number(values[n], f"a number for {n}") for n in (*inputs, *targets)})
    return tuple(out)


def read_label_targets(node: Node, data: Node, names: NameTable, inputs, outputs):
    """{label: y, classes: K}: each sample gives a class y in 1..K, read as the one-hot
    targets y_1 … y_K (y_k = 1 for k = y, else 0), so that every loss works unchanged."""
    check_keys(node, ("label", "classes"), ("label", "classes"), "targets")
    label_node = node.value["label"]
    label = names.define(label_node, "class label")
    classes = need_whole(node.value["classes"], "classes (the number of classes)", 2)
    if classes != len(outputs):
        raise node.value["classes"].error(f"expected classes: {len(outputs)}, one class per output "
                                          f"({', '.join(outputs)}), found {classes}")
    one_hot_names = [f"{label}_{k}" for k in range(1, classes + 1)]
    taken = next((n for n in one_hot_names if n in names.kind), None)
    if taken:
        raise label_node.error(f"the label {label!r} stands for the one-hot targets {', '.join(one_hot_names)}, "
                               f"but {taken!r} is already defined as {article(names.kind[taken])} at "
                               f"{where(names.where[taken])}; choose another label name")
    targets = tuple(names.define(dataclasses.replace(label_node, value=n), "target") for n in one_hot_names)
    sample_nodes = need_list(data, "samples") if isinstance(data.value, list) else [data]
    samples = []
    for k, (sample, given) in enumerate(zip(sample_nodes, read_samples(data, inputs, (label,), names.shapes)), 1):
        value = sample.value[label]
        if not isinstance(value.value, int) or isinstance(value.value, bool) or not 1 <= value.value <= classes:
            raise value.error(f"expected the class of sample {k}: a whole number from 1 to {classes}, "
                              f"found {value.kind}")
        one_hot = {t: Number(sympy.Integer(int(c == value.value)), float(c == value.value))
                   for c, t in enumerate(targets, 1)}
        samples.append({n: given[n] for n in inputs} | one_hot)
    return targets, tuple(samples)


def read_loss(node: Node, names: NameTable, outputs, targets) -> LossSpec:
    if isinstance(node.value, str):
        return LossSpec(need_choice(node, "a loss", LOSSES), None, "mean")
    need_mapping(node, "a loss name or a mapping {name, reduction} or {expr, reduction}")
    check_keys(node, ("name", "expr", "reduction", PENALTY_KEY), (), "loss")
    v = node.value
    reduction = need_choice(v["reduction"], "a reduction", ("mean", "sum")) if "reduction" in v else "mean"
    if ("name" in v) == ("expr" in v):
        raise node.error("expected exactly one of 'name' (a standard loss) or 'expr' (a custom loss)")
    if "name" in v:
        return LossSpec(need_choice(v["name"], "a loss", LOSSES), None, reduction)
    # A custom loss sees outputs and targets; the outputs are nodes, so look them up by name.
    allowed = {o: names.symbol(o) for o in outputs} | {t: names.symbol(t) for t in targets} | {
        c: names.symbol(c) for c, kind in names.kind.items() if kind == "constant"}
    # vector outputs and targets by their names: sum((o - y)^2)/2
    allowed |= {n: shaped_symbols(names, n) for n in names.shapes
                if set(component_names(n, names.shapes[n])) <= set(allowed)}
    expr_node = v["expr"]
    fail = expr_node.error_at

    def resolve(name: str, offset: int):
        if name in allowed:
            return allowed[name]
        if name in names.kind:
            raise fail(offset, f"a loss uses only outputs, targets and constants; {name!r} is "
                               f"{article(names.kind[name])}")
        raise fail(offset, f"unknown name {name!r}" + suggestion(name, allowed, "a loss uses outputs, "
                                                                                "targets and constants"))

    expr = parse_shaped_expression(need_text(expr_node, "a loss expression"), resolve, fail)
    if isinstance(expr, Array):
        raise expr_node.error(f"expected the loss to be a number per sample, found {shape_text(expr.shape)} "
                              f"(add its components with sum(…))")
    if not expr.free_symbols & {names.symbol(o) for o in outputs}:
        raise expr_node.error(f"expected the loss expression to use an output ({', '.join(outputs)}), "
                              f"found none")
    return LossSpec(None, expr, reduction)


PENALTY_KEY = "penalty"
PENALTY_ON = ("weights", "all")  # or a list of parameter names


def read_loss_penalty(node: Node, loss: LossSpec, params: dict[str, Number], layers,
                      network_weights: tuple[str, ...] | None = None) -> LossSpec:
    """The loss's ``penalty: {l2, l1, on}``: (λ₂/2)·Σθ² + λ₁·Σ|θ| over the parameters ``on`` names
    (weights: a layered network's weights, no biases; a model's every parameter)."""
    if not isinstance(node.value, dict) or PENALTY_KEY not in node.value:
        return loss
    pnode = need_mapping(node.value[PENALTY_KEY], "a penalty {l2, l1, on}")
    check_keys(pnode, ("l2", "l1", "on"), (), "penalty")
    v = pnode.value
    if "l2" not in v and "l1" not in v:
        raise pnode.error("expected l2 (adds (λ/2)·Σθ²) and/or l1 (adds λ·Σ|θ|) in the penalty, found neither")
    l2, l1 = (need_number_in(v[k], k, 0.0, math.inf, high_open=True) if k in v else None for k in ("l2", "l1"))
    on_node = v.get("on")
    if on_node is None or on_node.value == "weights":
        on = weights_of(layers) if layers is not None else network_weights or tuple(params)
    elif isinstance(on_node.value, list):
        on = tuple(_penalized(item, params) for item in need_list(on_node, "the penalized parameters"))
    else:
        need_choice(on_node, "what the penalty is on (or a list of parameter names)", PENALTY_ON)
        on = tuple(params)
    return dataclasses.replace(loss, penalty=PenaltySpec(l2, l1, tuple(dict.fromkeys(on))))


def weights_of(layers) -> tuple[str, ...]:
    return tuple(dict.fromkeys(w for layer in layers for row in layer.weights for w in row))


def _penalized(node: Node, params: dict[str, Number]) -> str:
    name = need_text(node, "a parameter name")
    if name not in params:
        raise node.error(f"penalty on {name!r}, which is not a parameter" + suggestion(name, params, "the parameters"))
    return name


def read_objective(node: Node, names: NameTable) -> tuple[Objective, LossSpec]:
    """``objective: f`` or ``objective: {upstream: {Y11: 1, ...}}``, and the per-sample
    "loss" it stands for: E = f, or E = Σ g_k·Y_k."""
    if not isinstance(node.value, dict):
        name = refer(node, names, ("node",), "the objective (a node of the model, or {upstream: {node: gradient}})")
        return Objective(name), LossSpec(None, names.symbol(name), "mean")
    check_keys(node, ("upstream",), ("upstream",), "objective")
    given = need_mapping(node.value["upstream"], "upstream: node -> the gradient arriving at it")
    if not given.value:
        raise given.error("expected at least one node with its upstream gradient")
    upstream = {}
    for key, value in given.items():
        name = refer(key_node(given, key), names, ("node",), "a node receiving an upstream gradient")
        upstream[name] = need_number(value, f"the upstream gradient ∂E/∂{name}: a number")
    expr = sympy.Add(*(g.exact * names.symbol(n) for n, g in upstream.items()))
    return Objective(None, upstream), LossSpec(None, expr, "mean")


def read_objective_samples(root: Node, inputs, shapes=None) -> tuple[dict[str, Number], ...]:
    """With an objective: the data's samples; without inputs and data, one empty sample
    (one evaluation per step)."""
    if "data" in root.value:
        return read_samples(root.value["data"], inputs, (), shapes)
    if inputs:
        raise root.key_error("inputs", f"missing key 'data': the inputs "
                                       f"({', '.join(written_names(inputs, shapes or {}))}) need values")
    return ({},)

