"""Validation across sections: combinations that are refused, and valid input that is
probably not what the author meant (warnings; docs/problem-checks.md)."""

from __future__ import annotations

import sympy

from ..ops import LOSSES
from ..optim import OPTIMIZERS
from ..source import Node
from .fields import NameTable, clip, need_number, num_text
from .records import LossSpec, OptimizerSpec, ProblemWarning, Training, total_steps


def check_combinations(top: dict[str, Node], optimizer: OptimizerSpec, training: Training, layers) -> None:
    """Rules that involve more than one section of the file."""
    if training.update == "sequential":
        if optimizer.centralize:
            raise top["optimizer"].error("centralize cannot be combined with training.update: sequential")
        if OPTIMIZERS[optimizer.name].lookahead_form == optimizer.form:
            raise top["optimizer"].error("the lookahead form cannot be combined with training.update: sequential")
    if optimizer.centralize:
        seen: dict[str, str] = {}
        for layer in layers:
            for unit, row in zip(layer.units, layer.weights):
                for w in row:
                    if w in seen and seen[w] != unit:
                        raise top["optimizer"].error(f"centralize needs each weight to belong to one unit; "
                                                     f"{w!r} is shared by {seen[w]} and {unit}")
                    seen[w] = unit


def check_hinge_targets(data: Node, loss: LossSpec, samples, targets) -> None:
    """hinge: one target of −1 or +1, or (several outputs) a one-hot target: one 1, the rest 0."""
    if loss.name != "hinge":
        return
    sample_nodes = data.value if isinstance(data.value, list) else [data]
    for k, (sample, node) in enumerate(zip(samples, sample_nodes), 1):
        values = [sample[t].exact for t in targets]
        if len(targets) == 1 and values[0] not in (1, -1):
            raise node.value[targets[0]].error(f"hinge with one output needs the target {targets[0]} to be −1 "
                                               f"or +1; sample {k} has {clip(str(node.value[targets[0]].value))}")
        if len(targets) > 1 and (any(v not in (0, 1) for v in values) or sum(values) != 1):
            raise node.error(f"hinge with several outputs needs a one-hot target (one of "
                             f"{', '.join(targets)} is 1, the others 0); sample {k} has "
                             f"{', '.join(clip(str(node.value[t].value)) for t in targets)}")




def check_meaning(top: dict[str, Node], names: NameTable, loss: LossSpec, outputs, targets, samples,
                   training: Training, frozen, equations, layers) -> tuple[ProblemWarning, ...]:
    """Refuse what is surely a mistake; warn about what probably is (docs/problem-checks.md)."""
    warnings: list[ProblemWarning] = []

    def warn(node: Node, message: str) -> None:
        warnings.append(ProblemWarning(node.path, node.line, node.col, message))

    if "loss" in top:  # an objective has none
        _check_loss_meaning(top, loss, outputs, targets, equations, layers, warn)
    if equations is not None:
        used = set().union(*(eq.expr.free_symbols for eq in equations))
        for name, kind in names.kind.items():
            if kind in ("parameter", "input") and names.symbol(name) not in used:
                warn(names.where[name], f"{kind} {name!r} is not used by any equation"
                                        + (": its gradient is always 0" if kind == "parameter" else ""))
    _warn_training(top, samples, training, frozen, names, warn)
    repeats = _repeated_samples(samples)
    if repeats:
        (later, first), more = repeats[0], len(repeats) - 1
        warn(top["data"].value[later - 1], f"sample {later} repeats sample {first}; each epoch uses both"
                                           + (f" ({more} more sample{'s' * (more != 1)} repeat an earlier one)"
                                              if more else ""))
    return tuple(sorted(warnings, key=lambda w: (w.line, w.col)))


def _check_loss_meaning(top: dict[str, Node], loss: LossSpec, outputs, targets, equations, layers, warn) -> None:
    """A named loss that cannot mean what it says (cce on one output), or fed what it cannot take."""
    loss_node = top["loss"].value.get("name", top["loss"]) if isinstance(top["loss"].value, dict) else top["loss"]
    if loss.name == "cce" and len(outputs) == 1:
        raise loss_node.error("cce on a single output is −t·log(o): it drops the (1 − t)·log(1 − o) term, so "
                              "samples with t = 0 add no loss; use bce for one sigmoid output")
    if loss.name is not None and LOSSES[loss.name].probabilities:
        if "data" in top:  # symbolic mode may have none
            _check_probability_targets(top["data"], targets, loss.name)
        for output, how in _unbounded_outputs(outputs, equations, layers):
            warn(loss_node, f"{loss.name} takes log({output}), but {output} comes from {how}, which is not "
                            f"kept in (0, 1); a sigmoid (or softmax) output is expected")


def _repeated_samples(samples) -> list[tuple[int, int]]:
    """(k, first) for each 1-based sample k equal to an earlier sample first."""
    first_of: dict[tuple, int] = {}
    out = []
    for k, sample in enumerate(samples, 1):
        key = tuple((name, number.exact) for name, number in sample.items())
        if key in first_of:
            out.append((k, first_of[key]))
        else:
            first_of[key] = k
    return out


def _check_probability_targets(data: Node, targets, loss_name: str) -> None:
    for sample in data.value if isinstance(data.value, list) else [data]:
        for t in (t for t in targets if t in sample.value):  # not the one-hot targets of a class label
            value = need_number(sample.value[t]).value
            if not 0 <= value <= 1:
                raise sample.value[t].error(f"{loss_name} needs targets in [0, 1] (a probability or a 0/1 label), "
                                            f"found {t} = {num_text(value)}")


def _unbounded_outputs(outputs, equations, layers):
    """(output, what computes it) for outputs whose values may leave (0, 1)."""
    if layers is not None:
        if layers[-1].activation not in ("sigmoid", "softmax"):
            return [(o, f"a {layers[-1].activation} layer") for o in outputs]
        return []
    from ..ops import OPS  # noqa: PLC0415 - the classes whose values stay in (0, 1)
    squashing = (OPS["sigmoid"].sympy_fn, OPS["softmax"].sympy_fn, sympy.Pow)  # Pow: 1/(1 + exp(-z))
    by_name = {eq.name: eq.expr for eq in equations}
    out = []
    for o in outputs:
        func = by_name[o].func
        if not issubclass(func, squashing):
            out.append((o, f"{func.__name__}(…)" if issubclass(func, sympy.Function) else "a linear expression"))
    return out


def _warn_training(top: dict[str, Node], samples, training: Training, frozen, names: NameTable, warn) -> None:
    node = top.get("training")
    v = node.value if node is not None and isinstance(node.value, dict) else {}
    if "batch_size" in v and training.batch_size > len(samples):
        warn(v["batch_size"], f"batch_size {training.batch_size} is larger than the {len(samples)} sample"
                              f"{'s' * (len(samples) != 1)}: each step uses all of them (full batch)")
    params = [n for n, k in names.kind.items() if k == "parameter"]
    if frozen and set(frozen) >= set(params) and total_steps(len(samples), training) > 0:
        warn(top["frozen"], "every parameter is frozen: the updates change nothing")
    optimizer = top.get("optimizer")
    momentum = optimizer.value.get("momentum") if optimizer is not None and isinstance(optimizer.value, dict) else None
    if momentum is not None and need_number(momentum).value == 1:
        warn(momentum, "momentum 1 never forgets a gradient: the velocity only grows; 0.9 is usual")
