"""The worked solution for a terminal: rich text over the `Solution` records.

Each record type has one ``_print_<Record>`` method; a record without one is a
bug and raises. Mathematics comes from `notation.MathPrinter` only: a line of
working is the formula, the same formula with the numbers substituted, and
the value, joined by "=" (and aligned under each other when they do not fit on
one line).
"""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import sympy
from rich import box
from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ..solution import (GradientCheckPart, Upstream, Diverged, LogRow, Backward, Calc, Evaluation, Final, Header, Loss, Model, SampleForward, Solution, StepPart,
                        StepLog, Update, attach_shadows, build_solution)
from ..train import Run
from ..visible import visible, visible_keeping_colours
from .records import RecordPrinter
from .notation import (OPTIMIZER_NAMES, MathPrinter, format_number,
                       format_value, same_at, to_float)

# Tables without box-drawing: a row of dashes under the header, nothing else.
PLAIN_HEAD = box.Box("    \n    \n -  \n    \n    \n    \n    \n    \n", ascii=True)
INDENT = 2


def render_terminal(run: Run, *, width: int = 80, color: bool = False, show_all: bool = False,
                    digits: int = 4, steps: list[int] | None = None) -> str:
    """The worked solution of ``run`` as text ``width`` columns wide (ANSI colours if ``color``)."""
    solution = build_solution(run, show_all=show_all, steps=steps, digits=digits)
    if run.problem.arithmetic == "round":
        from ..train import train
        full = train(dataclasses.replace(run.problem, arithmetic="float", round_decimals=None))
        solution = attach_shadows(solution, build_solution(full, show_all=show_all, steps=steps, digits=digits))
    return TerminalPrinter(width=width, color=color, digits=digits).doprint(solution)


def reflow(statement: str) -> str:
    """The statement as its author wrote it, paragraphs re-flowed to the width. Not
    rendered as Markdown: statements hold formulas like w1*x1^2, whose * Markdown
    would take for emphasis. List items and indented lines keep their own line."""
    out: list[str] = []
    for line in statement.strip().splitlines():
        stripped = line.strip()
        keeps_line = not stripped or line[:1].isspace() or stripped[:2] in ("- ", "* ", "+ ") \
            or stripped.split(" ", 1)[0].rstrip(".)").isdigit()
        if out and out[-1] and not keeps_line:
            out[-1] += " " + stripped
        else:
            out.append(line.rstrip())
    return "\n".join(out)


# A product or sum of more terms than this is shown with its middle elided: a product
# of 350 factors has 350 local derivatives of 349 factors each, which would print
# megabytes; elided, the worked solution stays proportional to the problem file.
MAX_TERMS = 12
_KEEP_HEAD, _KEEP_TAIL = 4, 2


def condense(text: str) -> str:
    """``text`` with a long top-level sum or product shown as its first and last terms:
    w2·w3·w4·w5·…(343 more)…·w349·w350."""
    pieces = _split_top_level(text, (" + ", " − ")) or _split_top_level(text, ("·",))
    terms = (len(pieces) + 1) // 2   # pieces: term, separator, term, ...
    if terms <= MAX_TERMS:
        return text
    head, tail = pieces[:2 * _KEEP_HEAD], pieces[len(pieces) - 2 * _KEEP_TAIL:]
    return "".join(head) + f"…({terms - _KEEP_HEAD - _KEEP_TAIL} more)…" + "".join(tail)


def _split_top_level(text: str, separators: tuple[str, ...]) -> list[str]:
    """[term, separator, term, ...] at parenthesis depth 0; [] if no separator is there."""
    pieces: list[str] = []
    depth, start, i = 0, 0, 0
    while i < len(text):
        depth += (text[i] in "([{") - (text[i] in ")]}")
        found = next((sep for sep in separators if text.startswith(sep, i)), None) if depth == 0 else None
        if found and i > start:
            pieces += [text[start:i], found]
            start = i = i + len(found)
        else:
            i += 1
    return pieces + [text[start:]] if pieces else []


class TerminalPrinter(RecordPrinter):
    optimizer_names = OPTIMIZER_NAMES

    def __init__(self, *, width: int = 80, color: bool = False, digits: int = 4):
        self.width = width
        self.color = color
        self.digits = digits
        self.out: list[RenderableType] = []

    # ------------------------------------------------ entry

    def doprint(self, solution: Solution) -> str:
        self.solution = solution
        if solution.round_decimals is not None:
            self.digits = max(self.digits, solution.round_decimals)
        self.model_settings = {"rank": solution.rank, "params": solution.params, "digits": self.digits}
        self.out = []
        self._print(solution)
        buffer = io.StringIO()
        console = Console(file=buffer, width=self.width, force_terminal=self.color, no_color=not self.color,
                          color_system="standard" if self.color else None, highlight=False, emoji=False,
                          markup=False, legacy_windows=False, soft_wrap=False, record=False)
        for item in self.out:
            console.print(item)
        lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
        while lines and not lines[-1]:
            lines.pop()
        return visible_keeping_colours("\n".join(lines) + "\n")

    # ------------------------------------------------ building blocks

    def emit(self, item: RenderableType, indent: int = 0) -> None:
        self.out.append(Padding(item, (0, 0, 0, indent)) if indent else item)

    def blank(self) -> None:
        self.out.append(Text(""))

    def heading(self, text: str, rule: str = "=") -> None:
        self.blank()
        self.emit(Text(text, style="bold"))
        self.emit(Text(rule * min(len(text), self.width), style="dim"))

    def subheading(self, text: str) -> None:
        self.blank()
        self.emit(Text(text, style="bold underline" if self.color else ""), INDENT)

    def table(self, *headers: str, no_wrap: tuple[int, ...] = (0,)) -> Table:
        t = Table(box=box.SIMPLE_HEAD if self.color else PLAIN_HEAD, show_edge=False, pad_edge=False,
                  padding=(0, 2, 0, 0), header_style="bold" if self.color else "", expand=False)
        for i, h in enumerate(headers):
            t.add_column(h, no_wrap=i in no_wrap, overflow="fold")
        return t

    def calc_settings(self, calc: Calc) -> dict[str, Any]:
        settings = self.settings(calc.context)
        if isinstance(calc.lhs_expr, sympy.Symbol):
            settings = {**settings, "lead": calc.lhs_expr.name}
        if calc.names:
            settings = {**settings, "names": {**settings.get("names", {}), **dict(calc.names)}}
        return settings

    def formula(self, calc: Calc) -> str:
        return condense(MathPrinter(self.calc_settings(calc)).doprint(calc.expr))

    def numbers(self, calc: Calc) -> str:
        return condense(MathPrinter({**self.calc_settings(calc), "values": calc.values}).doprint(calc.expr))

    def value(self, x: Any, shadow: Any = None) -> str:
        text = format_value(x, self.digits)
        if shadow is not None and not same_at(x, shadow, self.digits):
            text += f" (unrounded {format_value(shadow, self.digits)})"
        return text

    def lhs(self, calc: Calc) -> tuple[str, str]:
        if calc.lhs_expr is not None:
            return MathPrinter(self.calc_settings(calc)).doprint(calc.lhs_expr), "←"
        return calc.lhs, "="

    def kink(self, calc: Calc) -> str:
        if calc.kink is None:
            return calc.note
        name, value = calc.kink
        x = to_float(value)
        rel = ">" if x > 0 else ("<" if x < 0 else "=")
        return f"since {name} = {format_number(value, self.digits)} {rel} 0"

    def equation(self, calc: Calc, indent: int = INDENT, suffix: str = "") -> None:
        """lhs = formula = numbers = value, on one line or aligned under each other."""
        lhs, arrow = self.lhs(calc)
        parts = self.parts(calc)
        note = self.kink(calc)
        tail = suffix or (f"  ({note})" if note else "")
        one = f"{lhs} {arrow} " + " = ".join(parts) + tail
        if len(one) + indent <= self.width:
            self.emit(Text(one), indent)
            return
        grid = Table.grid(padding=(0, 1, 0, 0))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="fold")
        for i, part in enumerate(parts):
            grid.add_row(lhs if i == 0 else "", arrow if i == 0 else "=",
                         part + (tail if i == len(parts) - 1 else ""))
        self.emit(grid, indent)

    # ------------------------------------------------ records

    def _print_Diverged(self, d: Diverged) -> None:
        self.heading("Training stopped")
        self.emit(Text(d.text), INDENT)

    def _print_Header(self, h: Header) -> None:
        title = visible(h.title, one_line=True)
        self.emit(Text(title, style="bold"))
        self.emit(Text("=" * min(len(title), self.width), style="dim"))
        if h.statement:
            self.blank()
            self.emit(Text(reflow(visible(h.statement))))
        self.heading("Conventions", "-")
        grid = Table.grid(padding=(0, 2, 0, 0))
        grid.add_column(no_wrap=True)
        grid.add_column()
        loss = h.loss
        if h.custom_loss is not None:
            name, expr = h.custom_loss
            loss = f"{name} = " + MathPrinter(self.model_settings).doprint(expr)
        if loss:
            grid.add_row("loss", loss)
        for note in h.loss_notes:
            grid.add_row("" if loss else "loss", note)
        if h.rules:
            opt = self.settings("optimizer")
            grid.add_row("optimizer", h.optimizer + ", each step, per parameter θ with gradient g:")
            for target, expr in h.rules:
                rule = {**opt, "lead": target.name}
                grid.add_row("", "  " + MathPrinter(rule).doprint(target) + " ← " + MathPrinter(rule).doprint(expr))
            hypers = ", ".join(f"{OPTIMIZER_NAMES.get(n, n)} = {format_number(v, max(self.digits, 10))}"
                               for n, v in h.hypers)
            grid.add_row("", hypers)
        for i, note in enumerate(h.notes):
            grid.add_row("notes" if i == 0 else "", note)
        self.emit(grid, INDENT)

    def _print_Model(self, m: Model) -> None:
        self.heading("The model", "-")
        for name, expr in m.equations:
            self.emit(Text(f"{name} = {MathPrinter(self.model_settings).doprint(expr)}"), INDENT)
        if m.constants:
            self.blank()
            self.emit(Text("constants: " + ", ".join(f"{n} = {format_value(v, self.digits)}"
                                                     for n, v in m.constants)), INDENT)
        if not m.parameters:  # a function of its inputs only (an objective): nothing to train
            return
        self.subheading("Initial parameters")
        per = max(1, (self.width - INDENT) // 26)
        rows = list(m.parameters)
        chunk = -(-len(rows) // per)
        t = Table(box=None, show_header=False, pad_edge=False, padding=(0, 2, 0, 0))
        columns = [rows[i:i + chunk] for i in range(0, len(rows), chunk)]
        for _ in columns:
            t.add_column(no_wrap=True)
            t.add_column(no_wrap=True)
        for r in range(chunk):
            cells = []
            for col in columns:
                if r < len(col):
                    name, value, remark = col[r]
                    cells += [name, format_value(value, self.digits) + (f" ({remark})" if remark else "")]
                else:
                    cells += ["", ""]
            t.add_row(*cells)
        self.emit(t, INDENT)

    def _print_StepPart(self, p: StepPart) -> None:
        show = self.solution.show
        samples = "sample" + ("s " if len(p.batch) > 1 else " ") + ", ".join(map(str, p.batch))
        self.heading(f"Step {p.step} (epoch {p.epoch}, {samples}; lr = {self.value(p.lr.value, p.lr.shadow)})")
        if "forward" in show:
            for f in p.forward:
                self._forward(f, "Forward pass")
        if "loss" in show:
            self._print(p.loss)
        if p.lookahead and ("gradient" in show or "update" in show):
            self.subheading("Look-ahead point (Nesterov): the gradient is taken at θ\u0303 = θ + μ·v")
            for c in p.lookahead:
                self.equation(c)
            for f in p.lookahead_forward:
                self._forward(f, "Forward pass at the look-ahead point")
        for u in p.upstream:
            self._print(u)
        if p.backward is not None:
            self._print(p.backward)
        if p.updates:
            self.subheading("Update")
            for u in p.updates:
                self._print(u)

    def _print_Evaluation(self, e: Evaluation) -> None:
        self.heading("With the initial parameters (no training steps)")
        if "forward" in self.solution.show:
            for f in e.forward:
                self._forward(f, "Forward pass")
        if "loss" in self.solution.show:
            self._print(e.loss)
        for u in e.upstream:
            self._print(u)
        if e.backward is not None:
            self._print(e.backward)

    def _print_GradientCheckPart(self, g: GradientCheckPart) -> None:
        self.heading("Gradient check (at the initial parameters)")
        self.emit(Text(f"numeric = (E(θ + ε) − E(θ − ε)) / 2ε with ε = {format_value(g.eps, self.digits)}; "
                       f"relative error = |numeric − backprop| / max(|numeric|, |backprop|)"), INDENT)
        t = self.table("θ", "E(θ + ε)", "E(θ − ε)", "numeric", "backprop", "rel. error", no_wrap=(0, 5))
        wide = max(self.digits, 8)   # E(θ ± ε) differ in the digits beyond the usual ones
        for name, plus, minus, numeric, analytic, rel in g.rows:
            t.add_row(name, format_value(plus, wide), format_value(minus, wide), format_value(numeric, self.digits),
                      format_value(analytic, self.digits), f"{rel:.1e}")
        self.emit(t, INDENT)

    def _print_Upstream(self, u: Upstream) -> None:
        self.subheading(f"Backward pass, sample {u.index}: local derivative × upstream gradient")
        for c in u.rows:
            self.equation(c)

    def _forward(self, f: SampleForward, title: str) -> None:
        given = ", ".join(f"{n} = {format_value(v, self.digits)}" for n, v in f.given)
        self.subheading(f"{title}, sample {f.index}" + (f" ({given})" if given else ""))
        t = self.table("node", "formula", "numbers", "value", no_wrap=(0,))
        for c in f.rows:
            formula = self.formula(c)
            numbers = self.numbers(c) if c.values is not None else ""
            t.add_row(c.lhs, formula, numbers, self.value(c.value, c.shadow))
        self.emit(t, INDENT)

    def _print_Loss(self, loss: Loss) -> None:
        self.subheading("Loss")
        for _, c in loss.per_sample:
            self.equation(c)
        if loss.batch is not None:
            self.equation(loss.batch)

    def _print_Backward(self, b: Backward) -> None:
        where = " at the look-ahead point" if b.at_lookahead else ""
        for s in b.samples:
            sample = f", sample {s.index}" if len(b.samples) > 1 else ""
            self.subheading(f"Backward pass{where}{sample}: local derivatives")
            t = self.table("derivative", "formula", "numbers", "value", no_wrap=(0,))
            for c in s.locals:
                numbers = self.numbers(c) if c.values is not None else ""
                value = self.value(c.value, c.shadow)
                note = self.kink(c)
                t.add_row(c.lhs, self.formula(c), numbers if numbers != value else "",
                          value + (f"  ({note})" if note else ""))
            self.emit(t, INDENT)
            if b.form == "delta":
                self.subheading("δ = ∂E/∂node, from the loss down (each used once computed)")
                for c in s.deltas:
                    self.equation(c)
            self.subheading("Gradients (chain rule)" if b.form == "paths" else "Gradients from the δ's")
            for _, c in s.gradients:
                self.equation(c)
        if b.batch:
            self.subheading("Gradients of the batch loss")
            for _, c in b.batch:
                self.equation(c)

    def _print_Update(self, u: Update) -> None:
        old, new = self.value(u.old), self.value(u.new, u.shadow_new)
        tail = u.remark
        self.blank()
        self.emit(Text(f"{u.param}: {old} → {new}" + (f"   ({tail})" if tail else ""),
                       style="bold" if self.color else ""), INDENT)
        for c in u.rows:
            self.equation(c, INDENT * 2)

    def _print_StepLog(self, log: StepLog) -> None:
        self.heading(log.title, "-")
        self.log_table(log.rows())

    def log_table(self, rows: tuple[LogRow, ...]) -> None:
        t = self.table("step", "epoch", "batch", "lr", "loss", no_wrap=(0, 1, 3, 4))
        for r in rows:
            if r.skipped_before:
                t.add_row("…", f"({r.skipped_before} epochs)", "", "", "")
            t.add_row(r.steps, str(r.epoch), r.batch, format_value(r.lr, self.digits), format_value(r.loss, self.digits))
        self.emit(t, INDENT)

    def _print_Final(self, f: Final) -> None:
        self.heading("After training", "-")
        t = self.table("parameter", "initial", "final", no_wrap=(0, 1, 2))
        for name, before, after in f.parameters:
            t.add_row(name, format_value(before, self.digits), format_value(after, self.digits))
        self.emit(t, INDENT)
        if f.epochs:
            self.subheading("Loss per epoch (mean of the step losses)")
            self.log_table(f.epochs)
        if f.outputs:
            self.subheading("Outputs with the final parameters")
            t = self.table("sample", "output", "value", "target", no_wrap=(0, 1, 2, 3))
            for index, o, value, target, tv in f.outputs:
                t.add_row(str(index), o, format_value(value, self.digits), f"{target} = {format_value(tv, self.digits)}")
            self.emit(t, INDENT)
        if f.loss is not None:
            self.blank()
            self.emit(Text(f"loss with the final parameters: {format_value(f.loss, self.digits)}"), INDENT)
