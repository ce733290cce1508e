"""The catalogue of mistakes: each entry is one small rule with a sentence that explains it.

A rule looks at a problem (and its derivation) and proposes `Variant`s: the same
training computed with the mistake built in. The checker (check.py) replays each
variant, from the student's own earlier answers where given, and reports the rules
whose numbers reproduce a wrong answer.

A variant changes the computation in one of four ways, whichever is smallest:

* ``problem``:  a transformed Problem (loss, optimizer, training, arithmetic);
* ``partials``: Derivation -> {edge: new local partial} (what the backward sweep uses);
* ``rules``:    Updater rules -> new rules (the optimizer's assignments);
* ``perturb``:  (kind, value) -> value, applied to one recomputed quantity.

A variant may also say what its mistake means for one number (``detail``): the
factor left out, with its formula and its correct value.

A rule proposes nothing when its mistake cannot happen in the problem (no ReLU,
no momentum, batches of one sample, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Iterator

import sympy

from .derive import Derivation, local_partial
from .ops import LOSSES, OP_OF_CLASS, leaky_relu_prime, relu_prime
from .optim import BIAS_CORRECTED, OPTIMIZERS, m, m_hat, s, s_hat, v, v_hat
from .problem import LossSpec, Number, Problem
from .graph import build_graph
from .render.notation import print_math
from .render.numbers import significant_text

Edge = tuple[str, str]


@dataclass(frozen=True)
class Variant:
    explanation: str                       # the rule's sentence, made specific
    problem: Problem | None = None
    partials: Callable[[Derivation], dict[Edge, sympy.Expr]] | None = None
    rules: Callable[[tuple], tuple] | None = None
    perturb: Callable[[str, float], float | None] | None = None
    detail: Callable[[tuple, dict], str] | None = None  # (key, reference world) -> "you left out ..."


@dataclass(frozen=True)
class Slip:
    name: str
    explanation: str                       # one sentence, general
    variants: Callable[[Problem, Derivation], Iterator[Variant]]


# ---------------------------------------------------------------- helpers

def _sym(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, real=True)


def activations(derivation: Derivation) -> dict[str, str]:
    """unit -> its pre-activation, for every equation ``unit = f(net)`` with f a unit's
    nonlinearity (an op with ``unit`` in tutor/ops.py)."""
    graph = derivation.graph
    nodes = set(graph.node_names)
    out = {}
    for eq in graph.equations:
        expr = eq.expr
        if isinstance(expr, sympy.Function) and expr.args and isinstance(expr.args[0], sympy.Symbol):
            op = OP_OF_CLASS.get(type(expr))
            arg = expr.args[0].name
            if op is not None and op.unit and arg in nodes and all(a.is_number for a in expr.args[1:]):
                out[eq.name] = arg
    return out


def _loss_slip(problem: Problem, tag: str) -> bool:
    """Whether the problem's named loss is open to the slip ``tag`` (its entry in ops.LOSSES says)."""
    return problem.loss.name is not None and tag in LOSSES[problem.loss.name].slips


def _loss_edges(derivation: Derivation) -> list[Edge]:
    loss = derivation.graph.loss_name
    return [(loss, dep) for dep in derivation.deps[loss]]


def _scale_loss_partials(factor) -> Callable[[Derivation], dict]:
    def edit(der: Derivation) -> dict:
        return {e: factor * der.partials[e] for e in _loss_edges(der)}
    return edit


def _scaled_loss(problem: Problem, factor) -> Problem:
    """The same problem with its per-sample loss multiplied by ``factor``."""
    graph = build_graph(problem)
    expr = graph.equations[-1].expr
    return replace(problem, loss=LossSpec(None, factor * expr, problem.loss.reduction))


def _batch_sizes(problem: Problem) -> set[int]:
    n, size = len(problem.samples), problem.training.batch_size
    return {min(size, n - start) for start in range(0, n, size)} if problem.step_count else set()


# ---------------------------------------------------------------- the rules

def _factor_2(problem: Problem, der: Derivation):
    yield Variant("a factor 2 too many in ∂E/∂o, so every gradient is doubled", partials=_scale_loss_partials(2))
    if _loss_slip(problem, "half_dropped"):
        yield Variant("the ½ of E = ½ Σ (t − o)² was dropped, so the loss and every gradient are doubled",
                      problem=_scaled_loss(problem, 2))


def _factor_half(problem: Problem, der: Derivation):
    yield Variant("the factor 2 of d(o − t)²/do = 2(o − t) was forgotten, so every gradient is halved",
                  partials=_scale_loss_partials(sympy.Rational(1, 2)))
    if _loss_slip(problem, "half_added"):
        yield Variant("a ½ was put in front of the squared error, so the loss and every gradient are halved",
                      problem=_scaled_loss(problem, sympy.Rational(1, 2)))


def _batch_size(problem: Problem, der: Derivation):
    if not any(size > 1 for size in _batch_sizes(problem)):
        return
    if problem.loss.reduction == "mean":
        yield Variant("the batch's losses and gradients were summed, not averaged (the 1/batch size is missing)",
                      problem=replace(problem, loss=replace(problem.loss, reduction="sum")))
    else:
        yield Variant("the batch's losses and gradients were averaged (divided by the batch size), "
                      "but this problem sums them", problem=replace(problem, loss=replace(problem.loss,
                                                                                          reduction="mean")))


def _outputs_k(problem: Problem, der: Derivation):
    k = len(problem.outputs)
    if k < 2 or problem.loss.name is None:
        return
    if _loss_slip(problem, "mean_over_outputs"):
        yield Variant(f"the 1/K of the loss (the mean over the K = {k} outputs) was forgotten",
                      problem=_scaled_loss(problem, k))
    else:
        yield Variant(f"the loss was divided by the number of outputs K = {k}, which {problem.loss.name} does not do",
                      problem=_scaled_loss(problem, sympy.Rational(1, k)))


SIGNED_KINDS = ("values", "loss", "delta", "partial", "gradient", "state")


def _sign(problem: Problem, der: Derivation):
    yield Variant("sign error: (t − o) used for (o − t) in ∂E/∂o, so every gradient has the wrong sign "
                  "and the update goes uphill", partials=_scale_loss_partials(-1))
    yield Variant("sign error: the value has the right size but the wrong sign",
                  perturb=lambda kind, x: -x if kind in SIGNED_KINDS else None)


def _derivative_forgotten(problem: Problem, der: Derivation):
    units = activations(der)
    if not units:
        return

    def edit(d: Derivation) -> dict:
        return {(u, net): sympy.Integer(1) for u, net in activations(d).items()}
    yield Variant("the derivative of the activation was left out of the chain rule (taken as 1)", partials=edit,
                  detail=_left_out(der, units))


def _left_out(der: Derivation, units: dict[str, str]) -> Callable[[tuple, dict], str]:
    """Names each activation derivative on the chain to this number, with its formula
    and its value in the reference (the first sample of the step for a batch gradient)."""
    def detail(key: tuple, reference: dict) -> str:
        step, kind, sample, name = key
        if kind not in ("gradient", "delta", "parameters"):
            return ""
        paths = der.paths(name) or []
        edges = dict.fromkeys((a, b) for path in paths for a, b in zip(path, path[1:]) if units.get(a) == b)
        if sample is None:
            sample = min((k[2] for k in reference if k[:2] == (step, "partial")), default=None)
        factors = []
        for unit, net in edges:
            value = reference.get((step, "partial", sample, f"{unit}/{net}"))
            if value is not None:
                formula = print_math(der.partials[(unit, net)])
                factors.append(f"∂{unit}/∂{net} = {formula} = {significant_text(value, 4)}")
        return "you left out " + ", ".join(factors) if factors else ""
    return detail


def _kink(problem: Problem, der: Derivation):
    if not any(p.has(relu_prime, leaky_relu_prime) for p in der.partials.values()):
        return
    def at_kink(value) -> Callable[[Derivation], dict]:
        def edit(d: Derivation) -> dict:
            out = {}
            for edge, p in d.partials.items():
                if p.has(relu_prime, leaky_relu_prime):
                    # 1 − relu'(−x) is 1 for x ≥ 0: the kink goes with the right side.
                    right = lambda a: 1 - relu_prime(-a)  # noqa: E731
                    new = p.replace(relu_prime, lambda a: value * right(a) + (1 - value) * relu_prime(a))
                    new = new.replace(leaky_relu_prime, lambda a, slope: slope + (1 - slope) * (
                        value * right(a) + (1 - value) * relu_prime(a)))
                    out[edge] = new
            return out
        return edit
    yield Variant("the derivative at the kink: relu'(0) taken as 1 (the convention here is relu'(0) = 0)",
                  partials=at_kink(1))
    yield Variant("the derivative at the kink: relu'(0) taken as ½ (the convention here is relu'(0) = 0)",
                  partials=at_kink(sympy.Rational(1, 2)))


def _net_for_unit(problem: Problem, der: Derivation):
    units = activations(der)
    if not units:
        return
    params = set(der.graph.params)

    def in_weights(d: Derivation) -> dict:
        swap = {_sym(u): _sym(n) for u, n in activations(d).items()}
        return {e: p.xreplace(swap) for e, p in d.partials.items() if e[1] in params and p.has(*swap)}

    def in_derivative(d: Derivation) -> dict:
        acts = activations(d)
        return {(u, n): d.partials[(u, n)].xreplace({_sym(u): _sym(n)}) for u, n in acts.items()}
    yield Variant("the pre-activation (net) of a unit was used in place of its activation in ∂net/∂w",
                  partials=in_weights)
    yield Variant("the activation's derivative, written in the unit's output (like a(1 − a)), was evaluated "
                  "at the pre-activation", partials=in_derivative)


def _unit_for_net(problem: Problem, der: Derivation):
    if not activations(der):
        return

    def edit(d: Derivation) -> dict:
        out = {}
        for u, n in activations(d).items():
            eq = next(e for e in d.graph.equations if e.name == u)
            out[(u, n)] = local_partial(eq.expr, _sym(n)).xreplace({_sym(n): _sym(u)})
        return out
    yield Variant("the activation's derivative f'(net) was evaluated at the activation f(net) instead of the net",
                  partials=edit)


def _path_missing(problem: Problem, der: Derivation):
    for name, users in der.consumers.items():
        if len(users) < 2:
            continue
        for user in users:
            kind = "gradient of" if name in der.graph.params else "δ of"
            yield Variant(f"a term of the path sum is missing: the {kind} {name} leaves out the path through {user}",
                          partials=lambda d, e=(user, name): {e: sympy.Integer(0)})


def _power(problem: Problem, der: Derivation):
    for x in problem.inputs:
        xs = _sym(x)
        powers = sorted({int(p.exp) for e in der.partials.values() for p in e.atoms(sympy.Pow)
                         if p.base == xs and p.exp.is_Integer and p.exp > 1})
        for k in powers:
            def edit(d: Derivation, xs=xs, k=k) -> dict:
                return {e: p.subs(xs**k, xs) for e, p in d.partials.items() if p.has(xs**k)}
            sup = str(k).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
            yield Variant(f"{x} used in place of {x}{sup} in the derivative", partials=edit)


def _sequential(problem: Problem, der: Derivation):
    if problem.training.update == "sequential" or problem.optimizer.centralize or not problem.step_count:
        return
    from .optim import OPTIMIZERS
    if OPTIMIZERS[problem.optimizer.name].lookahead_form == problem.optimizer.form:
        return
    if len(set(der.graph.params) - set(problem.frozen)) < 2:
        return
    yield Variant("updated weights used too early: the gradients of earlier layers were computed with the "
                  "already-updated later weights (sequential update)",
                  problem=replace(problem, training=replace(problem.training, update="sequential")),
                  detail=_used_updated(problem, der))


def _used_updated(problem: Problem, der: Derivation) -> Callable[[tuple, dict], str]:
    """Names the later weights on the chain to this gradient, with the values the
    student should have used (before the step) and the updated ones."""
    trainable = set(der.graph.params) - set(problem.frozen)

    def detail(key: tuple, reference: dict) -> str:
        step, kind, _, name = key
        if kind != "gradient" or step == "final":
            return ""
        edges = {(a, b) for path in der.paths(name) or [] for a, b in zip(path, path[1:])}
        used = sorted({sym.name for edge in edges if edge[1] != name for sym in der.partials[edge].free_symbols
                       if sym.name in trainable}, key=list(problem.params).index)
        words = []
        for w in used:
            before, after = reference.get((step, "before", None, w)), reference.get((step, "parameters", None, w))
            if before is not None and after is not None and before != after:
                words.append(f"{w} = {significant_text(before, 4)} (not the updated {significant_text(after, 4)})")
        return "the chain rule uses " + ", ".join(words) if words else ""
    return detail


def _learning_rate(problem: Problem, der: Derivation):
    lr = problem.optimizer.hypers.get("lr")
    if lr is None or not problem.step_count:
        return

    def with_lr(n: sympy.Expr) -> Problem:
        hypers = dict(problem.optimizer.hypers, lr=Number(n, float(n)))
        return replace(problem, optimizer=replace(problem.optimizer, hypers=hypers))
    if lr.value != 1:
        yield Variant("the learning rate was applied twice (lr² instead of lr)", problem=with_lr(lr.exact**2))
        yield Variant("the learning rate was not applied at all (as if lr = 1)", problem=with_lr(sympy.Integer(1)))


def _momentum(problem: Problem, der: Derivation):
    opt = problem.optimizer
    if not problem.step_count:
        return
    names = {"classic": "v ← μv + g (PyTorch)", "ema": "v ← μv + (1 − μ)g (Ng's average)",
             "sutskever": "v ← μv − lr·g (Sutskever)", "pytorch": "Nesterov's v ← μv + g, θ ← θ − lr(g + μv)"}
    options = []
    if opt.name == "momentum":
        options = [("momentum", f) for f in ("classic", "ema", "sutskever") if f != opt.form]
        options.append(("nesterov", "pytorch"))
    elif opt.name == "nesterov" and opt.form == "pytorch":
        options = [("momentum", "classic"), ("momentum", "ema")]
    for name, form in options:
        used = names[form] if name == "momentum" else names["pytorch"]
        if name == "momentum" and opt.name == "nesterov":
            used += ", without Nesterov's look-ahead term"
        yield Variant(f"momentum convention mixed up: {used} used instead of the problem's {opt.name} "
                      f"({names.get(opt.form, opt.form)})",
                      problem=replace(problem, optimizer=replace(opt, name=name, form=form)))


def _bias_correction(problem: Problem, der: Derivation):
    rules = OPTIMIZERS[problem.optimizer.name].forms[problem.optimizer.form]
    if not any(r.target in BIAS_CORRECTED for r in rules) or not problem.step_count:
        return

    def drop(rules: tuple) -> tuple:
        plain = {m_hat: m, v_hat: v, s_hat: s}
        return tuple(replace(r, expr=plain[r.target]) if r.target in plain else r for r in rules)
    yield Variant("the bias correction was left out (m̂ = m and v̂ = v instead of dividing by 1 − βᵗ)", rules=drop)


def _rounding(problem: Problem, der: Derivation):
    if problem.arithmetic == "exact":
        return
    start = problem.round_decimals if problem.arithmetic == "round" else 6
    for decimals in range(min(start - 1, 4), 0, -1):
        yield Variant(f"rounding too early: intermediate values rounded to {decimals} decimals",
                      problem=replace(problem, arithmetic="round", round_decimals=decimals))


CATALOGUE: tuple[Slip, ...] = (
    Slip("factor_2", "A factor 2 too many (e.g. the ½ of ½Σ(t − o)² dropped).", _factor_2),
    Slip("factor_half", "A factor 2 missing (e.g. the 2 of d(o − t)²/do forgotten).", _factor_half),
    Slip("batch_size", "The batch size factor (1/n) missing or added.", _batch_size),
    Slip("outputs_k", "The 1/K over the K outputs missing or added.", _outputs_k),
    Slip("sign", "A sign error: (t − o) written for (o − t), or a value with the wrong sign.", _sign),
    Slip("activation_derivative_forgotten", "The activation's derivative left out of the chain rule.",
         _derivative_forgotten),
    Slip("derivative_at_kink", "The activation's derivative taken with another value at its kink.", _kink),
    Slip("preactivation_for_activation", "The pre-activation used in place of the activation.", _net_for_unit),
    Slip("activation_for_preactivation", "The activation used in place of the pre-activation.", _unit_for_net),
    Slip("path_term_missing", "A term of a sum over paths (δ or a shared parameter's gradient) left out.",
         _path_missing),
    Slip("power_of_input", "An input used in place of a power of itself (x in place of x²).", _power),
    Slip("sequential_update", "Hidden-layer gradients computed with already-updated output weights.", _sequential),
    Slip("learning_rate", "The learning rate applied twice or not at all.", _learning_rate),
    Slip("momentum_convention", "Momentum conventions mixed up.", _momentum),
    Slip("bias_correction", "Adam's bias correction left out.", _bias_correction),
    Slip("rounding_too_early", "Intermediate values rounded too early.", _rounding),
)

SLIPS = {slip.name: slip for slip in CATALOGUE}
