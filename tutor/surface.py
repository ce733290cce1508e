"""The loss surface of a problem with two trained parameters, as data: the loss
over a grid of the two (the others as given), its contour lines, and the path
each compared run took over it (`tutor compare --surface`).

The loss at a grid point is the problem's own: the forward pass of every sample
(`Evaluator.forward`, in float64) reduced as the problem says, the same
objective whose steps the runs took. Points where the forward pass is not
finite are left blank. Contours are traced by marching squares, here, so the
spellers only draw line segments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .arith import make_domain
from .batch import evaluator_for
from .derive import derive
from .errors import DivergenceError, TutorError
from .graph import build_graph
from .problem import Problem
from .train import Run, _leaves

GRID = 41      # points per side
LEVELS = 12    # contour levels, at evenly spaced quantiles of the loss over the grid


@dataclass(frozen=True)
class Path:
    label: str
    points: tuple[tuple[float, float], ...]   # the two parameters, initially and after each step


@dataclass(frozen=True)
class Surface:
    title: str
    names: tuple[str, str]
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    levels: tuple[float, ...]
    contours: tuple[tuple[float, tuple[tuple[float, float, float, float], ...]], ...]  # level, segments
    paths: tuple[Path, ...]


def trained(problem: Problem) -> list[str]:
    return [p for p in problem.params if p not in problem.frozen]


def loss_surface(problem: Problem, runs: list[tuple[str, Run]]) -> Surface:
    names = trained(problem)
    if len(names) != 2:
        raise TutorError(f"error: a loss surface needs a problem with two trained parameters; "
                         f"{problem.path} trains {len(names)}")
    a, b = names
    paths = tuple(Path(label, tuple(_position(run, a, b))) for label, run in runs)
    xs, ys = _axis([x for p in paths for x, _ in p.points]), _axis([y for p in paths for _, y in p.points])
    grid = _grid(problem, a, b, xs, ys)
    finite = [v for row in grid for v in row if v is not None]
    levels = _levels(finite) if finite else ()
    contours = tuple((level, tuple(_march(grid, xs, ys, level))) for level in levels)
    return Surface(problem.title, (a, b), xs, ys, levels, contours, paths)


def _position(run: Run, a: str, b: str):
    to_float = run.domain.to_float
    yield to_float(run.initial[a]), to_float(run.initial[b])
    for step in run.steps:
        x, y = to_float(step.parameters[a]), to_float(step.parameters[b])
        if math.isfinite(x) and math.isfinite(y):
            yield x, y


def _axis(values: list[float]) -> tuple[float, ...]:
    """GRID evenly spaced values over the range visited, widened by a quarter on each side."""
    low, high = min(values), max(values)
    pad = max((high - low) * 0.25, 0.5)
    low, high = low - pad, high + pad
    return tuple(low + (high - low) * i / (GRID - 1) for i in range(GRID))


def _grid(problem: Problem, a: str, b: str, xs, ys) -> list[list[float | None]]:
    domain = make_domain("float")
    evaluator = evaluator_for(derive(build_graph(problem)), domain)
    loss_name = evaluator.graph.loss_name
    params = {name: domain.number(n) for name, n in problem.params.items()}
    samples = [_leaves(problem, s, domain) for s in problem.samples]
    grid = []
    for y in ys:
        row = []
        for x in xs:
            params[a], params[b] = x, y
            try:
                if problem.batch_stats:  # batch norm: the samples are one computation
                    traces, _ = evaluator.run_batch(params, list(enumerate(samples, 1)), "mean")
                    losses = [t.loss for t in traces]
                else:
                    losses = [evaluator.forward(params, leaves, i, None)[1][loss_name]
                              for i, leaves in enumerate(samples, 1)]
            except DivergenceError:
                row.append(None)
                continue
            total = sum(losses)
            row.append(total if problem.loss.reduction == "sum" else total / len(losses))
        grid.append(row)
    return grid


def _levels(values: list[float]) -> tuple[float, ...]:
    """LEVELS levels at evenly spaced quantiles of the loss over the grid: as many
    lines near the minimum as on the walls, whatever the scale."""
    ordered = sorted(values)
    levels = [ordered[int((k + 0.5) / LEVELS * (len(ordered) - 1))] for k in range(LEVELS)]
    return tuple(dict.fromkeys(levels))


def _march(grid, xs, ys, level: float):
    """Marching squares: the segments where the loss crosses ``level``, cell by cell."""
    for j in range(len(ys) - 1):
        for i in range(len(xs) - 1):
            corners = [(xs[i], ys[j], grid[j][i]), (xs[i + 1], ys[j], grid[j][i + 1]),
                       (xs[i + 1], ys[j + 1], grid[j + 1][i + 1]), (xs[i], ys[j + 1], grid[j + 1][i])]
            if any(v is None for _, _, v in corners):
                continue
            crossings = []
            for k in range(4):   # each edge of the cell, in order
                (x1, y1, v1), (x2, y2, v2) = corners[k], corners[(k + 1) % 4]
                if (v1 < level) != (v2 < level):
                    t = (level - v1) / (v2 - v1)
                    crossings.append((x1 + t * (x2 - x1), y1 + t * (y2 - y1)))
            for m in range(0, len(crossings) - 1, 2):   # two or (a saddle) four crossings
                (x1, y1), (x2, y2) = crossings[m], crossings[m + 1]
                yield x1, y1, x2, y2


__all__ = ["Path", "Surface", "loss_surface", "trained"]
