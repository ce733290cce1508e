"""Depth scaling: tanh networks 8 wide, depths 2..16, a few SGD steps each.

    .venv/bin/python benchmarks/depth.py [--steps 20] [--repeat 5]

Prints, per depth, the parameter count and the median time of each phase
(load + derive, train), and time per parameter: the derivation is linear in
the number of edges, so time per parameter should stay roughly flat.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from tutor.derive import derive
from tutor.graph import build_graph
from tutor.problem import parse_problem
from tutor.render.json import render_json
from tutor.train import train


def network_yaml(depth: int, width: int = 8, steps: int = 20, seed: int = 0) -> str:
    rng = random.Random(seed)
    inputs = [f"x{i}" for i in range(width)]
    lines = ["title: depth benchmark", "network:", f"  inputs: [{', '.join(inputs)}]", "  layers:"]
    for layer in range(depth):
        units = [f"h{layer}_{j}" for j in range(width)] if layer < depth - 1 else ["o"]
        weights = [[round(rng.uniform(-0.5, 0.5), 3) for _ in range(width)] for _ in units]
        lines += [f"    - units: [{', '.join(units)}]",
                  f"      activation: {'tanh' if layer < depth - 1 else 'linear'}",
                  f"      weights: {weights}",
                  f"      bias: {[0.1] * len(units)}"]
    sample = ", ".join(f"{x}: {round(rng.uniform(-1, 1), 3)}" for x in inputs)
    lines += ["targets: [t]", f"data: {{{sample}, t: 0.5}}", "loss: mse",
              "optimizer: {name: sgd, lr: 0.01}", f"training: {{epochs: {steps}}}"]
    return "\n".join(lines) + "\n"


def measure(depth: int, steps: int, repeat: int) -> tuple[int, float, float]:
    text = network_yaml(depth, steps=steps)
    setup, run = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        problem = parse_problem(text, "bench.yaml")
        derive(build_graph(problem))
        t1 = time.perf_counter()
        render_json(train(problem))
        t2 = time.perf_counter()
        setup.append(t1 - t0)
        run.append(t2 - t1)
    return len(problem.params), statistics.median(setup), statistics.median(run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"tanh networks, 8 wide, {args.steps} SGD steps, median of {args.repeat} runs")
    print(f"{'depth':>5} {'params':>7} {'load+derive s':>14} {'solve s':>9} {'total s':>9} {'ms/param':>9}")
    for depth in (2, 4, 8, 16):
        n, setup, run = measure(depth, args.steps, args.repeat)
        total = setup + run
        print(f"{depth:>5} {n:>7} {setup:>14.3f} {run:>9.3f} {total:>9.3f} {1000 * total / n:>9.3f}")


if __name__ == "__main__":
    main()
