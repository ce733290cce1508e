"""rnn, lstm and gru cells unrolled over `steps`, expanded to the textbook (PyTorch)
equations, grouped by time step.

The layer's sources are read as `steps` equal consecutive parts, one per step (with
steps: 1, all of them). Each weight row (one per unit) has one column per source of
a step, then one per unit of the previous hidden state; the weights are shared over
the steps, so each weight's gradient is a sum over them (backpropagation through time).

    rnn   net = W x + U h_prev + b,  h = activation(net)          (tanh by default)
    lstm  i, f, o = σ(W x + U h_prev + b), g = tanh(…)  (gates i f g o, PyTorch's order)
          c = f·c_prev + i·g,  h = o·tanh(c)
    gru   r, z = σ(W x + U h_prev + b),  n = tanh(W_n x + b_n + r·(U_n h_prev + b_hn))
          h = (1 − z)·n + z·h_prev                                  (PyTorch's GRUCell)

Names: the last step's hidden state is the layer's units; step t < T adds _t
(h_1, h_2, then h); gates and cells are <gate>_<unit> (i_h, c_h; _t with several
steps); the initial state is the constant <unit>_0 (and c_<unit>_0)."""

from __future__ import annotations

import sympy

from ..ops import OPS
from ..source import Node
from .fields import check_keys, need_list, need_mapping, need_number, need_text, need_whole
from .network import Build, Feature, flat, symbol
from .records import Grid, Number, TimeStep

GATES = {"rnn": ("h",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}
EXTRA_BIAS = {"gru": "hn"}   # GRU's hidden bias of n, inside r·(U_n h + b_hn)
CELL_KEYS = ("type", "steps", "units", "state", "weights", "bias", "activation", "names")
MAX_STEPS = 1000


def read_cell(node: Node, kind: str, feature: Feature, build: Build, read_activation) -> Feature:
    check_keys(node, CELL_KEYS, ("units", "weights"), kind)
    v = node.value
    if "activation" in v and kind != "rnn":
        raise node.key_error("activation", f"an {kind} cell has its own activations (σ and tanh); "
                                           f"activation is for rnn")
    activation, act_arg = read_activation(v["activation"]) if "activation" in v else ("tanh", None)
    steps = need_whole(v["steps"], "steps (time steps to unroll)", 1) if "steps" in v else 1
    if steps > MAX_STEPS:
        raise v["steps"].error(f"expected at most {MAX_STEPS} steps, found {steps}")
    sources = flat(feature)
    if len(sources) % steps:
        raise v.get("steps", node).error(f"the layer reads {len(sources)} sources over {steps} steps: expected a "
                                         f"multiple of {steps} (each step reads the same number of sources)")
    per_step = len(sources) // steps
    unit_nodes = need_list(v["units"], "the cell's unit names (its hidden state)")
    units = [need_text(u, "a unit name") for u in unit_nodes]
    columns = [f"x{i}" for i in range(1, per_step + 1)] + units
    gates = GATES[kind]
    weights = _per_gate(v["weights"], kind, gates, lambda g, n: _rows(n, units, per_step, g))
    bias_gates = gates + ((EXTRA_BIAS[kind],) if kind in EXTRA_BIAS and "bias" in v
                          and EXTRA_BIAS[kind] in v["bias"].value else ())
    biases = _per_gate(v["bias"], kind, bias_gates, lambda g, n: _vector(n, units, g), optional=EXTRA_BIAS.get(kind)) \
        if "bias" in v else None
    names = _names(v.get("names"), kind, gates, bias_gates, units, per_step)

    def name_of(kind_of: str, gate: str, j: int, i: int | None = None) -> Node:
        given = names.get((kind_of, gate))
        if given is not None:
            return given[j] if i is None else given[j][i]
        u = units[j]
        prefix = "" if kind == "rnn" else gate
        if kind_of == "weights":
            return Node(f"W{prefix}_{u}_{columns[i]}" if i < per_step else f"U{prefix}_{u}_{columns[i]}",
                        node.line, node.col, node.path)
        return Node(f"b{prefix}_{u}", node.line, node.col, node.path)

    w = {g: [[build.param(name_of("weights", g, j, i), weights[g][j][i]) for i in range(len(columns))]
             for j in range(len(units))] for g in gates}
    for g in gates:
        build.weights.extend(name for row in w[g] for name in row)
    b = {g: [build.param(name_of("bias", g, j), biases[g][j]) for j in range(len(units))]
         for g in bias_gates} if biases is not None else {}

    state = _state(v.get("state"), kind, units)
    h_prev = [build.constant(f"{u}_0", state["h"][j], v.get("state", node)) for j, u in enumerate(units)]
    c_prev = [build.constant(f"c_{u}_0", state["c"][j], v.get("state", node)) for j, u in enumerate(units)] \
        if kind == "lstm" else None
    h = h_prev
    for t in range(1, steps + 1):
        start = len(build.equations)
        xs = sources[(t - 1) * per_step: t * per_step]
        suffix = f"_{t}" if steps > 1 else ""
        last = t == steps
        h_names = [u if last else f"{u}_{t}" for u in units]
        if kind == "rnn":
            h = _rnn_step(build, node, units, xs, h, w["h"], b.get("h"), h_names, suffix, activation, act_arg)
        elif kind == "lstm":
            h, c_prev = _lstm_step(build, node, units, xs, h, c_prev, w, b, h_names, suffix)
        else:
            h = _gru_step(build, node, units, xs, h, w, b, h_names, suffix)
        build.time_steps.append(TimeStep("t", t, tuple(eq.name for eq in build.equations[start:])))
    return (Grid("", (len(units),), tuple(h), "units"),)


def _affine(xs, hs, row, bias) -> sympy.Expr:
    terms = [symbol(wi) * symbol(x) for wi, x in zip(row, list(xs) + list(hs))]
    if bias is not None:
        terms.append(symbol(bias))
    return sympy.Add(*terms)


def _rnn_step(build, node, units, xs, h_prev, w, b, h_names, suffix, activation, act_arg):
    nets = [build.node(f"net_{u}{suffix}", node) for u in units]
    for j, net in enumerate(nets):
        build.equation(net, _affine(xs, h_prev, w[j], b[j] if b else None))
    fn = OPS[activation].sympy_fn if activation != "linear" else None
    for net, h in zip(nets, h_names):
        build.node(h, node)
        z = symbol(net)
        build.equation(h, z if fn is None else fn(z, act_arg) if act_arg is not None else fn(z))
    return h_names


def _lstm_step(build, node, units, xs, h_prev, c_prev, w, b, h_names, suffix):
    sigma, tanh = OPS["sigmoid"].sympy_fn, OPS["tanh"].sympy_fn
    gate = {}
    for g in ("i", "f", "g", "o"):
        fn = tanh if g == "g" else sigma
        for j, u in enumerate(units):
            name = gate[g, j] = build.node(f"{g}_{u}{suffix}", node)
            build.equation(name, fn(_affine(xs, h_prev, w[g][j], b[g][j] if b else None)))
    cells = []
    for j, u in enumerate(units):
        c = build.node(f"c_{u}{suffix}", node)
        build.equation(c, symbol(gate["f", j]) * symbol(c_prev[j]) + symbol(gate["i", j]) * symbol(gate["g", j]))
        cells.append(c)
    for j, h in enumerate(h_names):
        build.node(h, node)
        build.equation(h, symbol(gate["o", j]) * tanh(symbol(cells[j])))
    return h_names, cells


def _gru_step(build, node, units, xs, h_prev, w, b, h_names, suffix):
    sigma, tanh = OPS["sigmoid"].sympy_fn, OPS["tanh"].sympy_fn
    gate = {}
    per_step = len(xs)
    for g in ("r", "z"):
        for j, u in enumerate(units):
            name = gate[g, j] = build.node(f"{g}_{u}{suffix}", node)
            build.equation(name, sigma(_affine(xs, h_prev, w[g][j], b[g][j] if b else None)))
    for j, u in enumerate(units):
        name = gate["n", j] = build.node(f"n_{u}{suffix}", node)
        row = w["n"][j]
        from_x = _affine(xs, (), row[:per_step], b["n"][j] if b else None)
        from_h = _affine((), h_prev, row[per_step:], b["hn"][j] if "hn" in b else None)
        build.equation(name, tanh(from_x + symbol(gate["r", j]) * from_h))
    for j, h in enumerate(h_names):
        build.node(h, node)
        z = symbol(gate["z", j])
        build.equation(h, (1 - z) * symbol(gate["n", j]) + z * symbol(h_prev[j]))
    return h_names


# ---------------------------------------------------------------- reading

def _per_gate(node: Node, kind: str, gates, read, optional: str | None = None) -> dict:
    """rnn: the value itself; lstm and gru: a mapping gate -> value, every gate given."""
    if kind == "rnn":
        return {"h": read("h", node)}
    need_mapping(node, f"a mapping gate -> values, with the gates {', '.join(gates)}")
    check_keys(node, gates + ((optional,) if optional and optional not in gates else ()),
               tuple(g for g in gates if g != optional), f"the {kind} gates")
    return {g: read(g, node.value[g]) for g in gates if g in node.value}


def _rows(node: Node, units, per_step: int, gate: str):
    rows = need_list(node, f"the weights of gate {gate}: one row per unit")
    if len(rows) != len(units):
        raise node.error(f"expected {len(units)} row{'s' * (len(units) != 1)} of weights for gate {gate}, "
                         f"one per unit ({', '.join(units)}), found {len(rows)}")
    width = per_step + len(units)
    out = []
    for row in rows:
        items = need_list(row, "a row of weights")
        if len(items) != width:
            raise row.error(f"expected {width} weights in a row: {per_step} for the step's sources, then "
                            f"{len(units)} for the previous hidden state ({', '.join(units)}); found {len(items)}")
        out.append([(need_number(i, "a weight"), i) for i in items])
    return out


def _vector(node: Node, units, gate: str):
    items = need_list(node, f"the biases of gate {gate}: one per unit")
    if len(items) != len(units):
        raise node.error(f"expected {len(units)} biases for gate {gate}, one per unit, found {len(items)}")
    return [(need_number(i, "a bias"), i) for i in items]


def _names(node: Node | None, kind: str, gates, bias_gates, units, per_step: int) -> dict:
    out: dict = {}
    if node is None:
        return out
    need_mapping(node, "names: weights and/or bias")
    check_keys(node, ("weights", "bias"), (), "names")
    for key, value in node.items():
        for g in (gates if key == "weights" else bias_gates):
            if kind == "rnn":
                given = value
            else:
                need_mapping(value, f"{key} names per gate")
                if g not in value.value:
                    continue
                given = value.value[g]
            if key == "weights":
                rows = need_list(given, "weight names: one row per unit")
                if len(rows) != len(units):
                    raise given.error(f"expected {len(units)} rows of weight names, one per unit, found {len(rows)}")
                table = []
                for row in rows:
                    items = need_list(row, "a row of weight names")
                    if len(items) != per_step + len(units):
                        raise row.error(f"expected {per_step + len(units)} weight names in a row, "
                                        f"found {len(items)}")
                    table.append([_name(i) for i in items])
                out[key, g] = table
            else:
                items = need_list(given, "bias names: one per unit")
                if len(items) != len(units):
                    raise given.error(f"expected {len(units)} bias names, one per unit, found {len(items)}")
                out[key, g] = [_name(i) for i in items]
    return out


def _name(node: Node) -> Node:
    need_text(node, "a parameter name")
    return node


def _state(node: Node | None, kind: str, units) -> dict[str, list[Number]]:
    zero = Number(sympy.Integer(0), 0.0)
    keys = ("h", "c") if kind == "lstm" else ("h",)
    state = {k: [zero] * len(units) for k in keys}
    if node is None:
        return state
    need_mapping(node, f"state: the initial {' and '.join(keys)} (one number per unit)")
    check_keys(node, keys, (), "state")
    for key, value in node.items():
        items = need_list(value, f"the initial {key}: one number per unit")
        if len(items) != len(units):
            raise value.error(f"expected {len(units)} initial values of {key}, one per unit, found {len(items)}")
        state[key] = [need_number(i, f"an initial {key}") for i in items]
    return state
