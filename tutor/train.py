"""The training loop: batches in file order, epochs, schedules, the optimizer.

Produces a `Run`: every number of every step, in the problem's arithmetic.
Nothing here prints; the solution and its printers read the Run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import isfinite
from typing import Any, Callable, Iterator

import sympy

from .arith import FloatSource, compile_expr, make_domain, ordered_sum
from .batch import evaluator_for
from .derive import Derivation, derive
from .errors import DivergenceError
from .evaluate import ARITHMETIC_ERRORS, Evaluator, Observe, SampleTrace
from .graph import Graph, build_graph
from .optim import L2_DECAY, OPTIMIZERS, SCHEDULES, Assign, ExactMath, FloatMath
from .penalty import Penalty
from .problem import Problem


# Steps updated with the compiled closures before the float code is generated
# (`Updater._generate`; see evaluate.GENERATE_AFTER_BATCHES). -1: never generated.
GENERATE_AFTER_STEPS = 4

# Steps without penalty, decay, centralization, lookahead, sequential updates or an
# observer take `_plain_step`; False: every step takes `_step` (for the tests).
PLAIN_STEPS = True

# The largest update (parameters × assignments) generated as one function: beyond,
# compiling it would cost more than a long training saves.
GENERATED_UPDATE_LIMIT = 20_000


@dataclass
class Lookahead:
    parameters: dict[str, Any]     # θ + μv
    samples: list[SampleTrace]     # the forward and backward pass there, which gives g


@dataclass
class Step:
    step: int
    epoch: int
    batch: list[int]                       # 1-based sample indices
    lr: Any
    samples: list[SampleTrace]
    loss: Any
    raw_gradients: dict[str, Any]          # ∂loss/∂θ straight from the backward sweep
    gradients: dict[str, Any]              # as the optimizer used them (decay, centralization)
    parameters_before: dict[str, Any]
    parameters: dict[str, Any]             # after the update
    state: dict[str, dict[str, Any]]       # state variable -> parameter -> value, after the update
    trail: dict[str, list[tuple[str, Any]]]  # parameter -> the optimizer's assignments, in order
    lookahead: Lookahead | None = None     # nesterov lookahead: where g was taken, and that pass
    penalty: Any = None                    # the loss's penalty term alone (in `loss` too), if any
    penalized_gradients: dict[str, Any] = field(default_factory=dict)  # raw + the penalty's derivative


@dataclass
class CheckedGradient:
    plus: Any        # E(θ + ε)
    minus: Any       # E(θ − ε)
    numeric: Any     # (E(θ + ε) − E(θ − ε)) / 2ε
    analytic: Any    # the backpropagated ∂E/∂θ
    rel_error: float  # |numeric − analytic| / max(|numeric|, |analytic|); 0 when both are 0


@dataclass
class GradientCheck:
    """Central differences against backpropagation, at the initial parameters, on the
    loss over every sample."""

    eps: Any
    parameters: dict[str, CheckedGradient]


@dataclass
class Run:
    problem: Problem
    graph: Graph
    derivation: Derivation
    domain: Any
    initial: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    final_samples: list[SampleTrace] = field(default_factory=list)
    final_loss: Any = None
    final_penalty: Any = None
    final_gradients: dict[str, Any] = field(default_factory=dict)  # of the loss over every sample
    final_raw_gradients: dict[str, Any] = field(default_factory=dict)  # the same without the penalty
    diverged: DivergenceError | None = None
    last_step: Step | None = None          # also when the steps are streamed, not kept
    steps_done: int = 0
    gradient_check: GradientCheck | None = None


class Updater:
    """One optimizer form, compiled: applies its assignments to one parameter."""

    def __init__(self, problem: Problem, domain, rules: Callable[[tuple], tuple] | None = None):
        spec = problem.optimizer
        self.definition = OPTIMIZERS[spec.name]
        self.rules: tuple[Assign, ...] = self.definition.forms[spec.form]
        if rules is not None:  # a variant of the form (the checker's "bias correction left out")
            self.rules = rules(self.rules)
        self.domain = domain
        self.lookahead = spec.form == self.definition.lookahead_form
        # lr is not among them: the schedule gives each step's own.
        self.hypers = {name: domain.number(n) for name, n in spec.hypers.items() if name != "lr"}
        if spec.weight_decay is not None:
            self.hypers["weight_decay"] = domain.number(spec.weight_decay)
        self.state_names = self.definition.state_names(spec.form)
        self.given_state = spec.state
        self.steps_done = spec.steps_done
        names = ["theta", "g", "lr", "t", *self.hypers,
                 *dict.fromkeys(rule.target.name for rule in self.rules)]
        symbols = {sympy.Symbol(n, real=True): i for i, n in enumerate(dict.fromkeys(names))}
        self.slot = {sym.name: i for sym, i in symbols.items()}
        self.reported_names = tuple(n for n in self.definition.reported_names(spec.form) if n in self.slot)
        self.code = [(rule.target.name, self.slot[rule.target.name], compile_expr(rule.expr, symbols, domain))
                     for rule in self.rules]
        self._hyper_env: list[Any] = [None] * len(self.slot)
        for name, value in self.hypers.items():
            self._hyper_env[self.slot[name]] = value
        self.decay_code = compile_expr(L2_DECAY.expr, symbols, domain) if spec.weight_decay is not None else None
        self._symbols = symbols
        self._targets = tuple(rule.target.name for rule in self.rules)
        # Float updates run one generated function per set of updated parameters
        # (see `_generate`), after a few steps.
        self._steps_before_generating = GENERATE_AFTER_STEPS if domain.name == "float" else -1
        self._generated: dict[tuple[str, ...], Callable | None] = {}

    def decay(self, p: str, theta, g, step: int):
        """L2 weight decay, added to the gradient: g + λθ (all optimizers but adamw)."""
        env: list[Any] = [None] * len(self.slot)
        env[self.slot["theta"]], env[self.slot["g"]] = theta, g
        env[self.slot["weight_decay"]] = self.hypers["weight_decay"]
        try:
            value = self.decay_code(env)
        except ARITHMETIC_ERRORS as exc:
            raise DivergenceError(f"g + λθ of {p}", str(exc) or type(exc).__name__, step) from None
        return self.domain.round(self.domain.check(value, f"g + λθ of {p}", step))

    def initial_state(self, params: list[str]) -> dict[str, dict[str, Any]]:
        """The state before the first step: the problem's ``state`` where it gives a value,
        else the optimizer's start (0, or adagrad's initial accumulator)."""
        d = self.domain
        start = {var: self.hypers[symbol] for var, symbol in self.definition.initial_state.items()}
        state = {var: {p: d.number(self.given_state[var][p]) if p in self.given_state.get(var, {})
                       else start.get(var, d.const(0)) for p in params} for var in self.state_names}
        state.update((var, {}) for var in self.reported_names if var not in state)
        return state

    def step_count(self, step: int):
        """t of the update rules: this run's step, after the steps the problem says were taken."""
        n = self.steps_done + step
        return self.domain.const(sympy.Integer(n)) if self.domain.exact else float(n)  # float(Integer(n)) is float(n)

    def apply(self, p: str, theta, g, lr, t, state, step: int):
        """Update parameter ``p``; mutates ``state``; returns (new θ, the assignments)."""
        d = self.domain
        env = self._env(p, theta, g, lr, t, state)
        trail = self._apply_fast(env) if d.name == "float" else None
        if trail is None:  # checked value by value, to name what failed
            env, trail = self._env(p, theta, g, lr, t, state), []
            for target, i, code in self.code:
                quantity = f"{_display_target(target)} of {p}"
                try:
                    value = code(env)
                except ARITHMETIC_ERRORS as exc:
                    raise DivergenceError(quantity, str(exc) or type(exc).__name__, step) from None
                env[i] = value = d.round(d.check(value, quantity, step))
                trail.append((target, value))
        for var in self.reported_names:
            state[var][p] = env[self.slot[var]]
        return env[self.slot["theta"]], trail

    def _env(self, p: str, theta, g, lr, t, state) -> list[Any]:
        env = self._hyper_env[:]  # the hyper-parameters are the same for every update
        slot = self.slot
        env[slot["theta"]], env[slot["g"]], env[slot["lr"]], env[slot["t"]] = theta, g, lr, t
        for var in self.state_names:
            env[slot[var]] = state[var][p]
        return env

    def apply_many(self, names: tuple[str, ...], params: dict[str, Any], grads: dict[str, Any], lr, t, state,
                   step: int, trails: bool = True) -> tuple[list[Any], dict[str, list[tuple[str, Any]]]]:
        """`apply` to each of ``names`` in turn: their new values, and their assignments
        (only if ``trails``). Float updates run as one generated function."""
        code = self._generated_for(names)
        if code is not None:
            try:
                assigned, reported, thetas, total = code(
                    tuple([params[p] for p in names]), tuple([grads[p] for p in names]), lr, t,
                    tuple([tuple([state[var][p] for p in names]) for var in self.state_names]))
            except ARITHMETIC_ERRORS:
                total = None
            if total is not None and isfinite(total):
                for var, values in zip(self.reported_names, reported):
                    state[var].update(zip(names, values))
                n = len(self.rules)
                trail = {p: list(zip(self._targets, assigned[k * n:(k + 1) * n])) for k, p in enumerate(names)} \
                    if trails else {}
                return list(thetas), trail
        thetas, trail = [], {}
        for p in names:  # the checked path: names the first quantity that fails
            theta, trail[p] = self.apply(p, params[p], grads[p], lr, t, state, step)
            thetas.append(theta)
        return thetas, trail

    def _generated_for(self, names: tuple[str, ...]) -> Callable | None:
        if self._steps_before_generating < 0:
            return self._generated.get(names)
        if self._steps_before_generating == 0:
            self._steps_before_generating = -1
            self._generated[names] = self._generate(names)
            return self._generated[names]
        self._steps_before_generating -= 1
        return None

    def _generate(self, names: tuple[str, ...]) -> Callable | None:
        """The assignments for each of ``names`` in turn, as one Python function in
        float arithmetic: the operations of `_apply_fast`, in the same order, each
        assigned value a variable of its own. It takes the parameters' θ and g, lr, t
        and each state variable's values, and returns the assigned values in order,
        the reported state variables' final values, the new θs, and the sum of the
        assigned values (finite only if each is); None when it would be too large, or
        Python cannot compile it."""
        if len(names) * len(self.rules) > GENERATED_UPDATE_LIMIT:
            return None
        by_name = {sym.name: sym for sym in self._symbols}
        shared = {by_name[n]: n for n in ("lr", "t")}
        source = FloatSource(dict(shared))
        for i, (name, value) in enumerate(self.hypers.items()):  # the same for every update: constants
            source.variables[by_name[name]] = f"h{i}"
            source.namespace[f"h{i}"] = value
        hypers = dict(source.variables)
        k_names = [str(k) for k in range(len(names))]
        body = [f"{''.join(f'th{k}, ' for k in k_names)}= TH", f"{''.join(f'g{k}, ' for k in k_names)}= G"]
        body += [f"{''.join(f's{j}_{k}, ' for k in k_names)}= S[{j}]" for j in range(len(self.state_names))]
        assigned, reported, thetas = [], [[] for _ in self.reported_names], []
        for k in k_names:
            source.variables = {**hypers, by_name["theta"]: f"th{k}", by_name["g"]: f"g{k}",
                                **{by_name[var]: f"s{j}_{k}" for j, var in enumerate(self.state_names)}}
            for i, rule in enumerate(self.rules):
                value = f"r{k}_{i}"
                body.append(f"{value} = {source.expr(rule.expr)}")
                source.variables[rule.target] = value
                assigned.append(value)
            thetas.append(source.variables[by_name["theta"]])
            for j, var in enumerate(self.reported_names):
                reported[j].append(source.variables[by_name[var]])
        listed = lambda items: f"({''.join(f'{x}, ' for x in items)})"  # noqa: E731 - a tuple's source
        body.append(f"return {listed(assigned)}, {listed(listed(r) for r in reported)}, {listed(thetas)}, "
                    f"sum({listed(assigned)})")
        try:
            return source.function_of("update", "TH, G, lr, t, S", body)
        except (RecursionError, MemoryError, SyntaxError):
            return None

    def _apply_fast(self, env: list) -> list[tuple[str, Any]] | None:
        """The assignments in float arithmetic, checked once at the end; None if one
        fails (``env`` is then spoiled: the caller starts again)."""
        trail = []
        try:
            for target, i, code in self.code:
                env[i] = value = code(env)
                trail.append((target, value))
        except ARITHMETIC_ERRORS:
            return None
        return trail if all(isfinite(value) for _, value in trail) else None


def _display_target(name: str) -> str:
    return "the new value" if name == "theta" else name


def learning_rate(problem: Problem, domain, step: int, epoch: int):
    """lr × Π factor(n), n = updates already made (or epochs, with unit: epoch)."""
    rate = domain.number(problem.optimizer.hypers["lr"])
    for sched in problem.optimizer.schedules:
        n = (epoch if sched.unit == "epoch" else step) - 1
        factor = SCHEDULES[sched.name].factor
        if domain.exact:  # schedule factors are small: plain SymPy, then wrapped
            rate = rate * domain.wrap(factor(n, {k: v.exact for k, v in sched.keys.items()}, ExactMath))
        else:
            try:
                rate = rate * factor(n, {k: v.value for k, v in sched.keys.items()}, FloatMath)
            except ARITHMETIC_ERRORS:  # gamma ** n beyond a double
                raise DivergenceError("the learning rate", f"the factor of schedule {sched.name} at n = {n} "
                                                           f"is beyond a double", step) from None
    return domain.round(domain.check(rate, "the learning rate", step))


def batches(problem: Problem):
    """(step, epoch, [0-based sample indices]) in file order, capped by training.steps."""
    n, size, last = len(problem.samples), problem.training.batch_size, problem.step_count
    step = 0
    for epoch in range(1, problem.training.epochs + 1):
        for start in range(0, n, size):
            if step == last:
                return
            step += 1
            yield step, epoch, list(range(start, min(start + size, n)))


def train(problem: Problem, details: bool = True, *, derivation: Derivation | None = None,
          rules: Callable[[tuple], tuple] | None = None,
          observe: Callable[[tuple, Any], Any] | None = None) -> Run:
    """Solve the problem. Without ``details`` each step keeps only what the JSON
    solution holds (forward values, loss, gradients, state, parameters), not the
    local partials, δs and optimizer assignments a worked solution shows: long
    trainings then need a fraction of the memory.

    For the checker: ``derivation`` replaces the problem's own (a slip in a local
    partial), ``rules`` rewrites the optimizer's assignments, and ``observe(key,
    value)`` sees every quantity, keyed (step or "final", kind, sample, name), and
    returns the value to carry on with."""
    run, steps = training(problem, details, derivation=derivation, rules=rules, observe=observe)
    run.steps.extend(steps)
    return run


def training(problem: Problem, details: bool = False, *, derivation: Derivation | None = None,
             rules: Callable[[tuple], tuple] | None = None,
             observe: Callable[[tuple, Any], Any] | None = None) -> tuple[Run, Iterator[Step]]:
    """The run, and its steps as they are computed: a printer that streams holds one
    step at a time, so memory stays flat however long the training. The run's
    ``steps`` stays empty; its final pass (or divergence) is filled in when the
    steps are exhausted. Arguments as for `train`."""
    derivation = derivation or derive(build_graph(problem))
    domain = make_domain(problem.arithmetic, problem.round_decimals)
    evaluator = evaluator_for(derivation, domain)
    updater = Updater(problem, domain, rules)
    params = {name: domain.number(n) for name, n in problem.params.items()}
    run = Run(problem, derivation.graph, derivation, domain, dict(params))
    return run, _steps(run, evaluator, updater, params, observe, details)


def _steps(run: Run, evaluator: Evaluator, updater: Updater, params, observe, details: bool) -> Iterator[Step]:
    problem, domain = run.problem, run.domain
    leaves = [_leaves(problem, sample, domain) for sample in problem.samples]
    state = updater.initial_state([p for p in params if p not in problem.frozen])
    penalty = Penalty(problem.loss.penalty, domain) if problem.loss.penalty is not None else None
    try:
        asked_check = next((item for item in problem.ask or () if item.kind == "gradient_check"), None)
        if asked_check is not None:
            run.gradient_check = check_gradients(problem, evaluator, params, leaves, asked_check, penalty)
        constant_lr = None if problem.optimizer.schedules else learning_rate(problem, domain, 1, 1)
        plain = PLAIN_STEPS and observe is None and penalty is None and updater.decay_code is None and \
            not problem.optimizer.centralize and problem.training.update != "sequential" and not updater.lookahead
        updated = tuple(p for p in evaluator.graph.params if p not in problem.frozen)
        for step, epoch, indices in batches(problem):
            if plain:
                record = _plain_step(evaluator, updater, params, state, leaves, step, epoch, indices, details,
                                     constant_lr if constant_lr is not None else
                                     learning_rate(problem, domain, step, epoch), updated)
            else:
                record = _step(problem, evaluator, updater, params, state, leaves, step, epoch, indices,
                               _labelled(observe, step), penalty, details, constant_lr)
            if not details:
                _forget_details(record)
            run.last_step, run.steps_done = record, run.steps_done + 1
            yield record
            params = dict(record.parameters)
    except DivergenceError as exc:
        exc.suggestion = exc.suggestion or _suggestion(run, exc)
        run.diverged = exc
        return  # the final forward pass would only diverge again
    final = _labelled(observe, "final")
    if final is not None:
        params = {p: final("parameters", None, p, value) for p, value in params.items()}
    try:
        run.final_samples, run.final_raw_gradients = evaluator.run_batch(
            params, list(enumerate(leaves, 1)), problem.loss.reduction, observe=final)
        run.final_gradients = dict(run.final_raw_gradients)
        run.final_loss = evaluator.batch_loss(run.final_samples, problem.loss.reduction)
        if penalty is not None:  # part of the loss: in its value and in every gradient
            run.final_penalty = penalty.value(params)
            run.final_loss = domain.round(run.final_loss + run.final_penalty)
            run.final_gradients = {p: domain.round(g + penalty.derivative(p, params))
                                   for p, g in run.final_raw_gradients.items()}
        if final is not None:
            run.final_loss = final("loss", None, None, run.final_loss)
    except DivergenceError as exc:
        run.diverged = run.diverged or exc


def check_gradients(problem: Problem, evaluator: Evaluator, params, leaves, item,
                    penalty: Penalty | None = None) -> GradientCheck:
    domain = evaluator.domain
    eps = domain.number(item.eps)
    samples = list(enumerate(leaves, 1))
    reduction = problem.loss.reduction

    def loss_at(theta) -> Any:
        traces = [SampleTrace(i, evaluator.forward(theta, values, i, None)[1], {}, {}, {}) for i, values in samples]
        loss = evaluator.batch_loss(traces, reduction)
        return loss if penalty is None else domain.round(loss + penalty.value(theta))

    _, analytic = evaluator.run_batch(params, samples, reduction)
    if penalty is not None:
        analytic = {p: domain.round(g + penalty.derivative(p, params)) for p, g in analytic.items()}
    out = {}
    for p in item.names or tuple(params):
        plus = loss_at({**params, p: domain.round(params[p] + eps)})
        minus = loss_at({**params, p: domain.round(params[p] - eps)})
        numeric = domain.round((plus - minus) / (eps + eps))
        n, a = domain.to_float(numeric), domain.to_float(analytic[p])
        scale = max(abs(n), abs(a))
        out[p] = CheckedGradient(plus, minus, numeric, analytic[p], abs(n - a) / scale if scale else 0.0)
    return GradientCheck(eps, out)


def _labelled(observe, label):
    """The evaluator's observer for one step (or the final pass): keys get the step."""
    if observe is None:
        return None
    return lambda kind, index, name, value: observe((label, kind, index, name), value)


def _forget_details(step: Step) -> None:
    for trace in step.samples + (step.lookahead.samples if step.lookahead else []):
        trace.partials, trace.gradients = {}, {}   # the δs stay: the JSON's derivatives
    step.trail = {}
    step.raw_gradients = step.gradients


def _suggestion(run: Run, exc: DivergenceError) -> str:
    """What to change, judged from how the run got here."""
    lr = run.problem.optimizer.hypers["lr"].value
    size = lambda params: max((abs(run.domain.to_float(v) or 0.0) for v in params.values()), default=0.0)  # noqa: E731
    last = run.last_step
    if last and size(last.parameters) > 1e3 * max(size(run.initial), 1.0):
        return (f"the parameters grew from at most {size(run.initial):.3g} to {size(last.parameters):.3g} "
                f"in {run.steps_done} steps: the training diverges; try a smaller learning rate than lr = {lr:g}")
    if "log" in exc.quantity or "log" in exc.detail or "domain" in exc.detail:
        return "a log or square root met a value outside its domain (an output at exactly 0 or 1 in a cross-entropy?)"
    if "division by zero" in exc.detail:
        return "a denominator is exactly 0: check the initial values and the data"
    return f"check the initial values, the data and the learning rate (lr = {lr:g})"


def _leaves(problem: Problem, sample, domain) -> dict[str, Any]:
    values = {name: domain.number(sample[name]) for name in problem.inputs + problem.targets}
    values.update((name, domain.number(c)) for name, c in problem.constants.items())
    return values


def _step(problem: Problem, evaluator: Evaluator, updater: Updater, params, state, leaves, step, epoch,
          indices, observe: Observe | None = None, penalty: Penalty | None = None, details: bool = True,
          lr=None) -> Step:
    """One update step; ``lr``: the learning rate when no schedule changes it."""
    domain = evaluator.domain
    lr = learning_rate(problem, domain, step, epoch) if lr is None else lr
    t = updater.step_count(step)
    frozen = set(problem.frozen)
    seen = observe or (lambda kind, index, name, value: value)
    new_params, trails, used = dict(params), {}, {}
    taken_at = params  # where the gradient is taken (nesterov lookahead: θ + μv)
    penalized: dict[str, Any] = {}

    def update(grads: dict[str, Any]) -> dict[str, Any]:
        """The penalty's derivative, weight decay, centralization, then the optimizer."""
        if penalty is not None:
            grads = {p: domain.round(g + penalty.derivative(p, taken_at, step)) for p, g in grads.items()}
            penalized.update(grads)
        if updater.decay_code is not None:
            grads = {p: updater.decay(p, params[p], g, step) for p, g in grads.items()}
        if problem.optimizer.centralize:
            grads = centralize(evaluator.graph, grads, domain)
        if observe is not None:
            grads = {p: observe("gradient", None, p, g) for p, g in grads.items()}
        used.update(grads)
        changed = {}
        if observe is None:  # the checker's observer sees each parameter as it is updated: below
            names = tuple([p for p in grads if p not in frozen])
            thetas, trail = updater.apply_many(names, params, grads, lr, t, state, step, details)
            trails.update(trail)
            changed = dict(zip(names, thetas))
            new_params.update(changed)
            return changed
        for p, g in grads.items():
            if p not in frozen:
                theta, trails[p] = updater.apply(p, params[p], g, lr, t, state, step)
                new_params[p] = changed[p] = observe("parameters", None, p, theta)
        return changed

    samples = [(i + 1, leaves[i]) for i in indices]
    reduction = problem.loss.reduction
    sequential = problem.training.update == "sequential"
    traces, raw = evaluator.run_batch(params, samples, reduction, step, update if sequential else None, observe,
                                      details)
    lookahead = None
    if updater.lookahead:  # g is taken at θ + μv; the step still reports the pass at θ
        mu = updater.hypers["mu"]
        at = {p: domain.round(v + mu * state["v"][p]) if p in state["v"] else v for p, v in params.items()}
        lookahead_traces, raw = evaluator.run_batch(at, samples, reduction, step)
        lookahead = Lookahead(at, lookahead_traces)
        taken_at = at
    if not sequential:
        update(dict(raw))
    for p in params:  # what the optimizer did not touch: frozen, or (sequential) never complete
        if p not in used:
            used[p] = seen("gradient", None, p, raw[p])
        if observe is not None and (p in frozen or p not in trails):
            new_params[p] = observe("parameters", None, p, params[p])
    gradients = {p: used[p] for p in raw}
    loss = evaluator.batch_loss(traces, reduction, step)
    term = penalty.value(params, step) if penalty is not None else None
    if term is not None:
        loss = domain.round(loss + term)
    loss = seen("loss", None, None, loss)
    return Step(step, epoch, [i + 1 for i in indices], lr, traces, loss,
                raw, gradients, dict(params), new_params, {var: dict(values) for var, values in state.items()},
                trails, lookahead, term, penalized)


def _plain_step(evaluator: Evaluator, updater: Updater, params, state, leaves, step, epoch, indices,
                details: bool, lr, updated: tuple[str, ...]) -> Step:
    """`_step` when nothing comes between the gradient and the optimizer and nothing
    observes the numbers (no penalty, weight decay, centralization, lookahead,
    sequential update or checker): the same Step, with less bookkeeping per step
    (tests/test_generated.py compares the two). ``updated``: the parameters not frozen."""
    reduction = evaluator.graph.problem.loss.reduction
    traces, raw = evaluator.run_batch(params, [(i + 1, leaves[i]) for i in indices], reduction, step, None, None,
                                      details)
    thetas, trails = updater.apply_many(updated, params, raw, lr, updater.step_count(step), state, step, details)
    new_params = dict(params)
    new_params.update(zip(updated, thetas))
    loss = evaluator.batch_loss(traces, reduction, step)
    return Step(step, epoch, [i + 1 for i in indices], lr, traces, loss, raw, dict(raw), dict(params), new_params,
                {var: dict(values) for var, values in state.items()}, trails, None, None, {})


def centralize(graph: Graph, grads: dict[str, Any], domain) -> dict[str, Any]:
    """Gradient centralization: each unit's incoming weight gradients minus their mean
    over that unit's inputs; biases untouched."""
    out = dict(grads)
    for row in graph.unit_weights:
        mean = domain.round(ordered_sum((grads[w] for w in row), domain.const(0)) / len(row))
        for w in row:
            out[w] = domain.round(grads[w] - mean)
    return out
