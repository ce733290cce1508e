"""The sections that say how to train and what to show: optimizer (with its state and
schedules), training, ask, arithmetic and the checker's tolerance."""

from __future__ import annotations

import dataclasses
import math

import sympy

from ..optim import COMMON_KEYS, OPTIMIZERS, SCHEDULE_UNITS, SCHEDULES, STATE_KEY, STEP_COUNT_STATE, WEIGHT_DECAY
from ..source import Node
from ..tolerance import MAX_DIGITS, Tolerance
from .fields import (
    NameTable,
    article,
    check_keys,
    need_bool,
    need_choice,
    need_list,
    need_mapping,
    need_number,
    need_number_in,
    need_text,
    need_whole,
    refer_each,
    suggestion,
)
from .records import AskItem, Number, OptimizerSpec, Schedule, Training

MAX_ROUND_DECIMALS = 15
MAX_SIGNIFICANT_FIGURES = 15
ASK_WORDS = ("forward", "loss", "gradient", "update", "final")



def read_optimizer(node: Node | None, layered: bool) -> OptimizerSpec:
    if node is None:
        return OptimizerSpec("sgd", "plain", {"lr": Number(sympy.Rational(1, 10), 0.1)}, None, False, ())
    need_mapping(node, "an optimizer {name, lr, ...}")
    if "name" not in node.value:
        raise node.error("missing key 'name' in optimizer")
    name = need_choice(node.value["name"], "an optimizer", OPTIMIZERS)
    spec = OPTIMIZERS[name]
    own = [h.key for h in spec.hypers]
    allowed = ["name", *own, *([spec.form_key] if spec.form_key else []), *COMMON_KEYS,
               *([STATE_KEY] if spec.keeps_state else [])]
    _no_eps_placement(node, spec)
    check_keys(node, list(dict.fromkeys(allowed)), (), f"optimizer {name}")
    v = node.value
    hypers: dict[str, Number] = {}
    for h in spec.hypers:
        low, high, lo_open, hi_open = h.range
        if h.key in v:
            if len(h.symbols) > 1:
                items = need_list(v[h.key], f"{h.key}: a list of {len(h.symbols)} numbers")
                if len(items) != len(h.symbols):
                    raise v[h.key].error(f"expected {len(h.symbols)} numbers for {h.key}, found {len(items)}")
                values = [need_number_in(i, h.key, low, high, low_open=lo_open, high_open=hi_open) for i in items]
            else:
                values = [need_number_in(v[h.key], h.key, low, high, low_open=lo_open, high_open=hi_open)]
        elif h.default is None:
            raise node.error(f"missing key {h.key!r}: optimizer {name} has no default for it")
        else:
            values = [Number(d, float(d)) for d in h.default]
        hypers.update({sym.name: num for sym, num in zip(h.symbols, values)})
    form = spec.default_form
    if spec.form_key and spec.form_key in v:
        form = need_choice(v[spec.form_key], f"{spec.form_key} of {name}", spec.forms)
    weight_decay = None
    if "weight_decay" in v and not spec.decoupled_decay:
        low, high, lo_open, hi_open = WEIGHT_DECAY.range
        weight_decay = need_number_in(v["weight_decay"], "weight_decay", low, high, low_open=lo_open,
                                      high_open=hi_open)
    centralize = need_bool(v["centralize"], "centralize") if "centralize" in v else False
    if centralize and not layered:
        raise v["centralize"].error("centralize needs a layered network (network:), to know each unit's weights")
    schedules = _schedules(v["schedule"]) if "schedule" in v else ()
    return OptimizerSpec(name, form, hypers, weight_decay, centralize, schedules)


EPS_PLACEMENT = "eps_placement"


def _no_eps_placement(node: Node, spec) -> None:
    """eps_placement on an optimizer whose eps has no choice of place: a clear error,
    not just an unknown key."""
    if EPS_PLACEMENT in node.value and spec.form_key != EPS_PLACEMENT:
        having = [name for name, o in OPTIMIZERS.items() if o.form_key == EPS_PLACEMENT]
        raise node.key_error(EPS_PLACEMENT, f"optimizer {spec.name} takes no eps_placement "
                                            f"(only {', '.join(having)} do)")


def read_optimizer_state(node: Node | None, optimizer: OptimizerSpec, params: dict[str, Number]) -> OptimizerSpec:
    """The optimizer's ``state:``: initial values by state name, parameter by parameter,
    and ``t``, the steps already taken (for optimizers whose rules use t)."""
    if node is None or STATE_KEY not in node.value:
        return optimizer
    state_node = need_mapping(node.value[STATE_KEY], "state: variable -> {parameter: value}")
    definition = OPTIMIZERS[optimizer.name]
    own = list(definition.state_names(optimizer.form))
    if definition.counts_steps(optimizer.form):
        own.append(STEP_COUNT_STATE)
    shown_form = definition.shown_form(optimizer.form)
    label = optimizer.name + (f" ({shown_form})" if shown_form else "")
    state: dict[str, dict[str, Number]] = {}
    steps_done = 0
    for var, values in state_node.items():
        if var not in own:
            keeps = f"its state is {', '.join(own)}" if own else "it keeps no state"
            raise state_node.key_error(var, f"unknown state {var!r} for optimizer {label}: {keeps}")
        if var == STEP_COUNT_STATE:
            steps_done = need_whole(values, "t (the steps already taken)", 0)
            continue
        need_mapping(values, f"state {var}: parameter -> value")
        state[var] = {}
        for p, value in values.items():
            if p not in params:
                raise values.key_error(p, f"state {var} given for {p!r}, which is not a parameter"
                                          + suggestion(p, params, "the parameters"))
            state[var][p] = need_number(value, f"a number for state {var} of {p}")
    return dataclasses.replace(optimizer, state=state, steps_done=steps_done)


def _schedules(node: Node) -> tuple[Schedule, ...]:
    items = need_list(node, "schedules") if isinstance(node.value, list) else [node]
    out = []
    for item in items:
        need_mapping(item, "a schedule {name, ...}")
        if "name" not in item.value:
            raise item.error("missing key 'name' in schedule")
        name = need_choice(item.value["name"], "a schedule", SCHEDULES)
        sd = SCHEDULES[name]
        check_keys(item, ["name", "unit", *sd.keys], (), f"schedule {name}")
        keys: dict[str, Number] = {}
        for key, default in sd.keys.items():
            if key in item.value:
                if key in sd.whole_keys:
                    whole = need_whole(item.value[key], key, 1)
                    keys[key] = Number(sympy.Integer(whole), float(whole))
                else:
                    keys[key] = need_number_in(item.value[key], key, 0.0, math.inf, high_open=True)
            elif default is None:
                raise item.error(f"missing key {key!r}: schedule {name} needs it")
            else:
                keys[key] = Number(sympy.Rational(default), float(sympy.Rational(default)))
        unit = need_choice(item.value["unit"], "a schedule unit", SCHEDULE_UNITS) if "unit" in item.value else "step"
        out.append(Schedule(name, keys, unit))
    return tuple(out)


def read_training(node: Node | None, n_samples: int) -> Training:
    """``steps`` alone runs exactly that many steps, over as many epochs as needed;
    with ``epochs`` it may stop early but never asks for more than the epochs hold."""
    if node is None:
        return Training(1, 1 << 62, None, "simultaneous")
    need_mapping(node, "training: epochs, batch_size, steps, update")
    check_keys(node, ("epochs", "batch_size", "steps", "update"), (), "training")
    v = node.value
    epochs = need_whole(v["epochs"], "epochs", 0) if "epochs" in v else 1
    batch = need_whole(v["batch_size"], "batch_size", 1) if "batch_size" in v else 1 << 62
    steps = need_whole(v["steps"], "steps", 0) if "steps" in v else None
    update = need_choice(v["update"], "update", ("simultaneous", "sequential")) if "update" in v else "simultaneous"
    per_epoch = math.ceil(n_samples / batch)
    if steps is not None and "epochs" not in v:
        epochs = math.ceil(steps / per_epoch)
    elif steps is not None and steps > epochs * per_epoch:
        raise v["steps"].error(f"steps: {steps} asks for more update steps than {epochs} epoch{'s' * (epochs != 1)} "
                               f"of {per_epoch} step{'s' * (per_epoch != 1)} hold ({epochs * per_epoch}); "
                               f"remove epochs to run exactly {steps} steps")
    return Training(epochs, batch, steps, update)


def read_ask(node: Node, names: NameTable, n_steps: int) -> tuple[AskItem, ...]:
    items = []
    for item in need_list(node, "what the problem asks (forward, loss, gradient, update, final, steps)"):
        if isinstance(item.value, str):
            items.append(AskItem(need_choice(item, "an ask item", ASK_WORDS)))
            continue
        need_mapping(item, "an ask item")
        if len(item.value) != 1:
            raise item.error("expected one key per ask item, e.g. {gradient: [w1, w2]}")
        (key, value), = item.value.items()
        if key == "gradient":
            items.append(AskItem(key, names=_gradient_names(value, names)))
        elif key == "gradient_check":
            items.append(_gradient_check(value, names))
        elif key == "update":
            chosen = tuple(p for n in need_list(value, "names") for p in refer_each(n, names, ("parameter",),
                                                                                       "a parameter name"))
            items.append(AskItem(key, names=chosen))
        elif key == "steps":
            steps = tuple(need_whole(s, "a step number", 1) for s in need_list(value, "step numbers"))
            for s, s_node in zip(steps, value.value):
                if s > n_steps:
                    raise s_node.error(f"step {s} does not exist: the training has {n_steps} step"
                                       f"{'s' * (n_steps != 1)}")
            items.append(AskItem("steps", steps=steps))
        else:
            raise item.key_error(key, f"unknown ask item {key!r} (expected gradient, update, steps or "
                                      f"gradient_check)")
    return tuple(items)


DIFFERENTIABLE_KINDS = ("parameter", "input", "constant", "node")


def _gradient_names(node: Node, names: NameTable) -> tuple[str, ...]:
    """``{gradient: [...]}``: parameters, and also inputs, constants, nodes and outputs."""
    out = []
    for item in need_list(node, "names"):
        name = need_text(item, "a name to differentiate by")
        if names.shaped_kind.get(name) in DIFFERENTIABLE_KINDS:  # a vector or matrix: all its components
            out.extend(refer_each(item, names, DIFFERENTIABLE_KINDS, "a name to differentiate by"))
            continue
        kind = names.kind.get(name)
        if kind not in DIFFERENTIABLE_KINDS:
            known = [n for n, k in names.kind.items() if k in DIFFERENTIABLE_KINDS]
            found = f"{name!r}, which is {article(kind)}" if kind else f"unknown name {name!r}"
            raise item.error(f"expected a name to differentiate by (a parameter, input, constant or node), found "
                             f"{found}" + suggestion(name, known, "names"))
        out.append(name)
    return tuple(out)


def _gradient_check(node: Node, names: NameTable) -> AskItem:
    """``{gradient_check: {eps: 1e-4, parameters: [w1]}}``; eps is required, parameters default to all."""
    need_mapping(node, "gradient_check settings {eps, parameters}")
    check_keys(node, ("eps", "parameters"), ("eps",), "gradient_check")
    eps = need_number_in(node.value["eps"], "eps", 0.0, math.inf, low_open=True, high_open=True)
    chosen = ()
    if "parameters" in node.value:
        chosen = tuple(p for n in need_list(node.value["parameters"], "parameter names")
                       for p in refer_each(n, names, ("parameter",), "a parameter name"))
    elif not any(kind == "parameter" for kind in names.kind.values()):
        raise node.error("a gradient check needs parameters, and the problem has none")
    return AskItem("gradient_check", names=chosen, eps=eps)


# The rounding arithmetics: key -> (what N counts, its smallest and largest value).
ROUNDING = {"round": ("decimals", 0, MAX_ROUND_DECIMALS), "significant": ("figures", 1, MAX_SIGNIFICANT_FIGURES)}


def read_arithmetic(node: Node | None) -> tuple[str, int | None]:
    if node is None:
        return "float", None
    if isinstance(node.value, dict):
        # {round: N} decimals or {significant: N} figures: every intermediate value rounded
        mode = "significant" if "significant" in node.value else "round"
        counts, low, high = ROUNDING[mode]
        check_keys(node, (mode,), (mode,), "arithmetic")
        n = need_whole(node.value[mode], f"{mode} ({counts})", low)
        if n > high:
            raise node.value[mode].error(f"expected {mode} ({counts}): a whole number from {low} to {high}, "
                                         f"found {n}")
        return mode, n
    if node.value not in ("float", "exact", "symbolic"):
        raise node.error(f"expected arithmetic: float, exact, symbolic, {{round: N}} or {{significant: N}}; "
                         f"found {node.kind}")
    return node.value, None


# ---------------------------------------------------------------- check (how tutor check grades)

def read_check(node: Node) -> Tolerance:
    need_mapping(node, "check settings, e.g. {tolerance: {rel: 0.001}}")
    check_keys(node, ("tolerance",), ("tolerance",), "check")
    return parse_tolerance(node.value["tolerance"])


def parse_tolerance(node: Node) -> Tolerance:
    """{rel, abs} or {digits}: the instructor's tolerance (problem file or --tolerance)."""
    need_mapping(node, "a tolerance: {rel, abs} or {digits}")
    check_keys(node, ("rel", "abs", "digits"), (), "tolerance")
    v = node.value
    if "digits" in v:
        if "rel" in v or "abs" in v:
            raise node.key_error("digits", "give either digits or rel/abs in a tolerance, not both")
        digits = need_whole(v["digits"], "digits (decimals)", 0)
        if digits > MAX_DIGITS:
            raise v["digits"].error(f"expected at most {MAX_DIGITS} digits, found {digits}")
        return Tolerance(digits=digits)
    # A relative error of 100% accepts 0 for anything: not a tolerance.
    rel = need_number_in(v["rel"], "rel", 0.0, 1.0, high_open=True).value if "rel" in v else Tolerance.rel
    floor = need_number_in(v["abs"], "abs", 0.0, math.inf, high_open=True).value if "abs" in v else None
    return Tolerance(rel, floor)
