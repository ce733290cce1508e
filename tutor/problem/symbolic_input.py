"""The parts of a problem file that `arithmetic: symbolic` adds or changes (docs/symbolic.md):
parameters without values, ``data: {samples: m}`` (a symbolic batch), ``targets: {one_hot: [...]}``,
and the options refused because they need numbers.

In symbolic mode every input, target and parameter is a symbol in its own name; values,
where the file gives them, are checked as usual and then not used."""

from __future__ import annotations

import math

import sympy

from ..source import Node
from .fields import (NameTable, check_keys, check_target_count, key_node, name_list, need_list, need_mapping,
                     need_number)
from .records import Number, SymbolicSpec

SYMBOLIC = "symbolic"
SAMPLES_KEY = "samples"
ONE_HOT_KEY = "one_hot"
PER_SAMPLE_SUFFIX = "_i"  # a sample's names inside a batch sum: o_i, x1_i

# Options that only make sense with numbers: key path -> why (shown in the error).
TOP_REFUSED = {
    "check": "a checking tolerance compares numbers, and a symbolic solution has none",
    "vary": "variants change numbers, and a symbolic problem has none",
}
TRAINING_ALLOWED = {"epochs": 1, "steps": 1}  # key -> the only value symbolic mode takes
OPTIMIZER_REFUSED = ("schedule", "weight_decay", "centralize", "state", "momentum", "form")


def is_symbolic(node: Node | None) -> bool:
    return node is not None and node.value == SYMBOLIC


def unknown_value(name: str) -> Number:
    """The 'value' of a name in symbolic mode: the name itself (never a number)."""
    return Number(sympy.Symbol(name, real=True), math.nan)


def read_symbolic_params(node: Node, names: NameTable) -> dict[str, Number]:
    """``params: [w1, w2]`` (names only) or the usual mapping, whose values are not used."""
    if isinstance(node.value, list):
        return {name: unknown_value(name) for name in name_list(node, names, "parameter", "the parameter names")}
    need_mapping(node, "params: a list of names, or name -> value (the values are not used)")
    if not node.value:
        raise node.error("expected at least one parameter")
    out = {}
    for key, value in node.items():
        name = names.define(key_node(node, key), "parameter")
        need_number(value, f"a value for {name} (not used; a list of names needs none)")
        out[name] = unknown_value(name)
    return out


def has_one_hot(node: Node) -> bool:
    return isinstance(node.value, dict) and ONE_HOT_KEY in node.value


def read_symbolic_targets(node: Node, names: NameTable, outputs, symbolic: bool) -> tuple[tuple[str, ...], bool]:
    """The targets, and whether they are one-hot: ``targets: [y]`` or ``{one_hot: [y1, y2, y3]}``."""
    if has_one_hot(node):
        return _read_one_hot_targets(node, names, outputs, symbolic), True
    refuse_label_targets(node)
    targets = name_list(node, names, "target", "the target names")
    check_target_count(node, targets, outputs)
    return targets, False


def _read_one_hot_targets(node: Node, names: NameTable, outputs, symbolic: bool) -> tuple[str, ...]:
    """``targets: {one_hot: [y1, y2, y3]}``: the targets of a sample are one-hot, Σ y_k = 1."""
    check_keys(node, (ONE_HOT_KEY,), (ONE_HOT_KEY,), "targets")
    if not symbolic:
        raise node.key_error(ONE_HOT_KEY, "one_hot targets belong to arithmetic: symbolic (they let the "
                                          "derivation use Σ y_k = 1); with numbers, list the targets and give "
                                          "their 0/1 values, or use {label: y, classes: K}")
    items = need_list(node.value[ONE_HOT_KEY], "the one-hot target names")
    if len(items) < 2:
        raise node.value[ONE_HOT_KEY].error("expected two or more one-hot targets (one per class), found "
                                            f"{len(items)}")
    targets = name_list(node.value[ONE_HOT_KEY], names, "target", "the one-hot target names")
    if len(targets) != len(outputs):
        raise node.value[ONE_HOT_KEY].error(f"expected {len(outputs)} one-hot targets, one per output "
                                            f"({', '.join(outputs)}), found {len(targets)}")
    return targets


def refuse_label_targets(node: Node) -> None:
    """``{label: y, classes: K}`` gives a class number per sample: not a symbol."""
    if isinstance(node.value, dict) and "label" in node.value:
        raise node.key_error("label", "arithmetic: symbolic has no numbers: a class label is a number per "
                                      "sample; write the one-hot targets as targets: {one_hot: [y1, y2, …]}")


def is_symbolic_batch(node: Node | None) -> bool:
    return node is not None and isinstance(node.value, dict) and SAMPLES_KEY in node.value


def refuse_symbolic_batch(node: Node | None) -> None:
    """``data: {samples: m}`` in a problem with numbers."""
    if is_symbolic_batch(node):
        raise node.key_error(SAMPLES_KEY, "data: {samples: m} is a symbolic batch of m samples: it needs "
                                          "arithmetic: symbolic (or give the samples' values)")


def read_symbolic_data(node: Node | None, names: NameTable, inputs, targets, read_samples):
    """The one symbolic sample, and the name of the batch size (``data: {samples: m}``), or
    None for one sample. Samples with values are checked (``read_samples``) and not used."""
    sample = {n: unknown_value(n) for n in (*inputs, *targets)}
    if node is None:
        return (sample,), None
    if not is_symbolic_batch(node):
        read_samples(node, inputs, targets)
        return (sample,), None
    check_keys(node, (SAMPLES_KEY,), (SAMPLES_KEY,), "data")
    batch = names.define(node.value[SAMPLES_KEY], "batch size")
    for name in (*inputs, *targets):
        clash = name + PER_SAMPLE_SUFFIX
        if clash in names.kind:
            raise names.where[clash].error(
                f"{clash!r} is how a symbolic batch (data: {{samples: {batch}}}) names {name!r} of sample i; "
                f"choose another name for the {names.kind[clash]} {clash!r}")
    return (sample,), batch


def check_symbolic_options(top: dict[str, Node]) -> None:
    """Refuse, at their place in the file, the options that need numbers."""
    for key, why in TOP_REFUSED.items():
        if key in top:
            raise _refusal(top[key], f"{key}: {why}")
    training = top.get("training")
    if training is not None and isinstance(training.value, dict):
        for key, value in training.value.items():
            if TRAINING_ALLOWED.get(key) != value.value:
                allowed = ", ".join(f"{k}: {v}" for k, v in TRAINING_ALLOWED.items())
                raise _refusal(value, f"training {key}: a symbolic derivation is one gradient and one update "
                                      f"(only {allowed} may be given)")
    optimizer = top.get("optimizer")
    if optimizer is not None and isinstance(optimizer.value, dict):
        name = optimizer.value.get("name")
        if name is not None and name.value != "sgd":
            raise _refusal(name, f"optimizer {name.value}: its state and steps are numbers; symbolic mode "
                                 f"writes the update rule of sgd (θ ← θ − lr·g)")
        for key in OPTIMIZER_REFUSED:
            if key in optimizer.value:
                raise _refusal(optimizer.value[key], f"optimizer {key}: symbolic mode writes the plain sgd "
                                                     f"update rule (θ ← θ − lr·g)")
    loss = top.get("loss")
    if loss is not None and isinstance(loss.value, dict) and "penalty" in loss.value:
        raise _refusal(loss.value["penalty"], "penalty: its λ is a number; write the penalty into a custom "
                                              "loss (expr) to derive it symbolically")
    ask = top.get("ask")
    if ask is not None and isinstance(ask.value, list):
        for item in ask.value:
            if isinstance(item.value, dict) and item.value.keys() & {"steps", "gradient_check"}:
                key = next(k for k in ("steps", "gradient_check") if k in item.value)
                why = ("a gradient check compares numbers" if key == "gradient_check"
                       else "a symbolic derivation has one step")
                raise _refusal(item, f"ask {key}: {why}")


def _refusal(node: Node, message: str):
    return node.error(f"arithmetic: symbolic has no numbers: {message}")


def symbolic_spec(batch: str | None, targets, one_hot: bool) -> SymbolicSpec:
    return SymbolicSpec(batch=batch, one_hot=tuple(targets) if one_hot else ())
