"""The one walk: a `Solution` -> a `Document`. Order, headings and wording of the
worked solution are decided here, once, for every format; the terminal, Markdown,
LaTeX and HTML printers only spell the blocks (`tutor.document`).

Each record type has one ``_walk_<Record>`` method; a record without one is a
bug and raises. Nothing here formats a number or writes mathematics: values go
into the document as `Num`, formulas as `Formula`, names as `Sym`.
"""

from __future__ import annotations

from typing import Any

import sympy

from ..document import (Blanks, Block, Boxed, Chart, Definitions, EndPart, EqRow, Equations, Figure,
                        Formula, Heading, Inline, Math, Notation, Num, Op, Pairs, Paragraph, Part, Statement, Style,
                        Sym, Table, Text, Words, math)
from ..records import (LOG_ROWS, Answer, Backward, Calc, Delta, Diverged, Evaluation, Final, GradientCheckPart, Header, LogRow,
                       Loss, Model, Name, SampleForward, Solution, StepLog, StepPart, Update, Upstream)
from .matrix_blocks import (model_blocks, parameter_blocks, step_blocks, uncovered_backward,
                            uncovered_forward)
from .notation import OPTIMIZER_HYPERS, OPTIMIZER_RANK, latex_identifier, latex_loss_formula
from .numbers import error_text, latex_number_text, same_at, shown_approximately, to_float

def _zero(x) -> bool:
    return to_float(x) == 0


DATA_COLUMNS = 8   # the sheet's data table shows at most this many names beside the sample number
GRID_ROLES = {"input": "input", "net": "pre-activation", "units": "feature map", "kernel": "kernel"}


def walk_solution(solution: Solution, *, title: bool = True, answers: bool = True, chart: bool = True,
                  figure: bool = True, update_table: bool = True) -> list[Block]:
    """The blocks of ``solution``'s worked solution: with its title, its figures, the loss
    curve, its answers boxed (documents), and each step's updates as one table (documents;
    the terminal writes each parameter's working under it)."""
    walk = _Walk(solution)
    walk.update_table = update_table
    return walk.solution(title=title, answers=answers, chart=chart, figure=figure)


def walk_sheet(solution: Solution) -> list[Block]:
    """A student's sheet: the statement, the given values and blank answer lines."""
    return _Walk(solution).sheet()


def walk_key(solutions: list[Solution], *, answers_only: bool = False, sheet: bool = False,
             title_level: int = 1) -> list[Block]:
    """An answer key (or a problem sheet) over several problems: a table of the answers,
    then one part per problem."""
    out: list[Block] = []
    title = "Problem sheet" if sheet else ("Answers" if answers_only else "Answer key")
    out.append(Heading(title_level, (Text(title),)))
    if not sheet:
        rows = []
        for number, s in enumerate(solutions, 1):
            w = _Walk(s)
            for i, a in enumerate(s.answers):
                rows.append(((Text(str(number)),) if i == 0 else (), (Text(answer_where(a)),), (w.answer(a),)))
        if not answers_only:
            out.append(Paragraph((Text("The answers of every problem; the worked solutions follow, one section "
                                       "per problem."),)))
        out.append(Table(("problem", "where", "answer"), tuple(rows), long=True))
    if not answers_only:
        for number, s in enumerate(solutions, 1):
            out.append(Part(number, s.source, s.variant))
            head: list = [Text(f"Problem {number}: "), Text(s.header.title)]
            if s.variant is not None:
                head.append(Text(f" (variant {s.variant})"))
            out.append(Heading(0, tuple(head)))
            out += walk_sheet(s) if sheet else walk_solution(s, title=False)
            out.append(EndPart(number))
    return out


# What an answer is, in the words of a key's "where" column.
ANSWER_KINDS = {"forward": "output", "loss": "loss", "gradient": "gradient", "update": "after the update",
                "final": "final value"}


def answer_where(a: Answer) -> str:
    """Which step and which quantity: "step 1, gradient", "step 2, after the update", "after training"."""
    if a.step is not None:
        return f"step {a.step}, {ANSWER_KINDS[a.kind]}"
    if a.kind == "final":
        return "after training"
    return f"initial parameters, {ANSWER_KINDS[a.kind]}"


class _Walk:
    def __init__(self, solution: Solution):
        self.s = solution
        self.digits = solution.shown_digits
        self.model_style = Style("model", self.digits, solution.rank, solution.params)
        self.out: list[Block] = []
        self.rule_stated = False   # the δ rule is stated where it is first used
        self.styles: dict[tuple, Style] = {}
        self.update_table = False

    # ------------------------------------------------ entry

    def solution(self, *, title: bool, answers: bool, chart: bool, figure: bool) -> list[Block]:
        self.show_title = title
        self.show_figure = figure
        for record in self.s.records():
            self._walk(record)
        figures = self.s.figures
        if chart and figures is not None and figures.losses is not None:
            self.out.append(Heading(1, (Text("The loss during training"),)))
            self.out.append(Chart(figures.losses))
        if answers and self.s.answers:
            self.out.append(Heading(1, (Text("Answers"),)))
            self.out.append(Boxed(tuple((self.answer(a), answer_where(a)) for a in self.s.answers)))
        return self.out

    def sheet(self) -> list[Block]:
        s = self.s
        h = s.header
        if h.statement:
            self.out.append(Statement(h.statement))
        self.conventions(h, sheet=True)
        self.out.append(Heading(1, (Text("The model"),)))
        self.model_body(s.model)
        data = s.data
        if data is not None:
            self.out.append(Heading(2, (Text("Data"),)))
            for first in range(0, len(data.names), DATA_COLUMNS):   # hundreds of inputs: several tables
                chunk = range(first, min(first + DATA_COLUMNS, len(data.names)))
                self.out.append(Table(("sample", *(data.names[j] for j in chunk)),
                                      tuple(((Text(str(i)),), *((self.num(row[j]),) for j in chunk))
                                            for i, row in enumerate(data.rows, 1))))
        self.out.append(Heading(1, (Text("Answers"),)))
        self.out.append(Blanks(tuple((math(Sym(a.quantity)), answer_where(a)) for a in s.answers)))
        return self.out

    def _walk(self, record) -> None:
        method = getattr(self, f"_walk_{type(record).__name__}", None)
        if method is None:
            raise TypeError(f"the walk has no method for {type(record).__name__}")
        method(record)

    # ------------------------------------------------ pieces

    def num(self, x: Any, digits: int | None = None) -> Math:
        return math(Num(x, self.digits if digits is None else digits))

    def answer(self, a: Answer) -> Math:
        return math(Sym(a.quantity), Op("="), Num(a.value, self.digits))

    def value(self, x: Any, shadow: Any = None) -> Math:
        """A result, and in round mode its unrounded value where that prints differently."""
        if shadow is not None and not same_at(x, shadow, self.digits):
            return math(Num(x, self.digits), Words(" (unrounded "), Num(shadow, self.digits), Words(")"))
        return math(Num(x, self.digits))

    def style(self, calc: Calc) -> Style:
        """The style of a line's formula; one object per kind of line (a printer may cache by it)."""
        key = (calc.context, calc.lhs_expr, calc.names, calc.labels, calc.digits)
        style = self.styles.get(key)
        if style is None:
            style = self.styles[key] = self._style(calc)
        return style

    def _style(self, calc: Calc) -> Style:
        lead = calc.lhs_expr.name if isinstance(calc.lhs_expr, sympy.Symbol) else None
        if calc.context == "model":
            base = self.model_style
        elif calc.context == "optimizer":
            base = Style("optimizer", self.digits, OPTIMIZER_RANK, OPTIMIZER_HYPERS)
        else:
            base = Style("chain", self.digits)
        digits = max(base.digits, calc.digits or 0)   # more for a line whose numbers nearly cancel
        return Style(base.context, digits, base.rank, base.params, lead, calc.names, calc.labels)

    def formula(self, calc: Calc) -> Math:
        return math(Formula(calc.expr, self.style(calc)))

    def numbers(self, calc: Calc) -> Math:
        return math(Formula(calc.expr, self.style(calc), calc.values))

    def lhs(self, calc: Calc) -> tuple[Math, str]:
        if calc.lhs_expr is not None:
            return math(Formula(calc.lhs_expr, self.style(calc))), "←"
        return math(Sym(calc.lhs)), "="

    def shows_numbers(self, calc: Calc) -> bool:
        """Whether the substituted formula says more than the formula and the value do."""
        return calc.values is not None and not calc.expr.is_number and not isinstance(calc.expr, sympy.Symbol)

    def parts(self, calc: Calc) -> tuple[Math, ...]:
        """formula, numbers, value, without repeats (a name's value is not shown twice)."""
        out = []
        if calc.expr is not None and not calc.expr.is_number:
            out.append(self.formula(calc))
            if self.shows_numbers(calc):
                out.append(self.numbers(calc))
        value = self.value(calc.value, calc.shadow)
        if out and shown_approximately(calc.value):   # one part: "(64273/76800 − 1)² ≈ 0.02661" (notation.shown_items)
            out[-1] = Math(out[-1].items + (Op("="), *value.items))
        else:
            out.append(value)
        return tuple(out)

    def note(self, calc: Calc) -> Inline:
        """Why a kink's derivative is what it is (since z1 = 2 > 0), or the line's remark."""
        if calc.kink is None:
            return (Text(calc.note),) if calc.note else ()
        name, value = calc.kink
        x = to_float(value)
        rel = ">" if x > 0 else ("<" if x < 0 else "=")
        return (Text("since "), math(Sym(Name(name)), Op("="), Num(value, self.digits, result=False), Op(rel),
                                     Num(0, self.digits, result=False)))

    def row(self, calc: Calc) -> EqRow:
        lhs, rel = self.lhs(calc)
        return EqRow(lhs, rel, self.parts(calc), self.note(calc))

    def equations(self, calcs, nested: bool = False) -> None:
        rows = tuple(self.row(c) for c in calcs)
        if rows:
            self.out.append(Equations(rows, nested))

    def h(self, level: int, *content, major: bool = False) -> None:
        self.out.append(Heading(level, tuple(Text(c) if isinstance(c, str) else c for c in content), major))

    # ------------------------------------------------ records

    def _walk_Diverged(self, d: Diverged) -> None:
        self.h(1, "Training stopped", major=True)
        self.out.append(Paragraph((Text(d.text),)))

    def _walk_Header(self, h: Header) -> None:
        if self.show_title:
            self.out.append(Heading(0, (Text(h.title),)))
        if h.statement:
            self.out.append(Statement(h.statement))
        self.conventions(h)

    def conventions(self, h: Header, sheet: bool = False) -> None:
        self.h(1, "Conventions")
        rows: list[tuple[str, tuple[Inline, ...]]] = []
        loss: list[Inline] = []
        if h.custom_loss is not None:
            name, expr = h.custom_loss
            loss.append((math(Sym(Name(name)), Op("="), Formula(expr, self.model_style)),))
        elif h.loss:
            loss.append((math(Notation(h.loss, latex_loss_formula(h.loss))),))
        loss += [(Text(note),) for note in h.loss_notes]
        if loss:
            rows.append(("loss", tuple(loss)))
        if h.rules:
            style = Style("optimizer", self.digits, OPTIMIZER_RANK, OPTIMIZER_HYPERS)
            lines: list[Inline] = [(Text(h.optimizer + ", each step, per parameter "),
                                    math(Formula(sympy.Symbol("theta"), style)), Text(" with gradient "),
                                    math(Formula(sympy.Symbol("g"), style)), Text(":"))]
            for target, expr in h.rules:
                rule = Style("optimizer", self.digits, OPTIMIZER_RANK, OPTIMIZER_HYPERS, target.name)
                lines.append((math(Formula(target, rule), Op("←"), Formula(expr, rule)),))
            hypers: list = []
            for i, (n, v) in enumerate(h.hypers):
                hypers += ([Text(", ")] if i else []) + [math(Formula(sympy.Symbol(n), style), Op("="),
                                                              Num(v, max(self.digits, 10), result=False))]
            lines.append(tuple(hypers))
            rows.append(("optimizer", tuple(lines)))
        notes = [n for n in h.notes if not (sheet and n in h.engine_notes)]
        if notes:
            rows.append(("notes", tuple((Text(n),) for n in notes)))
        self.out.append(Definitions(tuple(rows)))

    def _walk_Model(self, m: Model) -> None:
        self.h(1, "The model")
        self.model_body(m)
        figures = self.s.figures
        if self.show_figure and figures is not None:
            drawn = figures.diagram
            self.h(2, "The network" if drawn is None or drawn.kind == "network" else "The computational graph")
            self.out.append(Figure(figures))

    def model_body(self, m: Model) -> None:
        equations = m.equations
        if m.matrix is not None:   # notation: matrix: the maps at layer level, then the other equations
            self.out += model_blocks(m.matrix)
            equations = tuple((n, e) for n, e in equations if n not in m.matrix.covered)
        groups = self.by_time_step(equations, lambda eq: eq[0])
        for k, (t, group) in enumerate(groups):
            self.time_step(t, k > 0 and groups[k - 1][0] is not None)
            self.out.append(Equations(tuple(EqRow(math(Sym(Name(name))), "=", (math(Formula(expr, self.model_style)),))
                                            for name, expr in group)))
        if m.constants:
            content: list = [Text("constants: ")]
            for i, (n, v) in enumerate(m.constants):
                content += ([Text(", ")] if i else []) + [math(Sym(Name(n)), Op("="), Num(v, self.digits))]
            self.out.append(Paragraph(tuple(content)))
        if m.parameters:  # none: a function of its inputs only (an objective), nothing to train
            self.h(2, "Initial parameters")
            listed = m.parameters
            if m.matrix is not None:   # the maps' W and b as matrices; the table keeps the rest and the remarks
                self.out += parameter_blocks(m.matrix, {name: value for name, value, _ in listed}, self.digits)
                in_maps = m.matrix.parameters
                listed = tuple((name, value, remark) for name, value, remark in listed
                               if remark or name not in in_maps)
            if listed:
                self.out.append(Pairs(("parameter", "value"), tuple(
                    ((math(Sym(Name(name))),), (self.num(value),) + ((Text(f" ({remark})"),) if remark else ()))
                    for name, value, remark in listed)))

    def _walk_StepPart(self, p: StepPart) -> None:
        show = self.s.show
        samples = "sample" + ("s " if len(p.batch) > 1 else " ") + ", ".join(map(str, p.batch))
        self.h(1, f"Step {p.step} (epoch {p.epoch}, {samples}; ",
               math(Sym(Name("lr")), Op("="), *self.value(p.lr.value, p.lr.shadow).items), ")", major=True)
        matrix = step_blocks(p.matrix, self.digits) if p.matrix is not None else None
        if "forward" in show and p.batch_stats:
            self.h(2, "Batch normalization: the batch's mean and (biased) variance, from every sample's values below")
            self.equations(p.batch_stats)
        if "forward" in show:
            self.forward_pass(p.forward, matrix)
        if "loss" in show:
            self._walk(p.loss)
        if p.lookahead and ("gradient" in show or "update" in show):
            self.h(2, "Look-ahead point (Nesterov): the gradient is taken at ",
                   math(Notation("θ\u0303 = θ + μ·v", r"\tilde{\theta} = \theta + \mu \cdot v")))
            self.equations(p.lookahead)
            for f in p.lookahead_forward:
                self.forward(f, "Forward pass at the look-ahead point")
        for u in p.upstream:
            self._walk(u)
        if p.backward is not None:
            self.backward_pass(p.backward, matrix)
        updates = p.updates
        in_maps = self.s.model.matrix.parameters if matrix is not None else frozenset()
        if matrix is not None and matrix[2] and in_maps <= {u.param for u in updates}:
            self.out += matrix[2]   # W ← W − lr·∂E/∂W: the maps' parameters at once (when all are asked)
            updates = tuple(u for u in updates if u.param not in in_maps)
        if updates:
            self.h(2, "Update")
            if self.update_table:
                self.updates_table(updates)
            else:
                for u in updates:
                    self._walk(u)

    def forward_pass(self, forward, matrix) -> None:
        """Each sample's forward table; with notation: matrix (``matrix``: the step's blocks), the
        layers as matrices and the tables of only the nodes they do not show."""
        if matrix is None:
            for f in forward:
                self.forward(f, "Forward pass")
            return
        self.out += matrix[0]
        for f in forward:
            rest = uncovered_forward(f, self.s.model.matrix.covered)
            if rest is not None:
                self.forward(rest, "Forward pass, the other nodes")

    def backward_pass(self, backward, matrix) -> None:
        """The backward working; with notation: matrix, the scalar lines the maps do not show
        (the loss's own derivatives, other nodes), then the layers in matrix form."""
        if matrix is None:
            self._walk(backward)
            return
        rest = uncovered_backward(backward, self.s.model.matrix.covered, self.s.model.matrix.parameters)
        if rest is not None:
            self._walk(rest)
        self.out += matrix[1]

    def _walk_Evaluation(self, e: Evaluation) -> None:
        self.h(1, "With the initial parameters (no training steps)", major=True)
        matrix = step_blocks(e.matrix, self.digits) if e.matrix is not None else None
        if "forward" in self.s.show:
            self.forward_pass(e.forward, matrix)
        if "loss" in self.s.show:
            self._walk(e.loss)
        for u in e.upstream:
            self._walk(u)
        if e.backward is not None:
            self.backward_pass(e.backward, matrix)

    def _walk_GradientCheckPart(self, g: GradientCheckPart) -> None:
        self.h(1, "Gradient check (at the initial parameters)", major=True)
        self.out.append(Paragraph((
            math(Notation("numeric = (E(θ + ε) − E(θ − ε)) / 2ε",
                          r"\mathit{numeric} = \frac{E(\theta + \varepsilon) - E(\theta - \varepsilon)}{2\varepsilon}")),
            Text(" with "), math(Notation("ε", r"\varepsilon"), Op("="), Num(g.eps, self.digits)),
            Text("; relative error = |numeric − backprop| / max(|numeric|, |backprop|)"))))
        wide = max(self.digits, 8)   # E(θ ± ε) differ in the digits beyond the usual ones
        rows = tuple(((math(Sym(Name(name))),), (self.num(plus, wide),), (self.num(minus, wide),),
                      (self.num(numeric),), (self.num(analytic),), (self.error(rel),))
                     for name, plus, minus, numeric, analytic, rel in g.rows)
        self.out.append(Table(("θ", "E(θ + ε)", "E(θ − ε)", "numeric", "backprop", "rel. error"), rows))

    @staticmethod
    def error(rel: float) -> Math:
        """A relative error (3.2e−11) as a number of the table, in both spellings."""
        text = error_text(rel)
        return math(Notation(text, latex_number_text(text)))

    def _walk_Upstream(self, u: Upstream) -> None:
        self.h(2, f"Backward pass, sample {u.index}: local derivative × upstream gradient")
        self.equations(u.rows)

    def forward(self, f: SampleForward, title: str) -> None:
        head: list = [Text(f"{title}, sample {f.index}")]
        in_grids = {c for _, _, components, _ in self.s.layout.grids for c in components}
        given = [(n, v) for n, v in f.given if n not in in_grids]   # a grid's values: shown as the grid
        if given:
            head.append(Text(" ("))
            for i, (n, v) in enumerate(given):
                head += ([Text(", ")] if i else []) + [math(Sym(Name(n)), Op("="), Num(v, self.digits))]
            head.append(Text(")"))
        self.out.append(Heading(2, tuple(head)))
        groups = self.by_time_step(f.rows, lambda c: c.lhs.name)
        for k, (t, group) in enumerate(groups):
            self.time_step(t, k > 0 and groups[k - 1][0] is not None)
            rows = tuple(((math(Sym(c.lhs)),), (self.formula(c),),
                          (self.numbers(c),) if c.values is not None else (),
                          (self.value(c.value, c.shadow),)) for c in group)
            self.out.append(Table(("node", "formula", "numbers", "value"), rows))
        known = dict(f.given) | {c.lhs.name: c.value for c in f.rows}
        self.grids([g for g in self.s.layout.grids if g[3] != "kernel"], known, "", marked=f.pooled_maxima)
        self.remarks(f.remarks)

    def remarks(self, remarks) -> None:
        """A TA's notes in the margin, as sentences."""
        for r in remarks:
            if r.kind == "saturated":
                content = (math(Sym(Name(r.name)), Op("="), Num(r.values[0], self.digits)),
                           Text(" is at the flat end of the sigmoid: its derivative σ(1 − σ) is nearly 0, so "
                                "every gradient through it is small (the unit learns slowly)."))
            elif r.kind == "loss_rose":
                epoch, after, times = r.where
                content = (Text(f"the loss rose from epoch {epoch} to epoch {after} ("),
                           math(Num(r.values[0], self.digits), Op("→"), Num(r.values[1], self.digits)),
                           Text(")" + (f", and {times - 1} more time{'s' * (times > 2)} after that" if times > 1 else "")
                                + ": a learning rate too large overshoots, and single-sample steps are noisy."))
            elif r.kind == "away_from_target":
                if same_at(r.values[0], r.values[1], self.digits):
                    continue   # farther, but not at the digits shown
                sample, target = r.where
                content = (math(Sym(Name(r.name))), Text(f" of sample {sample} moved away from its target "),
                           math(Sym(Name(target)), Op("="), Num(r.values[2], self.digits)), Text(": "),
                           math(Num(r.values[0], self.digits), Op("→"), Num(r.values[1], self.digits)),
                           Text(" from before the first step to after training."))
            else:
                raise TypeError(f"no words for the remark {r.kind!r}")
            self.out.append(Paragraph((Text("Note: "),) + content))

    # ------------------------------------------------ grouping: time steps and grids

    def by_time_step(self, items, name_of) -> list[tuple[int | None, list]]:
        """Consecutive items of one time step together (all items in one group without steps)."""
        step_of = self.s.layout.step_of()
        groups: list[tuple[int | None, list]] = []
        for item in items:
            t = step_of.get(name_of(item))
            if groups and groups[-1][0] == t:
                groups[-1][1].append(item)
            else:
                groups.append((t, [item]))
        return groups

    def time_step(self, t: int | None, after_a_step: bool = False, remark: str = "") -> None:
        """The label of a group: its time step, or (after the steps) what follows them."""
        if t is not None:
            self.out.append(Paragraph((Text(f"time step t = {t}{remark}"),), strong=True))
        elif after_a_step:
            self.out.append(Paragraph((Text("after the time steps"),), strong=True))

    def grids(self, grids, values: dict[str, Any], what: str, note: str = "",
              marked: frozenset[str] = frozenset()) -> None:
        """Each grid whose components have values, as a grid: one row of the table per row;
        a max pool's maxima marked *."""
        for name, shape, components, role in grids:
            if not all(c in values for c in components):
                continue
            rows, columns = shape
            said = note or GRID_ROLES.get(role, role)
            self.out.append(Paragraph((Text(what), math(Sym(Name(name))), Text(f" ({rows}×{columns}, {said})"))))
            self.out.append(Table(("row", *(str(j) for j in range(1, columns + 1))), tuple(
                ((Text(str(i + 1)),), *((self.num(values[c]),) + ((Text("*"),) if c in marked else ())
                                        for c in components[i * columns:(i + 1) * columns]))
                for i in range(rows))))
            if marked & set(components):
                self.out.append(Paragraph((Text("* the maximum of its pooling window: the pooled value's "
                                                "gradient goes there (in equal parts at a tie)"),)))

    def _walk_Loss(self, loss: Loss) -> None:
        self.h(2, "Loss")
        self.equations([c for _, c in loss.per_sample] + ([loss.batch] if loss.batch is not None else []))

    def _walk_Backward(self, b: Backward) -> None:
        where = " at the look-ahead point" if b.at_lookahead else ""
        for number, s in enumerate(b.samples):
            sample = f", sample {s.index}" if len(b.samples) > 1 else ""
            self.h(2, f"Backward pass{where}{sample}: local derivatives")
            if b.from_loss and number == 0:
                self.from_loss(b.from_loss)
            rows = []
            for c in s.locals:
                note = self.note(c)
                numbers = (self.numbers(c),) if self.shows_numbers(c) else ()
                value = (self.value(c.value, c.shadow),) + ((Text("  ("), *note, Text(")")) if note else ())
                rows.append(((math(Sym(c.lhs)),), (self.formula(c),), numbers, value))
            self.out.append(Table(("derivative", "formula", "numbers", "value"), tuple(rows)))
            if b.form == "delta" and s.deltas:
                self.h(2, math(Notation("δ_j = ∂E/∂net_j", r"\delta_{j} = \partial E / \partial \mathit{net}_{j}")),
                       ", from the output layer down")
                self.delta_rule()
                groups = self.by_time_step(s.deltas, lambda c: c.lhs.node if isinstance(c.lhs, Delta) else c.lhs.wrt)
                for k, (t, group) in enumerate(groups):
                    self.time_step(t, k > 0 and groups[k - 1][0] is not None, " (backward through time)")
                    self.equations(group)
            if s.gradients:   # none left when notation: matrix shows every parameter's gradient
                self.h(2, "Gradients (chain rule)" if b.form == "paths" else "Gradients from the δ's")
                self.equations([c for _, c in s.gradients])
            if b.delta_too:   # the path form's gradients again, each δ computed once and reused
                self.h(2, f"The same gradients, the δ way{sample}")
                self.delta_rule()
                too = b.delta_too[number]   # a table: one line each, so that a one-step problem still fits two pages
                self.out.append(Table(("quantity", "from the δ's", "numbers", "value"), tuple(
                    ((math(Sym(c.lhs)),), (self.formula(c),) if c.expr is not None else (),
                     (self.numbers(c),) if c.expr is not None and self.shows_numbers(c) else (),
                     (self.value(c.value, c.shadow),))
                    for c in (*too.deltas, *(c for _, c in too.gradients)))))
        if b.batch:
            self.h(2, "Gradients of the batch loss")
            self.equations([c for _, c in b.batch])
        kernels = [g for g in self.s.layout.grids if g[3] == "kernel"]
        if kernels and b.samples:  # a shared kernel's gradient sums its terms over every position
            gradients = {p: c.value for p, c in (b.batch or b.samples[0].gradients)}
            self.grids(kernels, gradients, "∂E/∂", "the kernel's gradient: each entry sums its terms over every position")

    def delta_rule(self) -> None:
        """The general rule of the δ form, where it is first used."""
        if self.rule_stated:
            return
        self.rule_stated = True
        self.out.append(Paragraph((
            Text("The error of unit j, from the units k it feeds: "),
            math(Notation("δ_j = f′(net_j)·Σ_k w_kj·δ_k",
                          r"\delta_{j} = f'(\mathit{net}_{j}) \cdot \sum_{k} w_{kj} \cdot \delta_{k}")),
            Text("; each parameter's gradient is then "),
            math(Notation("∂E/∂w = δ_j·∂net_j/∂w",
                          r"\partial E / \partial w = \delta_{j} \cdot \partial \mathit{net}_{j} / \partial w")),
            Text(". Each δ is computed once and reused."))))

    def from_loss(self, partials) -> None:
        """The loss's partials derived from its formula by the chain rule, in a sentence (where
        first used): ∂E/∂o1 = ∂/∂o1 [(t1 − o1)²/2] = 2·(t1 − o1)·(−1)/2 = o1 − t1, likewise ∂E/∂o2."""
        style = self.model_style
        content: list = [Text("From the loss's formula, by the chain rule: ")]
        for i, d in enumerate(partials):
            wrt = d.lhs.wrt   # ∂/∂o1 of the terms: an operator, not a label of the solution
            operator = Notation(f"∂/∂{wrt} [", rf"\frac{{\partial}}{{\partial {latex_identifier(wrt)}}} \left[")
            items: list = [Sym(d.lhs), Op("="), operator, Formula(d.term, style), Notation("]", r"\right]")]
            for form in d.forms:
                items += [Op("="), Formula(form, style)]
            content += [Text("; " if i else ""), math(*items)]
            for k, (lhs, result) in enumerate(d.likewise):
                content += [Text(", " if k else ", likewise "), math(Sym(lhs), Op("="), Formula(result, style))]
        self.out.append(Paragraph(tuple(c for c in content if c != Text("")) + (Text("."),)))

    def updates_table(self, updates) -> None:
        """A step's updates as one table (documents): each parameter's working, row by row."""
        rows = []
        for u in updates:
            head = (math(Sym(Name(u.param))),) + self.change(u) + ((Text(f" ({u.remark})"),) if u.remark else ())
            calcs = (*u.still, *u.rows)
            if not calcs:
                rows.append((head, (), (math(Num(u.old, self.digits), Op("→"),
                                            *self.value(u.new, u.shadow_new).items),)))
            for k, c in enumerate(calcs):
                lhs, rel = self.lhs(c)
                parts = self.parts(c)
                working: list = [*lhs.items, Op(rel)]
                for i, part in enumerate(parts[:-1]):
                    working += ([Op("=")] if i else []) + list(part.items)
                note = self.note(c)
                rows.append((head if k == 0 else (), (Math(tuple(working)),),
                             (parts[-1],) + ((Text(" ("), *note, Text(")")) if note else ())))
        self.out.append(Table(("parameter", "working", "value"), tuple(rows)))

    def change(self, u: Update) -> tuple:
        """Δθ, where the values shown do not show the change."""
        if u.change is not None and same_at(u.old, u.new, self.digits) and not _zero(u.change):
            return (Text(" ("), math(Notation("Δ", r"\Delta "), Sym(Name(u.param)), Op("="),
                                     Num(u.change, self.digits)), Text(": too small to show in the values)"))
        return ()

    def _walk_Update(self, u: Update) -> None:
        tail = u.remark
        change = self.change(u)
        self.out.append(Paragraph((math(Sym(Name(u.param))), Text(": "),
                                   math(Num(u.old, self.digits), Op("→"), *self.value(u.new, u.shadow_new).items))
                                  + change + ((Text(f" ({tail})"),) if tail else ()), strong=True))
        self.equations(u.still, nested=True)
        self.equations(u.rows, nested=True)

    def _walk_StepLog(self, log: StepLog) -> None:
        self.h(1, log.title)
        final = self.s.final
        if len(log.steps) > LOG_ROWS and final is not None and final.epochs:   # not the same table twice
            self.out.append(Paragraph((Text(f"{len(log.steps)} steps, not shown in full: the loss per epoch is "
                                            "in the table after training."),)))
            return
        self.log_table(log.rows())

    def log_table(self, log: tuple[LogRow, ...]) -> None:
        rows = []
        for r in log:
            if r.skipped_before:
                rows.append(((Text("…"),), (Text(f"({r.skipped_before} epochs)"),), (), (), ()))
            rows.append(((Text(r.steps),), (Text(str(r.epoch)),), (Text(r.batch),), (self.num(r.lr),),
                         (self.num(r.loss),)))
        self.out.append(Table(("step", "epoch", "batch", "lr", "loss"), tuple(rows)))

    def _walk_Final(self, f: Final) -> None:
        self.h(1, "After training")
        self.out.append(Table(("parameter", "initial", "final"),
                              tuple(((math(Sym(Name(name))),), (self.num(before),), (self.num(after),))
                                    for name, before, after in f.parameters)))
        if f.epochs:
            self.h(2, "Loss per epoch (mean of the step losses)")
            self.log_table(f.epochs)
        if f.outputs:
            self.h(2, "Outputs with the final parameters")
            self.out.append(Table(("sample", "output", "value", "target"), tuple(
                ((Text(str(i)),), (math(Sym(Name(o))),), (self.num(v),),
                 (math(Sym(Name(t)), Op("="), Num(tv, self.digits)),)) for i, o, v, t, tv in f.outputs)))
        if f.loss is not None:
            self.out.append(Paragraph((Text("loss with the final parameters: "), self.num(f.loss))))
        self.remarks(f.remarks)
