"""batchnorm in training mode: per unit j, over the m samples of the batch,

    μ_j = (1/m) Σ_s x_js,   σ²_j = (1/m) Σ_s (x_js − μ_j)²   (biased, as PyTorch normalizes)
    x̂_js = (x_js − μ_j)/√(σ²_j + eps),   n_js = γ_j·x̂_js + β_j

The per-sample equations (x̂, n) are written here with μ and σ² as names the samples
share; the batch is then one computation (tutor/batch.py), whose backward pass flows
through μ and σ², so the gradients arriving at x sum to zero over the batch."""

from __future__ import annotations

import sympy

from ..source import Node
from .fields import check_keys, need_list, need_mapping, need_number, need_number_in, need_text
from .network import Build, Feature, flat, symbol
from .records import BatchStat, Grid, Number, Problem

BATCHNORM_KEYS = ("type", "units", "gamma", "beta", "eps", "names")
NAME_KEYS = ("gamma", "beta", "mean", "var", "xhat")
DEFAULT_NAMES = {"gamma": "gamma_{}", "beta": "beta_{}", "mean": "mu_{}", "var": "var_{}", "xhat": "xhat_{}"}
DEFAULT_EPS = Number(sympy.Rational(1, 100000), 1e-5)


def read_batchnorm(node: Node, feature: Feature, build: Build) -> Feature:
    check_keys(node, BATCHNORM_KEYS, ("units",), "batchnorm")
    v = node.value
    sources = flat(feature)
    if isinstance(v["units"].value, str):  # after a grid: the output grid's name (one per channel)
        several = len(feature) > 1
        out = tuple(build.grid(f"{v['units'].value}{c if several else ''}", g.shape, "units", node)
                    for c, g in enumerate(feature, 1))
        unit_nodes = None
        units = list(flat(out))
    else:
        unit_nodes = need_list(v["units"], "the layer's unit names, one per source")
        if len(unit_nodes) != len(sources):
            raise v["units"].error(f"expected {len(sources)} unit names, one per source ({', '.join(sources[:6])}"
                                   f"{', …' if len(sources) > 6 else ''}), found {len(unit_nodes)}")
        units = [need_text(u, "a unit name") for u in unit_nodes]
        out = (Grid("", (len(units),), tuple(units), "units"),)
    one, zero = Number(sympy.Integer(1), 1.0), Number(sympy.Integer(0), 0.0)
    gamma = _per_unit(v.get("gamma"), units, "gamma", one, node)
    beta = _per_unit(v.get("beta"), units, "beta", zero, node)
    eps = need_number_in(v["eps"], "eps", 0.0, 1.0, low_open=True) if "eps" in v else DEFAULT_EPS
    names = _names(v.get("names"), units, node)
    for j, (unit, source) in enumerate(zip(units, sources)):
        g = build.param(names["gamma"][j], gamma[j])
        b = build.param(names["beta"][j], beta[j])
        mean = build.names.define(names["mean"][j], "batch statistic")
        var = build.names.define(names["var"][j], "batch statistic")
        xhat = build.names.define(names["xhat"][j], "node")
        build.batch_stats.append(BatchStat(mean, var, source, xhat))
        build.equation(xhat, (symbol(source) - symbol(mean)) / sympy.sqrt(symbol(var) + eps.exact))
        if unit_nodes is not None:
            build.names.define(unit_nodes[j], "node")
        build.equation(unit, symbol(g) * symbol(xhat) + symbol(b))
    return out


def check_batch_coupled(root: Node, problem: Problem) -> None:
    """What does not apply when the batch is one computation."""
    top = root.value
    if problem.arithmetic == "symbolic":
        raise top["arithmetic"].error("arithmetic: symbolic derives one sample's gradients; with batch "
                                      "normalization the batch is one computation, so it needs numbers")
    if problem.training.update == "sequential":
        raise top["training"].error("batch normalization makes the batch one computation; "
                                    "training.update: sequential (per-node updates) does not apply")
    if any(item.kind == "gradient_check" for item in problem.ask or ()):
        raise top["ask"].error("gradient_check is not available with batch normalization "
                               "(the batch is one computation); the shipped tests check it by finite differences")


def _per_unit(node: Node | None, units, what: str, default: Number, layer: Node):
    if node is None:
        return [(default, layer)] * len(units)
    items = need_list(node, f"{what}: one number per unit")
    if len(items) != len(units):
        raise node.error(f"expected {len(units)} values of {what}, one per unit ({', '.join(units)}), "
                         f"found {len(items)}")
    return [(need_number(i, f"a value of {what}"), i) for i in items]


def _names(node: Node | None, units, layer: Node) -> dict[str, list[Node]]:
    given: dict[str, list[Node]] = {}
    if node is not None:
        need_mapping(node, "names: gamma, beta, mean, var and/or xhat")
        check_keys(node, NAME_KEYS, (), "names")
        for key, value in node.items():
            items = need_list(value, f"{key} names: one per unit")
            if len(items) != len(units):
                raise value.error(f"expected {len(units)} {key} names, one per unit, found {len(items)}")
            for item in items:
                need_text(item, f"a {key} name")
            given[key] = items
    return {key: given.get(key) or [Node(DEFAULT_NAMES[key].format(u), layer.line, layer.col, layer.path)
                                    for u in units] for key in NAME_KEYS}
