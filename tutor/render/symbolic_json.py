"""The solution JSON of a symbolic problem (docs/symbolic.md): the keys of
spec/solution-json.md, every value a string holding a formula in the problem
format's own equation syntax (`formula_text.format_text`), which `formula.parse_formula`
reads back. A symbolic batch is one sample ``i`` whose names inside Σᵢ carry the
suffix _i: ``2/m*sum_i((o_i - y_i)*...)``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..formula import formula
from ..visible import json_visible
from .formula_text import format_text

if TYPE_CHECKING:  # the derivation is made by symbolic.py; printers only read it
    from ..symbolic import SymbolicSolution


def symbolic_dict(solution: SymbolicSolution) -> dict[str, Any]:
    problem, graph = solution.problem, solution.graph
    text = format_text
    leaves = (*problem.inputs, *problem.targets, *problem.constants)
    values = {name: name for name in leaves}
    values.update((n, text(formula(expr))) for n, expr in solution.equations.items() if n != graph.loss_name)
    local: dict[str, dict[str, str]] = {}
    for d in solution.local:
        local.setdefault(d.node, {})[d.wrt] = text(d.formula)
    derivatives = {n: text(f) for n, f in solution.deltas.items() if n != graph.loss_name}
    updated = {p: text(solution.updates[p]) if p in solution.updates else p for p in graph.params}
    sample = {
        "index": "i" if solution.batch else 1,
        "values": values,
        "loss": text(formula(solution.equations[graph.loss_name])),
        "local_derivatives": local,
        "derivatives": derivatives,
        "gradients": {p: text(f) for p, f in solution.sample_gradients.items()},
    }
    step = {
        "step": 1, "epoch": 1,
        "batch": solution.batch if solution.batch else [1],
        "reduction": solution.reduction,
        "lr": solution.lr,
        "samples": [sample],
        "loss": text(solution.loss),
        "gradients": {p: text(f) for p, f in solution.gradients.items()},
        "state": {},
        "parameters": updated,
    }
    return {"title": problem.title, "arithmetic": "symbolic", "parameters": {p: p for p in graph.params},
            "steps": [step], "final": {"parameters": updated}}


def render_symbolic_json(solution: SymbolicSolution) -> str:
    return json_visible(json.dumps(symbolic_dict(solution), ensure_ascii=False)) + "\n"
