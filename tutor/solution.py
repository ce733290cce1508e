"""Run -> Solution: the records every printer joins, in the order a worked solution reads.

Nothing here computes new mathematics: each `Calc` pairs a formula (a SymPy
expression from the graph, the derivation or the optimizer table) with the
numbers the engine used for its symbols and the value the engine stored. A
printer writes the formula, the same formula with the numbers substituted, and
the value. The chain rule is data too: a product (or a sum of products) of
symbols named after the local derivatives (``∂E/∂o1``), whose values are in
the same sample's trace.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import sympy

from .derive import Derivation, local_partial, terms_by_symbol, worked_partial
from .errors import TutorError
from .figures import figures_of
from .matrixview import matrix_model, step_view
from .ops import LOSSES, OP_OF_CLASS, OPS, Op, elu_prime, leaky_relu_prime, relu_prime
from .optim import L2_DECAY, OPTIMIZERS, SCHEDULES
from .records import (Answer, Backward, Calc, Data, Delta, Diverged, Evaluation, Final, FromLoss,  # noqa: F401
                      GradientCheckPart, Header, Label, Layout, LogRow, Loss, Model, Name, Partial, Remark,
                      SampleBackward, SampleForward, Solution, StepLog, StepPart, StepSummary, Update, Upstream,
                      abridge, epoch_rows, sample_of, solution_answers)
from .render.notation import unicode_label
from .arith import FloatDomain, compile_expr
from .render.numbers import format_number, format_value, parameter_text
from .evaluate import ARITHMETIC_ERRORS
from .train import Run, Step, Updater, train

# More chain-rule paths than this for some parameter: the δ form reads better. It also
# bounds the work: the number of paths can double with every node (a chain of diamonds
# has 2^n), so paths are counted first (linear in the edges) and listed only when few.
MAX_PATHS = 4
SHORT_RUN = 4   # a training of at most this many steps shows every step in full
MAX_DELTAS = 12   # the δ form is shown beside the path form when it has at most this many δ's
MAX_DERIVED_OPS = 12   # a loss term longer than this (a multi-class hinge) is not derived in a line
SATURATED = 0.01   # a sigmoid this close to 0 or 1 is saturated: its derivative is nearly 0


# ---------------------------------------------------------------- assembly

def build_solution(run: Run, *, show_all: bool = False, steps: list[int] | None = None,
                   digits: int = 4, figures: bool = True) -> Solution:
    """The worked solution of ``run``, built once for every printer: its records, its
    figures and its answers; in ``arithmetic: round`` mode every value paired with the
    same value computed in full precision (the float twin, trained here)."""
    solution = _records(run, show_all, steps, digits)
    if run.problem.arithmetic == "round":
        twin = train(dataclasses.replace(run.problem, arithmetic="float", round_decimals=None))
        solution = attach_shadows(solution, _records(twin, show_all, steps, digits))
    solution = recomputable(solution)
    problem = run.problem
    variant = problem.meta.get("variant")
    data = Data(tuple((*problem.inputs, *problem.targets)),
                tuple(tuple(run.domain.number(sample[n]) for n in (*problem.inputs, *problem.targets))
                      for sample in problem.samples))
    return dataclasses.replace(solution, figures=figures_of(run) if figures else None, source=str(problem.path),
                               variant=None if variant is None else str(variant), data=data,
                               answers=solution_answers(solution, problem.outputs, problem.ask is not None))


def _records(run: Run, show_all: bool, steps: list[int] | None, digits: int) -> Solution:
    problem, graph = run.problem, run.graph
    b = _Builder(run)
    show = {"forward", "loss", "gradient", "update", "final"}
    grad_names = upd_names = tuple(graph.params)
    asked_steps: tuple[int, ...] = ()
    if problem.ask is not None and not show_all:
        show = set()
        for item in problem.ask:
            if item.kind == "steps":
                asked_steps += item.steps
                continue
            show.add(item.kind)
            if item.kind == "gradient" and item.names:
                grad_names = item.names
            if item.kind == "update" and item.names:
                upd_names = item.names
        if not show and asked_steps:  # only `steps` asked: those steps, everything in them
            show = {"forward", "loss", "gradient", "update", "final"}
    n = len(run.steps)
    if steps is not None:
        _refuse_missing_steps(problem.path, steps, n, run.diverged is not None)
        full = list(steps)
    elif asked_steps:
        full = list(asked_steps)
    elif show_all:
        full = list(range(1, n + 1))
    elif n <= SHORT_RUN:
        full = list(range(1, n + 1))
    else:
        full = [1, n]
    full = sorted(dict.fromkeys(full))
    value_names = tuple(n for n in grad_names if n not in graph.params)   # inputs, constants, nodes
    parts = tuple(b.step(run.steps[s - 1], show, grad_names, upd_names, value_names) for s in full)
    summary = tuple(StepSummary(s.step, s.epoch, tuple(s.batch), s.lr, s.loss) for s in run.steps)
    final = b.final() if "final" in show and run.steps else None
    evaluation = None
    if not run.steps and run.final_samples:
        # Gradients at the initial parameters when asked for (a problem that asks nothing
        # and trains nothing is a forward-pass exercise).
        asked = show if problem.ask is not None or show_all else show - {"gradient"}
        evaluation = b.evaluation(asked, grad_names, value_names)
    check = run.gradient_check
    checked = GradientCheckPart(check.eps, tuple((q, c.plus, c.minus, c.numeric, c.analytic, c.rel_error)
                                                 for q, c in check.parameters.items())) if check else None
    return Solution(b.header(), b.model(), frozenset(show), parts, summary, final,
                    str(run.diverged) if run.diverged else None, b.rank, frozenset(graph.params), digits,
                    problem.round_decimals if problem.arithmetic == "round" else None, evaluation, checked,
                    layout=layout_of(problem))


def layout_of(problem) -> Layout:
    """The problem's time steps and 2-D grids (a vector reads well as a list already)."""
    return Layout(tuple((step.t, step.names) for step in problem.time_steps),
                  tuple((g.name, g.shape, g.components, g.role) for g in problem.grids if len(g.shape) == 2))


def _refuse_missing_steps(path: str, asked: list[int], n: int, diverged: bool) -> None:
    """--steps naming a step the run does not have is an error, not an empty solution."""
    missing = [s for s in asked if not 1 <= s <= n]
    if not missing:
        return
    which = ", ".join(map(str, missing))
    has = f"has {n} update step{'s' * (n != 1)}" if n else "has no update steps"
    if diverged:
        has = f"stopped after {n} update step{'s' * (n != 1)} (it diverged)"
    raise TutorError(f"{path}: error: --steps {which}: there is no such step; this problem {has}"
                     + (f", numbered 1 to {n}" if n > 1 else ""))



def _shared_groups(shared: dict[str, tuple[str, ...]]) -> list[str]:
    """"Wxh, Whh each in a1, a2, a3": parameters used in the same places said once (a
    kernel's nine weights share all positions of its map)."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for q, users in shared.items():
        groups.setdefault(users, []).append(q)
    return [f"{', '.join(qs)}{' each' if len(qs) > 1 else ''} in {', '.join(users)}" for users, qs in groups.items()]

class _Builder:
    def __init__(self, run: Run):
        self.run = run
        self.problem = run.problem
        self.graph = run.graph
        self.derivation: Derivation = run.derivation
        self.rank = {name: i for i, name in enumerate(self.graph.symbols)}
        self.domain = run.domain
        self.updater = Updater(self.problem, self.domain)
        g = self.graph
        nodes = set(g.node_names)
        # o1 = net_o1 (a linear unit): o1 stands for its net in the chain rule.
        self.alias: dict[str, str] = {}
        for eq in g.equations:
            if isinstance(eq.expr, sympy.Symbol) and eq.expr.name in nodes \
                    and self.derivation.consumers.get(eq.expr.name) == (eq.name,):
                self.alias[eq.name] = eq.expr.name
        self.aliased = {v: k for k, v in self.alias.items()}   # net_o1 -> o1
        self.trainable = [p for p in g.params if p not in self.problem.frozen]
        self.path_counts = self._count_paths()
        self.loss_derived = False   # the loss's partials are derived from its formula once, where first used
        self.delta_shown = False    # the δ form beside the path form: once, in the first backward pass shown
        self.labels: dict[str, Label] = {}   # symbol name -> the label it stands for in a chain rule
        # The δ of a unit is ∂E/∂net of its net input, as textbooks write it: net_h1 -> h1 where
        # h1 = f(net_h1) is net_h1's only use; a linear unit (o1 = net_o1) is its own net.
        self.unit_of: dict[str, str] = {name: name for name in self.alias}
        for eq in g.equations:
            arg = eq.expr.args[0] if isinstance(eq.expr, sympy.Function) and len(eq.expr.args) == 1 else None
            if isinstance(arg, sympy.Symbol) and arg.name in nodes \
                    and self.derivation.consumers.get(arg.name) == (eq.name,):
                self.unit_of[arg.name] = eq.name
        view = matrix_model(self.problem) if self.problem.notation == "matrix" else None
        self.matrix = view if view is not None and view.maps else None   # notation: matrix, where it applies

    def _sym(self, label: Label) -> sympy.Symbol:
        """The symbol standing for ``label`` in a chain-rule expression."""
        key = unicode_label(label)
        self.labels[key] = label
        return sympy.Symbol(key)

    def _error_label(self, node: str) -> Label:
        """∂E/∂node in the δ form: δ_j for the net input of unit j, ∂E/∂node for any other node."""
        unit = self.unit_of.get(node)
        return Delta(unit) if unit is not None else Partial(self.graph.loss_name, node)

    def _chained(self, lhs: Label, expr, values, value, **kw) -> Calc:
        """A line of the chain rule: its symbols are labels (∂E/∂o1, δ_h1)."""
        names = sorted(s.name for s in expr.free_symbols) if expr is not None else []
        labels = tuple((n, self.labels[n]) for n in names if n in self.labels)
        return Calc(lhs, expr, values, value, context="chain", labels=labels, **kw)

    def _count_paths(self) -> dict[str, int]:
        """How many chains lead from each node and parameter up to the loss (0: it does
        not affect the loss), capped just above MAX_PATHS; one sweep from the loss down."""
        g, consumers = self.graph, self.derivation.consumers
        counts = {g.loss_name: 1}
        for name in [*reversed(g.node_names), *g.params]:
            if name != g.loss_name:
                counts[name] = min(MAX_PATHS + 1, sum(counts.get(c, 0) for c in consumers.get(name, ())))
        return counts

    # ------------------------------------------------ header and model

    def header(self) -> Header:
        p, g = self.problem, self.graph
        spec = p.loss
        k = len(p.outputs)
        if spec.name:
            loss = LOSSES[spec.name].formula.replace("E =", f"{g.loss_name} =", 1)
            notes = [f"K = {k} output{'s' * (k != 1)}: " + ", ".join(
                f"{o} with target {t}" for o, t in zip(p.outputs, p.targets))]
        elif p.objective is not None:
            loss = ""
            notes = [_objective_note(p.objective)]
        else:
            loss = ""
            notes = ["the problem's own loss, per sample"]
        batched = any(len(st.batch) > 1 for st in self.run.steps) if self.run.steps else len(p.samples) > 1
        if batched:   # a batch of one sample: its loss is the sample's loss, nothing to say
            notes.append("batch loss: the " + ("mean" if spec.reduction == "mean" else "sum")
                         + " of the per-sample losses (gradients likewise)")
        if spec.penalty is not None:
            notes.append(f"plus the penalty {spec.penalty.formula()} over {', '.join(spec.penalty.on)}: part of "
                         f"the loss (in each step's loss, its derivative in each gradient), unlike "
                         f"weight_decay, which only adds λθ to the gradient the optimizer uses")
        opt = p.optimizer
        definition = OPTIMIZERS[opt.name]
        shown_form = definition.shown_form(opt.form)
        name = opt.name if shown_form is None else f"{opt.name} ({shown_form})"
        rules = tuple((a.target, a.expr) for a in definition.forms[opt.form])
        if opt.weight_decay is not None and not definition.decoupled_decay:
            rules = ((L2_DECAY.target, L2_DECAY.expr),) + rules
        hypers = [("lr", self.domain.number(opt.hypers["lr"]))]
        hypers += [(sym, value) for sym, value in self.updater.hypers.items()]
        init = definition.initial_state
        states = self.updater.state_names
        notes_out = []
        if states:
            starts = [f"{var} as given" + (f" ({init.get(var, 0)} elsewhere)"
                                           if set(opt.state[var]) < set(self.trainable) else "")
                      if opt.state.get(var) else f"{var} = {init[var]}" if var in init else f"{var} = 0"
                      for var in states]
            notes_out.append("state starts at " + ", ".join(starts))
        if opt.steps_done:
            notes_out.append(f"resumed after {opt.steps_done} steps: the first step here has t = {opt.steps_done + 1}")
        for sched in opt.schedules:
            sd = SCHEDULES[sched.name]
            unit = "n = epoch − 1" if sched.unit == "epoch" else "n = t − 1 (updates already made)"
            keys = ", ".join(f"{k} = {parameter_text(v.value)}" for k, v in sched.keys.items())
            notes_out.append(f"schedule {sched.name}: lr × {sd.formula}, {unit}; {keys}")
        if opt.centralize:
            notes_out.append("gradient centralization: each unit's incoming weight gradients minus their mean")
        if self.problem.training.update == "sequential":
            notes_out.append("sequential updates: each parameter is updated as soon as its gradient is known")
        if p.frozen:
            notes_out.append("frozen (never updated): " + ", ".join(p.frozen))
        shared = self._shared()
        if shared:
            notes_out.append("shared (one parameter, used in several places; gradients add up): "
                             + "; ".join(_shared_groups(shared)))
        notes_out += _convention_notes(g.equations)
        arith = {"float": "floating point (IEEE double); numbers shown rounded",
                 "exact": "exact (fractions stay fractions; other values shown as decimals)"}
        unit = "significant figures" if p.arithmetic == "significant" else "decimals"
        arithmetic = "arithmetic: " + (arith.get(p.arithmetic) or
                                       f"every intermediate value rounded to {p.round_decimals} {unit}, as by hand")
        notes_out.append(arithmetic)
        if self.run.steps and self.problem.training.update != "sequential":
            notes_out.insert(0, "every gradient uses the parameters before the step; all parameters are "
                                "updated together at its end")
        if not self.run.steps:  # nothing is trained: no optimizer to explain
            name, rules, hypers = "", (), []
            notes_out = [n for n in notes_out if not n.startswith(("state starts", "schedule"))]
        custom = (g.loss_name, spec.expr) if spec.expr is not None else None
        engine = (arithmetic,) if p.arithmetic == "float" else ()   # how tutor computes, not part of the maths
        return Header(p.title, p.statement, loss, tuple(notes), name, rules, tuple(hypers), tuple(notes_out), custom,
                      engine)

    def _shared(self) -> dict[str, tuple[str, ...]]:
        out = {}
        for q in self.graph.params:
            users = self.derivation.consumers.get(q, ())
            if len(users) > 1:
                out[q] = users
        return out

    def model(self) -> Model:
        g = self.graph
        eqs = tuple((eq.name, eq.expr) for eq in g.equations)
        shared = self._shared()
        params = tuple((q, self.run.initial[q],
                        ", ".join(x for x in ("frozen" if q in self.problem.frozen else "",
                                              "shared" if q in shared else "") if x))
                       for q in g.params)
        consts = tuple((c, self.domain.number(v)) for c, v in self.problem.constants.items())
        return Model(eqs, params, consts, self.matrix)

    # ------------------------------------------------ steps

    def evaluation(self, show, grad_names, value_names) -> Evaluation:
        """No training steps: the pass at the initial parameters, and the gradients asked there."""
        run = self.run
        traces = run.final_samples
        upstream, backward = (), None
        at = Step(0, 0, [t.index for t in traces], None, traces, run.final_loss, run.final_raw_gradients,
                  run.final_gradients, run.initial, run.initial, {}, {})
        if "gradient" in show and traces[0].deltas:
            upstream = tuple(self._upstream(t, run.initial, value_names) for t in traces) if value_names else ()
            grads = [q for q in self.graph.params if q in grad_names]
            if grads:
                backward = self._backward(at, traces, grads, run.initial)
        return Evaluation(tuple(self._forward(t, run.initial) for t in traces),
                          self._loss(traces, run.final_loss, run.initial), upstream, backward,
                          self._matrix_view(at, value_names))

    def step(self, st: Step, show, grad_names, upd_names, value_names=()) -> StepPart:
        lr = Calc(Name("lr"), None, None, st.lr)
        forward = tuple(self._forward(t, st.parameters_before) for t in st.samples)
        loss = self._loss(st.samples, st.loss, st.parameters_before)
        lookahead: tuple[Calc, ...] = ()
        la_forward: tuple[SampleForward, ...] = ()
        traces = st.samples
        params_for_partials = st.parameters_before
        if st.lookahead is not None:
            mu = sympy.Symbol("mu", real=True)
            theta, v = sympy.Symbol("theta", real=True), sympy.Symbol("v", real=True)
            prev = self._state_before(st)
            lookahead = tuple(
                Calc(Name(q, tilde=True), theta + mu * v,
                     {"theta": st.parameters_before[q], "mu": self.updater.hypers["mu"], "v": prev["v"][q]},
                     st.lookahead.parameters[q], context="optimizer",
                     names=(("theta", q),) if q not in _OPT_DISPLAY_CLASHES else ())
                for q in self.graph.params if q in prev.get("v", {}))
            la_forward = tuple(self._forward(t, st.lookahead.parameters) for t in st.lookahead.samples)
            traces = st.lookahead.samples
            params_for_partials = st.lookahead.parameters
        backward = None
        wanted = [q for q in self.graph.params if q in grad_names or ("update" in show and q in upd_names)]
        if ("gradient" in show or "update" in show) and wanted:
            grads = [q for q in self.graph.params if q in grad_names] if "gradient" in show else []
            backward = self._backward(st, traces, grads, params_for_partials) if grads else None
            if backward is not None:
                backward = dataclasses.replace(backward, at_lookahead=st.lookahead is not None)
        updates = ()
        if "update" in show:
            updates = tuple(self._update(st, q) for q in self.graph.params if q in upd_names)
        upstream = ()
        if "gradient" in show and value_names:
            upstream = tuple(self._upstream(t, params_for_partials, value_names) for t in traces)
        return StepPart(st.step, st.epoch, tuple(st.batch), lr, forward, loss, lookahead, la_forward,
                        backward, updates, upstream, self._matrix_view(st, value_names),
                        self._batch_stats(st.samples))

    def _matrix_view(self, st: Step, value_names):
        """notation: matrix: the step at layer level, or None. Not at a look-ahead point, nor in
        sequential updates: there δ and ∂E/∂W are taken with other parameters than the step
        shows, and the identities would not hold in its numbers."""
        if self.matrix is None or not st.samples or not st.samples[0].partials or st.lookahead is not None \
                or self.problem.training.update == "sequential":
            return None
        asks_inputs = self.problem.objective is not None or bool(set(value_names) & set(self.problem.inputs))
        return step_view(self.matrix, self.problem, st, inputs_too=asks_inputs,
                         sgd_update=st.lr is not None and self._plain_sgd())

    def _plain_sgd(self) -> bool:
        """θ ← θ − lr·g with g = ∂E/∂θ for every parameter of the maps: then the update reads
        W ← W − lr·∂E/∂W in matrices."""
        p = self.problem
        o = p.optimizer
        return (o.name == "sgd" and o.weight_decay is None and not o.centralize and p.loss.penalty is None
                and not set(p.frozen) & self.matrix.parameters)

    def _batch_stats(self, traces) -> tuple[Calc, ...]:
        """Batch normalization's μ = (1/m) Σ_s x⁽ˢ⁾ and σ² = (1/m) Σ_s (x⁽ˢ⁾ − μ)² over the batch."""
        rows = []
        m = len(traces)
        for st in self.problem.batch_stats:
            xs = [self._sym(Name(st.source, sample_of(t.index, m))) for t in traces]
            vals = {x.name: t.values[st.source] for x, t in zip(xs, traces)}
            mu = self._sym(Name(st.mean))
            rows.append(self._chained(Name(st.mean), sympy.Mul(sympy.Add(*xs, evaluate=False),
                                                                 sympy.Rational(1, m), evaluate=False),
                                      vals, traces[0].values[st.mean]))
            spread = sympy.Add(*[(x - mu) ** 2 for x in xs], evaluate=False)
            rows.append(self._chained(Name(st.var), sympy.Mul(spread, sympy.Rational(1, m), evaluate=False),
                                      {**vals, mu.name: traces[0].values[st.mean]}, traces[0].values[st.var]))
        return tuple(rows)

    def _forward(self, trace, params) -> SampleForward:
        p = self.problem
        given = tuple((n, trace.values[n]) for n in (*p.inputs, *p.targets))
        env = {**params, **trace.values}
        rows = tuple(Calc(Name(eq.name), eq.expr, None if isinstance(eq.expr, sympy.Symbol) else env,
                          trace.values[eq.name])
                     for eq in self.graph.equations if eq.name != self.graph.loss_name)
        f = self.domain.to_float
        saturated = tuple(Remark("saturated", eq.name, (trace.values[eq.name],)) for eq in self.graph.equations
                          if type(eq.expr).__name__ == "sigmoid"
                          and not SATURATED < f(trace.values[eq.name]) < 1 - SATURATED)
        return SampleForward(trace.index, given, rows, saturated,
                             self._pooled_maxima(trace) if p.grids else frozenset())

    def _pooled_maxima(self, trace) -> frozenset[str]:
        """Where each max pool's maximum was (every maximum at a tie): its gradient goes there."""
        out = set()
        for eq in self.graph.equations:
            if type(eq.expr).__name__ == "max_":
                values = {a.name: self.domain.to_float(trace.values[a.name]) for a in eq.expr.args}
                top = max(values.values())
                out.update(n for n, v in values.items() if v == top)
        return frozenset(out)

    def _loss(self, traces, batch_loss, params=None) -> Loss:
        """The per-sample losses and their reduction; with a penalty, the batch loss adds it
        over ``params`` (the parameters the step starts from)."""
        g = self.graph
        eq = g.equations[-1]
        per = tuple((t.index, Calc(Name(g.loss_name, sample_of(t.index, len(traces))), eq.expr, dict(t.values),
                                   t.loss)) for t in traces)
        batch = None
        penalty = self.problem.loss.penalty
        if len(traces) > 1 or penalty is not None:
            names = [Name(g.loss_name, sample_of(t.index, len(traces))) for t in traces]
            expr, values = self._reduce(names, [t.loss for t in traces]) if len(traces) > 1 else (
                self._sym(names[0]), {unicode_label(names[0]): traces[0].loss})
            if penalty is not None:
                expr = sympy.Add(expr, penalty.expression(), evaluate=False)
                values.update((p, params[p]) for p in penalty.on)
            batch = self._chained(Name(g.loss_name), expr, values, batch_loss,
                                  note="with the penalty" if penalty is not None else "")
        return Loss(per, batch)

    def _reduce(self, names: list[str], values: list[Any]):
        terms = sympy.Add(*[self._sym(n) for n in names], evaluate=False)
        if self.problem.loss.reduction == "mean":
            terms = sympy.Mul(terms, sympy.Pow(sympy.Integer(len(names)), -1, evaluate=False), evaluate=False)
        return terms, {unicode_label(n): v for n, v in zip(names, values)}

    # ------------------------------------------------ backward

    def _edge(self, top: str, bottom: str) -> tuple[str, str]:
        """The stored edge behind a shown factor ∂top/∂bottom (o1 stands for net_o1)."""
        return (self.alias.get(top, top), bottom)

    def _paths(self, q: str):
        """The chains from the loss down to ``q`` as lists of shown edges, or None when
        there are more than MAX_PATHS. Only consumers that reach the loss are followed,
        so a long unused branch costs nothing."""
        if self.path_counts.get(q, 0) > MAX_PATHS:
            return None
        out = []
        for path in self._paths_up(q):
            nodes = [n for n in reversed(path) if n not in self.aliased]   # drop net_o1 under o1 = net_o1
            out.append(tuple(zip(nodes, nodes[1:])))
        return out

    def _paths_up(self, name: str):
        if name == self.graph.loss_name:
            yield [name]
            return
        for consumer in self.derivation.consumers.get(name, ()):
            if self.path_counts.get(consumer, 0):
                for rest in self._paths_up(consumer):
                    yield [name, *rest]

    def _backward(self, st: Step, traces, grads: list[str], params) -> Backward:
        g = self.graph
        paths = {q: self._paths(q) for q in grads}
        # A recurrence is worked backward through time, and batch normalization through the
        # batch's μ and σ², δ by δ.
        form = ("paths" if all(v is not None for v in paths.values()) and not g.problem.time_steps
                and not g.problem.batch_stats else "delta")
        batch_size = len(traces)
        chains: dict[str, sympy.Expr] = {}
        used_edges: list[tuple[str, str]] = []
        delta_nodes = self._delta_nodes(grads)
        if form == "paths":
            for q in grads:
                chains[q] = self._chain(paths[q])
                for path in paths[q]:
                    for e in path:
                        if e not in used_edges:
                            used_edges.append(e)
        else:
            used_edges = self._delta_edges(delta_nodes, grads)
        # Order the local derivatives from the loss down, as the sweep meets them.
        depth, position = self._depth(), self._position()
        used_edges.sort(key=lambda e: (depth.get(e[0], 0), position[e[0]], position[e[1]]))
        # The gradients in backprop order too: the output layer's parameters first.
        grads = sorted(grads, key=lambda q: (min((depth.get(c, 0) for c in self._shown_consumers(q)), default=0),
                                             position[q]))
        samples = []
        sequential = self.problem.training.update == "sequential"
        for trace in traces:
            env = {**params, **trace.values}
            local_values = {}
            locals_ = []
            for top, bottom in used_edges:
                edge = self._edge(top, bottom)
                value = trace.partials[edge]
                local_values[unicode_label(Partial(top, bottom))] = value
                expr = self.derivation.partials[edge]
                e_env = env
                if sequential:
                    e_env = self._sequential_env(st, edge, env)
                locals_.append(Calc(Partial(top, bottom), expr,
                                    None if expr.is_number else e_env, value, kink=self._kink(expr, e_env),
                                    note=self._max_note(expr, e_env)))
            for top, bottom, expr in self._batch_edges(batch_size):   # batch norm: through μ and σ²
                value = local_values[unicode_label(Partial(top, bottom))] = trace.partials[(top, bottom)]
                locals_.append(Calc(Partial(top, bottom), expr, None if expr.is_number else env, value))
            deltas = self._deltas(delta_nodes, trace, traces, local_values) if form == "delta" else []
            gradients = []
            sample = sample_of(trace.index, batch_size)
            for q in grads:
                if form == "paths":
                    expr = chains[q]
                    vals = {s.name: local_values[s.name] for s in expr.free_symbols}
                    gradients.append((q, self._gradient(q, sample, expr, vals, trace)))
                else:
                    gradients.append((q, self._delta_gradient(q, sample, trace, local_values)))
            samples.append(SampleBackward(trace.index, tuple(locals_), tuple(deltas), tuple(gradients)))
        batch = []
        if batch_size > 1:
            for q in grads:
                names = [Partial(g.loss_name, q, sample_of(t.index, batch_size)) for t in traces]
                expr, vals = self._reduce(names, [t.gradients[q] for t in traces])
                batch.append((q, self._chained(Partial(g.loss_name, q), expr, vals, st.raw_gradients[q])))
        from_loss = () if self.loss_derived else self._from_loss(used_edges)
        self.loss_derived = self.loss_derived or bool(from_loss)
        too = self._delta_way(delta_nodes, grads, traces) if form == "paths" and not self.delta_shown else ()
        self.delta_shown = self.delta_shown or bool(too)
        return Backward(form, tuple(chains.items()), tuple(samples), tuple(batch), from_loss=from_loss,
                        delta_too=too)

    def _delta_nodes(self, grads) -> list[str]:
        """The nodes whose δ the gradients of ``grads`` need, from the output layer down."""
        g = self.graph
        needed = set()
        for q in grads:
            stack = list(self.derivation.consumers.get(q, ()))
            while stack:
                n = stack.pop()
                if n in needed or n == g.loss_name:
                    continue
                needed.add(n)
                stack.extend(self.derivation.consumers.get(n, ()))
        depth, position = self._depth(), self._position()
        nodes = [n for n in reversed(g.node_names) if n in needed and n not in self.aliased]
        return sorted(nodes, key=lambda n: (depth[n], position[n]))

    def _delta_edges(self, delta_nodes, grads) -> list[tuple[str, str]]:
        """The local derivatives the δ form uses: from each node and parameter to its users."""
        edges: list[tuple[str, str]] = []
        for n in [*delta_nodes, *grads]:
            for c in self._shown_consumers(n):
                if (c, n) not in edges:
                    edges.append((c, n))
        return edges

    def _depth(self) -> dict[str, int]:
        """Each node's longest way up to the loss: consumers come first."""
        g = self.graph
        depth = {g.loss_name: 0}
        for n in reversed(g.node_names):
            if n in self.aliased or n == g.loss_name:
                continue
            above = [depth[c] for c in self._shown_consumers(n) if c in depth]
            depth[n] = 1 + max(above, default=0)
        return depth

    def _position(self) -> dict[str, int]:
        g = self.graph
        position = {n: i for i, n in enumerate(g.node_names)}
        position.update((q, len(position) + i) for i, q in enumerate(g.params))
        return position

    def _deltas(self, delta_nodes, trace, traces, local_values) -> list[Calc]:
        """δ_j = Σ_k δ_k·∂net_k/∂j for each node, from the output layer down, each computed once."""
        g = self.graph
        batch_size = len(traces)
        deltas = []
        for n in delta_nodes:
            stat = next((st for st in g.problem.batch_stats if st.source == n), None)
            if stat is not None:
                deltas.extend(self._batch_deltas(stat, trace, traces, batch_size))
            terms = []
            vals = {}
            for c in self._shown_consumers(n):
                f = self._sym(Partial(c, n))
                vals[f.name] = local_values[f.name]
                if c == g.loss_name:
                    terms.append(f)
                else:
                    d = self._sym(self._error_label(c))
                    vals[d.name] = trace.deltas[c]
                    terms.append(sympy.Mul(d, f, evaluate=False))
            if stat is not None:  # x_s also reaches the loss through the batch's μ and σ²
                for shared in (stat.mean, stat.var):
                    f, d = self._sym(Partial(shared, n)), self._sym(Delta(shared))
                    vals[f.name], vals[d.name] = local_values[f.name], trace.deltas[shared]
                    terms.append(sympy.Mul(d, f, evaluate=False))
            expr = terms[0] if len(terms) == 1 else sympy.Add(*terms, evaluate=False)
            lhs = self._error_label(n)
            if isinstance(expr, sympy.Symbol) and self.labels[expr.name] == lhs:
                continue   # ∂E/∂o1 itself: a local derivative, in the table above
            deltas.append(self._chained(lhs, expr, vals, trace.deltas[n]))
        return deltas

    def _delta_gradient(self, q: str, sample, trace, local_values) -> Calc:
        """∂E/∂q = Σ δ_j·∂net_j/∂q over the units j that use q."""
        terms, vals = [], {}
        for c in self._shown_consumers(q):
            f = self._sym(Partial(c, q))
            d = self._sym(self._error_label(c))
            vals[f.name], vals[d.name] = local_values[f.name], trace.deltas[c]
            terms.append(sympy.Mul(d, f, evaluate=False))
        expr = terms[0] if len(terms) == 1 else sympy.Add(*terms, evaluate=False)
        return self._gradient(q, sample, expr, vals, trace)

    def _gradient(self, q: str, sample, expr, vals, trace) -> Calc:
        lhs = Partial(self.graph.loss_name, q, sample)
        if isinstance(expr, sympy.Symbol) and expr.name == unicode_label(Partial(self.graph.loss_name, q)):
            expr, vals = None, None   # E uses q directly: no chain
        return self._chained(lhs, expr, vals, trace.gradients[q])

    def _delta_way(self, delta_nodes, grads, traces) -> tuple[SampleBackward, ...]:
        """The same gradients in the δ form, after the path form, where that helps: once per
        solution, in a short training (a long one is not made longer), when some gradient
        reaches through a hidden unit (a δ is computed from another δ) and the δ's are few
        enough to read (MAX_DELTAS over the samples); not in matrix notation (its layers show
        the δ's already) nor in sequential updates (no single point to take them at)."""
        if self.matrix is not None or self.problem.training.update == "sequential" or not grads \
                or len(self.run.steps) > SHORT_RUN:
            return ()
        edges = self._delta_edges(delta_nodes, grads)
        out = []
        for trace in traces:
            local_values = {unicode_label(Partial(c, n)): trace.partials[self._edge(c, n)] for c, n in edges}
            deltas = self._deltas(delta_nodes, trace, traces, local_values)
            sample = sample_of(trace.index, len(traces))
            gradients = tuple((q, self._delta_gradient(q, sample, trace, local_values)) for q in grads)
            out.append(SampleBackward(trace.index, (), tuple(deltas), gradients))
        rows = sum(len(s.deltas) for s in out)
        return tuple(out) if rows <= MAX_DELTAS and _reuses_a_hidden_delta(out[0]) else ()

    def _from_loss(self, edges) -> tuple[FromLoss, ...]:
        """The loss's partials among ``edges``, each derived from the loss's own terms by the
        chain rule: ∂/∂o1 [(t1 − o1)²/2] = 2·(t1 − o1)·(−1)/2 = o1 − t1."""
        g = self.graph
        loss = next(eq for eq in g.equations if eq.name == g.loss_name)
        terms = terms_by_symbol(loss.expr)
        out = []
        for top, bottom in edges:
            edge = self._edge(top, bottom)
            x = g.symbol(bottom)
            if edge[0] != g.loss_name or x not in terms:
                continue
            held = terms[x]
            if all(t in held or t.is_number for t in loss.expr.args) and isinstance(loss.expr, sympy.Add):
                held = list(loss.expr.args)   # the whole formula, when the rest is a constant (√(…) − 1)
            term = sympy.Add(*held, evaluate=False) if len(held) > 1 else held[0]
            if term == x or sympy.count_ops(term) > MAX_DERIVED_OPS:   # nothing to derive, or too long to read
                continue
            result = self.derivation.partials[edge]
            lhs = Partial(g.loss_name, bottom)
            first = next((d for d in out if self._renamed(d.term, d.lhs.wrt, bottom) == term), None)
            if first is not None:   # (t2 − o2)²/2 reads as (t1 − o1)²/2: derived once, "likewise" for o2
                out[out.index(first)] = dataclasses.replace(first, likewise=first.likewise + ((lhs, result),))
                continue
            out.append(FromLoss(lhs, term, _derivation_forms(worked_partial(term, x), result), result))
        return tuple(out)

    def _renamed(self, term: sympy.Expr, output: str, other: str) -> sympy.Expr:
        """``term`` (of ``output``) with ``other`` and its target in place of ``output`` and its target."""
        p, g = self.problem, self.graph
        targets = dict(zip(p.outputs, p.targets))
        swap = {g.symbol(output): g.symbol(other)}
        if output in targets and other in targets:
            swap[g.symbol(targets[output])] = g.symbol(targets[other])
        return term.xreplace(swap)

    def _batch_edges(self, m: int):
        """Batch normalization's edges through the batch statistics, with their formulas:
        ∂x̂/∂μ, ∂x̂/∂σ² (from x̂'s equation), ∂μ/∂x = 1/m and ∂σ²/∂x = 2(x − μ)/m."""
        equations = {eq.name: eq.expr for eq in self.graph.equations}
        for st in self.graph.problem.batch_stats:
            xhat = equations[st.normalized]
            x, mu = sympy.Symbol(st.source, real=True), sympy.Symbol(st.mean, real=True)
            yield st.normalized, st.mean, local_partial(xhat, mu)
            yield st.normalized, st.var, local_partial(xhat, sympy.Symbol(st.var, real=True))
            yield st.mean, st.source, sympy.Rational(1, m)
            yield st.var, st.source, 2 * (x - mu) / m

    def _batch_deltas(self, stat, trace, traces, m: int) -> list[Calc]:
        """δσ² and δμ: sums over the batch of δx̂ of every sample times its ∂x̂/∂σ² (∂x̂/∂μ);
        δx̂ of sample s is ∂E⁽ˢ⁾/∂x̂ (only that sample's loss reads it). δμ leaves out
        δσ²·∂σ²/∂μ, which is 0: Σ_s (x_s − μ) = 0."""
        rows = []
        for shared in (stat.var, stat.mean):
            terms, vals = [], {}
            for t in traces:
                sample = sample_of(t.index, m)
                d = self._sym(Partial(self.graph.loss_name, stat.normalized, sample))
                f = self._sym(Partial(stat.normalized, shared, sample))
                vals[d.name], vals[f.name] = t.deltas[stat.normalized], t.partials[(stat.normalized, shared)]
                terms.append(sympy.Mul(d, f, evaluate=False))
            expr = terms[0] if len(terms) == 1 else sympy.Add(*terms, evaluate=False)
            rows.append(self._chained(Delta(shared), expr, vals, trace.deltas[shared]))
        return rows

    def _upstream(self, trace, params, names) -> Upstream:
        """CS231n's backward pass over the asked names, from the top down: each stage's
        local derivatives, then ∂E/∂name = Σ (upstream gradient)·(local derivative)."""
        g, d = self.graph, self.derivation
        objective = self.problem.objective
        top = objective.node if objective is not None and objective.node else g.loss_name
        env = {**params, **trace.values}
        users: dict[str, list[str]] = {n: list(d.consumers.get(n, ())) for n in g.node_names}
        for node, leaf in d.leaf_partials:
            users.setdefault(leaf, []).append(node)
        order = {n: i for i, n in enumerate(g.symbols)}
        rows: list[Calc] = []
        results: list[Calc] = []
        for name in sorted(names, key=order.__getitem__, reverse=True):
            if rows:
                results.append(rows[-1])
            value = trace.deltas[name] if name in trace.deltas else trace.leaf_derivatives[name]
            lhs = Partial(top, name)
            if name == top:
                rows.append(Calc(lhs, None, None, value, note="the start: the objective's gradient with respect "
                                                              "to itself"))
                continue
            if objective is not None and objective.upstream and users.get(name) == [g.loss_name]:
                rows.append(Calc(lhs, None, None, value, note="given"))
                continue
            terms, vals = [], {}
            for user in users.get(name, []):
                edge = (user, name)
                expr = d.partials.get(edge, d.leaf_partials.get(edge))
                shown = self.aliased.get(user, user)   # o1 in place of net_o1 (o1 = net_o1), as above
                shown = user if shown == g.loss_name else shown   # but f stays f under E = f
                local = Partial(shown, name)
                vals[unicode_label(local)] = trace.partials[edge]
                rows.append(Calc(local, expr, None if expr.is_number else env, trace.partials[edge],
                                 kink=self._kink(expr, env)))
                if user == g.loss_name or user == top:
                    terms.append(self._sym(local))
                else:
                    up = Partial(top, shown)
                    vals[unicode_label(up)] = trace.deltas[user]
                    terms.append(sympy.Mul(self._sym(up), self._sym(local), evaluate=False))
            if not terms:
                rows.append(Calc(lhs, None, None, value, note=f"{top} does not depend on {name}"))
                continue
            expr = terms[0] if len(terms) == 1 else sympy.Add(*terms, evaluate=False)
            if not (len(terms) == 1 and isinstance(expr, sympy.Symbol) and rows[-1].lhs == lhs):
                rows.append(self._chained(lhs, expr, vals, value))
        if rows:
            results.append(rows[-1])
        return Upstream(trace.index, tuple(rows), tuple(results))

    def _shown_consumers(self, name: str) -> list[str]:
        """Who uses ``name``, with o1 shown in place of net_o1 (o1 = net_o1)."""
        return [self.aliased.get(c, c) for c in self.derivation.consumers.get(name, ())]

    def _sequential_env(self, st: Step, edge, env):
        """In sequential mode a partial sees the parameters already updated by then."""
        position = {n: i for i, n in enumerate(self.graph.node_names)}
        node, dep = edge
        out = dict(env)
        for q in self.graph.params:
            users = self.derivation.consumers.get(q)
            if not users or q in self.problem.frozen:
                continue
            at = position[users[0]]
            if at > position[node] or (at == position[node] and dep not in self.graph.params):
                out[q] = st.parameters[q]
        return out

    def _chain(self, paths) -> sympy.Expr:
        def sym(e):
            return self._sym(Partial(*e))
        if len(paths) == 1:
            factors = [sym(e) for e in paths[0]]
            return factors[0] if len(factors) == 1 else sympy.Mul(*factors, evaluate=False)
        pre = 0
        while all(len(p) > pre for p in paths) and len({p[pre] for p in paths}) == 1:
            pre += 1
        post = 0
        while all(len(p) - pre > post for p in paths) and len({p[len(p) - 1 - post] for p in paths}) == 1:
            post += 1
        middles = []
        for p in paths:
            mid = [sym(e) for e in p[pre:len(p) - post]]
            middles.append(mid[0] if len(mid) == 1 else sympy.Mul(*mid, evaluate=False))
        factors = [sym(e) for e in paths[0][:pre]]
        factors.append(sympy.Add(*middles, evaluate=False))
        factors += [sym(e) for e in paths[0][len(paths[0]) - post:]]
        return factors[0] if len(factors) == 1 else sympy.Mul(*factors, evaluate=False)

    def _max_note(self, expr: sympy.Expr, env) -> str:
        """Why ∂max(a1, …, ak)/∂ai is 1, 1/m or 0: whether ai is the maximum, one of m equal ones, or not."""
        if type(expr).__name__ not in ("max_share", "min_share") or not all(
                isinstance(a, sympy.Symbol) and a.name in env for a in expr.args[1:]):
            return ""
        which = "maximum" if type(expr).__name__ == "max_share" else "minimum"
        values = [self.domain.to_float(env[a.name]) for a in expr.args[1:]]
        best = max(values) if which == "maximum" else min(values)
        mine = expr.args[int(expr.args[0])]
        tied = values.count(best)
        if values[int(expr.args[0]) - 1] != best:
            return f"{mine.name} is not the {which}"
        plural = "maxima" if which == "maximum" else "minima"
        return f"{mine.name} is the {which}" if tied == 1 else f"{mine.name} is one of {tied} equal {plural}"

    @staticmethod
    def _kink(expr: sympy.Expr, env) -> tuple[str, Any] | None:
        """The argument that decides a kink's derivative (relu'(z1): z1 and its value)."""
        for name in _kink_arguments(expr):
            if name in env:
                return name, env[name]
        return None

    # ------------------------------------------------ update

    def _state_before(self, st: Step) -> dict[str, dict[str, Any]]:
        i = st.step - 1
        if i >= 1 and self.run.steps[i - 1].step == st.step - 1:
            return self.run.steps[i - 1].state
        return self.updater.initial_state(self.trainable)

    def _update(self, st: Step, q: str) -> Update:
        rows = []
        g_used = st.gradients[q]
        raw = st.raw_gradients[q]
        opt = self.problem.optimizer
        definition = OPTIMIZERS[opt.name]
        names = (("theta", q),) if q not in _OPT_DISPLAY_CLASHES else ()
        penalty = self.problem.loss.penalty
        if penalty is not None and q in penalty.on and q in st.penalized_gradients:
            label = Partial(self.graph.loss_name, q)
            rows.append(self._chained(Name("g"), sympy.Add(self._sym(label), sympy.diff(
                penalty.expression(), sympy.Symbol(q, real=True)), evaluate=False),
                {unicode_label(label): raw, q: st.parameters_before[q]},
                st.penalized_gradients[q], note="with the penalty's derivative"))
            raw = st.penalized_gradients[q]
        if opt.weight_decay is not None and not definition.decoupled_decay and not opt.centralize:
            rows.append(Calc(Name("g"), L2_DECAY.expr,
                             {"g": raw, "theta": st.parameters_before[q],
                              "weight_decay": self.updater.hypers["weight_decay"]},
                             g_used, context="optimizer", lhs_expr=L2_DECAY.target, names=names))
        elif opt.centralize:
            row = next((r for r in self.graph.unit_weights if q in r), None)
            if row is not None:
                labels = [Partial(self.graph.loss_name, w) for w in row]
                mean = sympy.Mul(sympy.Add(*[self._sym(n) for n in labels], evaluate=False),
                                 sympy.Pow(sympy.Integer(len(row)), -1, evaluate=False), evaluate=False)
                expr = sympy.Add(self._sym(Partial(self.graph.loss_name, q)),
                                 sympy.Mul(-1, mean, evaluate=False), evaluate=False)
                rows.append(self._chained(Name("g"), expr, {unicode_label(n): st.raw_gradients[w]
                                                            for n, w in zip(labels, row)}, g_used,
                                          note="centralized"))
        if q in self.problem.frozen:
            return Update(q, st.parameters_before[q], st.parameters[q], g_used, tuple(rows), frozen=True)
        prev = self._state_before(st)
        env: dict[str, Any] = {"theta": st.parameters_before[q], "g": g_used, "lr": st.lr,
                               "t": self.updater.step_count(st.step)}
        env.update(self.updater.hypers)
        for var in self.updater.state_names:
            env[var] = prev[var][q]
        for assign, (target, value) in zip(definition.forms[opt.form], st.trail.get(q, [])):
            rows.append(Calc(Name(target), assign.expr, dict(env), value, context="optimizer",
                             lhs_expr=assign.target, names=names))
            env[target] = value
        return Update(q, st.parameters_before[q], st.parameters[q], g_used, tuple(rows),
                      change=st.parameters[q] - st.parameters_before[q], still=self._why_still(st, q, g_used))

    def _why_still(self, st: Step, q: str, gradient) -> tuple[Calc, ...]:
        """Why a gradient is 0: a local derivative that is 0 on every path from the loss down to
        ``q``, in every sample of the batch (a dead relu, an input of 0); the one nearest ``q``."""
        if not _is_zero(gradient):
            return ()
        paths = self._paths(q)
        if not paths:
            return ()
        traces = st.lookahead.samples if st.lookahead is not None else st.samples
        params = st.lookahead.parameters if st.lookahead is not None else st.parameters_before
        for edge in reversed(paths[0]):
            stored = self._edge(*edge)
            if all(edge in path for path in paths) and all(_is_zero(t.partials[stored]) for t in traces):
                env = {**params, **traces[0].values}
                expr = self.derivation.partials[stored]
                return (Calc(Partial(*edge), expr, None if expr.is_number else env, traces[0].partials[stored],
                             kink=self._kink(expr, env)),)
        return ()

    # ------------------------------------------------ final

    def final(self) -> Final:
        run = self.run
        last = run.steps[-1].parameters if run.steps else run.initial
        params = tuple((q, run.initial[q], last[q]) for q in self.graph.params)
        epochs = abridge(epoch_rows(StepSummary(s.step, s.epoch, tuple(s.batch), s.lr, s.loss) for s in run.steps))
        outputs = []
        for t in run.final_samples:
            for o, tg in zip(self.problem.outputs, self.problem.targets):
                outputs.append((t.index, o, t.values[o], tg, t.values[tg]))
        return Final(params, epochs, tuple(outputs), run.final_loss, self._loss_rose() + self._away())

    def _loss_rose(self) -> tuple[Remark, ...]:
        """The first epoch after which the mean loss rose, and how often it did."""
        f = self.domain.to_float
        rows = epoch_rows(StepSummary(s.step, s.epoch, tuple(s.batch), s.lr, s.loss) for s in self.run.steps)
        rises = [(a, b) for a, b in zip(rows, rows[1:]) if f(b.loss) > f(a.loss)]
        if not rises:
            return ()
        a, b = rises[0]
        return (Remark("loss_rose", "", (a.loss, b.loss), (a.epoch, b.epoch, len(rises))),)

    def _away(self) -> tuple[Remark, ...]:
        """Outputs farther from their targets after training than before the first step."""
        run, f = self.run, self.domain.to_float
        if not run.steps:
            return ()
        start = {t.index: t for t in run.steps[0].samples}
        out = []
        for t in run.final_samples:
            if t.index not in start:
                continue
            for o, tg in zip(self.problem.outputs, self.problem.targets):
                before, after, target = start[t.index].values[o], t.values[o], t.values[tg]
                if abs(f(after) - f(target)) > abs(f(before) - f(target)):
                    out.append(Remark("away_from_target", o, (before, after, target), (t.index, tg)))
        return tuple(out)


def _reuses_a_hidden_delta(way: SampleBackward) -> bool:
    """Whether the δ form saves work over the path form: the δ of a hidden unit (one computed
    from other δ's) serves two gradients or more, where the path form repeats its chain."""
    hidden = {c.lhs for c in way.deltas if any(isinstance(label, Delta) for _, label in c.labels)}
    # a hidden unit's δ, or the ∂E/∂h it is computed from
    hidden |= {label for c in way.deltas if c.lhs in hidden for _, label in c.labels}
    uses: dict = {}
    for _, c in way.gradients:
        for _, label in c.labels:
            uses[label] = uses.get(label, 0) + 1
    return any(uses.get(label, 0) >= 2 for label in hidden)


@functools.lru_cache(maxsize=4096)
def _kink_arguments(expr: sympy.Expr) -> tuple[str, ...]:
    """The names whose sign decides a kink's derivative in ``expr`` (relu'(z1): z1). Cached:
    every step of a training asks of the same local derivatives."""
    return tuple(f.args[0].name for f in expr.atoms(relu_prime, leaky_relu_prime, elu_prime)
                 if isinstance(f.args[0], sympy.Symbol))


def _derivation_forms(worked: sympy.Expr, result: sympy.Expr) -> tuple[sympy.Expr, ...]:
    """The forms a derivation line shows after ∂/∂o [term]: the chain rule's factors as
    written, then the result only where it reads simpler (2·(t1 − o1)·(−1)/2 = o1 − t1,
    but 2·(y − t), not 2·(y − t) = 2·y − 2·t, which only multiplies out)."""
    if worked == result:
        return (result,)
    if sympy.count_ops(result) < sympy.count_ops(worked):
        return (worked, result)
    return (worked,)


def _is_zero(x) -> bool:
    return x.is_zero() if hasattr(x, "is_zero") and callable(x.is_zero) else x == 0


def _objective_note(objective) -> str:
    if objective.node:
        return f"the objective: {objective.node}, the value minimised (no targets, no loss)"
    given = ", ".join(f"∂E/∂{n} = {parameter_text(g.value)}" for n, g in objective.upstream.items())
    return f"the upstream gradients are given ({given}): E = Σ (given gradient)·(node)"


def _convention_notes(equations) -> list[str]:
    """The conventions of the ops the equations use (relu'(0) = 0), each op's own note
    (tutor/ops.py), in the order of the table, each note once."""
    used: set[Op] = set()
    most: dict[str, int] = {}   # a note -> the most arguments of a use of its ops (max and min share one)
    for eq in equations:
        for f in eq.expr.atoms(sympy.Function):
            op = OP_OF_CLASS.get(type(f))
            if op is not None and op.convention:
                used.add(op)
                most[op.convention] = max(most.get(op.convention, 0), len(f.args))
    return list(dict.fromkeys(op.convention_note(most[op.convention]) for op in OPS.values() if op in used))


# A parameter named like an optimizer quantity is shown as θ in its update.
_OPT_DISPLAY_CLASHES = frozenset(["g", "lr", "t", "v", "m", "s", "r", "u", "d"])


# ---------------------------------------------------------------- round mode

_UNSHADOWED = ("show", "figures", "answers", "data")


def attach_shadows(solution: Solution, full: Solution) -> Solution:
    """Pair every value of a rounded solution with the same value computed in full precision."""
    def walk(a, b):
        if isinstance(a, Calc) and isinstance(b, Calc):
            return dataclasses.replace(a, shadow=b.value)
        if isinstance(a, Update) and isinstance(b, Update):
            return dataclasses.replace(a, rows=walk(a.rows, b.rows), shadow_new=b.new)
        if dataclasses.is_dataclass(a) and type(a) is type(b):
            return dataclasses.replace(a, **{f.name: walk(getattr(a, f.name), getattr(b, f.name))
                                             for f in dataclasses.fields(a) if f.name not in _UNSHADOWED})
        if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
            return tuple(walk(x, y) for x, y in zip(a, b))
        return a
    return walk(solution, full)




# ---------------------------------------------------------------- numbers that recompute

# A line is "cancelling" when its result is at least this many times more sensitive, relatively,
# than its numbers are (its condition number Σ|x·∂f/∂x|/|f| over the numbers that are not
# integers): (0.9991 − 1)² is 2200 times, a product of n factors n times. Its numbers shown at
# the solution's digits may then recompute to another result than the one shown.
# (tests/test_recompute.py holds such lines to their shown precision from 10 on: a margin.)
CANCELLING = 5
MORE_DIGITS = 8   # at most this many digits more than the solution's for such a line
_FLOAT = FloatDomain()
_NOT_RECORDS = ("show", "figures", "answers", "data", "header", "model", "layout", "matrix", "summary")


def recomputable(solution: Solution) -> Solution:
    """Every substituted line whose numbers nearly cancel, with the digits that make it
    recompute: its numbers, as shown, give its result as shown (E = (0.99908895 − 1)² = 8.3e−7,
    not (0.9991 − 1)² = 8.3e−7). The one place where a line's digits are chosen."""
    digits = solution.shown_digits

    def walk(a):
        kind = type(a)
        if kind is tuple:
            out = tuple(walk(x) for x in a)
            return a if all(x is y for x, y in zip(out, a)) else out
        if kind is Calc:
            more = _digits_to_recompute(a, digits)
            return a if more is None else dataclasses.replace(a, digits=more)
        names = _record_fields(kind)
        if not names:
            return a
        changed = {name: walk(getattr(a, name)) for name in names}
        changed = {k: v for k, v in changed.items() if v is not getattr(a, k)}
        return dataclasses.replace(a, **changed) if changed else a
    return walk(solution)


@functools.lru_cache(maxsize=None)
def _record_fields(kind: type) -> tuple[str, ...]:
    """The fields of a record that may hold lines of working (none: not a record)."""
    if not dataclasses.is_dataclass(kind):
        return ()
    return tuple(f.name for f in dataclasses.fields(kind) if f.name not in _NOT_RECORDS)


def _digits_to_recompute(calc: Calc, digits: int) -> int | None:
    """The digits ``calc``'s numbers need for the line to recompute to its shown result, when
    its numbers nearly cancel and the solution's digits are not enough; else None."""
    expr, values = calc.expr, calc.values
    if values is None or expr is None or not isinstance(calc.value, float):
        return None   # nothing substituted, or exact arithmetic: its numbers are shown as they are
    symbols, f = _compiled(expr)
    if f is None or not all(isinstance(values.get(x.name), float) for x in symbols):
        return None
    at = [values[x.name] for x in symbols]
    shown, half = _shown(format_value(calc.value, digits), digits)
    rounded = [i for i, x in enumerate(at) if not x.is_integer()]   # an integer is shown in full
    if shown is None or _condition(f, at, rounded) < CANCELLING:
        return None
    for more in range(digits, digits + MORE_DIGITS + 1):
        numbers = [_shown(format_number(x, more), more)[0] for x in at]
        try:
            if None not in numbers and abs(f(numbers) - shown) <= half + 1e-12 * abs(shown):
                return None if more == digits else more
        except ARITHMETIC_ERRORS:
            return None
    return digits + MORE_DIGITS


@functools.lru_cache(maxsize=4096)
def _compiled(expr: sympy.Expr):
    """A line's symbols in order and its formula as a float function of them (None: a formula
    whose numbers are not substituted, or one the compiler does not take). Cached: a training's
    steps, and a key's problems, share their formulas."""
    if expr.is_number or isinstance(expr, sympy.Symbol):
        return (), None
    symbols = sorted(expr.free_symbols, key=lambda x: x.name)
    try:
        return symbols, compile_expr(expr, {x: i for i, x in enumerate(symbols)}, _FLOAT)
    except (TypeError, KeyError):
        return symbols, None


def _condition(f, at: list[float], rounded: list[int]) -> float:
    """Σ|x·∂f/∂x|/|f| over the ``rounded`` numbers at ``at`` (central differences): how much a
    relative change of the numbers moves the result, relatively; ∞ at a result of 0 that they
    move. The numbers that are not integers count as rounded, as a reader of the line takes
    them (β₂ = 0.999 may be exact, 0.9991 is not; both read alike)."""
    try:
        value = f(at)
        total = 0.0
        for i in rounded:
            x = at[i]
            if x == 0:
                continue
            h = 1e-7 * abs(x)
            up, down = list(at), list(at)
            up[i], down[i] = x + h, x - h
            total += abs(x * (f(up) - f(down)) / (2 * h))
    except ARITHMETIC_ERRORS:
        return 0.0
    if value == 0:
        return math.inf if total else 0.0
    return total / abs(value)


def _shown(text: str, digits: int) -> tuple[float | None, float]:
    """The number a text shows (a decimal, 8.3e−7, 1/3) and half a unit of its last digit,
    trailing zeros counted as the numbers module trims them: at 4 digits "2" is 2.0000 and
    "8.3e−7" is 8.300e−7."""
    text = text.split("≈")[-1].strip().replace("−", "-")
    if "/" in text:
        p, q = text.split("/", 1)
        try:
            return int(p) / int(q), 0.0
        except ValueError:
            return None, 0.0
    mantissa, _, exponent = text.partition("e")
    try:
        value = float(text)
    except ValueError:
        return None, 0.0   # ∞, NaN
    decimals = len(mantissa.partition(".")[2])
    if exponent:
        return value, 0.5 * 10.0 ** (int(exponent) - max(decimals, digits - 1))
    return value, 0.5 * 10.0 ** -max(decimals, digits)
